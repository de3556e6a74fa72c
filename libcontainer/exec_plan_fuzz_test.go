package libcontainer

import (
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cPlan is a plan as libcontainer/nsenter/exec.c reads it (its comment
// documents the layout): strings end at their first NUL there, as C
// reads them.
type cPlan struct {
	uid, gid, umask          uint32
	groups                   []uint32
	caps                     [5]uint64
	nnp, preserveFDs, fifoFD uint32
	rlimits                  []cRlimit
	insns, seccompFlags      uint32
	cwd                      string
	args, env                []string
}

type cRlimit struct {
	resource   uint32
	soft, hard uint64
	name       string
}

// planReader reads a plan field by field; a plan too short for what its
// counts announce sets short.
type planReader struct {
	b     []byte
	short bool
}

func (r *planReader) take(n uint64) []byte {
	if r.short || n > uint64(len(r.b)) {
		r.short = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *planReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.NativeEndian.Uint32(v)
	}
	return 0
}

func (r *planReader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.NativeEndian.Uint64(v)
	}
	return 0
}

func (r *planReader) str() string {
	s, _, _ := strings.Cut(string(r.take(uint64(r.u32()))), "\x00")
	return s
}

func (r *planReader) strs() []string {
	var v []string
	for n := r.u32(); n > 0 && !r.short; n-- {
		v = append(v, r.str())
	}
	return v
}

func readPlan(b []byte) (p cPlan, ok bool) {
	r := &planReader{b: b}
	p.uid, p.gid = r.u32(), r.u32()
	for n := r.u32(); n > 0 && !r.short; n-- {
		p.groups = append(p.groups, r.u32())
	}
	p.umask = r.u32()
	for i := range p.caps {
		p.caps[i] = r.u64()
	}
	p.nnp, p.preserveFDs, p.fifoFD = r.u32(), r.u32(), r.u32()
	for n := r.u32(); n > 0 && !r.short; n-- {
		p.rlimits = append(p.rlimits, cRlimit{r.u32(), r.u64(), r.u64(), r.str()})
	}
	p.insns, p.seccompFlags = r.u32(), r.u32()
	r.take(uint64(p.insns) * 8)
	p.cwd, p.args, p.env = r.str(), r.strs(), r.strs()
	return p, !r.short && len(r.b) == 0
}

// FuzzProcessPlan encodes processes as an exec or a container's init
// gets them and reads the plan back as exec.c does. Whatever the checks
// that come before the plan (checkProcessAttrs, checkRlimits) let
// through must arrive as it was given, to the byte: the C side has no
// way to tell a mangled string from a meant one.
func FuzzProcessPlan(f *testing.F) {
	f.Add(uint32(0), uint32(0), []byte{}, uint32(0o022), true, uint8(0), false, []byte{9}, "/", "sh\x1f-c\x1fecho hi", "PATH=/bin\x1fTERM=xterm")
	f.Add(uint32(1000), uint32(1000), []byte{1, 0, 0, 0, 2, 0, 0, 0}, uint32(0o077), false, uint8(3), true, []byte{1, 2, 3}, "/home/u", "/bin/true", "")
	f.Add(uint32(0), uint32(0), []byte{}, uint32(0), false, uint8(0), false, []byte{}, "/", "a\x00b", "A=1\x00B=2")
	rlimitNames := slices.Sorted(maps.Keys(rlimitResources))
	chown := []string{"CAP_CHOWN"}
	f.Fuzz(func(t *testing.T, uid, gid uint32, groups []byte, umask uint32, nnp bool, preserve uint8, withFifo bool, rlimits []byte, cwd, args, env string) {
		p := &specs.Process{
			User: specs.User{UID: uid, GID: gid, Umask: &umask},
			Cwd:  cwd, Args: strings.Split(args, "\x1f"), NoNewPrivileges: nnp,
			Capabilities: &specs.LinuxCapabilities{Bounding: chown, Effective: chown, Permitted: chown, Inheritable: chown, Ambient: chown},
		}
		if env != "" {
			p.Env = strings.Split(env, "\x1f")
		}
		for i := 0; i+4 <= len(groups); i += 4 {
			p.User.AdditionalGids = append(p.User.AdditionalGids, binary.NativeEndian.Uint32(groups[i:]))
		}
		for i, b := range rlimits {
			p.Rlimits = append(p.Rlimits, specs.POSIXRlimit{Type: rlimitNames[int(b)%len(rlimitNames)], Soft: uint64(i) << b, Hard: uint64(i+1) << b})
		}
		fifo := noFifo
		if withFifo {
			fifo = 3 + int(preserve)
		}
		if checkProcessAttrs(p, nil) != nil || checkRlimits(p.Rlimits) != nil {
			return
		}
		plan, err := processPlan(p, nil, int(preserve), fifo)
		if err != nil {
			t.Fatalf("processPlan of a process the checks accept: %v", err)
		}
		got, ok := readPlan(plan)
		if !ok {
			t.Fatalf("the plan does not read back as exec.c reads it: %d bytes", len(plan))
		}
		want := cPlan{
			uid: uid, gid: gid, umask: umask, groups: p.User.AdditionalGids,
			caps:   [5]uint64{1, 1, 1, 1, 1}, // CAP_CHOWN is capability 0
			nnp:    map[bool]uint32{false: 0, true: 1}[nnp],
			fifoFD: uint32(fifo), preserveFDs: uint32(preserve),
			cwd: cwd, args: p.Args, env: p.Env,
		}
		for _, r := range p.Rlimits {
			want.rlimits = append(want.rlimits, cRlimit{uint32(rlimitResources[r.Type]), r.Soft, r.Hard, r.Type})
		}
		if got.uid != want.uid || got.gid != want.gid || got.umask != want.umask || !slices.Equal(got.groups, want.groups) ||
			got.caps != want.caps || got.nnp != want.nnp || got.preserveFDs != want.preserveFDs || got.fifoFD != want.fifoFD ||
			!slices.Equal(got.rlimits, want.rlimits) || got.insns != 0 {
			t.Fatalf("plan reads back as %+v, want %+v", got, want)
		}
		if got.cwd != want.cwd || !slices.Equal(got.args, want.args) || !slices.Equal(got.env, want.env) {
			t.Fatalf("exec.c would run cwd %q args %q env %q; the config says %q %q %q", got.cwd, got.args, got.env, cwd, p.Args, p.Env)
		}
	})
}
