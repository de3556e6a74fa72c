package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
	"github.com/berthrt/berth/libcontainer/state"
	"github.com/berthrt/berth/libcontainer/trace"
)

// Start releases a created container's init to exec the user's process.
func (c *Container) Start() (err error) {
	tr := trace.Start("start", c.p.ID)
	defer func() { tr.End(err) }()
	entry, err := c.store.Lock(c.p.ID)
	if err != nil {
		return err
	}
	defer entry.Unlock()
	switch st := c.Status(); st {
	case specs.StateCreated:
	case specs.StateStopped:
		return fmt.Errorf("cannot start container %q: it has stopped", c.p.ID)
	default:
		return fmt.Errorf("cannot start container %q: it is %s, not created", c.p.ID, st)
	}
	fifoPath := filepath.Join(entry.Dir(), execFifoName)
	fd, err := unix.Open(fifoPath, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("cannot start container %q: its init process has exited", c.p.ID)
	}
	if err != nil {
		return fmt.Errorf("open exec fifo of %q: %w", c.p.ID, err)
	}
	_, err = unix.Write(fd, []byte{0})
	if err == nil {
		tr.Step("init released")
		err = awaitExec(fd)
	}
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("release init of %q: %w", c.p.ID, err)
	}
	tr.Step("process running")
	if err := os.Remove(fifoPath); err != nil {
		return fmt.Errorf("remove exec fifo of %q: %w", c.p.ID, err)
	}
	if c.p.HasHooks {
		s, err := c.Spec()
		if err != nil {
			return err
		}
		if s.Hooks.Poststart != nil {
			runWarnHooks("poststart", s.Hooks.Poststart, ociState(c.p.ID, c.p.Bundle, s, specs.StateRunning, c.p.InitPid))
			tr.Step("poststart hooks run")
		}
	}
	return nil
}

// awaitExec waits until init has closed its (close-on-exec) end of the exec
// fifo, that is until it has exec'd the user's process or died: a signal
// sent once start returns then reaches the user's process, not berth.
func awaitExec(fifo int) error {
	// With no reader left, poll reports an error on a fifo's writing end.
	fds := []unix.PollFd{{Fd: int32(fifo)}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err
	}
}

// Wait waits for the container's init to exit and returns its wait
// status. Only the process that created the container can wait for it:
// init is its child (the nsenter constructor forks into a pid namespace
// with CLONE_PARENT).
func (c *Container) Wait() (unix.WaitStatus, error) {
	return WaitPid(c.p.InitPid)
}

// Signal sends sig to the container's init, or with all to every process in
// its cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) (err error) {
	tr := trace.Start("kill", c.p.ID)
	defer func() { tr.End(err) }()
	st := c.Status()
	// With --all a stopped container may still hold processes: without a
	// pid namespace they outlive init.
	if st != specs.StateCreated && st != specs.StateRunning && st != StatePaused && !(all && st == specs.StateStopped) {
		return fmt.Errorf("cannot signal container %q: it is %s", c.p.ID, st)
	}
	if all {
		cg, err := c.cgroup()
		if err != nil {
			return err
		}
		if err := signalCgroup(cg, sig); err != nil {
			return fmt.Errorf("signal container %q: %w", c.p.ID, err)
		}
		tr.Stepf("signal %d sent to every process of its cgroup", sig)
	} else {
		if err := c.signalInit(sig); err != nil {
			return err
		}
		tr.Stepf("signal %d sent to init", sig)
	}
	// On cgroup v1 a frozen process does not die of SIGKILL until it is
	// thawed. runc thaws a paused container it kills, so that it stops.
	if sig == unix.SIGKILL && st == StatePaused {
		return c.thawKilled()
	}
	return nil
}

// signalCgroup sends sig to every process in cg. A pid read from the
// cgroups can name another process by the time it is signalled: once a
// container's process exits and is reaped, a host process may get its pid,
// and a container can make pids cycle fast (pid_max is often 32768). So
// each pid is pinned with a pidfd first, and signalled only if the cgroups
// list it again then: a pid reused by a process outside them is not there.
// The pidfds are held a batch at a time, to stay within the fd limit.
func signalCgroup(cg cgroups.Manager, sig unix.Signal) error {
	pids, err := cg.Pids()
	if err != nil {
		return err
	}
	const batch = 512
	for len(pids) > 0 {
		n := min(batch, len(pids))
		if err := signalPinned(cg, pids[:n], sig); err != nil {
			return err
		}
		pids = pids[n:]
	}
	return nil
}

// signalPinned opens pidfds for pids, then signals those that cg still
// lists.
func signalPinned(cg cgroups.Manager, pids []int, sig unix.Signal) error {
	pidfds := make(map[int]int, len(pids))
	defer func() {
		for _, fd := range pidfds {
			unix.Close(fd)
		}
	}()
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue
		}
		if err != nil {
			return fmt.Errorf("open pid %d: %w", pid, err)
		}
		pidfds[pid] = fd
	}
	listed, err := cg.Pids()
	if err != nil {
		return err
	}
	for _, pid := range listed {
		fd, ok := pidfds[pid]
		if !ok {
			continue
		}
		if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal pid %d: %w", pid, err)
		}
	}
	return nil
}

// signalInit signals init through a pidfd, so that a pid reused after init
// exited is never hit.
func (c *Container) signalInit(sig unix.Signal) error {
	pidfd, err := c.openInit()
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal init of container %q: %w", c.p.ID, err)
	}
	return nil
}

// openInit returns a pidfd for init, or ESRCH when init is gone.
func (c *Container) openInit() (int, error) {
	pidfd, err := unix.PidfdOpen(c.p.InitPid, 0)
	if err != nil {
		return -1, fmt.Errorf("open init of container %q: %w", c.p.ID, err)
	}
	// Checked after opening: the pidfd pins the process, so a match now
	// cannot go stale.
	if !c.initAlive() {
		unix.Close(pidfd)
		return -1, fmt.Errorf("open init of container %q: %w", c.p.ID, unix.ESRCH)
	}
	return pidfd, nil
}

// Delete removes container id. A running container is refused unless force
// is set, in which case it is killed first; a created one is killed, as
// runc does. With force an unknown id is not an error, so that engines can
// repeat a delete safely.
func Delete(store *state.Store, id string, force bool) (err error) {
	tr := trace.Start("delete", id)
	defer func() { tr.End(err) }()
	entry, err := store.Lock(id)
	if err != nil {
		if force && errors.Is(err, state.ErrNotExist) {
			return nil
		}
		return err
	}
	defer entry.Unlock()
	c := &Container{store: store}
	if err := entry.Load(&c.p); err != nil {
		if !isNotExist(err) {
			return fmt.Errorf("read state of container %q: %w", id, err)
		}
		// A create that crashed before saving its state: nothing runs.
		c.p.ID = id
	}
	return c.destroy(entry, force, tr)
}

func (c *Container) destroy(entry *state.Entry, force bool, tr *trace.Trace) error {
	switch st := c.Status(); st {
	case specs.StateStopped, specs.StateCreating:
	case specs.StateCreated:
		if err := c.kill(); err != nil {
			return err
		}
		tr.Step("init killed")
	default:
		if !force {
			return fmt.Errorf("cannot delete container %q: it is %s (stop it first or use --force)", c.p.ID, st)
		}
		if err := c.kill(); err != nil {
			return err
		}
		tr.Step("init killed")
	}
	if len(c.p.CgroupPaths) > 0 {
		cg, err := c.cgroup()
		if err != nil {
			return err
		}
		if len(c.p.PreexistingCgroups) > 0 && c.killsByCgroup() {
			// Destroy leaves these cgroups, and what outlived init
			// in them.
			_ = cg.Kill()
		}
		if err := cg.Destroy(); err != nil {
			return fmt.Errorf("remove cgroup of container %q: %w", c.p.ID, err)
		}
		tr.Step("cgroups removed")
	}
	if c.p.HasHooks {
		// The config goes with the state directory: read it first.
		if sp, err := c.Spec(); err == nil && sp.Hooks.Poststop != nil {
			runWarnHooks("poststop", sp.Hooks.Poststop, ociState(c.p.ID, c.p.Bundle, sp, specs.StateStopped, 0))
			tr.Step("poststop hooks run")
		}
	}
	if err := entry.Remove(); err != nil {
		return err
	}
	tr.Step("state removed")
	return nil
}

// kill SIGKILLs init (and with it the whole pid namespace) and, if
// killsByCgroup says so, every other process in the cgroup, then waits for
// init to die.
func (c *Container) kill() error {
	pidfd, err := c.openInit()
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill init of container %q: %w", c.p.ID, err)
	}
	if len(c.p.CgroupPaths) > 0 {
		if cg, err := c.cgroup(); err == nil {
			if c.killsByCgroup() {
				_ = cg.Kill()
			}
			// The processes of a paused container die only once
			// thawed.
			_ = cg.Thaw()
		}
	}
	exited, err := awaitExit(pidfd, killTimeout)
	if err != nil {
		return fmt.Errorf("wait for init of container %q: %w", c.p.ID, err)
	}
	if !exited {
		return fmt.Errorf("init of container %q did not die within %v of SIGKILL", c.p.ID, killTimeout)
	}
	return nil
}

// killTimeout bounds the wait for a process to die of SIGKILL.
const killTimeout = 10 * time.Second

// awaitExit waits up to limit for the process pidfd refers to to exit. A
// pidfd becomes readable then, whoever the process's parent.
func awaitExit(pidfd int, limit time.Duration) (exited bool, err error) {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	deadline := time.Now().Add(limit)
	for {
		// A negative timeout would wait for ever.
		n, err := unix.Poll(fds, max(0, int(time.Until(deadline).Milliseconds())))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return n > 0, err
	}
}

// killsByCgroup reports whether delete kills every process in the
// container's cgroups, or only its init. A process in a cgroup berth made
// is the container's; one in a cgroup that was there before create may
// have been put there by someone else since. There init is enough for a
// container with a pid namespace of its own, which ends with init; one
// without is killed by cgroup, as runc does, for its processes can outlive
// init and nothing else finds them.
func (c *Container) killsByCgroup() bool {
	if len(c.p.PreexistingCgroups) == 0 {
		return true
	}
	var s specs.Spec
	if err := c.readConfig(&s); err != nil {
		return false
	}
	return !hasNamespace(&s, specs.PIDNamespace)
}
