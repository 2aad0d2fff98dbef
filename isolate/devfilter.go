package isolate

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroup v2 has no devices controller: device access rules are an eBPF
// program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup. This file
// assembles one from the spec's rules, as runc's devicefilter does: rules
// are tried last to first and the first that matches decides; no match
// denies.

// eBPF opcodes used here.
const (
	ebpfLdxMemW  = 0x61 // dst = *(u32 *)(src + off)
	ebpfMov64Reg = 0xbf // dst = src
	ebpfMov64Imm = 0xb7 // dst = imm
	ebpfAnd64Imm = 0x57 // dst &= imm
	ebpfRsh64Imm = 0x77 // dst >>= imm
	ebpfJneImm   = 0x55 // if dst != imm goto +off
	ebpfJsetImm  = 0x45 // if dst & imm goto +off
	ebpfExit     = 0x95
)

// Registers: r1 = struct bpf_cgroup_dev_ctx {u32 access_type; u32 major;
// u32 minor}; r3 = device type, r4 = access, r5 = major, r6 = minor.
type ebpfInsn struct {
	code, dst, src uint8
	off            int16
	imm            int32
}

func (i ebpfInsn) encode(b []byte) {
	b[0] = i.code
	b[1] = i.src<<4 | i.dst
	binary.LittleEndian.PutUint16(b[2:], uint16(i.off))
	binary.LittleEndian.PutUint32(b[4:], uint32(i.imm))
}

// deviceFilter assembles the program for rules.
func deviceFilter(rules []specs.LinuxDeviceCgroup) ([]ebpfInsn, error) {
	prog := []ebpfInsn{
		{code: ebpfLdxMemW, dst: 2, src: 1, off: 0},
		{code: ebpfMov64Reg, dst: 3, src: 2},
		{code: ebpfAnd64Imm, dst: 3, imm: 0xffff},
		{code: ebpfMov64Reg, dst: 4, src: 2},
		{code: ebpfRsh64Imm, dst: 4, imm: 16},
		{code: ebpfLdxMemW, dst: 5, src: 1, off: 4},
		{code: ebpfLdxMemW, dst: 6, src: 1, off: 8},
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		var conds []ebpfInsn
		switch r.Type {
		case "", "a":
		case "c":
			conds = append(conds, ebpfInsn{code: ebpfJneImm, dst: 3, imm: unix.BPF_DEVCG_DEV_CHAR})
		case "b":
			conds = append(conds, ebpfInsn{code: ebpfJneImm, dst: 3, imm: unix.BPF_DEVCG_DEV_BLOCK})
		default:
			return nil, fmt.Errorf("device rule: unknown type %q", r.Type)
		}
		access := int32(0)
		for _, c := range r.Access {
			switch c {
			case 'r':
				access |= unix.BPF_DEVCG_ACC_READ
			case 'w':
				access |= unix.BPF_DEVCG_ACC_WRITE
			case 'm':
				access |= unix.BPF_DEVCG_ACC_MKNOD
			default:
				return nil, fmt.Errorf("device rule: unknown access %q", r.Access)
			}
		}
		if r.Access == "" {
			access = 7
		}
		if access != 7 { // any access bit outside the rule's: no match
			conds = append(conds, ebpfInsn{code: ebpfJsetImm, dst: 4, imm: ^access & 7})
		}
		if r.Major != nil && *r.Major >= 0 {
			conds = append(conds, ebpfInsn{code: ebpfJneImm, dst: 5, imm: int32(*r.Major)})
		}
		if r.Minor != nil && *r.Minor >= 0 {
			conds = append(conds, ebpfInsn{code: ebpfJneImm, dst: 6, imm: int32(*r.Minor)})
		}
		n := len(conds) + 2
		for k := range conds {
			conds[k].off = int16(n - k - 1) // past this rule's block
		}
		verdict := int32(0)
		if r.Allow {
			verdict = 1
		}
		prog = append(prog, conds...)
		prog = append(prog, ebpfInsn{code: ebpfMov64Imm, dst: 0, imm: verdict}, ebpfInsn{code: ebpfExit})
		if len(conds) == 0 {
			// Matches everything: earlier rules are unreachable, and the
			// verifier refuses unreachable code.
			return prog, nil
		}
	}
	return append(prog, ebpfInsn{code: ebpfMov64Imm, dst: 0, imm: 0}, ebpfInsn{code: ebpfExit}), nil
}

// bpf_attr for BPF_PROG_LOAD, up to expected_attach_type.
type bpfProgLoadAttr struct {
	progType, insnCnt  uint32
	insns, license     uint64
	logLevel, logSize  uint32
	logBuf             uint64
	kernVersion, flags uint32
	name               [16]byte
	ifindex            uint32
	expectedAttachType uint32
}

// bpf_attr for BPF_PROG_ATTACH.
type bpfProgAttachAttr struct {
	targetFd, attachBpfFd, attachType, attachFlags, replaceBpfFd uint32
}

// attachDeviceFilter loads the rules' program and attaches it to the v2
// cgroup dir.
func attachDeviceFilter(dir string, rules []specs.LinuxDeviceCgroup) error {
	prog, err := deviceFilter(rules)
	if err != nil {
		return err
	}
	code := make([]byte, 8*len(prog))
	for i, in := range prog {
		in.encode(code[8*i:])
	}
	license := []byte("Apache\x00")
	log := make([]byte, 1<<16)
	attr := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE, insnCnt: uint32(len(prog)),
		insns: uint64(uintptr(unsafe.Pointer(&code[0]))), license: uint64(uintptr(unsafe.Pointer(&license[0]))),
		logLevel: 1, logSize: uint32(len(log)), logBuf: uint64(uintptr(unsafe.Pointer(&log[0]))),
		expectedAttachType: unix.BPF_CGROUP_DEVICE,
	}
	copy(attr.name[:], "skiff_devices")
	fd, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if e != 0 {
		return fmt.Errorf("load device filter: %w: %s", e, cString(log))
	}
	defer unix.Close(int(fd))
	cg, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer cg.Close()
	at := bpfProgAttachAttr{targetFd: uint32(cg.Fd()), attachBpfFd: uint32(fd), attachType: unix.BPF_CGROUP_DEVICE}
	if _, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&at)), unsafe.Sizeof(at)); e != 0 {
		return fmt.Errorf("attach device filter: %w", e)
	}
	return nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
