package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mustFailClean runs berth expecting it to fail with one line on stderr
// that contains each of want, without a panic, and without changing what
// the state root holds.
func mustFailClean(b *berth, want []string, args ...string) result {
	b.t.Helper()
	before := rootEntries(b)
	r := b.MustFail(want, args...)
	cmd := strings.Join(args, " ")
	if len(cmd) > 200 {
		cmd = cmd[:200] + "…"
	}
	if msg := strings.TrimRight(r.Stderr, "\n"); msg == "" || strings.Contains(msg, "\n") {
		b.t.Errorf("berth %s: want one line on stderr, got %q", cmd, r.Stderr)
	}
	if strings.Contains(r.Stderr, "goroutine") {
		b.t.Errorf("berth %s: a Go stack trace on stderr: %s", cmd, r.Stderr)
	}
	if after := rootEntries(b); !slices.Equal(before, after) {
		b.t.Errorf("berth %s: the state root held %v before and %v after", cmd, before, after)
	}
	return r
}

func rootEntries(b *berth) []string {
	entries, _ := os.ReadDir(b.Root)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestBadBundle(t *testing.T) {
	detachOnly := [][]string{{"create"}, {"run", "-d"}}
	both := [][]string{{"create"}, {"run"}}
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, bun *bundle) // breaks the bundle
		want  []string
		modes [][]string
	}{
		{
			name: "malformed JSON",
			edit: func(t *testing.T, bun *bundle) {
				writeFile(t, filepath.Join(bun.Dir, "config.json"), `{"ociVersion": "1.0.2",, "process": {}}`)
			},
			want: []string{"config.json", "invalid character", "line 1"},
		},
		{
			name: "truncated JSON",
			edit: func(t *testing.T, bun *bundle) {
				writeFile(t, filepath.Join(bun.Dir, "config.json"), "{\n\"ociVersion\": \"1.0.2\",\n\"process\": {")
			},
			want: []string{"config.json", "unexpected end of JSON"},
		},
		{
			name: "wrong JSON type",
			edit: func(t *testing.T, bun *bundle) {
				writeFile(t, filepath.Join(bun.Dir, "config.json"), `{"ociVersion": "1.0.2", "process": {"args": "sh"}}`)
			},
			want: []string{"config.json", "args"},
		},
		{
			name: "missing config.json",
			edit: func(t *testing.T, bun *bundle) {
				if err := os.Remove(filepath.Join(bun.Dir, "config.json")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"config.json", "no such file"},
		},
		{
			name: "missing rootfs",
			edit: func(t *testing.T, bun *bundle) {
				bun.Spec.Root.Path = "no-such-rootfs"
				bun.Save(t)
			},
			want: []string{"root.path", "no-such-rootfs", "does not exist"},
		},
		{
			name: "rootfs is a file",
			edit: func(t *testing.T, bun *bundle) {
				writeFile(t, filepath.Join(bun.Dir, "plainfile"), "")
				bun.Spec.Root.Path = "plainfile"
				bun.Save(t)
			},
			want: []string{"root.path", "plainfile", "not a directory"},
		},
		{
			name: "unsupported ociVersion major",
			edit: func(t *testing.T, bun *bundle) {
				bun.Spec.Version = "2.0.0"
				bun.Save(t)
			},
			want: []string{"ociVersion", `"2.0.0"`, "not supported"},
		},
		// A relative one is relative to "/", as the spec says
		// (integration/runcdiff's mount-relative-destination).
		{
			name: "empty mount destination",
			edit: func(t *testing.T, bun *bundle) {
				bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "", Type: "tmpfs", Source: "tmpfs"})
				bun.Save(t)
			},
			want: []string{"mounts", `destination ""`, "absolute"},
		},
		{
			name: "empty process.args",
			edit: func(t *testing.T, bun *bundle) {
				bun.Spec.Process.Args = []string{}
				bun.Save(t)
			},
			want: []string{"process.args", "empty"},
		},
		{
			name: "executable not in PATH",
			edit: func(t *testing.T, bun *bundle) {
				bun.Spec.Process.Args = []string{"no-such-binary", "arg"}
				bun.Save(t)
			},
			want: []string{`"no-such-binary"`, "not found"},
		},
		{
			name: "executable path does not exist",
			edit: func(t *testing.T, bun *bundle) {
				bun.Spec.Process.Args = []string{"/bin/no-such-binary"}
				bun.Save(t)
			},
			want: []string{`"/bin/no-such-binary"`, "no such file"},
		},
		{
			name: "terminal without a console socket",
			edit: func(t *testing.T, bun *bundle) {
				bun.Spec.Process.Terminal = true
				bun.Save(t)
			},
			want:  []string{"terminal", "--console-socket"},
			modes: detachOnly,
		},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "sh", "-c", "echo > /out/ran")
			ran := filepath.Join(bun.shareDir(t, "/out"), "ran")
			tc.edit(t, bun)
			modes := tc.modes
			if modes == nil {
				modes = both
			}
			for _, mode := range modes {
				id := "bad" + mode[0]
				args := append(slices.Clone(mode), "--bundle", bun.Dir, id)
				t.Cleanup(func() { b.Run("delete", "--force", id) })
				mustFailClean(b, tc.want, args...)
				mustNotExist(b, id)
			}
			if _, err := os.Stat(ran); err == nil {
				t.Errorf("the container's process ran")
			}
		})
	}
}

func TestBadBundleDirectory(t *testing.T) {
	b := newBerth(t)
	missing := filepath.Join(t.TempDir(), "no-such-bundle")
	mustFailClean(b, []string{"no-such-bundle", "config.json"}, "create", "--bundle", missing, "nob")
	mustFailClean(b, []string{"no-such-bundle", "config.json"}, "run", "--bundle", missing, "nob")
}

// An unknown command exits 3, as runc's does (integration/runcdiff).
func TestUnknownCommand(t *testing.T) {
	b := newBerth(t)
	r := b.MustFail([]string{"No help topic", "nosuch"}, "nosuch")
	if r.Code != 3 {
		t.Errorf("berth nosuch exits %d, want 3 as runc: %v", r.Code, r)
	}
}

func TestUnknownID(t *testing.T) {
	b := newBerth(t)
	for _, args := range [][]string{
		{"start", "ghost"},
		{"state", "ghost"},
		{"kill", "ghost"},
		{"kill", "ghost", "KILL"},
		{"delete", "ghost"},
	} {
		mustFailClean(b, []string{`"ghost"`, "does not exist"}, args...)
	}
}

func TestMissingID(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	for _, args := range [][]string{
		{"create", "--bundle", bun.Dir},
		{"run", "--bundle", bun.Dir},
		{"start"}, {"state"}, {"kill"}, {"delete"}, {"delete", "--force"},
	} {
		mustFailClean(b, []string{"missing container id"}, args...)
	}
	delete(b.ids, bun.Dir)
}

func TestDuplicateID(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "echo > /out/ran; exec sleep 1000")
	ran := filepath.Join(bun.shareDir(t, "/out"), "ran")
	b.MustRun("create", "--bundle", bun.Dir, "dup")
	t.Cleanup(func() { b.Run("delete", "--force", "dup") })
	pid := b.State("dup").Pid

	other := newBundle(t, "true")
	for _, args := range [][]string{
		{"create", "--bundle", bun.Dir, "dup"},
		{"create", "--bundle", other.Dir, "dup"},
		{"run", "--bundle", other.Dir, "dup"},
		{"run", "-d", "--bundle", bun.Dir, "dup"},
	} {
		mustFailClean(b, []string{`"dup"`, "already exists"}, args...)
	}

	// The first container is untouched and still starts.
	if st := b.State("dup"); st.Status != specs.StateCreated || st.Pid != pid || st.Bundle != bun.Dir || processGone(pid) {
		t.Fatalf("after duplicate creates the container is %s, pid %d (was %d), bundle %s", st.Status, st.Pid, pid, st.Bundle)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatalf("a duplicate create started the container's process")
	}
	b.MustRun("start", "dup")
	waitFor(t, "the first container to run", func() bool { _, err := os.Stat(ran); return err == nil })
	b.MustRun("delete", "--force", "dup")
}

func TestInvalidID(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	long := strings.Repeat("a", 1025)
	for _, id := range []string{"", "../x", "a/b", "..", ".", "/abs", "a b", long} {
		want := []string{"invalid container id"}
		if id != long {
			want = append(want, strconv.Quote(id))
		} else {
			want = append(want, "1024")
		}
		for _, args := range [][]string{
			{"create", "--bundle", bun.Dir, id},
			{"run", "--bundle", bun.Dir, id},
			{"run", "-d", "--bundle", bun.Dir, id},
			{"start", id},
			{"state", id},
			{"kill", id, "KILL"},
			{"delete", id},
			{"delete", "--force", id},
		} {
			mustFailClean(b, want, args...)
		}
		// The harness's cgroup check would look at our own cgroup or its
		// parent for these.
		delete(b.ids, id)
	}
	// Nothing escaped the root.
	for _, p := range []string{filepath.Join(filepath.Dir(b.Root), "x"), filepath.Join(b.Root, "a")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("an invalid id made %s", p)
		}
	}
}

// Ids up to 1024 bytes are valid, but a file name holds only 255: such a
// container cannot be stored, and saying so must be clean.
func TestIDTooLongForFilesystem(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	id := strings.Repeat("b", 300)
	for _, args := range [][]string{
		{"create", "--bundle", bun.Dir, id},
		{"run", "--bundle", bun.Dir, id},
		{"run", "-d", "--bundle", bun.Dir, id},
	} {
		mustFailClean(b, []string{"too long"}, args...)
	}
}

func TestBadSignal(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	b.MustRun("run", "-d", "--bundle", bun.Dir, "sigs")
	t.Cleanup(func() { b.Run("delete", "--force", "sigs") })
	pid := b.State("sigs").Pid
	for _, sig := range []string{"FOO", "SIGFOO", "sigbogus", "99", "65", "KILLL", "9x"} {
		mustFailClean(b, []string{"signal", strconv.Quote(sig)}, "kill", "sigs", sig)
		mustFailClean(b, []string{"signal", strconv.Quote(sig)}, "kill", "--all", "sigs", sig)
	}
	if st := b.State("sigs"); st.Status != specs.StateRunning || st.Pid != pid {
		t.Errorf("after unknown signals the container is %s with pid %d (was %d)", st.Status, st.Pid, pid)
	}
}

func TestWrongStateTransitions(t *testing.T) {
	b := newBerth(t)
	running := newBundle(t, "sleep", "1000")
	b.MustRun("run", "-d", "--bundle", running.Dir, "up")
	t.Cleanup(func() { b.Run("delete", "--force", "up") })
	pid := b.State("up").Pid

	mustFailClean(b, []string{`"up"`, "running"}, "start", "up")
	mustFailClean(b, []string{`"up"`, "running", "force"}, "delete", "up")
	if st := b.State("up"); st.Status != specs.StateRunning || st.Pid != pid || processGone(pid) {
		t.Errorf("after a refused start and delete the container is %s with pid %d (was %d)", st.Status, st.Pid, pid)
	}

	stopped := newBundle(t, "sh", "-c", "echo run >> /out/runs")
	runs := filepath.Join(stopped.shareDir(t, "/out"), "runs")
	b.MustRun("run", "--keep", "--bundle", stopped.Dir, "down")
	t.Cleanup(func() { b.Run("delete", "--force", "down") })
	mustFailClean(b, []string{`"down"`, "stopped"}, "start", "down")
	mustFailClean(b, []string{`"down"`, "stopped"}, "kill", "down", "KILL")
	if data, _ := os.ReadFile(runs); string(data) != "run\n" {
		t.Errorf("start of a stopped container ran its process again: %q", data)
	}
	if st := b.State("down"); st.Status != specs.StateStopped {
		t.Errorf("after a refused start the container is %s", st.Status)
	}
	b.MustRun("delete", "down")
	b.MustRun("delete", "--force", "up")
}

func TestBadFlags(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	mustFailClean(b, []string{"--log-format", `"xml"`}, "--log-format", "xml", "list")
	mustFailClean(b, []string{"--format", `"yaml"`}, "list", "--format", "yaml")
	mustFailClean(b, []string{"--preserve-fds", "-1"}, "create", "--preserve-fds", "-1", "--bundle", bun.Dir, "negfds")
	mustNotExist(b, "negfds")
}
