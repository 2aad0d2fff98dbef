package e2e

// Docker's hardened default (issue 7), seen from inside a container:
// the default capability set, seccomp filtering (unshare, mount, keyctl
// get EPERM), masked and read-only /proc and /sys paths, and what
// --privileged, --cap-add/--cap-drop and --security-opt change.

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// dockerDefaultCaps is Docker's default capability set as /proc shows it.
const dockerDefaultCaps = "00000000a80425fb"

// keyctlProg is a static program that calls keyctl(KEYCTL_JOIN_SESSION_
// KEYRING): busybox has no keyctl applet. It prints "ok" or the errno.
const keyctlProg = `package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	// KEYCTL_JOIN_SESSION_KEYRING (1) with no name: a new anonymous keyring.
	_, _, errno := syscall.Syscall(syscall.SYS_KEYCTL, 1, 0, 0)
	if errno != 0 {
		fmt.Println("keyctl:", errno.Error())
		os.Exit(1)
	}
	fmt.Println("ok")
}
`

var (
	keyctlOnce sync.Once
	keyctlBin  string
	keyctlErr  error
)

// keyctlBinary builds keyctlProg once (world-readable, so rootless users can
// bind it).
func keyctlBinary(t *testing.T) string {
	t.Helper()
	keyctlOnce.Do(func() { keyctlBin, keyctlErr = buildProgram("keyctl", keyctlProg) })
	if keyctlErr != nil {
		t.Fatal(keyctlErr)
	}
	return keyctlBin
}

// procStatus runs busybox with args and returns the /proc/self/status
// fields of the container's process.
func procStatus(t *testing.T, env *Env, args ...string) map[string]string {
	t.Helper()
	return statusFields(env.mustRun(append(append([]string{"run", "--rm"}, args...), "busybox", "cat", "/proc/self/status")...))
}

// statusFields maps a /proc/PID/status text's keys to their values.
func statusFields(status string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestRunSecurityDefaults(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		st := procStatus(t, env)
		for _, k := range []string{"CapPrm", "CapEff", "CapBnd"} {
			if st[k] != dockerDefaultCaps {
				t.Errorf("%s = %s, want Docker's default %s", k, st[k], dockerDefaultCaps)
			}
		}
		if st["CapInh"] != "0000000000000000" || st["CapAmb"] != "0000000000000000" {
			t.Errorf("CapInh %s CapAmb %s, want none", st["CapInh"], st["CapAmb"])
		}
		if st["Seccomp"] != "2" || st["NoNewPrivs"] != "0" {
			t.Errorf("Seccomp %s NoNewPrivs %s, want 2 and 0", st["Seccomp"], st["NoNewPrivs"])
		}
		// Syscalls a container may not make.
		kc := keyctlBinary(t)
		res := env.run("run", "--rm", "-v", kc+":/keyctl:ro", "busybox", "sh", "-c",
			"unshare -m true; echo unshare=$?; mkdir -p /mnt; mount -t tmpfs none /mnt; echo mount=$?; /keyctl")
		for _, want := range []string{"unshare=1", "mount=", "keyctl: operation not permitted"} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("default container: %q missing from\n%s", want, res.Stdout)
			}
		}
		if !strings.Contains(res.Stderr, "unshare(0x20000): Operation not permitted") || strings.Contains(res.Stdout, "mount=0") {
			t.Errorf("unshare/mount in a default container: stdout %q stderr %q", res.Stdout, res.Stderr)
		}
		// Masked paths read empty, read-only ones refuse writes.
		out := env.mustRun("run", "--rm", "busybox", "sh", "-c", `
			for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
				[ -e $f ] && echo "$f $(cat $f 2>/dev/null | wc -c)"
			done
			for d in /proc/acpi /proc/scsi /sys/firmware; do
				[ -e $d ] && echo "$d $(ls -A $d | wc -l)"
			done
			echo 1 > /proc/sysrq-trigger 2>/dev/null && echo sysrq-written
			echo x > /proc/sys/kernel/domainname 2>/dev/null && echo sys-written
			echo done`)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if line == "done" {
				continue
			}
			if len(f) != 2 || f[1] != "0" {
				t.Errorf("masked/read-only path: %q", line)
			}
		}
		if !strings.HasSuffix(strings.TrimSpace(out), "done") {
			t.Errorf("masked path script: %q", out)
		}
	})
}

func TestRunSecurityPrivileged(t *testing.T) {
	env := newEnv(t)
	env.mustRun("pull", "-q", "busybox")
	st := procStatus(t, env, "--privileged")
	host := readStatus(t)["CapBnd"]
	if st["CapEff"] != host || st["Seccomp"] != "0" {
		t.Errorf("--privileged: CapEff %s (host bounding set %s), Seccomp %s; want all and 0", st["CapEff"], host, st["Seccomp"])
	}
	out := env.mustRun("run", "--rm", "--privileged", "busybox", "sh", "-c", "mkdir -p /mnt && mount -t tmpfs none /mnt && echo mounted; wc -c < /proc/keys")
	if !strings.Contains(out, "mounted") {
		t.Errorf("--privileged mount: %q", out)
	}
	if res := env.run("run", "--rm", "-v", keyctlBinary(t)+":/keyctl:ro", "--privileged", "busybox", "/keyctl"); strings.TrimSpace(res.Stdout) != "ok" {
		t.Errorf("--privileged keyctl: %q %q", res.Stdout, res.Stderr)
	}
}

func readStatus(t *testing.T) map[string]string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	return statusFields(string(data))
}

func TestRunSecurityOptions(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		caps := func(args ...string) uint64 {
			n, err := strconv.ParseUint(procStatus(t, env, args...)["CapEff"], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		const chown, netAdmin, sysAdmin = 1 << 0, 1 << 12, 1 << 21
		if c := caps("--cap-drop", "ALL"); c != 0 {
			t.Errorf("--cap-drop ALL: CapEff %x", c)
		}
		if c := caps("--cap-drop", "ALL", "--cap-add", "chown"); c != chown {
			t.Errorf("--cap-drop ALL --cap-add chown: CapEff %x", c)
		}
		if c := caps("--cap-add", "NET_ADMIN", "--cap-drop", "CAP_CHOWN"); c != (0xa80425fb|netAdmin)&^chown {
			t.Errorf("--cap-add NET_ADMIN --cap-drop CAP_CHOWN: CapEff %x", c)
		}
		if c := caps("--cap-add", "ALL"); c&sysAdmin == 0 {
			t.Errorf("--cap-add ALL: CapEff %x lacks CAP_SYS_ADMIN", c)
		}
		res := env.mustFail(125, "run", "--rm", "--cap-add", "NOPE", "busybox", "true")
		if !strings.Contains(res.Stderr, "NOPE") {
			t.Errorf("--cap-add NOPE: %q", res.Stderr)
		}
		// seccomp=unconfined lifts the filter; keyctl then works.
		if st := procStatus(t, env, "--security-opt", "seccomp=unconfined"); st["Seccomp"] != "0" {
			t.Errorf("seccomp=unconfined: Seccomp %s", st["Seccomp"])
		}
		kc := keyctlBinary(t)
		if out := env.mustRun("run", "--rm", "-v", kc+":/keyctl:ro", "--security-opt", "seccomp=unconfined", "busybox", "/keyctl"); strings.TrimSpace(out) != "ok" {
			t.Errorf("keyctl with seccomp=unconfined: %q", out)
		}
		// A profile of one's own: allow everything but mkdir/mkdirat.
		profile := env.WriteFile("profile.json", []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`))
		res = env.run("run", "--rm", "--security-opt", "seccomp="+profile, "busybox", "sh", "-c", "mkdir /x; echo rc=$?; grep Seccomp: /proc/self/status")
		if !strings.Contains(res.Stdout, "rc=1") || !strings.Contains(res.Stderr, "Operation not permitted") || !strings.Contains(res.Stdout, "Seccomp:\t2") {
			t.Errorf("custom seccomp profile: stdout %q stderr %q", res.Stdout, res.Stderr)
		}
		res = env.mustFail(125, "run", "--rm", "--security-opt", "seccomp=/nonexistent.json", "busybox", "true")
		if !strings.Contains(res.Stderr, "/nonexistent.json") {
			t.Errorf("missing seccomp profile: %q", res.Stderr)
		}
		if st := procStatus(t, env, "--security-opt", "no-new-privileges"); st["NoNewPrivs"] != "1" {
			t.Errorf("no-new-privileges: NoNewPrivs %s", st["NoNewPrivs"])
		}
		env.mustFail(125, "run", "--rm", "--security-opt", "bogus", "busybox", "true")
	})
}
