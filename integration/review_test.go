package integration

// The attacks of the review pass of issue 13: each class a hostile image,
// container, config field or local user could try that the tests in
// security_test.go did not, with the defence that holds (or now holds).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
