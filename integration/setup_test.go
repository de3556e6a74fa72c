package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Container set-ups that runc 1.1.5 gets through and berth did not
// (issue 14). Each runs on both start paths where both apply: from a plan
// (the default) and through the Go init (useGoInit).

// startPaths are the two ways a container's init starts, for tests that
// run a container both ways.
var startPaths = []struct {
	name string
	set  func(*bundle)
}{
	{"plan", func(*bundle) {}},
	{"goinit", useGoInit},
}

// runcSpecBundle is a busybox bundle with the config `runc spec` (1.1.5)
// writes, but no terminal and args as given.
func runcSpecBundle(t *testing.T, args ...string) *bundle {
	t.Helper()
	bun := newBundle(t)
	data, err := os.ReadFile("testdata/runc-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = args
	bun.Spec = &s
	bun.Save(t)
	return bun
}

// runcOutput runs bun with Debian's runc and returns its stdout, or skips
// the comparison (ok false) when runc is not installed.
func runcOutput(t *testing.T, bun *bundle, id string) (string, bool) {
	t.Helper()
	bun.Save(t)
	return runcRun(t, bun, id)
}

// runLikeRunc runs bun with berth and, where it is installed, with runc,
// and fails the test unless each container prints want.
func runLikeRunc(t *testing.T, b *berth, bun *bundle, id, want string) {
	t.Helper()
	if out := runInside(t, b, bun, id); out != want {
		t.Errorf("berth's container printed:\n%s\nwant:\n%s", out, want)
	}
	if out, ok := runcOutput(t, bun, id+"-runc"); ok && out != want {
		t.Errorf("runc's container printed:\n%s\nwant:\n%s", out, want)
	}
}

// `runc spec` lists ambient capabilities that are not inheritable, which
// the kernel will not raise. runc starts the container and raises none of
// them; berth did too little: it failed create with "set ambient
// capabilities: operation not permitted". An ambient capability that is
// inheritable is still raised.
func TestRuncSpecAmbientCapabilities(t *testing.T) {
	for _, path := range startPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			bun := runcSpecBundle(t, "grep", "^Cap", "/proc/self/status")
			path.set(bun)
			bun.Save(t)
			r := b.MustRun("run", "--bundle", bun.Dir, "sd-ambient")
			want := "CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n"
			if r.Stdout != want {
				t.Errorf("capabilities of runc spec's process:\n%s\nwant:\n%s", r.Stdout, want)
			}
			if !strings.Contains(r.Stderr, "level=warning") || !strings.Contains(r.Stderr, "CAP_KILL") {
				t.Errorf("no warning names the ambient capabilities left out: %q", r.Stderr)
			}
			if out, ok := runcOutput(t, bun, "sd-ambient-runc"); ok && out != r.Stdout {
				t.Errorf("runc gives the process other capabilities:\n%s\nberth:\n%s", out, r.Stdout)
			}

			bun.Spec.Process.Capabilities.Inheritable = []string{"CAP_KILL"}
			bun.Save(t)
			r = b.MustRun("run", "--bundle", bun.Dir, "sd-ambient")
			if !strings.Contains(r.Stdout, "CapAmb:\t0000000000000020\n") {
				t.Errorf("the inheritable CAP_KILL is not ambient:\n%s", r.Stdout)
			}
			if out, ok := runcOutput(t, bun, "sd-ambient-runc"); ok && out != r.Stdout {
				t.Errorf("runc gives the process other capabilities:\n%s\nberth:\n%s", out, r.Stdout)
			}
		})
	}
}

// A container with a terminal whose set-up fails after its pty is made
// (here in a createContainer hook) reports the hook's error. berth
// panicked on a nil pointer closing the pty.
func TestTerminalSetupFailureReported(t *testing.T) {
	b := newBerth(t)
	bun := terminalBundle(t, "true")
	bun.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook says no >&2; exit 3"}}}}
	bun.Save(t)
	socket, _ := consoleReceiver(t)
	b.MustFail([]string{"createContainer hook", "hook says no"}, "create", "--console-socket", socket, "--bundle", bun.Dir, "sd-ttyhook")
}

// A process.cwd the container's user may not enter but root may: runc
// changes to it before the process takes its user, for create and for
// exec --user. berth failed with "permission denied". The check that the
// cwd lies inside the container still holds (TestLeakedFdsAndCwd).
func TestCwdOnlyRootMayEnter(t *testing.T) {
	for _, path := range startPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "sh", "-c", "pwd; id -u")
			if err := os.Mkdir(filepath.Join(bun.Rootfs(), "secret"), 0o700); err != nil {
				t.Fatal(err)
			}
			bun.Spec.Process.Cwd = "/secret"
			bun.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
			path.set(bun)
			runLikeRunc(t, b, bun, "sd-cwd", "/secret\n1000\n")

			// exec --user into a container whose init runs as root: by
			// ids (an exec from a plan, unless the container needs the
			// Go init) and by name (the Go init).
			bun.Spec.Process.User = specs.User{}
			bun.Spec.Process.Args = []string{"sleep", "1000"}
			bun.Save(t)
			b.MustRun("run", "-d", "--bundle", bun.Dir, "sd-cwdexec")
			defer b.Run("delete", "--force", "sd-cwdexec")
			for _, user := range []string{"1000:1000", "nobody"} {
				r := b.MustRun("exec", "--user", user, "sd-cwdexec", "sh", "-c", "pwd; id -u")
				if !strings.HasPrefix(r.Stdout, "/secret\n") || strings.HasPrefix(r.Stdout, "/secret\n0\n") {
					t.Errorf("exec --user %s: %q, want /secret and the user's uid", user, r.Stdout)
				}
			}
		})
	}
}

// The other way round: a cwd the user may enter and the container's root
// may not (its owner is not mapped in the user namespace, so the root's
// capabilities do not reach it, and only the group may enter). runc
// changes to it as the user once root fails; so does berth, and the cwd
// is checked to lie inside the container then.
func TestCwdOnlyUserMayEnter(t *testing.T) {
	if why := unprivilegedUserns(); why != "" {
		t.Skip(why)
	}
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "pwd; id -u")
	userNamespace(bun, 100000)
	openUp(t, bun, 100000)
	dir := filepath.Join(bun.Rootfs(), "group-only")
	if err := os.Mkdir(dir, 0o070); err != nil {
		t.Fatal(err)
	}
	// Owned by the host's root, unmapped; the group is the user's.
	if err := os.Chown(dir, 0, 101000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o070); err != nil {
		t.Fatal(err)
	}
	bun.Spec.Process.Cwd = "/group-only"
	bun.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	runLikeRunc(t, b, bun, "sd-cwduser", "/group-only\n1000\n")
}

// A read-only tmpfs on /dev: runc makes the mount points of the mounts
// below it (/dev/pts, /dev/shm, /dev/mqueue) and the device nodes first,
// and makes it read-only after. berth failed with "mkdir pts: read-only
// file system".
func TestReadonlyTmpfsOnDev(t *testing.T) {
	for _, path := range startPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "sh", "-c", `ls /dev/null /dev/pts/ptmx /dev/shm >/dev/null && echo devices-ok
touch /dev/new 2>&1
grep -E ' /dev (ro|rw),' /proc/self/mountinfo | cut -d' ' -f5,6`)
			for i, m := range bun.Spec.Mounts {
				if m.Destination == "/dev" {
					bun.Spec.Mounts[i].Options = append(m.Options, "ro")
				}
			}
			path.set(bun)
			runLikeRunc(t, b, bun, "sd-rodev", "devices-ok\ntouch: /dev/new: Read-only file system\n/dev ro,nosuid\n")
		})
	}
}

// An rlimit the kernel will not set fails create, as in runc; berth
// passed create and start, and the container died with the error on its
// own stderr. Raising a hard limit needs CAP_SYS_RESOURCE, and
// RLIMIT_NOFILE may not pass fs.nr_open (2^20 by default) even with it.
func TestRlimitRefusedAtCreate(t *testing.T) {
	for _, path := range startPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "true")
			bun.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 40, Hard: 1 << 40}}
			path.set(bun)
			bun.Save(t)
			b.MustFail([]string{"RLIMIT_NOFILE", "operation not permitted"}, "create", "--bundle", bun.Dir, "sd-rlimit")
			if _, err := os.Stat("/usr/sbin/runc"); err == nil {
				cmd := exec.Command("/usr/sbin/runc", "--root", filepath.Join(t.TempDir(), "runc"), "create", "--bundle", bun.Dir, "sd-rlimit-runc")
				if out, err := cmd.CombinedOutput(); err == nil {
					_ = exec.Command("/usr/sbin/runc", "--root", filepath.Join(t.TempDir(), "runc"), "delete", "--force", "sd-rlimit-runc").Run()
					t.Errorf("runc create accepted it (the oracle changed?): %s", out)
				}
			}
		})
	}
}

// With a user namespace, a bind source the container's root cannot reach
// (below a directory only the host's root may enter) but the runtime can:
// runc opens the source before its init enters the user namespace. berth
// looked it up in init, as the container's root, and failed. The mounts
// below a recursive bind stay locked, as when init looked the source up:
// the container's root may not unmount one to see what it covers.
func TestUsernsBindSourceOnlyHostRootReaches(t *testing.T) {
	if why := unprivilegedUserns(); why != "" {
		t.Skip(why)
	}
	b := newBerth(t)
	private := filepath.Join(t.TempDir(), "private")
	for _, dir := range []string{private, filepath.Join(private, "data"), filepath.Join(private, "data", "sub")} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(private, "data", "file"), "reached\n")
	writeFile(t, filepath.Join(private, "single"), "a file\n")
	sub := filepath.Join(private, "data", "sub")
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(sub, unix.MNT_DETACH) })
	bun := newBundle(t, "sh", "-c", "cat /data/file /single; umount /data/sub 2>&1; true")
	userNamespace(bun, 100000)
	openUp(t, bun, 100000)
	caps := []string{"CAP_SYS_ADMIN"}
	bun.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	addMount(bun, specs.Mount{Destination: "/data", Type: "bind", Source: filepath.Join(private, "data"), Options: []string{"rbind"}})
	addMount(bun, specs.Mount{Destination: "/single", Type: "bind", Source: filepath.Join(private, "single"), Options: []string{"bind", "ro"}})
	runLikeRunc(t, b, bun, "sd-usernsbind", "reached\na file\numount: can't unmount /data/sub: Invalid argument\n")

	// A source that does not exist still fails create, naming it.
	missing := filepath.Join(private, "missing")
	bun.Spec.Mounts[len(bun.Spec.Mounts)-1].Source = missing
	bun.Save(t)
	b.MustFail([]string{missing, "no such file or directory"}, "create", "--bundle", bun.Dir, "sd-usernsbind")
}
