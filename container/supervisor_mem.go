package container

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// closeInherited marks every descriptor above stderr close-on-exec: the
// supervisor inherits whatever its caller's shell had open without
// O_CLOEXEC, and its children (the container) must not.
func closeInherited() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// shrinkDelay is how long after start-up a supervisor shrinks: late
// enough that a short-lived container never waits for it.
const shrinkDelay = 500 * time.Millisecond

// shrink gives back what start-up touched and the long wait does not
// need: the heap the Go runtime grew while starting (debug.FreeOSMemory)
// and the pages of this (large, shared) binary that package init and the
// start path faulted in. MADV_DONTNEED on the read-only file mappings only
// drops them from this process's page tables (the page cache keeps them
// for other skiff processes, unlike MADV_PAGEOUT, which also skipped every
// page another supervisor maps); a page needed again faults back in from
// the page cache. MADV_RANDOM turns off fault-around for those mappings,
// so such a fault maps one page, not 16. This keeps the resident size of
// a waiting supervisor near conmon's.
func shrink() {
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	var spans [][2]uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// address perms offset dev inode path: file-backed, not writable
		if len(fields) < 6 || fields[4] == "0" || strings.Contains(fields[1], "w") {
			continue
		}
		if fields[5] != exe {
			// A shared library (a cgo build): its read-only pages may
			// hold relocations (RELRO) that a refault from the file
			// would lose. Only a static binary is safe to drop.
			return
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		spans = append(spans, [2]uintptr{uintptr(start), uintptr(end - start)})
	}
	for _, sp := range spans {
		unix.Syscall(unix.SYS_MADVISE, sp[0], sp[1], unix.MADV_RANDOM)
		unix.Syscall(unix.SYS_MADVISE, sp[0], sp[1], unix.MADV_DONTNEED)
	}
}
