package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
	"github.com/berthrt/berth/libcontainer/seccomp"
	"github.com/berthrt/berth/libcontainer/state"
	"github.com/berthrt/berth/libcontainer/trace"
	"github.com/berthrt/berth/spec"
)

// CreateOptions describe a container to create.
type CreateOptions struct {
	ID     string
	Bundle string // absolute path of the bundle directory
	Spec   *specs.Spec
	// Config is the config.json that Spec is the decoding of, kept with
	// the container as it is: encoding Spec again would cost the
	// preparation of every type it holds (see spec.Unmarshal).
	Config []byte
	Rootfs string // absolute path of the root filesystem
	// NoPivot uses MS_MOVE and chroot instead of pivot_root.
	NoPivot bool
	// NoNewKeyring keeps the caller's session keyring.
	NoNewKeyring bool
	// PreserveFDs passes the caller's fds 3 … 3+PreserveFDs-1 to the
	// container process.
	PreserveFDs int
	// Stdin, Stdout and Stderr become the container process's stdio.
	Stdin, Stdout, Stderr *os.File
	// ConsoleSocket receives the pty master when process.terminal is
	// set (see DialConsoleSocket and ConsolePair).
	ConsoleSocket *os.File
	// SystemdCgroup reads linux.cgroupsPath as "slice:prefix:name", as
	// runc's --systemd-cgroup does (see cgroups.SystemdPath).
	SystemdCgroup bool
}

// ErrNotPrivileged means the caller may not create a container: that takes
// root (CAP_SYS_ADMIN first of all), as berth does not run rootless
// containers.
var ErrNotPrivileged = errors.New("creating a container needs root (CAP_SYS_ADMIN)")

// Create makes a container and leaves its init waiting for Start. On any
// failure nothing is left behind: no process, cgroup or state directory.
func Create(store *state.Store, o CreateOptions) (c *Container, err error) {
	tr := trace.Start("create", o.ID)
	defer func() { tr.End(err) }()
	if err := checkPrivileged(); err != nil {
		return nil, err
	}
	if err := checkCreatable(o.Spec); err != nil {
		return nil, err
	}
	warnUnraisable(o.Spec.Process)
	var cgroupsPath string
	if o.Spec.Linux != nil {
		cgroupsPath = o.Spec.Linux.CgroupsPath
	}
	if o.SystemdCgroup {
		var err error
		if cgroupsPath, err = cgroups.SystemdPath(cgroupsPath, o.ID); err != nil {
			return nil, err
		}
	}
	// New and Validate touch nothing: a bad cgroups path or resource
	// fails here, before anything is made.
	newCg, err := cgroups.New(cgroupsPath, o.ID)
	if err != nil {
		return nil, err
	}
	resources := containerResources(o.Spec)
	if err := newCg.Validate(resources); err != nil {
		return nil, err
	}
	if o.Spec.Process.Terminal != (o.ConsoleSocket != nil) {
		return nil, errors.New("process.terminal and a console socket go together: give both or neither")
	}
	agent, err := dialSeccompAgent(o.Spec)
	if err != nil {
		return nil, err
	}
	if agent != nil {
		defer agent.Close()
	}
	tr.Step("config checked")
	entry, err := store.Create(o.ID)
	if err != nil {
		return nil, err
	}
	var cg cgroups.Manager
	var pid int
	defer func() {
		if err == nil {
			err = entry.Unlock()
			return
		}
		if pid > 0 {
			killFailedInit(pid)
		}
		if cg != nil {
			_ = cg.Destroy()
		}
		_ = entry.Remove()
	}()

	fifoPath := filepath.Join(entry.Dir(), execFifoName)
	if err := unix.Mkfifo(fifoPath, 0o600); err != nil {
		return nil, fmt.Errorf("make exec fifo: %w", err)
	}
	// A reader end held by init lets `start` open the fifo for writing
	// without blocking, and tells it init is gone when the open fails.
	fifo, err := os.OpenFile(fifoPath, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifo.Close()
	if err := os.WriteFile(filepath.Join(entry.Dir(), configFileName), o.Config, 0o600); err != nil {
		return nil, fmt.Errorf("keep the container's config: %w", err)
	}

	cg = newCg
	tr.Step("state directory made")
	if err := cg.Create(); err != nil {
		return nil, err
	}
	tr.Step("cgroups made")

	plan, err := planNamespaces(o.Spec)
	if err != nil {
		return nil, err
	}
	defer plan.close()
	parentEnd, childEnd, err := socketPair()
	if err != nil {
		return nil, err
	}
	defer parentEnd.Close()
	trees, err := idmappedMounts(o.Spec, o.Bundle)
	if err != nil {
		return nil, err
	}
	defer closeAll(trees)
	sync := newSyncPipe(parentEnd)
	sync.trace = tr
	fromPlan := startsFromPlan(o, trees)
	if fromPlan {
		tr.Step("init starts from a plan, without a Go init")
	} else {
		tr.Step("init starts as the Go init")
	}
	if fromPlan || len(bindSourcesFromParent(o.Spec)) > 0 {
		// An init that is our child dies with the thread that started
		// it (Pdeathsig): keep that thread from being the one
		// onContainerThread locks and ends.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	l, err := launchInit(o, plan, sync, childEnd, fifo, agent, trees, fromPlan)
	childEnd.Close()
	if err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	pid = l.pid
	tr.Stepf("init started: pid %d", pid)
	if err := cg.Apply(pid); err != nil {
		return nil, err
	}
	tr.Step("init placed in cgroups")
	if err := cg.Set(resources); err != nil {
		return nil, err
	}
	tr.Step("cgroup limits set")
	if fromPlan {
		err = buildFromParent(sync, o, pid, l.fifoFD)
	} else {
		err = sync.sendBootstrap(msgBootstrap, &bootstrap{
			ID:           o.ID,
			Spec:         o.Spec,
			Rootfs:       o.Rootfs,
			NoPivot:      o.NoPivot,
			NoNewKeyring: o.NoNewKeyring,
			PreserveFDs:  o.PreserveFDs,
			CgroupNS:     hasNamespace(o.Spec, specs.CgroupNamespace),
			Pid:          pid,
			Bundle:       o.Bundle,
			MountFDs:     l.mountFDs,
			SeccompState: o.seccompAgentState(pid),
		})
	}
	if err != nil {
		return nil, err
	}
	if err := awaitReady(sync, o, pid); err != nil {
		return nil, err
	}
	tr.Step("init ready, waiting for start")

	_, start, err := procStat(pid)
	if err != nil {
		return nil, fmt.Errorf("read start time of init %d: %w", pid, err)
	}
	c = &Container{store: store, p: persisted{
		summary: summary{
			ID:            o.ID,
			InitPid:       pid,
			InitStartTime: start,
			Bundle:        o.Bundle,
			Rootfs:        o.Rootfs,
			Created:       time.Now().UTC(),
			Owner:         ownerName(),
			Annotations:   o.Spec.Annotations,
		},
		CgroupPaths:        cg.Paths(),
		PreexistingCgroups: cg.Preexisting(),
		HasHooks:           hasHooks(o.Spec),
		NoNewKeyring:       o.NoNewKeyring,
	}}
	if err := entry.Save(&c.p); err != nil {
		return nil, err
	}
	return c, nil
}

// killFailedInit kills the init of a create that failed and waits for it
// to go: Destroy waits for nobody in a cgroup that was there before
// create, and create must leave no process behind.
func killFailedInit(pid int) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // gone, and reaped
	}
	defer unix.Close(pidfd)
	if unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0) == nil {
		_, _ = awaitExit(pidfd, killTimeout)
	}
	// Our child: the nsenter constructor forks with CLONE_PARENT.
	_, _ = unix.Wait4(pid, nil, unix.WNOHANG, nil)
}

// checkPrivileged refuses a caller without CAP_SYS_ADMIN up front: every
// namespace and mount would fail with EPERM somewhere along the way, which
// names a step and not the cause.
func checkPrivileged() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("read berth's own capabilities: %w", err)
	}
	if data[0].Effective&(1<<unix.CAP_SYS_ADMIN) != 0 {
		return nil
	}
	return fmt.Errorf("%w, which uid %d does not have here; berth does not run rootless containers", ErrNotPrivileged, os.Geteuid())
}

// checkCreatable rejects configs that berth cannot run yet, before anything
// is made, so the user gets one clear line.
func checkCreatable(s *specs.Spec) error {
	if s.Linux == nil {
		return nil
	}
	if err := seccomp.Validate(s.Linux.Seccomp); err != nil {
		return err
	}
	if err := checkProcessAttrs(s.Process, s.Linux); err != nil {
		return err
	}
	if err := checkIDMappedMounts(s); err != nil {
		return err
	}
	if err := checkRlimits(s.Process.Rlimits); err != nil {
		return err
	}
	// Mounting and pivot_root in the caller's own mount namespace would
	// change the host's view (one given by path is the config's choice).
	if !slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.MountNamespace }) {
		return errors.New("linux.namespaces has no mount namespace: berth does not build a container's root filesystem in the host's")
	}
	return nil
}

// sessionKeyring names the session keyring a container's init joins, as
// runc names it. The prefix also keeps the name clear of those the kernel
// reserves, which start with a dot, as a container id may.
func sessionKeyring(id string) string { return "_ses." + id }

// launched is a container's init as launchInit started it.
type launched struct {
	pid int
	// fifoFD is init's fd of the exec fifo, mountFDs its fds of the
	// idmapped mount trees.
	fifoFD   int
	mountFDs map[int]int
}

// launchInit starts the container's init in its namespaces, to start
// from a plan (see startsFromPlan) or to run the Go init.
func launchInit(o CreateOptions, plan *nsPlan, sync *syncPipe, syncEnd, fifo, seccompAgent *os.File, trees map[int]*os.File, fromPlan bool) (launched, error) {
	sp := newSpawn(o.PreserveFDs)
	syncFD := sp.pass(envSyncFD, syncEnd)
	l := launched{fifoFD: sp.pass(envFifoFD, fifo)}
	if o.ConsoleSocket != nil {
		sp.pass(envConsoleFD, o.ConsoleSocket)
	}
	if seccompAgent != nil {
		sp.pass(envSeccompFD, seccompAgent)
	}
	if len(trees) > 0 {
		l.mountFDs = make(map[int]int, len(trees))
		for i, f := range trees {
			l.mountFDs[i] = sp.pass("", f)
		}
	}
	words := plan.words(sp, syncFD)
	if fromPlan {
		words += " create"
	}
	var err error
	l.pid, err = sp.launch(sync, words, o.Spec.Linux, o.Bundle, o.Stdin, o.Stdout, o.Stderr)
	return l, err
}

// errInitGone reports an init that exited before it finished its set-up.
var errInitGone = errors.New("container init exited before it was ready")

// awaitReady waits for init to finish its set-up, running the hooks that
// belong to the runtime's namespaces when init reaches them.
func awaitReady(sync *syncPipe, o CreateOptions, pid int) error {
	for {
		m, err := sync.recvAny(msgReady)
		if errors.Is(err, errPeerGone) {
			return errInitGone
		}
		if err != nil {
			return err
		}
		switch m.Type {
		case msgReady:
			return nil
		case msgBindSources:
			if err := sendBindSources(sync, o.Spec, o.Bundle, pid, bindSourcesFromParent(o.Spec)); err != nil {
				return err
			}
			sync.trace.Step("bind sources opened and sent")
		case msgHooks:
			if err := runCreateHooks(o.ID, o.Bundle, o.Spec, pid); err != nil {
				return err
			}
			sync.trace.Step("prestart and createRuntime hooks run")
			if err := sync.send(syncMsg{Type: msgHooksDone}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("protocol error: got %q message, want %q", m.Type, msgReady)
		}
	}
}

func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("make sync socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync parent"), os.NewFile(uintptr(fds[1]), "sync child"), nil
}

// ownerName is the name of the user creating the container, as runc
// reports it in state and list.
func ownerName() string {
	u, err := user.LookupUid(os.Getuid())
	if err != nil {
		return strconv.Itoa(os.Getuid())
	}
	return u.Name
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return spec.Unmarshal(data, v)
}
