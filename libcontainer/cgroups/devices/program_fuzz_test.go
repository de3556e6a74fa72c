package devices

import (
	"encoding/binary"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// run interprets a device program, of the few instructions program
// emits, for one access as the kernel passes it (struct
// bpf_cgroup_dev_ctx); ok is false for a program that does something
// else or runs off its end.
func run(insns []insn, typ, access, major, minor uint32) (verdict uint64, ok bool) {
	var ctx [12]byte
	binary.NativeEndian.PutUint32(ctx[0:], access<<16|typ)
	binary.NativeEndian.PutUint32(ctx[4:], major)
	binary.NativeEndian.PutUint32(ctx[8:], minor)
	var reg [11]uint64
	for pc := 0; pc >= 0 && pc < len(insns); pc++ {
		in := insns[pc]
		dst, src := in.regs&0xf, in.regs>>4
		switch in.code {
		case unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W:
			if src != r1 || in.off < 0 || in.off > 8 || in.off%4 != 0 {
				return 0, false
			}
			reg[dst] = uint64(binary.NativeEndian.Uint32(ctx[in.off:]))
		case unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X:
			reg[dst] = uint64(uint32(reg[src]))
		case unix.BPF_ALU | unix.BPF_MOV | unix.BPF_K:
			reg[dst] = uint64(uint32(in.imm))
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			reg[dst] = uint64(uint32(reg[dst]) & uint32(in.imm))
		case unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K:
			reg[dst] = uint64(uint32(reg[dst]) >> uint32(in.imm))
		case unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			equal := reg[dst] == uint64(int64(in.imm))
			if equal == (in.code&0xf0 == unix.BPF_JEQ) {
				pc += int(in.off)
			}
		case unix.BPF_JMP | unix.BPF_EXIT:
			return reg[r0], true
		default:
			return 0, false
		}
	}
	return 0, false
}

// decide is what the package comment says the rules mean: the last rule
// that matches decides; an allow rule matches an access it grants all of,
// a deny rule one it forbids any of; no match denies.
func decide(rules []specs.LinuxDeviceCgroup, typ string, access uint32, major, minor int64) bool {
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		mask, _ := accessMask(r.Access)
		switch {
		case r.Type != "" && r.Type != "a" && r.Type != typ:
		case !wildcard(r.Major) && *r.Major != major, !wildcard(r.Minor) && *r.Minor != minor:
		case r.Allow && access&^mask != 0, !r.Allow && access&mask == 0:
		default:
			return r.Allow
		}
	}
	return false
}

// FuzzProgram compiles rule lists made of the fuzzer's bytes (4 per rule)
// and runs the program on every access to a few devices, against what the
// rules mean. The kernel's verifier checks that a program is safe, not
// that it says what the config says.
func FuzzProgram(f *testing.F) {
	f.Add([]byte{0, 0, 7, 0})
	f.Add([]byte{0, 0, 7, 0, 1, 2, 7, 0x21, 0, 2, 4, 0x22})
	f.Add([]byte{1, 2, 1, 0xff, 0, 1, 7, 0x0f, 1, 3, 6, 0x30})
	types := []string{"", "a", "b", "c"}
	accesses := []string{"", "r", "w", "m", "rw", "rm", "wm", "rwm", "mwr"}
	number := func(nibble byte) *int64 {
		if nibble >= 4 {
			return nil // any
		}
		n := int64(nibble)
		return &n
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rules []specs.LinuxDeviceCgroup
		for i := 0; i+4 <= len(data); i += 4 {
			rules = append(rules, specs.LinuxDeviceCgroup{
				Allow:  data[i]&1 == 1,
				Type:   types[int(data[i+1])%len(types)],
				Access: accesses[int(data[i+2])%len(accesses)],
				Major:  number(data[i+3] & 0xf),
				Minor:  number(data[i+3] >> 4),
			})
		}
		if err := Validate(rules); err != nil {
			t.Fatalf("rules made of known parts refused: %v", err)
		}
		insns, err := program(rules)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"b", "c"} {
			for access := uint32(1); access <= accAll; access++ {
				for major := int64(0); major < 5; major++ {
					for minor := int64(0); minor < 5; minor++ {
						kind := uint32(devBlock)
						if typ == "c" {
							kind = devChar
						}
						verdict, ok := run(insns, kind, access, uint32(major), uint32(minor))
						if !ok {
							t.Fatalf("program for %+v does not end in a verdict", rules)
						}
						if want := decide(rules, typ, access, major, minor); (verdict == 1) != want {
							t.Fatalf("rules %+v: %s %d:%d access %03b: program says %d, rules say %v", rules, typ, major, minor, access, verdict, want)
						}
					}
				}
			}
		}
	})
}
