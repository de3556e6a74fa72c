package devices

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Device types as struct bpf_cgroup_dev_ctx gives them (BPF_DEVCG_DEV_*).
const (
	devBlock = 1
	devChar  = 2
)

// program compiles rules into the instructions of a BPF_CGROUP_DEVICE
// program. The kernel passes it struct bpf_cgroup_dev_ctx { u32
// access_type (access << 16 | type); u32 major; u32 minor; } and allows
// the access if it returns 1.
//
// The rules are tested from the last to the first, and the first that
// matches returns its verdict: that is "the last matching rule wins". An
// allow rule matches when it grants every bit of the requested access; a
// deny rule when it forbids any of them.
func program(rules []specs.LinuxDeviceCgroup) (asm.Instructions, error) {
	const (
		ctx, typ, acc, major, minor, scratch = asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R0
	)
	insns := asm.Instructions{
		asm.LoadMem(typ, ctx, 0, asm.Word),
		asm.Mov.Reg32(acc, typ),
		asm.And.Imm32(typ, 0xffff),
		asm.RSh.Imm32(acc, 16),
		asm.LoadMem(major, ctx, 4, asm.Word),
		asm.LoadMem(minor, ctx, 8, asm.Word),
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		next := fmt.Sprintf("rule%d", i-1)
		var block asm.Instructions
		switch r.Type {
		case "b":
			block = append(block, asm.JNE.Imm(typ, devBlock, next))
		case "c":
			block = append(block, asm.JNE.Imm(typ, devChar, next))
		}
		mask, err := accessMask(r.Access)
		if err != nil {
			return nil, err
		}
		if mask != accAll {
			block = append(block, asm.Mov.Reg32(scratch, acc))
			if r.Allow {
				// Bits asked for that the rule does not grant.
				block = append(block, asm.And.Imm32(scratch, int32(^mask&accAll)), asm.JNE.Imm(scratch, 0, next))
			} else {
				block = append(block, asm.And.Imm32(scratch, int32(mask)), asm.JEq.Imm(scratch, 0, next))
			}
		}
		if !wildcard(r.Major) {
			block = append(block, asm.JNE.Imm(major, int32(*r.Major), next))
		}
		if !wildcard(r.Minor) {
			block = append(block, asm.JNE.Imm(minor, int32(*r.Minor), next))
		}
		verdict := int32(0)
		if r.Allow {
			verdict = 1
		}
		matchesAll := len(block) == 0
		block = append(block, asm.Mov.Imm32(asm.R0, verdict), asm.Return())
		block[0] = block[0].WithSymbol(fmt.Sprintf("rule%d", i))
		insns = append(insns, block...)
		if matchesAll {
			// Nothing before it can be reached, and the verifier
			// rejects unreachable instructions.
			return insns, nil
		}
	}
	insns = append(insns,
		asm.Mov.Imm32(asm.R0, 0).WithSymbol("rule-1"),
		asm.Return(),
	)
	return insns, nil
}

// Attach makes rules the device policy of the cgroup v2 directory dir. The
// new program is attached before the old ones are detached, so the cgroup
// is never without a policy; programs attached this way outlive the
// runtime's process, which is what keeps the policy in force.
func Attach(dir string, rules []specs.LinuxDeviceCgroup) error {
	insns, err := program(rules)
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		Instructions: insns,
		License:      "Apache-2.0",
	})
	if err != nil {
		return fmt.Errorf("load device program for cgroup %s: %w", dir, err)
	}
	defer prog.Close()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer unix.Close(fd)
	old, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return fmt.Errorf("list device programs of cgroup %s: %w", dir, err)
	}
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  fd,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	})
	if err != nil {
		return fmt.Errorf("attach device program to cgroup %s: %w", dir, err)
	}
	var errs []error
	for _, p := range old.Programs {
		if err := detach(fd, p.ID); err != nil {
			errs = append(errs, fmt.Errorf("detach old device program %d from cgroup %s: %w", p.ID, dir, err))
		}
	}
	return errors.Join(errs...)
}

func detach(cgroupFD int, id ebpf.ProgramID) error {
	prog, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return err
	}
	defer prog.Close()
	return link.RawDetachProgram(link.RawDetachProgramOptions{Target: cgroupFD, Program: prog, Attach: ebpf.AttachCGroupDevice})
}
