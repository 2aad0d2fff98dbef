package container

// The supervisor's memory. One waits beside every running container, so
// what it keeps resident is multiplied by their number (design.md; conmon
// is the bar). Measured with `go run ./bench --only rss` and
// /proc/<pid>/smaps, where its memory goes once idle:
//
//   - the Go heap left by package init of this whole binary (every
//     package's init runs, supervisor or not), spread over one span per
//     size class, plus what the start path allocated; the Go runtime's
//     stacks and metadata. This is private (anonymous) memory.
//   - pages of the binary itself (text, rodata) that init and start-up
//     faulted in: shared with every other skiff process through the page
//     cache, but counted in each one's RSS.
//
// What this file does about it, and why:
//
//   - One P (GOMAXPROCS=1): the supervisor waits on I/O; a second P only
//     brings its own span cache and more threads (each thread has a g0 and
//     a signal stack). It has to be set in the environment: calling
//     runtime.GOMAXPROCS later measured 300 kB worse than starting with it.
//   - No memory profiling (GODEBUG=memprofilerate=0): a sampled allocation
//     sets up the profile's hash table and buckets, for nothing here.
//   - No garbage collection while idle. A GC cycle allocates its own
//     metadata (mark bits, work buffers, worker stacks) and frees little
//     that the idle supervisor could give back, since the start path's
//     garbage shares spans with init's long-lived objects: measured, one
//     debug.FreeOSMemory left 380 kB more anonymous memory than none.
//     And the runtime only forces its periodic (2 min) GC after a first
//     one ran, so a supervisor that never reaches its first GC goal
//     (4 MB of heap) never collects at all and also never faults in the
//     binary's type and stack maps again. A chatty container's
//     supervisor does reach it and then collects as any Go program.
//   - Dropping the binary's pages from the page tables after start-up
//     (shrink).

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// supervisorGodebug goes first in the supervisor's GODEBUG, so a
// setting of the caller's for the same key still wins.
const supervisorGodebug = "memprofilerate=0"

// supervisorEnv is the environment of a new supervisor: the caller's,
// with the runtime settings above (the runtime reads them before main).
// Its children do not see them: the container's init stage and exec'd
// processes get environments of their own, and the helpers it may run
// (newuidmap, slirp4netns, fuse-overlayfs) are not Go programs.
func supervisorEnv() []string {
	env := os.Environ()
	out := make([]string, 0, len(env)+2)
	godebug := supervisorGodebug
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "GOMAXPROCS="):
		case strings.HasPrefix(kv, "GODEBUG="):
			if v := strings.TrimPrefix(kv, "GODEBUG="); v != "" {
				godebug += "," + v
			}
		default:
			out = append(out, kv)
		}
	}
	return append(out, "GOMAXPROCS=1", "GODEBUG="+godebug)
}

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

// shrink drops the pages of this (large, static) binary that package init
// and the start path faulted in: MADV_DONTNEED on its read-only file
// mappings only removes them from this process's page tables (the page
// cache keeps them for other skiff processes, unlike MADV_PAGEOUT, which
// also skips every page another supervisor maps). What the waiting
// supervisor runs faults back in from the page cache: mostly the
// runtime's scheduler, timer and netpoll code and the tables it reads,
// about 1.1 MB, in the kernel's 64 kB fault-around windows (MADV_RANDOM
// does not narrow those, only readahead). The writable .data mapping is
// left alone: its written pages are private copies.
//
// It deliberately does not run the GC (debug.FreeOSMemory): see above.
func shrink() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	spans, ok := readOnlySpans(exe)
	if !ok {
		return
	}
	for _, sp := range spans {
		unix.Syscall(unix.SYS_MADVISE, sp[0], sp[1], unix.MADV_DONTNEED)
	}
}

// readOnlySpans lists the read-only file mappings of this process, all of
// which must be of exe: a shared library (a cgo build) may have
// relocated read-only pages (RELRO) that a refault from the file would
// lose, so only a static binary is safe to drop (ok false otherwise).
func readOnlySpans(exe string) (spans [][2]uintptr, ok bool) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, false
	}
	defer f.Close()
	return parseReadOnlySpans(f, exe)
}

// parseReadOnlySpans is readOnlySpans on the maps text r.
func parseReadOnlySpans(r io.Reader, exe string) (spans [][2]uintptr, ok bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// address perms offset dev inode path (which may hold spaces)
		fields := strings.SplitN(sc.Text(), " ", 6)
		if len(fields) < 6 || fields[4] == "0" || strings.Contains(fields[1], "w") {
			continue // anonymous, or writable
		}
		if strings.TrimLeft(fields[5], " ") != exe {
			return nil, false
		}
		lo, hi, found := strings.Cut(fields[0], "-")
		if !found {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		spans = append(spans, [2]uintptr{uintptr(start), uintptr(end - start)})
	}
	return spans, sc.Err() == nil
}
