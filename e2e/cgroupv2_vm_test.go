package e2e

// Limits on a real cgroup v2 host. This machine is hybrid (v1 controllers,
// an empty v2), so .ci/vm/run.sh boots a QEMU guest (Debian's kernel from
// /boot, an initramfs of busybox + the skiff under test) that mounts
// cgroup2 alone at /sys/fs/cgroup and runs .ci/vm/checks.sh: limits
// written, inspect/stats/update, a fork bomb, a CPU quota, an OOM kill.
// It prints "VM key=value" lines on the serial console; they are asserted
// here.

import (
	"bufio"
	"cmp"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCgroupV2VM(t *testing.T) {
	// `just deps` installs both; a missing one is a broken set-up, not a
	// reason to pass without testing cgroup v2.
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatal("needs qemu-system-x86_64 and a kernel in /boot (apt-get install qemu-system-x86 linux-image-amd64)")
	}
	if k, _ := filepath.Glob("/boot/vmlinuz-*"); len(k) == 0 {
		t.Fatal("needs a kernel in /boot (apt-get install linux-image-amd64)")
	}
	bin := staticSkiff(t)
	cmd := exec.Command("../.ci/vm/run.sh", bin)
	out, err := cmd.CombinedOutput()
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if i := strings.Index(line, "VM "); i >= 0 {
			k, v, _ := strings.Cut(line[i+3:], "=")
			got[k] = strings.TrimSpace(v)
		}
	}
	var steps []string
	for k, v := range got {
		if strings.HasPrefix(k, "at.") {
			steps = append(steps, v+"s "+k[3:])
		}
	}
	slices.SortFunc(steps, func(a, b string) int { return cmp.Compare(uptime(a), uptime(b)) })
	t.Logf("guest uptime at each step: %s", strings.Join(steps, ", "))
	if _, ok := got["done"]; !ok && !strings.Contains(string(out), "VM done") {
		t.Fatalf("the VM did not finish its checks (%v); console:\n%s", err, vmTail(string(out), 20000))
	}
	want := map[string]string{
		"cgroupfs":   "63677270", // CGROUP2_SUPER_MAGIC: a pure v2 host
		"run-error":  "",
		"memory.max": "67108864", "memory.low": "33554432", "memory.swap.max": "67108864",
		"pids.max": "50", "cpu.max": "50000 100000", "cpu.weight": "20",
		"inspect":            "67108864 500000000 50",
		"updated.memory.max": "100663296", "updated.memory.swap.max": "100663296",
		"updated.pids.max": "70", "updated.cpu.max": "80000 100000",
		"removed": "yes", "oom.exit": "137", "oom.state": "true 137",
		"caps": "CapEff: 00000000a80425fb Seccomp: 2",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("VM %s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.HasSuffix(got["stats"], " / 64MiB|1") || !strings.HasSuffix(got["updated.stats"], " / 96MiB") {
		t.Errorf("VM stats %q, after update %q", got["stats"], got["updated.stats"])
	}
	if n, _ := strconv.Atoi(got["bomb.pids.current"]); n < 20 || n > 30 || !strings.HasPrefix(got["bomb.pids.events"], "max ") || got["bomb.pids.events"] == "max 0" {
		t.Errorf("VM fork bomb under pids.max 30: pids.current %q, events %q", got["bomb.pids.current"], got["bomb.pids.events"])
	}
	if us, _ := strconv.Atoi(got["cpu.usage_usec_2s"]); us < 600000 || us > 1400000 {
		t.Errorf("VM busy loop under --cpus 0.5 used %d µs of CPU in 2 s, want 0.3-0.7 of a core", us)
	}
	for _, k := range []string{"import-error", "update-error"} {
		if v, ok := got[k]; ok {
			t.Errorf("VM %s: %s", k, v)
		}
	}
}

// staticSkiff is the binary under test if it is static (the guest has no
// libc), else a CGO_ENABLED=0 build of the same tree.
func staticSkiff(t *testing.T) string {
	t.Helper()
	if f, err := elf.Open(skiffBin); err == nil {
		dynamic := false
		for _, p := range f.Progs {
			dynamic = dynamic || p.Type == elf.PT_INTERP
		}
		f.Close()
		if !dynamic {
			return skiffBin
		}
	}
	bin := filepath.Join(t.TempDir(), "skiff-static")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a static skiff for the VM: %v\n%s", err, out)
	}
	return bin
}

func vmTail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// uptime is the seconds of an "12.3s step" entry.
func uptime(step string) float64 {
	s, _, _ := strings.Cut(step, "s ")
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
