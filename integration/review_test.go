package integration

// The attacks of the review pass of issue 13: each class a hostile image,
// container, config field or local user could try that the tests in
// security_test.go did not, with the defence that holds (or now holds).

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
