package isolate

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func TestSeccomp(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	eacces := uint(13)
	tests := []struct {
		name    string
		docker  bool // Docker's default profile (else profile)
		nnp     bool
		profile *specs.LinuxSeccomp
		script  string
		stdout  string
	}{
		{name: "docker default", docker: true,
			script: "grep Seccomp: /proc/self/status; unshare -m true 2>/dev/null || echo no-unshare; mount -t tmpfs t /tmp 2>/dev/null || echo no-mount; echo ok",
			stdout: "Seccomp:\t2\nno-unshare\nno-mount\nok\n"},
		{name: "docker default with no_new_privs", docker: true, nnp: true,
			script: "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr '\\n' ' '; unshare -m true 2>/dev/null || echo no-unshare",
			stdout: "NoNewPrivs:\t1 Seccomp:\t2 no-unshare\n"},
		{name: "errno and argument rules",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &eacces},
				// kill(pid, 0) only: signal probes fail, real signals pass.
				{Names: []string{"kill"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0, Op: specs.OpEqualTo}}},
			}},
			script: "mkdir /tmp/x 2>&1 | grep -q 'Permission denied' && echo no-mkdir; kill -0 $$ 2>/dev/null || echo no-probe; sleep 100 & kill $! && echo killed",
			stdout: "no-mkdir\nno-probe\nkilled\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := dockerSpec(root, "sh", "-c", tt.script)
			spec.Process.NoNewPrivileges = tt.nnp
			spec.Linux.Seccomp = tt.profile
			if tt.docker {
				p, err := seccomp.GetDefaultProfile(spec)
				if err != nil {
					t.Fatal(err)
				}
				spec.Linux.Seccomp = p
			}
			r := run(t, newContainer(t, spec))
			if r.err != nil {
				t.Fatalf("Start: %v", r.err)
			}
			if r.stdout != tt.stdout || r.status.Code != 0 {
				t.Errorf("code %d stdout %q, want %q (stderr %q)", r.status.Code, r.stdout, tt.stdout, r.stderr)
			}
		})
	}
}

func TestCompileSeccompRejects(t *testing.T) {
	tests := []struct {
		name string
		p    specs.LinuxSeccomp
		want string
	}{
		{"notify", specs.LinuxSeccomp{DefaultAction: specs.ActNotify}, "unsupported action"},
		{"operator", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"clone"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_FOO"}}}}},
			"unsupported operator"},
		{"argument index", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"clone"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}},
			"out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileSeccomp(&tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSeccompProgram runs compiled programs in x/net/bpf's VM. The VM
// loads words big-endian, so the test's seccomp_data is written so: each
// 32-bit field at the offset the kernel reads natively.
func TestSeccompProgram(t *testing.T) {
	if !nativeLittleEndian() || auditArch != 0xc000003e {
		t.Skip("the syscall numbers below are x86_64's")
	}
	enosys := uint(38)
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"read", "write", "no_such_syscall"}, Action: specs.ActAllow},
		{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
		{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo}}},
		{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
		{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpNotEqual}}},
		{Names: []string{"kill"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
			{Index: 1, Value: 1, Op: specs.OpGreaterEqual}, {Index: 1, Value: 1 << 32, Op: specs.OpLessThan}}},
		{Names: []string{"tgkill"}, Action: specs.ActLog, Args: []specs.LinuxSeccompArg{{Index: 2, Value: 9, Op: specs.OpGreaterThan}}},
		{Names: []string{"tkill"}, Action: specs.ActTrap, Args: []specs.LinuxSeccompArg{{Index: 1, Value: 2, Op: specs.OpLessEqual}}},
	}}
	filter, err := compileSeccomp(p)
	if err != nil {
		t.Fatal(err)
	}
	insts := make([]bpf.Instruction, len(filter))
	for i, f := range filter {
		insts[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}.Disassemble()
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		eperm = unix.SECCOMP_RET_ERRNO | 1
	)
	tests := []struct {
		name string
		arch uint32
		nr   uint32
		args []uint64
		want uint32
	}{
		{"allowed", auditArch, 0, nil, allow},
		{"default", auditArch, 2, nil, eperm}, // open
		{"errno", auditArch, 435, nil, unix.SECCOMP_RET_ERRNO | 38},
		{"equal", auditArch, 135, []uint64{8}, allow},
		{"equal 32-bit all ones", auditArch, 135, []uint64{0xffffffff}, allow},
		{"equal high half differs", auditArch, 135, []uint64{1<<32 | 8}, eperm},
		{"not equal", auditArch, 135, []uint64{9}, eperm},
		{"masked clear", auditArch, 56, []uint64{0x11}, allow},
		{"masked set", auditArch, 56, []uint64{0x10000000}, eperm},
		{"ne pass", auditArch, 41, []uint64{2}, allow},
		{"ne fail", auditArch, 41, []uint64{40}, eperm},
		{"range in", auditArch, 62, []uint64{0, 15}, allow},
		{"range low", auditArch, 62, []uint64{0, 0}, eperm},
		{"range high", auditArch, 62, []uint64{0, 1 << 32}, eperm},
		{"gt", auditArch, 234, []uint64{0, 0, 10}, unix.SECCOMP_RET_LOG},
		{"gt equal", auditArch, 234, []uint64{0, 0, 9}, eperm},
		{"le", auditArch, 200, []uint64{0, 2}, unix.SECCOMP_RET_TRAP},
		{"le over", auditArch, 200, []uint64{0, 3}, eperm},
		{"x32 abi", auditArch, x32SyscallBit | 0, nil, eperm},
		{"other arch", 0x40000003, 0, nil, eperm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, 64)
			binary.BigEndian.PutUint32(data[0:], tt.nr)
			binary.BigEndian.PutUint32(data[4:], tt.arch)
			for i, a := range tt.args {
				lo, hi := argOffsets(uint(i))
				binary.BigEndian.PutUint32(data[lo:], uint32(a))
				binary.BigEndian.PutUint32(data[hi:], uint32(a>>32))
			}
			got, err := vm.Run(data)
			if err != nil {
				t.Fatal(err)
			}
			if uint32(got) != tt.want {
				t.Errorf("returned %#x, want %#x", got, tt.want)
			}
		})
	}
}
