package integration

// The attacks of the review pass of issue 13: each class a hostile image,
// container, config field or local user could try that the tests in
// security_test.go did not, with the defence that holds (or now holds).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestStateRootOthersControl plants a container in a state root that a
// local unprivileged user made before root used it as --root: a state.json
// and a config.json whose poststop hook `delete` would run as root. berth
// refuses a root that anyone but its caller (or root) can change.
func TestStateRootOthersControl(t *testing.T) {
	const nobody = 65534
	b := newBerth(t)
	marker := filepath.Join(t.TempDir(), "hook-ran")
	if err := os.Mkdir(b.Root, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(b.Root) })
	planted := filepath.Join(b.Root, "rv-planted")
	if err := os.Mkdir(planted, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(planted, "state.json"), `{"id":"rv-planted","initPid":0,"hasHooks":true}`)
	writeJSONFile(t, filepath.Join(planted, "config.json"), map[string]any{
		"ociVersion": "1.0.2",
		"hooks": map[string]any{"poststop": []map[string]any{
			{"path": "/bin/sh", "args": []string{"sh", "-c", "touch " + marker}},
		}},
	})
	for _, path := range []string{b.Root, planted, filepath.Join(planted, "state.json"), filepath.Join(planted, "config.json")} {
		if err := os.Chown(path, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(b.Root, 0o777); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"delete", "rv-planted"}, {"list"}, {"kill", "rv-planted", "KILL"}} {
		r := b.Run(args...)
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("berth %v ran the poststop hook a local user planted in the state root, as root", args)
		}
		if r.Code == 0 || !strings.Contains(r.Stderr, "belongs to uid 65534") {
			t.Errorf("berth %v in a state root of another user: %v, want a refusal", args, r)
		}
	}
}

// TestPidFileNoSymlinkFollow plants symlinks to a host file where berth
// writes --pid-file, in a directory other users can write (as /tmp is on a
// host without fs.protected_symlinks): the pid must land in a file of its
// own, and the host file must stay as it was.
func TestPidFileNoSymlinkFollow(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "100")
	dir := filepath.Join(t.TempDir(), "pids")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	writeFile(t, victim, "host file\n")
	for _, name := range []string{".init.pid.tmp", "init.pid", ".exec.pid.tmp", "exec.pid"} {
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	b.MustRun("create", "--bundle", bun.Dir, "--pid-file", filepath.Join(dir, "init.pid"), "rv-pidfile")
	defer b.MustRun("delete", "--force", "rv-pidfile")
	b.MustRun("exec", "-d", "--pid-file", filepath.Join(dir, "exec.pid"), "rv-pidfile", "sleep", "100")
	if data, _ := os.ReadFile(victim); string(data) != "host file\n" {
		t.Fatalf("a planted symlink steered the pid file onto a host file: it now holds %q", data)
	}
	for _, name := range []string{"init.pid", "exec.pid"} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s is not a regular file: %v %v", name, fi, err)
		}
	}
}

// TestOwnNamespacesNotChanged gives a container berth's own (the host's)
// namespaces by path, /proc/self/ns/…, with settings that change them:
// sysctls and the hostname would change the host's, and the root
// filesystem built in the host's mount namespace would become the root of
// every host process (pivot_root moves them all). berth runs here in
// namespaces of its own that stand in for the host's, so that a berth that
// obeys harms nothing; it must refuse. A FIFO or a device as a namespace
// path is refused without being opened.
func TestOwnNamespacesNotChanged(t *testing.T) {
	b := newBerth(t)
	withNS := func(typ specs.LinuxNamespaceType, path string, edit func(s *specs.Spec)) *bundle {
		bun := newBundle(t, "true")
		for i, ns := range bun.Spec.Linux.Namespaces {
			if ns.Type == typ {
				bun.Spec.Linux.Namespaces[i].Path = path
			}
		}
		if edit != nil {
			edit(bun.Spec)
		}
		bun.Save(t)
		return bun
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		bun  *bundle
		want string
	}{
		{"net sysctl", withNS(specs.NetworkNamespace, "/proc/self/ns/net", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.conf.lo.forwarding": "1"}
		}), `network namespace path /proc/self/ns/net is berth's own (the host's): linux.sysctl "net.ipv4.conf.lo.forwarding" would change the host`},
		{"ipc sysctl", withNS(specs.IPCNamespace, "/proc/self/ns/ipc", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.shm_rmid_forced": "1"}
		}), `ipc namespace path /proc/self/ns/ipc is berth's own (the host's): linux.sysctl "kernel.shm_rmid_forced"`},
		{"hostname", withNS(specs.UTSNamespace, "/proc/self/ns/uts", nil),
			`uts namespace path /proc/self/ns/uts is berth's own (the host's): hostname would change the host`},
		{"root filesystem", withNS(specs.MountNamespace, "/proc/self/ns/mnt", nil),
			"mount namespace path /proc/self/ns/mnt is berth's own (the host's): building the root filesystem there"},
		{"fifo", withNS(specs.NetworkNamespace, fifo, nil), "is not a namespace file"},
		{"device", withNS(specs.NetworkNamespace, "/dev/null", nil), "is not a namespace file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "rv-ownns-" + strings.ReplaceAll(tc.name, " ", "-")
			b.ids[id] = true
			r := runInThrowawayNamespaces(t, b, "run", "--bundle", tc.bun.Dir, id)
			if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("berth run: %v, want a refusal containing %q", r, tc.want)
			}
		})
	}
	// Nothing it refuses names a namespace of berth's own when it
	// changes nothing there.
	bun := withNS(specs.NetworkNamespace, "/proc/self/ns/net", nil)
	b.MustRun("run", "--bundle", bun.Dir, "rv-ownns-net")
}

// runInThrowawayNamespaces runs berth in new mount, network, uts and ipc
// namespaces, which stand in for the host's, and gives it 10 seconds.
func runInThrowawayNamespaces(t *testing.T, b *berth, args ...string) result {
	t.Helper()
	cmd := exec.Command(berthBinary, append([]string{"--root", b.Root}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Go makes the new mount namespace's mounts private before berth runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("berth %s hung for 10s", strings.Join(args, " "))
	}
	return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
}

// attackTool builds integration/testdata/attack.c, statically, once per
// run. A machine without a C compiler that links statically skips the test.
func attackTool(t *testing.T) string {
	t.Helper()
	attackOnce.Do(func() {
		path := filepath.Join(toolDir, "attack")
		for _, cc := range []string{"musl-gcc", "cc"} {
			out, err := exec.Command(cc, "-static", "-O2", "-o", path, "testdata/attack.c").CombinedOutput()
			if err == nil {
				attackPath = path
				return
			}
			attackErr = fmt.Errorf("%s: %v: %s", cc, err, out)
		}
	})
	if attackPath == "" {
		t.Skipf("cannot build the static attack helper: %v", attackErr)
	}
	return attackPath
}

var (
	attackOnce sync.Once
	attackPath string
	attackErr  error
)

// withAttack puts the attack helper in the bundle's root as /bin/attack.
func withAttack(t *testing.T, bun *bundle) {
	t.Helper()
	data, err := os.ReadFile(attackTool(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bun.Rootfs(), "bin", "attack"), data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// goInit makes a bundle start through the Go init rather than from a plan:
// a personality of LINUX changes nothing else.
func goInit(s *specs.Spec) {
	s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
}

// TestNestedUserNamespaceKeepsMasks is the container's root (no seccomp
// filter in berth's default config) making a user namespace of its own,
// where it holds CAP_SYS_ADMIN over a new mount namespace, to undo what
// berth's masks and read-only paths hide: detach the masks, mount a fresh
// procfs or sysfs beside them, or make /proc/sys or the read-only root
// writable, also through a clone of the mount. The kernel locks the mounts
// a less privileged mount namespace inherits, and refuses a procfs or sysfs
// while the visible one is partly covered, for masks made from a plan and
// by the Go init alike. With no masks the fresh procfs mounts: the probe
// works.
func TestNestedUserNamespaceKeepsMasks(t *testing.T) {
	b := newBerth(t)
	attack := func(s *specs.Spec) []string {
		args := []string{"attack", "nested", "/dev/shm/rv-fresh"}
		for _, p := range append(append([]string{}, s.Linux.MaskedPaths...), s.Linux.ReadonlyPaths...) {
			args = append(args, "umount:"+p)
		}
		return append(args, "proc", "sysfs", "rw:/proc/sys", "rw:/", "clone-rw:/proc/sys", "clone-rw:/")
	}
	for _, tc := range []struct {
		name string
		edit func(s *specs.Spec)
	}{
		{"plan", func(*specs.Spec) {}},
		{"go init", goInit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bun := newBundle(t)
			withAttack(t, bun)
			tc.edit(bun.Spec)
			bun.Spec.Process.Args = attack(bun.Spec)
			out := runInside(t, b, bun, "rv-nested-"+strings.ReplaceAll(tc.name, " ", "-"))
			if strings.HasPrefix(out, "unshare: ") {
				t.Skipf("this kernel lets no user namespace be made in a container: %s", out)
			}
			if !strings.Contains(out, "clone-rw:/: ") {
				t.Fatalf("the attack did not run to its end:\n%s", out)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if strings.HasSuffix(line, ": ok") {
					t.Errorf("from a user namespace of its own the container undid a defence: %s", line)
				}
			}
		})
	}
	bun := newBundle(t)
	withAttack(t, bun)
	bun.Spec.Linux.MaskedPaths, bun.Spec.Linux.ReadonlyPaths = nil, nil
	bun.Spec.Process.Args = []string{"attack", "nested", "/dev/shm/rv-fresh", "proc"}
	if out := runInside(t, b, bun, "rv-nested-probe"); out != "proc: ok\n" && !strings.HasPrefix(out, "unshare: ") {
		t.Errorf("with no masks a fresh procfs should mount in the nested namespaces (the probe is broken): %q", out)
	}
}

// TestNoTIOCSTIIntoCallersTerminal is an admin who runs `berth run` or
// `berth exec` without -t from a terminal: the container's process gets
// that terminal as its stdio, and on a kernel that still allows TIOCSTI
// (dev.tty.legacy_tiocsti=1, as here) a process whose controlling
// terminal it is can push input into the admin's shell. berth starts
// every process in a session of its own, so the terminal is not its
// controlling one and TIOCSTI is refused, from a plan and from the Go
// init, for run and exec.
func TestNoTIOCSTIIntoCallersTerminal(t *testing.T) {
	// The probe works: outside berth, a process whose controlling
	// terminal it is can push input.
	if out := runOnTerminal(t, attackTool(t), "tiocsti", "0"); !strings.Contains(out, "tiocsti: ok") {
		t.Skipf("TIOCSTI is refused on this kernel anyway (dev.tty.legacy_tiocsti=0?): %q", out)
	}
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	withAttack(t, bun)
	b.MustRun("run", "-d", "--bundle", bun.Dir, "rv-tiocsti")
	t.Cleanup(func() { b.Run("delete", "--force", "rv-tiocsti") })
	goBun := newBundle(t, "attack", "tiocsti", "0")
	withAttack(t, goBun)
	goInit(goBun.Spec)
	goBun.Save(t)
	planBun := newBundle(t, "attack", "tiocsti", "0")
	withAttack(t, planBun)
	for name, args := range map[string][]string{
		"run from a plan":     {"run", "--bundle", planBun.Dir, "rv-tiocsti-plan"},
		"run by the Go init":  {"run", "--bundle", goBun.Dir, "rv-tiocsti-go"},
		"exec from a plan":    {"exec", "rv-tiocsti", "attack", "tiocsti", "0"},
		"exec by the Go init": {"exec", "--user", "root", "rv-tiocsti", "attack", "tiocsti", "0"},
	} {
		t.Run(name, func(t *testing.T) {
			if args[0] == "run" {
				b.ids[args[len(args)-1]] = true
			}
			out := runOnTerminal(t, append([]string{berthBinary, "--root", b.Root}, args...)...)
			if !strings.Contains(out, "tiocsti: ") {
				t.Fatalf("the attack did not run: %q", out)
			}
			if strings.Contains(out, "tiocsti: ok") || strings.Contains(out, "#") {
				t.Errorf("the container pushed input into its caller's terminal: %q", out)
			}
		})
	}
}

// runOnTerminal runs argv with a new terminal as its controlling one and
// its stdio, as from an admin's shell, and returns what reached the
// terminal: the output and any input pushed into it, echoed.
func runOnTerminal(t *testing.T, argv ...string) string {
	t.Helper()
	pty, slave, err := console.NewPty()
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	tty, err := os.OpenFile(slave, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	tty.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 4096)
	for {
		// EIO once the last process holding the terminal is gone.
		n, err := pty.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("%s: %v: %q", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// TestStartContainerHookFiltered runs a startContainer hook, which runs in
// the container with a path that resolves there, so that the image
// decides what it runs: it must be as confined as the container's process,
// seccomp filter included (runc loads the filter before these hooks too).
// Here the image's sh is the hook and tries the syscall the profile denies;
// anything it left running would stay unfiltered for the container's life.
func TestStartContainerHookFiltered(t *testing.T) {
	b := newBerth(t)
	bun := seccompBundle(t, denyOne(specs.ActErrno, nil), "true")
	bun.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{
		{Path: "/bin/sh", Args: []string{"sh", "-c", "mkdir /made-by-hook; true"}},
	}}
	bun.Save(t)
	b.MustRun("run", "--bundle", bun.Dir, "rv-starthook")
	if _, err := os.Stat(filepath.Join(bun.Rootfs(), "made-by-hook")); err == nil {
		t.Error("the startContainer hook ran without the container's seccomp filter: its mkdir succeeded")
	}
}

// A new time namespace's offsets are written to /proc/self/timens_offsets.
// When the container joins a mount namespace by path, that /proc is the
// namespace owner's to arrange: here another container's image makes it a
// directory whose timens_offsets leads to a file of its choosing, which
// berth, as root on the host, must not write.
func TestTimeOffsetsNotThroughJoinedProc(t *testing.T) {
	b := newBerth(t)
	owner := newBundle(t, "sleep", "1000")
	owner.Spec.Root.Readonly = false
	owner.Spec.Mounts = slices.DeleteFunc(owner.Spec.Mounts, func(m specs.Mount) bool { return m.Type == "proc" })
	owner.Spec.Linux.MaskedPaths, owner.Spec.Linux.ReadonlyPaths = nil, nil
	if err := os.MkdirAll(filepath.Join(owner.Rootfs(), "proc", "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(owner.Rootfs(), "victim")
	writeFile(t, victim, "untouched\n")
	if err := os.Symlink("/victim", filepath.Join(owner.Rootfs(), "proc", "self", "timens_offsets")); err != nil {
		t.Fatal(err)
	}
	startDetached(t, b, owner, "tns-owner")

	bun := newBundle(t, "true")
	for i, ns := range bun.Spec.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			bun.Spec.Linux.Namespaces[i].Path = "/proc/" + itoa(b.State("tns-owner").Pid) + "/ns/mnt"
		}
	}
	bun.Spec.Linux.Namespaces = append(bun.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
	bun.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1000000}}
	bun.Save(t)
	r := b.RunContainer(bun, "tns-joiner")
	t.Logf("run: %v", r)
	if data, _ := os.ReadFile(victim); string(data) != "untouched\n" {
		t.Errorf("berth wrote the time offsets through the joined namespace's /proc: the file now holds %q", data)
	}
}

// A process berth starts in a container must not hold its caller's
// session keyring, or the keys an engine or an admin keeps there are the
// container's to read: runc's exec joins a keyring of the container's, as
// init does. Both exec paths: from a plan, and through the Go init (a
// user given by name needs it).
func TestExecLeavesCallersKeyring(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	withHostile(t, bun)
	startDetached(t, b, bun, "keys")
	hostile := tool(t, "./hostile")
	for _, tc := range []struct {
		name     string
		args     []string
		fromPlan bool
	}{
		{"from a plan", nil, true},
		{"through the Go init", []string{"--user", "root"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"with-key", "berth-test-secret", b.Binary, "--root", b.Root, "--debug", "exec"}, tc.args...)
			cmd := exec.Command(hostile, append(args, "keys", "hostile", "read-key", "berth-test-secret")...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			done := make(chan struct{})
			timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
			out, err := cmd.Output()
			timer.Stop()
			close(done)
			if err != nil {
				t.Fatalf("exec: %v\n%s", err, stderr.String())
			}
			if fromPlan := strings.Contains(stderr.String(), "starts from a plan"); fromPlan != tc.fromPlan {
				t.Fatalf("the exec did not take the path this case needs (from a plan: %v); log:\n%s", fromPlan, stderr.String())
			}
			t.Logf("in the container:\n%s", out)
			if strings.Contains(string(out), "host secret") || strings.Contains(string(out), "host-berth-test-secret") {
				t.Errorf("the exec'd process holds its caller's session keyring and read the caller's key")
			}
			if !strings.Contains(string(out), "session keyring: keyring;") {
				t.Errorf("the exec'd process has no session keyring of its own to describe: %s", out)
			}
		})
	}
}
