package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
	"github.com/berthrt/berth/libcontainer/trace"
)

// ExecOptions describe a process to run in an existing container.
type ExecOptions struct {
	// Process is the process to run, complete: exec does not merge it
	// with the container's own process.
	Process *specs.Process
	// PreserveFDs passes the caller's fds 3 … 3+PreserveFDs-1 on.
	PreserveFDs int
	// Stdin, Stdout and Stderr become the process's stdio.
	Stdin, Stdout, Stderr *os.File
	// ConsoleSocket receives the pty master when Process.Terminal is set.
	ConsoleSocket *os.File
	// User, if set, is "NAME[:GROUP]" (or ids) to look up in the
	// container's /etc/passwd and /etc/group, replacing Process.User's ids.
	User string
	// IgnorePaused allows an exec into a paused container (the process
	// starts frozen with it).
	IgnorePaused bool
	// SubCgroups puts the process in existing cgroups below the
	// container's, by controller ("memory", or "unified" on v2); the key
	// "" stands for every controller not named.
	SubCgroups map[string]string
}

// nsTypes are the namespaces an exec joins when the container's init has
// its own, with the file names /proc/<pid>/ns uses.
var nsTypes = []struct {
	file string
	flag uintptr
}{
	{"user", unix.CLONE_NEWUSER},
	{"mnt", unix.CLONE_NEWNS},
	{"pid", unix.CLONE_NEWPID},
	{"net", unix.CLONE_NEWNET},
	{"ipc", unix.CLONE_NEWIPC},
	{"uts", unix.CLONE_NEWUTS},
	{"cgroup", unix.CLONE_NEWCGROUP},
	{"time", unix.CLONE_NEWTIME},
}

// Exec starts a process inside the container: in all its namespaces and
// its cgroup, with the given process's attributes. It returns the pid once
// the process is about to exec; the caller waits for it with WaitPid: it is
// the caller's child, also when it joins a pid namespace (the nsenter
// constructor forks into it with CLONE_PARENT).
func (c *Container) Exec(o ExecOptions) (_ int, err error) {
	tr := trace.Start("exec", c.p.ID)
	defer func() { tr.End(err) }()
	st := c.Status()
	switch {
	case st == specs.StateCreated, st == specs.StateRunning:
	case st == StatePaused && o.IgnorePaused:
	case st == StatePaused:
		return 0, fmt.Errorf("cannot exec in container %q: it is paused (--ignore-paused execs anyway, frozen)", c.p.ID)
	default:
		return 0, fmt.Errorf("cannot exec in container %q: it is %s", c.p.ID, st)
	}
	cgroupPaths, err := c.execCgroupPaths(o.SubCgroups)
	if err != nil {
		return 0, err
	}
	// Only the parts of the config an exec uses (see Process).
	var cfg struct {
		Annotations map[string]string `json:"annotations,omitempty"`
		Linux       *execLinux        `json:"linux,omitempty"`
	}
	if err := c.readConfig(&cfg); err != nil {
		return 0, err
	}
	if o.Process.Terminal != (o.ConsoleSocket != nil) {
		return 0, errors.New("process.terminal and a console socket go together: give both or neither")
	}
	if err := checkProcessAttrs(o.Process, nil); err != nil {
		return 0, err
	}
	warnUnraisable(o.Process)
	if err := checkRlimits(o.Process.Rlimits); err != nil {
		return 0, err
	}
	s := &specs.Spec{Process: o.Process, Annotations: cfg.Annotations}
	if cfg.Linux != nil {
		s.Linux = &specs.Linux{Seccomp: cfg.Linux.Seccomp, Personality: cfg.Linux.Personality}
	}
	agent, err := dialSeccompAgent(s)
	if err != nil {
		return 0, err
	}
	if agent != nil {
		defer agent.Close()
	}
	pidfd, err := c.openInit()
	if err != nil {
		return 0, err
	}
	defer unix.Close(pidfd)
	flags, err := namespacesToJoin(c.p.InitPid)
	if err != nil {
		return 0, err
	}

	// In a paused container the process would freeze as soon as it
	// joined, halfway through its set-up: it joins once set up instead.
	joinLate := st == StatePaused
	plan, err := execPlan(o, s.Linux, joinLate)
	if err != nil {
		return 0, err
	}
	tr.Step("process checked")
	if plan != nil {
		tr.Step("the process starts from a plan, without a Go init")
	} else {
		tr.Step("the process starts through the Go init")
	}

	parentEnd, childEnd, err := socketPair()
	if err != nil {
		return 0, err
	}
	defer parentEnd.Close()
	sp := newSpawn(o.PreserveFDs)
	syncFD := sp.pass(envSyncFD, childEnd)
	pidfdFD := sp.pass("", os.NewFile(uintptr(pidfd), "init pidfd"))
	if o.ConsoleSocket != nil {
		sp.pass(envConsoleFD, o.ConsoleSocket)
	}
	if agent != nil {
		sp.pass(envSeccompFD, agent)
	}
	sync := newSyncPipe(parentEnd)
	sync.trace = tr
	nsWords := fmt.Sprintf("sync=%d pidfd=%d:%x", syncFD, pidfdFD, flags)
	if !c.p.NoNewKeyring {
		// Not the caller's: the keys an engine keeps there would be the
		// container's to read.
		nsWords += " keyring=" + sessionKeyring(c.p.ID)
	}
	if plan != nil {
		nsWords += " exec"
	}
	pid, err := sp.launch(sync, nsWords, nil, "", o.Stdin, o.Stdout, o.Stderr)
	childEnd.Close()
	if err != nil {
		return 0, fmt.Errorf("exec in container %q: %w", c.p.ID, err)
	}
	tr.Stepf("process started: pid %d", pid)
	defer func() {
		// pid is never 0 here: kill(0) would signal our process group.
		if err != nil {
			_ = unix.Kill(pid, unix.SIGKILL)
			_, _ = WaitPid(pid)
		}
	}()
	if !joinLate {
		if err := joinCgroups(cgroupPaths, pid); err != nil {
			return 0, fmt.Errorf("exec in container %q: %w", c.p.ID, err)
		}
		tr.Step("joined cgroups")
	}
	if plan != nil {
		if err := setOOMScoreAdj(pid, o.Process); err != nil {
			return 0, fmt.Errorf("exec in container %q: %w", c.p.ID, err)
		}
		if _, err := parentEnd.Write(plan); err != nil {
			return 0, fmt.Errorf("exec in container %q: send the exec plan: %w", c.p.ID, err)
		}
		tr.Step("plan sent")
	} else if err := sync.sendBootstrap(msgExec, &execBootstrap{
		ID:            c.p.ID,
		Process:       o.Process,
		Linux:         cfg.Linux,
		PreserveFDs:   o.PreserveFDs,
		UserSpec:      o.User,
		WaitForParent: joinLate,
		SeccompState:  c.seccompAgentState(s, pid),
	}); err != nil {
		return 0, err
	}
	if _, err := sync.recv(msgReady); err != nil {
		if errors.Is(err, errPeerGone) {
			return 0, fmt.Errorf("exec in container %q: the process exited before it was ready", c.p.ID)
		}
		return 0, fmt.Errorf("exec in container %q: %w", c.p.ID, err)
	}
	tr.Step("process ready")
	if joinLate {
		if err := joinCgroups(cgroupPaths, pid); err != nil {
			return 0, fmt.Errorf("exec in container %q: %w", c.p.ID, err)
		}
		tr.Step("joined cgroups, frozen")
		if err := sync.send(syncMsg{Type: msgGo}); err != nil {
			return 0, err
		}
	}
	return pid, nil
}

func joinCgroups(paths map[string]string, pid int) error {
	if len(paths) == 0 {
		return nil
	}
	// Joining destroys nothing: which cgroups were there before does
	// not matter.
	cg, err := cgroups.Load(paths, nil)
	if err != nil {
		return err
	}
	if err := cg.Apply(pid); err != nil {
		return fmt.Errorf("join cgroup: %w", err)
	}
	return nil
}

// execCgroupPaths returns the cgroups an exec joins: the container's, or
// existing cgroups below them that subs names.
func (c *Container) execCgroupPaths(subs map[string]string) (map[string]string, error) {
	if len(subs) == 0 {
		return c.p.CgroupPaths, nil
	}
	for key := range subs {
		if _, ok := c.p.CgroupPaths[key]; key != "" && !ok {
			return nil, fmt.Errorf("--cgroup %s: container %q has no cgroup for that controller", key, c.p.ID)
		}
	}
	paths := make(map[string]string, len(c.p.CgroupPaths))
	for key, dir := range c.p.CgroupPaths {
		sub, ok := subs[key]
		if !ok {
			sub = subs[""]
		}
		if sub == "" {
			paths[key] = dir
			continue
		}
		if !filepath.IsLocal(sub) {
			return nil, fmt.Errorf("--cgroup %q: must name a cgroup below the container's", sub)
		}
		paths[key] = filepath.Join(dir, sub)
		if fi, err := os.Stat(paths[key]); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--cgroup %q: no such cgroup below container %q's (%s)", sub, c.p.ID, paths[key])
		}
	}
	return paths, nil
}

// namespacesToJoin returns the CLONE_NEW* flags of the namespaces in which
// pid differs from the caller. Joining one's own user namespace is an
// error, so only differing ones are named.
func namespacesToJoin(pid int) (uintptr, error) {
	var flags uintptr
	for _, ns := range nsTypes {
		theirs, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + ns.file)
		if errors.Is(err, os.ErrNotExist) {
			continue // a namespace type this kernel lacks
		}
		if err != nil {
			return 0, fmt.Errorf("read %s namespace of init: %w", ns.file, err)
		}
		ours, err := os.Readlink("/proc/self/ns/" + ns.file)
		if err != nil {
			return 0, fmt.Errorf("read own %s namespace: %w", ns.file, err)
		}
		if theirs != ours {
			flags |= ns.flag
		}
	}
	return flags, nil
}

// SetSubreaper makes the caller adopt the processes its descendants orphan,
// as a container without a pid namespace of its own orphans them to
// berth's `run` rather than to the host's init.
func SetSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}

// WaitPid waits for a child and returns its wait status.
func WaitPid(pid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("wait for process %d: %w", pid, err)
		}
		return ws, nil
	}
}
