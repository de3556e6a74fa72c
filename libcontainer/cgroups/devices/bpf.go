package devices

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The device program is a few dozen instructions of five kinds and needs
// four bpf(2) commands, so berth encodes and loads it itself: a general
// eBPF library would put several MB into the binary, which every berth
// process, however short-lived, pays for in start-up time.

// Device types as struct bpf_cgroup_dev_ctx gives them (BPF_DEVCG_DEV_*).
const (
	devBlock = 1
	devChar  = 2
)

// insn is one eBPF instruction, laid out as struct bpf_insn.
type insn struct {
	code uint8
	regs uint8 // destination register in the low nibble, source in the high
	off  int16
	imm  int32
}

// Registers: r0 holds the verdict, r1 the context on entry.
const (
	r0 = iota
	r1
	r2
	r3
	r4
	r5
)

func loadWord(dst, src uint8, off int16) insn {
	return insn{code: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, regs: dst | src<<4, off: off}
}

func mov32(dst, src uint8) insn {
	return insn{code: unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X, regs: dst | src<<4}
}

// alu32 applies op (BPF_AND, BPF_RSH, BPF_MOV…) with imm to dst.
func alu32(op, dst uint8, imm int32) insn {
	return insn{code: unix.BPF_ALU | op | unix.BPF_K, regs: dst, imm: imm}
}

// jump skips the instructions its off counts when dst compares to imm by
// op (BPF_JNE, BPF_JEQ).
func jump(op, dst uint8, imm int32) insn {
	return insn{code: unix.BPF_JMP | op | unix.BPF_K, regs: dst, imm: imm}
}

// classMask selects an opcode's class (BPF_ALU, BPF_JMP…).
const classMask = 0x07

func exit() insn { return insn{code: unix.BPF_JMP | unix.BPF_EXIT} }

// program compiles rules into the instructions of a BPF_CGROUP_DEVICE
// program. The kernel passes it struct bpf_cgroup_dev_ctx { u32
// access_type (access << 16 | type); u32 major; u32 minor; } and allows
// the access if it returns 1.
//
// The rules are tested from the last to the first, and the first that
// matches returns its verdict: that is "the last matching rule wins". An
// allow rule matches when it grants every bit of the requested access; a
// deny rule when it forbids any of them. A test that fails jumps past the
// end of its rule's block, to the next rule.
func program(rules []specs.LinuxDeviceCgroup) ([]insn, error) {
	const ctx, typ, acc, major, minor, scratch = r1, r2, r3, r4, r5, r0
	insns := []insn{
		loadWord(typ, ctx, 0),
		mov32(acc, typ),
		alu32(unix.BPF_AND, typ, 0xffff),
		alu32(unix.BPF_RSH, acc, 16),
		loadWord(major, ctx, 4),
		loadWord(minor, ctx, 8),
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		var block []insn
		switch r.Type {
		case "b":
			block = append(block, jump(unix.BPF_JNE, typ, devBlock))
		case "c":
			block = append(block, jump(unix.BPF_JNE, typ, devChar))
		}
		mask, err := accessMask(r.Access)
		if err != nil {
			return nil, err
		}
		if mask != accAll {
			block = append(block, mov32(scratch, acc))
			if r.Allow {
				// Bits asked for that the rule does not grant.
				block = append(block, alu32(unix.BPF_AND, scratch, int32(^mask&accAll)), jump(unix.BPF_JNE, scratch, 0))
			} else {
				block = append(block, alu32(unix.BPF_AND, scratch, int32(mask)), jump(unix.BPF_JEQ, scratch, 0))
			}
		}
		if !wildcard(r.Major) {
			block = append(block, jump(unix.BPF_JNE, major, int32(*r.Major)))
		}
		if !wildcard(r.Minor) {
			block = append(block, jump(unix.BPF_JNE, minor, int32(*r.Minor)))
		}
		// A failed test skips the rest of the block: the tests after it
		// and the two instructions of the verdict.
		for j := range block {
			if block[j].code&classMask == unix.BPF_JMP {
				block[j].off = int16(len(block) - j - 1 + 2)
			}
		}
		verdict := int32(0)
		if r.Allow {
			verdict = 1
		}
		matchesAll := len(block) == 0
		block = append(block, alu32(unix.BPF_MOV, r0, verdict), exit())
		insns = append(insns, block...)
		if matchesAll {
			// Nothing before it can be reached, and the verifier
			// rejects unreachable instructions.
			return insns, nil
		}
	}
	return append(insns, alu32(unix.BPF_MOV, r0, 0), exit()), nil
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
	prog, err := loadProgram(insns)
	if err != nil {
		return fmt.Errorf("load device program for cgroup %s: %w", dir, err)
	}
	defer unix.Close(prog)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer unix.Close(fd)
	old, err := attachedPrograms(fd)
	if err != nil {
		return fmt.Errorf("list device programs of cgroup %s: %w", dir, err)
	}
	if err := attachProgram(unix.BPF_PROG_ATTACH, fd, prog, unix.BPF_F_ALLOW_MULTI); err != nil {
		return fmt.Errorf("attach device program to cgroup %s: %w", dir, err)
	}
	var errs []error
	for _, id := range old {
		if err := detach(fd, id); err != nil {
			errs = append(errs, fmt.Errorf("detach old device program %d from cgroup %s: %w", id, dir, err))
		}
	}
	return errors.Join(errs...)
}

func detach(cgroupFD int, id uint32) error {
	attr := struct{ progID, nextID, openFlags uint32 }{progID: id}
	prog, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return err
	}
	defer unix.Close(prog)
	return attachProgram(unix.BPF_PROG_DETACH, cgroupFD, prog, 0)
}

// The attributes of the bpf(2) commands below are the heads of union
// bpf_attr's structs for them. Where the kernel takes an __aligned_u64
// address they hold an unsafe.Pointer, which has that layout on 64-bit
// machines and keeps what it points to alive and in place for the call.

// loadProgram loads a BPF_CGROUP_DEVICE program and returns its fd. When
// the verifier refuses it, the error carries the verifier's log.
func loadProgram(insns []insn) (int, error) {
	license := []byte("Apache-2.0\x00")
	attr := struct {
		progType, insnCnt uint32
		insns, license    unsafe.Pointer
		logLevel, logSize uint32
		logBuf            unsafe.Pointer
	}{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    unsafe.Pointer(&insns[0]),
		license:  unsafe.Pointer(&license[0]),
	}
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EINVAL) {
		// Again, for the verifier to say why.
		log := make([]byte, 64<<10)
		attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), unsafe.Pointer(&log[0])
		if fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err == nil {
			unix.Close(fd)
		}
		if n := bytes.IndexByte(log, 0); n > 0 {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(log[:n]))
		}
	}
	return fd, err
}

// attachProgram attaches (BPF_PROG_ATTACH) or detaches (BPF_PROG_DETACH)
// the program prog on the cgroup cgroupFD as its device policy.
func attachProgram(cmd, cgroupFD, prog int, flags uint32) error {
	attr := struct{ targetFD, attachBPFFD, attachType, attachFlags uint32 }{
		targetFD:    uint32(cgroupFD),
		attachBPFFD: uint32(prog),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: flags,
	}
	_, err := bpf(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// attachedPrograms returns the ids of the device programs attached to the
// cgroup cgroupFD.
func attachedPrograms(cgroupFD int) ([]uint32, error) {
	// The kernel allows 64 programs per attach point.
	ids := make([]uint32, 64)
	attr := struct {
		targetFD, attachType, queryFlags, attachFlags uint32
		progIDs                                       unsafe.Pointer
		progCnt                                       uint32
	}{
		targetFD:   uint32(cgroupFD),
		attachType: unix.BPF_CGROUP_DEVICE,
		progIDs:    unsafe.Pointer(&ids[0]),
		progCnt:    uint32(len(ids)),
	}
	if _, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return nil, err
	}
	return ids[:attr.progCnt], nil
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}
