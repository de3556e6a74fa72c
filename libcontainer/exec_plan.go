package libcontainer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/capabilities"
	"github.com/berthrt/berth/libcontainer/seccomp"
)

// An exec whose process needs only ids, capabilities, rlimits, a seccomp
// filter, args, env and cwd is started by the nsenter constructor itself
// from a plan the parent computes (libcontainer/nsenter/exec.c): the
// process joins the namespaces, applies the plan and execs without a Go
// runtime ever starting in it, which is most of what an exec costs. A
// container's init can start the same way (create_plan.go). Anything else
// goes through the Go init (startProcess), as before.

// noFifo is the plan's fifo fd of a process that starts at once.
const noFifo = -1

// execPlan returns the plan for o's process, or nil when the process needs
// what only the Go init does (see needsGoInit), a user to look up by name,
// or a paused container to join late. (oomScoreAdj, which engines always
// set, the parent writes itself: setOOMScoreAdj.)
func execPlan(o ExecOptions, l *specs.Linux, paused bool) ([]byte, error) {
	if o.User != "" || paused || needsGoInit(o.Process, l) {
		return nil, nil
	}
	return processPlan(o.Process, l, o.PreserveFDs, noFifo)
}

// needsGoInit reports whether process p of a container with config l
// needs what only the Go init does: a terminal, an AppArmor profile or
// SELinux label, scheduling or I/O attributes, CPU affinity, a
// personality or a seccomp agent.
func needsGoInit(p *specs.Process, l *specs.Linux) bool {
	if p.Terminal || p.ApparmorProfile != "" || p.SelinuxLabel != "" ||
		p.Scheduler != nil || p.IOPriority != nil || p.ExecCPUAffinity != nil {
		return true
	}
	return l != nil && (l.Personality != nil || seccomp.UsesNotify(l.Seccomp))
}

// processPlan encodes the plan that starts p: the process waits for
// `start` on its fd fifoFD first, unless that is noFifo.
func processPlan(p *specs.Process, l *specs.Linux, preserveFDs, fifoFD int) ([]byte, error) {
	var insns []unix.SockFilter
	var scFlags uint32
	if l != nil && l.Seccomp != nil {
		f, err := seccomp.New(l.Seccomp)
		if err != nil {
			return nil, err
		}
		if insns, scFlags, err = f.Program(); err != nil {
			return nil, err
		}
	}
	caps, err := capabilities.New(p.Capabilities)
	if err != nil {
		return nil, err
	}

	var b planBuffer
	b.u32(p.User.UID)
	b.u32(p.User.GID)
	b.u32(uint32(len(p.User.AdditionalGids)))
	for _, g := range p.User.AdditionalGids {
		b.u32(g)
	}
	umask := uint32(0o022)
	if p.User.Umask != nil {
		umask = *p.User.Umask
	}
	b.u32(umask)
	bounding, effective, permitted, inheritable, ambient := caps.Masks()
	for _, m := range []uint64{bounding, effective, permitted, inheritable, ambient} {
		b.u64(m)
	}
	b.bool(p.NoNewPrivileges)
	b.u32(uint32(preserveFDs))
	b.u32(uint32(fifoFD))
	b.u32(uint32(len(p.Rlimits)))
	for _, r := range p.Rlimits {
		b.u32(uint32(rlimitResources[r.Type]))
		b.u64(r.Soft)
		b.u64(r.Hard)
		b.str(r.Type) // for errors
	}
	b.u32(uint32(len(insns)))
	b.u32(scFlags)
	if len(insns) > 0 {
		size := len(insns) * int(unsafe.Sizeof(insns[0]))
		b.Write(unsafe.Slice((*byte)(unsafe.Pointer(&insns[0])), size))
	}
	b.str(p.Cwd)
	b.strs(p.Args)
	b.strs(p.Env)
	return b.Bytes(), nil
}

// planBuffer writes the plan's fields in the host's byte order, as
// exec.c reads them.
type planBuffer struct{ bytes.Buffer }

func (b *planBuffer) u32(v uint32) { b.Write(binary.NativeEndian.AppendUint32(nil, v)) }
func (b *planBuffer) u64(v uint64) { b.Write(binary.NativeEndian.AppendUint64(nil, v)) }

func (b *planBuffer) bool(v bool) {
	if v {
		b.u32(1)
	} else {
		b.u32(0)
	}
}

func (b *planBuffer) str(s string) {
	b.u32(uint32(len(s)))
	b.WriteString(s)
}

func (b *planBuffer) strs(v []string) {
	b.u32(uint32(len(v)))
	for _, s := range v {
		b.str(s)
	}
}

// setOOMScoreAdj sets the oomScoreAdj of the process the plan starts, which
// waits for the plan and is still root: the parent writes it through its
// own /proc, as startProcess would through a private one.
func setOOMScoreAdj(pid int, p *specs.Process) error {
	if p.OOMScoreAdj == nil {
		return nil
	}
	err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid), []byte(strconv.Itoa(*p.OOMScoreAdj)), 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return oomScoreAdjError(*p.OOMScoreAdj, err)
	}
	return nil
}
