package libcontainer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/capabilities"
	"github.com/berthrt/berth/libcontainer/cgroups"
	"github.com/berthrt/berth/libcontainer/hooks"
	"github.com/berthrt/berth/libcontainer/lsm"
	"github.com/berthrt/berth/libcontainer/nsenter"
	"github.com/berthrt/berth/libcontainer/procfs"
	"github.com/berthrt/berth/libcontainer/rootfs"
)

// The parent tells init which inherited fds are its own through these
// variables; init drops them from the environment it passes on.
const (
	envSyncFD = "_BERTH_SYNCFD"
	envFifoFD = "_BERTH_FIFOFD"
)

// Init is the body of `berth init`, the process the parent starts inside the
// container's new namespaces. It builds the container, reports to the
// parent, waits for `start` and execs the user's process. It never returns.
//
// Capabilities, no_new_privs and the cgroup namespace are per thread, so
// the caller must have locked the main goroutine to its OS thread before
// calling (berth's main package does so in its init function).
func Init() {
	pipe, err := fdFromEnv(envSyncFD, "sync")
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth init:", err)
		os.Exit(1)
	}
	sync := newSyncPipe(pipe)
	sync.debug = os.Getenv(envDebug) == "1"
	if err := initContainer(sync); err != nil {
		// The parent turns this into the user-facing error.
		_ = sync.send(syncMsg{Type: msgError, Error: err.Error()})
		os.Exit(1)
	}
	panic("unreachable: initContainer returns only on error")
}

func fdFromEnv(name, what string) (*os.File, error) {
	fd, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		return nil, fmt.Errorf("no %s fd in $%s: berth init is started by berth create, not by hand", what, name)
	}
	return os.NewFile(uintptr(fd), what), nil
}

func initContainer(sync *syncPipe) error {
	// Executed through /proc/self/fd/N, init would show as "N" in ps.
	name, _ := unix.BytePtrFromString("berth:init")
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
	// Not dumpable since the nsenter constructor (CVE-2016-9962).
	b, err := sync.recvBootstrap()
	if err != nil {
		return err
	}
	sync.logStep("bootstrap received")
	// A session of its own: nsenter may have forked the process out of
	// the one the parent started it in.
	if _, err := unix.Setsid(); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("setsid: %w", err)
	}
	var fifo *os.File
	var pty *rootfs.Pty
	if b.Exec {
		pty, err = execPty(b.Spec.Process)
	} else {
		if fifo, err = fdFromEnv(envFifoFD, "exec fifo"); err != nil {
			return err
		}
		pty, err = setupContainer(sync, b)
	}
	if err != nil {
		return err
	}
	return startProcess(sync, b, fifo, pty)
}

// execPty gives a process that joined a running container a terminal from
// the container's devpts, if it asked for one.
func execPty(p *specs.Process) (*rootfs.Pty, error) {
	if !p.Terminal {
		return nil, nil
	}
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	master, slave, err := rootfs.OpenPty(root)
	if err != nil {
		return nil, err
	}
	return &rootfs.Pty{Master: master, Slave: slave}, nil
}

// setupContainer builds the container around init: the namespaces that
// cannot be made at clone time, the root filesystem and the system
// identity.
func setupContainer(sync *syncPipe, b *bootstrap) (*rootfs.Pty, error) {
	s := b.Spec
	hierarchies, err := cgroupHierarchies(s, 0)
	if err != nil {
		return nil, err
	}
	if b.CgroupNS {
		// The parent placed us in our cgroup before sending the
		// bootstrap, so the namespace is rooted there.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return nil, fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	if !b.NoNewKeyring {
		if _, err := unix.KeyctlJoinSessionKeyring(sessionKeyring(b.ID)); err != nil && !errors.Is(err, unix.ENOSYS) {
			return nil, fmt.Errorf("join a new session keyring: %w", err)
		}
	}
	sources, err := recvBindSources(sync, bindSourcesFromParent(s))
	if err != nil {
		return nil, err
	}
	defer closeAll(sources)
	pty, err := buildContainer(rootfs.Config{
		Spec:         s,
		Rootfs:       b.Rootfs,
		NoPivot:      b.NoPivot,
		Hierarchies:  hierarchies,
		CgroupNS:     b.CgroupNS,
		MountTrees:   mountTrees(b.MountFDs),
		MountSources: sources,
		BeforePivot:  func() error { return beforePivotHooks(sync, b) },
	})
	if err == nil {
		sync.logStep("root filesystem built")
	}
	return pty, err
}

// cgroupHierarchies returns the host's cgroup hierarchies and the cgroups
// of init pid (0: the calling process) in them when the spec mounts a
// cgroup filesystem, read before a cgroup namespace hides them.
func cgroupHierarchies(s *specs.Spec, pid int) ([]cgroups.Mount, error) {
	if !slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool { return m.Type == "cgroup" || m.Type == "cgroup2" }) {
		return nil, nil
	}
	return cgroups.Mounts(pid)
}

// buildContainer brings up lo, builds the root filesystem and sets the
// hostname and sysctls, in the namespaces of the calling thread.
func buildContainer(c rootfs.Config) (*rootfs.Pty, error) {
	if hasNamespace(c.Spec, specs.NetworkNamespace) {
		if err := loopbackUp(); err != nil {
			return nil, err
		}
	}
	pty, err := rootfs.Setup(c)
	if err == nil {
		err = setSystemIdentity(c.Spec)
	}
	if err == nil {
		err = rootfs.Finish(c.Spec)
	}
	if err != nil {
		if pty != nil {
			pty.Close()
		}
		return nil, err
	}
	return pty, nil
}

// mountTrees wraps the inherited fds of the parent's idmapped mount trees.
func mountTrees(fds map[int]int) map[int]*os.File {
	trees := make(map[int]*os.File, len(fds))
	for i, fd := range fds {
		unix.CloseOnExec(fd)
		trees[i] = os.NewFile(uintptr(fd), "idmapped mount")
	}
	return trees
}

// beforePivotHooks runs the hooks due once the container's mounts are made
// and before its root is switched: the runtime's (prestart,
// createRuntime), which the parent runs, then createContainer, which run
// here, in the container's namespaces, with paths resolving on the host.
func beforePivotHooks(sync *syncPipe, b *bootstrap) error {
	s := b.Spec
	if needsRuntimeHooks(s) {
		if err := sync.send(syncMsg{Type: msgHooks}); err != nil {
			return err
		}
		if _, err := sync.recv(msgHooksDone); err != nil {
			return err
		}
	}
	if s.Hooks == nil || len(s.Hooks.CreateContainer) == 0 {
		return nil
	}
	if err := hooks.RunAll("createContainer", s.Hooks.CreateContainer, ociState(b.ID, b.Bundle, s, specs.StateCreating, b.Pid)); err != nil {
		return err
	}
	sync.logStep("createContainer hooks run")
	return nil
}

// startProcess gives the calling process the attributes of the spec's
// process and execs it: for a container's init once `start` opens the
// fifo, for an exec at once.
func startProcess(sync *syncPipe, b *bootstrap, fifo *os.File, pty *rootfs.Pty) error {
	p := b.Spec.Process
	if pty != nil {
		sock, err := fdFromEnv(envConsoleFD, "console socket")
		if err != nil {
			return err
		}
		if err := attachPty(pty, sock, p); err != nil {
			return err
		}
	}
	// execCPUAffinity applies to processes exec'd into a container, not
	// to its init.
	affinity := p.ExecCPUAffinity
	if !b.Exec {
		affinity = nil
	}
	if affinity != nil {
		if err := setCPUAffinity(affinity.Initial); err != nil {
			return err
		}
	}
	if err := setProcessAttrs(p); err != nil {
		return err
	}
	if err := lsm.SetExecLabels(p); err != nil {
		return err
	}
	if b.UserSpec != "" {
		if err := lookupUser(p, b.UserSpec); err != nil {
			return err
		}
	}
	env := processEnv(p)
	path, err := lookPath(p.Args[0], env)
	if err != nil {
		return err
	}
	// Every fd above the preserved ones, whatever the caller leaked to us,
	// closes at exec (CVE-2024-21626). Marked before any seccomp filter is
	// loaded: a profile older than close_range(2) would refuse it.
	if err := unix.CloseRange(uint(3+b.PreserveFDs), math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	// The same for the check that cwd lies inside the container: getcwd
	// may be filtered.
	cwdEntered, err := enterCwd(p.Cwd, true)
	if err != nil {
		return err
	}
	if err := raiseHardRlimits(p.Rlimits); err != nil {
		return err
	}
	sc, err := prepareSeccomp(b)
	if err != nil {
		return err
	}
	// The process gets the timer slack of berth's caller, not berth's
	// raised one; before any filter, which may not allow prctl.
	if err := nsenter.RestoreTimerSlack(); err != nil {
		return err
	}
	if !p.NoNewPrivileges {
		// Without no_new_privs, loading needs CAP_SYS_ADMIN, which setUser
		// may drop. What init does after this (set ids, groups and
		// capabilities, umask, chdir, prctl, close_range, write and close
		// the sync socket, poll and read the fifo, execve; the Go runtime's
		// futex, mmap, sigaltstack, rt_sig*) a sane profile allows: docker's
		// default one does.
		if err := sc.load(); err != nil {
			return err
		}
	}
	if err := setUser(p); err != nil {
		return err
	}
	umask := 0o022
	if p.User.Umask != nil {
		umask = int(*p.User.Umask)
	}
	unix.Umask(umask)
	if !cwdEntered {
		if _, err := enterCwd(p.Cwd, false); err != nil {
			return err
		}
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	// Set-up is over; from here the process must outlive the parent.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear parent death signal: %w", err)
	}
	sync.logStep("process set up")
	if err := sync.send(syncMsg{Type: msgReady}); err != nil {
		return err
	}
	if b.WaitForParent {
		// The parent puts us in a frozen cgroup now; we stop here until
		// the container resumes.
		if _, err := sync.recv(msgGo); err != nil {
			return err
		}
	}
	sync.Close()
	if fifo != nil {
		if err := waitForStart(fifo); err != nil {
			os.Exit(1) // nobody is listening any more
		}
	}
	// Nobody waits for a reply any more: errors go to the container's
	// stderr.
	if err := lastSteps(b.Spec, affinity, sc); err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(1)
	}
	// startContainer hooks run in the container, after start and before
	// the user's process, with paths that resolve in the container: the
	// image chooses what they run, so they run as confined as the
	// process, seccomp filter included, as runc runs them.
	if s := b.Spec; fifo != nil && s.Hooks != nil && len(s.Hooks.StartContainer) > 0 {
		st := ociState(b.ID, b.Bundle, s, specs.StateCreated, b.Pid)
		if err := hooks.RunAll("startContainer", s.Hooks.StartContainer, st); err != nil {
			fmt.Fprintln(os.Stderr, "berth:", err)
			os.Exit(1)
		}
	}
	if err := unix.Exec(path, p.Args, env); err != nil {
		fmt.Fprintf(os.Stderr, "berth: exec %s: %v\n", path, err)
		os.Exit(127)
	}
	return nil
}

// lastSteps sets what must be set right before execve: the personality,
// the final CPU affinity of an exec, the seccomp filter (with
// no_new_privs; it should filter the user's process, not berth) and the
// rlimits (see setRlimits).
func lastSteps(s *specs.Spec, affinity *specs.CPUAffinity, sc *initSeccomp) error {
	if err := setPersonality(s.Linux); err != nil {
		return err
	}
	if affinity != nil {
		if err := setCPUAffinity(affinity.Final); err != nil {
			return err
		}
	}
	if s.Process.NoNewPrivileges {
		if err := sc.load(); err != nil {
			return err
		}
	}
	return setRlimits(s.Process.Rlimits)
}

// waitForStart blocks until `berth start` opens the exec fifo for writing.
// The fifo was opened for reading by the parent, so a writer can open it
// without blocking; until one has, poll sees neither data nor hangup.
func waitForStart(fifo *os.File) error {
	fds := []unix.PollFd{{Fd: int32(fifo.Fd()), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	var b [1]byte
	_, _ = unix.Read(int(fifo.Fd()), b[:])
	// The fifo stays open, close-on-exec: `start` waits for this end to
	// close, which tells it the user's process has been exec'd.
	return nil
}

func hasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}

// loopbackUp brings up lo in a new network namespace, as runc and crun do,
// so that services in the container can talk to themselves.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}

func setSystemIdentity(s *specs.Spec) error {
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", s.Hostname, err)
		}
	}
	if s.Domainname != "" {
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("set domainname %q: %w", s.Domainname, err)
		}
	}
	if s.Linux == nil {
		return nil
	}
	return procfs.WriteSysctls(s.Linux.Sysctl)
}

// lookupUser sets the process's ids from a user (and group) named in the
// container's /etc/passwd and /etc/group, with the user's groups as
// additional groups.
func lookupUser(p *specs.Process, spec string) error {
	eu, err := user.GetExecUserPath(spec, &user.ExecUser{Uid: int(p.User.UID), Gid: int(p.User.GID)}, "/etc/passwd", "/etc/group")
	if err != nil {
		return fmt.Errorf("user %q in the container: %w", spec, err)
	}
	p.User.UID, p.User.GID = uint32(eu.Uid), uint32(eu.Gid)
	for _, g := range eu.Sgids {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	return nil
}

// processEnv is the process's environment, with HOME filled in from the
// container's /etc/passwd when the config leaves it out, as runc does.
func processEnv(p *specs.Process) []string {
	env := p.Env
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	users, err := user.ParsePasswdFileFilter("/etc/passwd", func(u user.User) bool { return u.Uid == int(p.User.UID) })
	if err == nil && len(users) > 0 && users[0].Home != "" {
		home = users[0].Home
	}
	return append(append([]string(nil), env...), "HOME="+home)
}

// lookPath finds the executable in the container, using the process's own
// PATH, so that a missing binary fails create rather than start.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := isExecutable(file); err != nil {
			return "", fmt.Errorf("exec %q: %w", file, err)
		}
		return file, nil
	}
	for _, e := range env {
		if dirs, ok := strings.CutPrefix(e, "PATH="); ok {
			for _, dir := range filepath.SplitList(dirs) {
				if dir == "" {
					dir = "."
				}
				if p := filepath.Join(dir, file); isExecutable(p) == nil {
					return p, nil
				}
			}
			break
		}
	}
	return "", fmt.Errorf("exec %q: %w", file, exec.ErrNotFound)
}

func isExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("is a directory: %w", unix.EACCES) // execve's errno, which engines map to 126
	}
	if fi.Mode()&0o111 == 0 {
		return errors.New("permission denied")
	}
	return nil
}

// setUser switches to the process's uid, gid and groups, keeping exactly
// the configured capabilities across the switch.
func setUser(p *specs.Process) error {
	caps, err := capabilities.New(p.Capabilities)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set keepcaps: %w", err)
	}
	if err := caps.ApplyBounding(); err != nil {
		return err
	}
	u := p.User
	groups := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		groups = append(groups, int(g))
	}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("set additional groups %v: %w", u.AdditionalGids, err)
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("set gid %d: %w", u.GID, err)
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("set uid %d: %w", u.UID, err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keepcaps: %w", err)
	}
	return caps.Apply()
}

// enterCwd changes to the process's working directory and checks that it
// lies inside the container: a cwd reached through a leaked host fd would
// show up as unreachable (CVE-2024-21626). It runs first as root, before
// the process takes its user, who need not be allowed to enter the
// directory (runc does the same). When root may not enter it either (root
// squashed on a network filesystem, an owner not mapped in the user
// namespace) and orAsUser is set, it reports false and the caller tries
// again as the user.
func enterCwd(cwd string, orAsUser bool) (entered bool, err error) {
	err = unix.Chdir(cwdOrRoot(cwd))
	if orAsUser && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chdir to cwd %q in the container: %w", cwd, err)
	}
	if _, err := unix.Getwd(); err != nil {
		return false, fmt.Errorf("cwd %q is outside the container: %w", cwd, err)
	}
	return true, nil
}

func cwdOrRoot(cwd string) string {
	if cwd == "" {
		return "/"
	}
	return cwd
}
