package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/rootfs"
)

// A container's init starts from a plan, as a plain exec's process does
// (exec_plan.go), when it needs nothing that only the Go init does. The
// nsenter constructor makes the namespaces and waits; the parent places it
// in its cgroups and asks it for what only a process inside can do
// (unshare the cgroup namespace, join a session keyring, open a procfs
// context in its pid namespace). Then the parent builds the root
// filesystem and the system identity itself, with the code the Go init
// runs (buildContainer), on a thread of its own that joined the init's
// other namespaces, and sends the plan: the init applies it, waits for
// `start` on the exec fifo and execs. A create then starts one Go process
// instead of two.

// The set-up request's flags, as libcontainer/nsenter/exec.c reads them.
const (
	setupCgroupNS = 1 << iota
	setupProcFS
)

// startsFromPlan reports whether the init of the container o describes
// can start from a plan: it needs none of what needsGoInit lists, no
// terminal, no user namespace (setns(2) refuses one to a thread of a
// multi-threaded process), no hooks that run before its process starts,
// no idmapped mounts, no chroot instead of pivot_root, no tmpfs that
// tmpcopyup fills and at most one procfs (one context is opened for it),
// which needs no flag only mount(2) sets (rootfs.MadeByMount2).
//
// The tmpcopyup copy must run in the container's cgroups, as the Go init
// does (the parent places it before sending the bootstrap): the tmpfs's
// pages are charged to the memory cgroup of whoever writes them, and a
// copy in the parent would leave them to berth's caller and open what it
// copies outside the container's device cgroup.
func startsFromPlan(o CreateOptions, trees map[int]*os.File) bool {
	s := o.Spec
	if s.Linux == nil || needsGoInit(s.Process, s.Linux) || o.NoPivot || len(trees) > 0 {
		return false
	}
	if slices.ContainsFunc(s.Mounts, rootfs.CopiesUp) {
		return false
	}
	if hasHooksBeforeProcess(s) {
		return false
	}
	if slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace }) {
		return false
	}
	procs := 0
	for _, m := range s.Mounts {
		if m.Type == "proc" {
			procs++
			if rootfs.MadeByMount2(m) {
				return false
			}
		}
	}
	return procs <= 1
}

// buildFromParent does for an init that starts from a plan what
// setupContainer does in the Go init, then sends the plan; fifoFD is the
// init's fd of the exec fifo.
func buildFromParent(sync *syncPipe, o CreateOptions, pid, fifoFD int) error {
	s := o.Spec
	// Compiled first: a bad seccomp profile fails before any mount.
	plan, err := processPlan(s.Process, s.Linux, o.PreserveFDs, fifoFD)
	if err != nil {
		return err
	}
	hierarchies, err := cgroupHierarchies(s, pid)
	if err != nil {
		return err
	}
	cgroupNS := hasNamespace(s, specs.CgroupNamespace)
	procfs, err := requestSetup(sync, o, cgroupNS, slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool { return m.Type == "proc" }))
	if err != nil {
		return err
	}
	if procfs != nil {
		defer procfs.Close()
	}
	sync.trace.Step("set-up request answered")
	err = onContainerThread(pid, containerThreadNamespaces, func() error {
		// Relative bind sources resolve in the bundle.
		if err := unix.Chdir(o.Bundle); err != nil {
			return fmt.Errorf("chdir to the bundle: %w", err)
		}
		_, err := buildContainer(rootfs.Config{
			Spec:        s,
			Rootfs:      o.Rootfs,
			Hierarchies: hierarchies,
			CgroupNS:    cgroupNS,
			ProcFS:      procfs,
		})
		return err
	})
	if err != nil {
		return err
	}
	sync.trace.Step("root filesystem built")
	if err := setOOMScoreAdj(pid, s.Process); err != nil {
		return err
	}
	if _, err := sync.f.Write(plan); err != nil {
		return fmt.Errorf("send the init plan: %w", err)
	}
	sync.trace.Step("plan sent")
	return nil
}

// requestSetup sends an init that starts from a plan its set-up request
// (see libcontainer/nsenter/exec.c) and returns the procfs context it
// opened, when procfs asks for one.
func requestSetup(sync *syncPipe, o CreateOptions, cgroupNS, procfs bool) (*os.File, error) {
	var req planBuffer
	var flags uint32
	if cgroupNS {
		flags |= setupCgroupNS
	}
	if procfs {
		flags |= setupProcFS
	}
	req.u32(flags)
	keyring := sessionKeyring(o.ID)
	if o.NoNewKeyring {
		keyring = ""
	}
	req.str(keyring)
	if _, err := sync.f.Write(req.Bytes()); err != nil {
		return nil, fmt.Errorf("send the set-up request: %w", err)
	}
	// The answer carries an fd, which only recvmsg(2) receives: read
	// past sync's decoder, which holds nothing but the newline that ended
	// the pid message, the init having sent nothing since.
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sync.f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive the set-up answer: %w", err)
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, fmt.Errorf("receive the set-up answer: %w", err)
		}
		for _, m := range msgs {
			got, err := unix.ParseUnixRights(&m)
			if err != nil {
				return nil, fmt.Errorf("receive the set-up answer: %w", err)
			}
			fds = append(fds, got...)
		}
	}
	switch {
	case n == 1 && buf[0] == 'k' && len(fds) == 0 && !procfs:
		return nil, nil
	case n == 1 && buf[0] == 'k' && len(fds) == 1 && procfs:
		return os.NewFile(uintptr(fds[0]), "procfs context"), nil
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	var m syncMsg
	switch {
	case n == 0:
		return nil, errInitGone
	case json.Unmarshal(buf[:n], &m) == nil && m.Type == msgError:
		return nil, errors.New(m.Error)
	}
	return nil, fmt.Errorf("protocol error: set-up answer %q with %d fds", buf[:n], len(fds))
}

// containerThreadNamespaces are the namespaces of a container's init
// that the thread building its root filesystem joins.
const containerThreadNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP

// onContainerThread runs f on a thread of this process that has joined
// the namespaces flags (CLONE_NEW* bits) of process pid, with a root and
// working directory of its own. The thread ends with f: nothing else of
// this process ever runs in those namespaces. The caller must keep the
// thread that started pid, whose death kills it, from being that thread
// (runtime.LockOSThread).
func onContainerThread(pid, flags int, f func() error) error {
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the Go runtime ends a thread whose goroutine
		// exits locked to it, instead of using it again.
		runtime.LockOSThread()
		done <- func() error {
			// setns(2) into a mount namespace needs a root and working
			// directory not shared with other threads.
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return fmt.Errorf("unshare a thread's filesystem attributes: %w", err)
			}
			pidfd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				return fmt.Errorf("open container init %d: %w", pid, err)
			}
			defer unix.Close(pidfd)
			if err := unix.Setns(pidfd, flags); err != nil {
				return fmt.Errorf("join the namespaces of container init %d: %w", pid, err)
			}
			return f()
		}()
	}()
	return <-done
}
