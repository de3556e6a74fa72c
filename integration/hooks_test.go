package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// recordHook returns a hook that appends its state JSON and mount
// namespace to dir/name, using the shell at sh (on the host or in the
// container, depending on where the hook's path resolves).
func recordHook(sh, dir, name string) specs.Hook {
	out := filepath.Join(dir, name)
	return specs.Hook{Path: sh, Args: []string{"sh", "-c", `cat > "$OUT.state"; readlink /proc/self/ns/mnt > "$OUT.mnt"; echo "$1" > "$OUT.arg"`, "hook", "arg1"},
		Env: []string{"OUT=" + out}}
}

func readState(t *testing.T, path string) specs.State {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("hook did not run: %v", err)
	}
	var st specs.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("hook stdin %q is not the state: %v", data, err)
	}
	return st
}

func TestHooksRunWhereAndWhenTheSpecSays(t *testing.T) {
	b := newBerth(t)
	out := t.TempDir()
	bun := newBundle(t, "sleep", "1000")
	// startContainer resolves its path in the container and writes where
	// the container sees the host's directory.
	bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"bind"}})
	inContainer := recordHook("/bin/sh", "/out", "startContainer")
	bun.Spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{recordHook("/bin/sh", out, "prestart")},
		CreateRuntime:   []specs.Hook{recordHook("/bin/sh", out, "createRuntime")},
		CreateContainer: []specs.Hook{recordHook("/bin/sh", out, "createContainer")},
		StartContainer:  []specs.Hook{inContainer},
		Poststart:       []specs.Hook{recordHook("/bin/sh", out, "poststart")},
		Poststop:        []specs.Hook{recordHook("/bin/sh", out, "poststop")},
	}
	bun.Save(t)
	hostMnt, _ := os.Readlink("/proc/self/ns/mnt")

	b.MustRun("create", "--bundle", bun.Dir, "hooked")
	pid := b.State("hooked").Pid
	ctrMnt, _ := os.Readlink("/proc/" + itoa(pid) + "/ns/mnt")
	for _, h := range []string{"prestart", "createRuntime", "createContainer"} {
		st := readState(t, filepath.Join(out, h+".state"))
		if st.ID != "hooked" || st.Pid != pid || st.Status != specs.StateCreating || st.Bundle != bun.Dir {
			t.Errorf("%s state = %+v, want id hooked, pid %d, creating, bundle %s", h, st, pid, bun.Dir)
		}
		arg, _ := os.ReadFile(filepath.Join(out, h+".arg"))
		if string(arg) != "arg1\n" {
			t.Errorf("%s args: $1 = %q", h, arg)
		}
	}
	for h, want := range map[string]string{"prestart": hostMnt, "createRuntime": hostMnt, "createContainer": ctrMnt} {
		got, _ := os.ReadFile(filepath.Join(out, h+".mnt"))
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("%s ran in mount namespace %s, want %s", h, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "startContainer.state")); err == nil {
		t.Errorf("startContainer ran before start")
	}

	b.MustRun("start", "hooked")
	waitFor(t, "startContainer", func() bool { _, err := os.Stat(filepath.Join(out, "startContainer.arg")); return err == nil })
	if st := readState(t, filepath.Join(out, "poststart.state")); st.Status != specs.StateRunning || st.Pid != pid {
		t.Errorf("poststart state = %+v", st)
	}
	got, _ := os.ReadFile(filepath.Join(out, "startContainer.mnt"))
	if strings.TrimSpace(string(got)) != ctrMnt {
		t.Errorf("startContainer ran in mount namespace %s, want the container's %s", got, ctrMnt)
	}

	b.MustRun("delete", "--force", "hooked")
	if st := readState(t, filepath.Join(out, "poststop.state")); st.Status != specs.StateStopped || st.ID != "hooked" {
		t.Errorf("poststop state = %+v", st)
	}
}

func TestFailingHooks(t *testing.T) {
	b := newBerth(t)
	fail := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook says no >&2; exit 3"}}
	for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
		bun := newBundle(t, "true")
		bun.Spec.Hooks = &specs.Hooks{}
		switch kind {
		case "prestart":
			bun.Spec.Hooks.Prestart = []specs.Hook{fail}
		case "createRuntime":
			bun.Spec.Hooks.CreateRuntime = []specs.Hook{fail}
		case "createContainer":
			bun.Spec.Hooks.CreateContainer = []specs.Hook{fail}
		}
		bun.Save(t)
		b.MustFail([]string{kind + " hook", "hook says no"}, "create", "--bundle", bun.Dir, "fail-"+strings.ToLower(kind))
	}

	one := 1
	slow := newBundle(t, "true")
	slow.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "30"}, Timeout: &one}}}
	slow.Save(t)
	b.MustFail([]string{"createRuntime hook", "timed out after 1s"}, "create", "--bundle", slow.Dir, "slowhook")

	// A failing poststart or poststop hook is logged; the lifecycle goes on.
	warn := newBundle(t, "true")
	warn.Spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{fail}, Poststop: []specs.Hook{fail}}
	warn.Save(t)
	r := b.Run("run", "--bundle", warn.Dir, "warnhook")
	if r.Code != 0 || !strings.Contains(r.Stderr, "poststart hook") || !strings.Contains(r.Stderr, "poststop hook") {
		t.Errorf("failing poststart/poststop hooks: %v, want exit 0 with both logged", r)
	}
}
