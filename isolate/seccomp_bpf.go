package isolate

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// A tiny assembler for the seccomp compiler: conditional jumps name their
// targets by label, resolved to the 8-bit relative skips classic BPF has.
const (
	labelNext  = "" // fall through to the next instruction
	labelSkip1 = "\x00skip1"
)

type asmJump struct {
	far      bool // unconditional, 32-bit skip
	cond     bpf.JumpTest
	val      uint32
	jt, jf   string
	position int
}

type asm struct {
	insts  []bpf.Instruction
	jumps  []asmJump
	labels map[string]int
}

func (a *asm) emit(i bpf.Instruction) { a.insts = append(a.insts, i) }

func (a *asm) jump(cond bpf.JumpTest, val uint32, jt, jf string) {
	a.jumps = append(a.jumps, asmJump{false, cond, val, jt, jf, len(a.insts)})
	a.insts = append(a.insts, nil) // filled in by resolve
}

func (a *asm) goTo(label string) {
	a.jumps = append(a.jumps, asmJump{far: true, jt: label, position: len(a.insts)})
	a.insts = append(a.insts, nil)
}

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.insts)
}

func (a *asm) resolve() ([]bpf.Instruction, error) {
	distance := func(from int, to string) (int, error) {
		switch to {
		case labelNext:
			return 0, nil
		case labelSkip1:
			return 1, nil
		}
		pos, ok := a.labels[to]
		if !ok {
			return 0, fmt.Errorf("seccomp: undefined label %q", to)
		}
		if pos <= from {
			return 0, fmt.Errorf("seccomp: backward jump to %q", to)
		}
		return pos - from - 1, nil
	}
	skip := func(from int, to string) (uint8, error) {
		d, err := distance(from, to)
		if err == nil && d > 255 {
			err = fmt.Errorf("seccomp: jump to %q out of range (%d)", to, d)
		}
		return uint8(d), err
	}
	for _, j := range a.jumps {
		if j.far {
			d, err := distance(j.position, j.jt)
			if err != nil {
				return nil, err
			}
			a.insts[j.position] = bpf.Jump{Skip: uint32(d)}
			continue
		}
		jt, err := skip(j.position, j.jt)
		if err != nil {
			return nil, err
		}
		jf, err := skip(j.position, j.jf)
		if err != nil {
			return nil, err
		}
		a.insts[j.position] = bpf.JumpIf{Cond: j.cond, Val: j.val, SkipTrue: jt, SkipFalse: jf}
	}
	return a.insts, nil
}
