package isolate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Seccomp: an OCI profile (e.g. Docker's default, as moby/profiles
// produces it) is compiled here to classic BPF for the native
// architecture. No library does it without package-level tables built at
// start-up (elastic/go-seccomp-bpf allocates ~165 kB of maps in every
// process), and the compiler is small: each OCI rule, in order, is a run of
// "syscall number equals N [and its arguments match] -> return action",
// then the default action.

const (
	seccompDataNr   = 0  // offsetof(struct seccomp_data, nr)
	seccompDataArch = 4  // ... arch
	seccompDataArgs = 16 // ... args[6], 64-bit each
	x32SyscallBit   = 0x40000000
)

// syscallNumbers parses syscallTable; called only when a profile is compiled.
func syscallNumbers() map[string]uint32 {
	f := strings.Fields(syscallTable)
	m := make(map[string]uint32, len(f)/2)
	for i := 0; i+1 < len(f); i += 2 {
		n, _ := strconv.ParseUint(f[i+1], 10, 32)
		m[f[i]] = uint32(n)
	}
	return m
}

// compileSeccomp turns p into a BPF program (nil for no profile).
// Syscalls this table does not know are left to the default action.
func compileSeccomp(p *specs.LinuxSeccomp) ([]syscall.SockFilter, error) {
	if p == nil {
		return nil, nil
	}
	if auditArch == 0 {
		return nil, errors.New("seccomp: no syscall table for this architecture")
	}
	def, err := seccompAction(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	nums := syscallNumbers()
	var a asm
	// Another ABI (i386, x32) would need its own numbers: give it the default.
	a.emit(bpf.LoadAbsolute{Off: seccompDataArch, Size: 4})
	a.jump(bpf.JumpEqual, auditArch, labelSkip1, labelNext)
	a.goTo("default") // far: only an unconditional jump reaches the end
	a.emit(bpf.LoadAbsolute{Off: seccompDataNr, Size: 4})
	if auditArch == 0xc000003e {
		a.jump(bpf.JumpGreaterOrEqual, x32SyscallBit, labelNext, labelSkip1)
		a.goTo("default")
	}
	for ri, rule := range p.Syscalls {
		act, err := seccompAction(rule.Action, rule.ErrnoRet)
		if err != nil {
			return nil, err
		}
		for ni, name := range rule.Names {
			nr, ok := nums[name]
			if !ok {
				continue
			}
			if len(rule.Args) == 0 {
				a.jump(bpf.JumpEqual, nr, labelNext, labelSkip1)
				a.emit(bpf.RetConstant{Val: act})
				continue
			}
			end := fmt.Sprintf("end-%d-%d", ri, ni)
			a.jump(bpf.JumpEqual, nr, labelNext, end)
			if err := a.conditions(rule.Args, end, fmt.Sprintf("%d-%d", ri, ni)); err != nil {
				return nil, err
			}
			a.emit(bpf.RetConstant{Val: act})
			a.label(end)
			a.emit(bpf.LoadAbsolute{Off: seccompDataNr, Size: 4}) // args clobbered A
		}
	}
	a.label("default")
	a.emit(bpf.RetConstant{Val: def})
	insts, err := a.resolve()
	if err != nil {
		return nil, err
	}
	if len(insts) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp: profile compiles to %d instructions (max %d)", len(insts), unix.BPF_MAXINSNS)
	}
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	out := make([]syscall.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = syscall.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}

// seccompAction maps an OCI action to the filter's return value.
func seccompAction(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	errno := uint32(unix.EPERM)
	if errnoRet != nil {
		errno = uint32(*errnoRet) & unix.SECCOMP_RET_DATA
	}
	switch a {
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | errno, nil
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | errno, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	}
	return 0, fmt.Errorf("seccomp: unsupported action %q", a)
}

// conditions emits the checks of one rule's arguments (all must hold);
// any failing one jumps to fail. Each 64-bit argument is compared as its
// high then low 32-bit halves.
func (a *asm) conditions(args []specs.LinuxSeccompArg, fail, id string) error {
	for ci, arg := range args {
		if arg.Index > 5 {
			return fmt.Errorf("seccomp: argument index %d out of range", arg.Index)
		}
		lo, hi := argOffsets(arg.Index)
		v, vhi := uint32(arg.Value), uint32(arg.Value>>32)
		pass := fmt.Sprintf("pass-%s-%d", id, ci)
		ld := func(off uint32) { a.emit(bpf.LoadAbsolute{Off: off, Size: 4}) }
		switch arg.Op {
		case specs.OpEqualTo:
			ld(hi)
			a.jump(bpf.JumpEqual, vhi, labelNext, fail)
			ld(lo)
			a.jump(bpf.JumpEqual, v, labelNext, fail)
		case specs.OpNotEqual:
			ld(hi)
			a.jump(bpf.JumpEqual, vhi, labelNext, pass)
			ld(lo)
			a.jump(bpf.JumpEqual, v, fail, labelNext)
		case specs.OpGreaterThan, specs.OpGreaterEqual:
			ld(hi)
			a.jump(bpf.JumpGreaterThan, vhi, pass, labelNext)
			a.jump(bpf.JumpEqual, vhi, labelNext, fail)
			ld(lo)
			cond := bpf.JumpGreaterThan
			if arg.Op == specs.OpGreaterEqual {
				cond = bpf.JumpGreaterOrEqual
			}
			a.jump(cond, v, labelNext, fail)
		case specs.OpLessThan, specs.OpLessEqual:
			ld(hi)
			a.jump(bpf.JumpGreaterThan, vhi, fail, labelNext)
			a.jump(bpf.JumpEqual, vhi, labelNext, pass)
			ld(lo)
			cond := bpf.JumpGreaterOrEqual // lo < v fails when lo >= v
			if arg.Op == specs.OpLessEqual {
				cond = bpf.JumpGreaterThan
			}
			a.jump(cond, v, fail, labelNext)
		case specs.OpMaskedEqual:
			ld(hi)
			a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: vhi})
			a.jump(bpf.JumpEqual, uint32(arg.ValueTwo>>32), labelNext, fail)
			ld(lo)
			a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: v})
			a.jump(bpf.JumpEqual, uint32(arg.ValueTwo), labelNext, fail)
		default:
			return fmt.Errorf("seccomp: unsupported operator %q", arg.Op)
		}
		a.label(pass)
	}
	return nil
}

// argOffsets are where the low and high halves of argument i live.
func argOffsets(i uint) (lo, hi uint32) {
	off := uint32(seccompDataArgs + 8*i)
	if nativeLittleEndian() {
		return off, off + 4
	}
	return off + 4, off
}

func nativeLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// loadSeccomp installs the filter on the calling thread; execve keeps it.
func loadSeccomp(filter []syscall.SockFilter) error {
	if len(filter) == 0 {
		return nil
	}
	prog := syscall.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return fmt.Errorf("load seccomp filter: %w", e)
	}
	return nil
}
