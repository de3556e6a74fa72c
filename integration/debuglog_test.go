package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// With --debug, berth logs each step of create, start, exec, update, kill
// and delete, for the container, with the time each took, the lines of
// the container's init among them, as runc logs its stages at debug level.

// debugSteps are the messages of the debug lines about container id in a
// text log.
func debugSteps(t *testing.T, log, id string) []string {
	t.Helper()
	var steps []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "level=debug") || !strings.Contains(line, " container="+id) {
			continue
		}
		_, msg, ok := strings.Cut(line, `msg="`)
		if !ok {
			t.Fatalf("debug line without a message: %s", line)
		}
		msg, _, _ = strings.Cut(msg, `" `)
		if !strings.Contains(line, " took=") && !strings.Contains(line, " total=") {
			t.Errorf("debug line without its time: %s", line)
		}
		steps = append(steps, strings.ReplaceAll(msg, `\"`, `"`))
	}
	return steps
}

// wantSteps checks that steps has a step beginning with each of want, in
// that order.
func wantSteps(t *testing.T, what string, steps, want []string) {
	t.Helper()
	i := 0
	for _, s := range steps {
		if i < len(want) && strings.HasPrefix(s, want[i]) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("%s: no debug step %q (in this order); steps:\n%s", what, want[i], strings.Join(steps, "\n"))
	}
}

func TestDebugLogsEachStep(t *testing.T) {
	b := newBerth(t)
	for _, goInit := range []bool{false, true} {
		id := "cli-debug-plan"
		bun := cgroupBundle(t, id, "sleep", "1000")
		want := []string{
			"create: config loaded from " + bun.Dir,
			"create: config checked",
			"create: state directory made",
			"create: cgroups made",
			"create: init starts from a plan",
			"create: init: made namespaces",
			"create: init started: pid",
			"create: init placed in cgroups",
			"create: cgroup limits set",
			"create: set-up request answered",
			"create: root filesystem built",
			"create: plan sent",
			"create: init: plan applied",
			"create: init ready, waiting for start",
			"create: done",
		}
		if goInit {
			id = "cli-debug-init"
			bun = cgroupBundle(t, id, "sleep", "1000")
			useGoInit(bun)
			bun.Spec.Hooks = &specs.Hooks{
				CreateRuntime:   []specs.Hook{{Path: "/bin/true"}},
				CreateContainer: []specs.Hook{{Path: "/bin/true"}},
				Poststop:        []specs.Hook{{Path: "/bin/true"}},
			}
			bun.Save(t)
			want = []string{
				"create: config loaded from " + bun.Dir,
				"create: config checked",
				"create: state directory made",
				"create: cgroups made",
				"create: init starts as the Go init",
				"create: init: made namespaces",
				"create: init started: pid",
				"create: init placed in cgroups",
				"create: cgroup limits set",
				"create: init: bootstrap received",
				"create: prestart and createRuntime hooks run",
				"create: init: createContainer hooks run",
				"create: init: root filesystem built",
				"create: init: process set up",
				"create: init ready, waiting for start",
				"create: done",
			}
		}
		t.Cleanup(func() { b.Run("delete", "--force", id) })
		r := b.MustRun("--debug", "create", "--bundle", bun.Dir, id)
		wantSteps(t, "create", debugSteps(t, r.Stderr, id), want)

		r = b.MustRun("--debug", "start", id)
		wantSteps(t, "start", debugSteps(t, r.Stderr, id), []string{"start: init released", "start: process running", "start: done"})

		// A numeric user's process starts from a plan, unless the
		// container's personality needs the Go init; a named one's
		// through the Go init.
		for _, user := range []string{"0", "root"} {
			r = b.MustRun("--debug", "exec", "--user", user, id, "true")
			how := "exec: the process starts from a plan"
			if user == "root" || goInit {
				how = "exec: the process starts through the Go init"
			}
			wantSteps(t, "exec --user "+user, debugSteps(t, r.Stderr, id), []string{
				"exec: process checked", how, "exec: init: joined the namespaces of the container's init",
				"exec: process started: pid", "exec: joined cgroups", "exec: process ready", "exec: done",
			})
		}

		r = b.MustRun("--debug", "update", "--pids-limit", "50", id)
		wantSteps(t, "update", debugSteps(t, r.Stderr, id), []string{"update: cgroup limits written", "update: done"})

		r = b.MustRun("--debug", "kill", id, "KILL")
		wantSteps(t, "kill", debugSteps(t, r.Stderr, id), []string{"kill: signal 9 sent to init", "kill: done"})
		waitFor(t, id+" to stop", func() bool { return b.State(id).Status == specs.StateStopped })

		r = b.MustRun("--debug", "delete", id)
		want = []string{"delete: cgroups removed", "delete: state removed", "delete: done"}
		if goInit {
			want = []string{"delete: cgroups removed", "delete: poststop hooks run", "delete: state removed", "delete: done"}
		}
		wantSteps(t, "delete", debugSteps(t, r.Stderr, id), want)
	}
}

// TestDebugLogsWhereCreateFails checks that a failing create logs the
// steps it got through and the failure, with its time.
func TestDebugLogsWhereCreateFails(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	bun.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/false"}}}
	bun.Save(t)
	r := b.MustFail([]string{"createContainer"}, "--debug", "create", "--bundle", bun.Dir, "cli-debug-fail")
	steps := debugSteps(t, r.Stderr, "cli-debug-fail")
	wantSteps(t, "failed create", steps, []string{"create: init: bootstrap received", "create: failed: "})
	if len(steps) > 0 && !strings.Contains(steps[len(steps)-1], "createContainer") {
		t.Errorf("the last debug step does not say what failed: %q", steps[len(steps)-1])
	}
}

// TestDebugLogFormats checks --debug in JSON and to --log, and that
// without --debug nothing is logged.
func TestDebugLogFormats(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "echo", "hi")

	r := b.MustRun("run", "--bundle", bun.Dir, "cli-debug-quiet")
	if r.Stderr != "" || r.Stdout != "hi\n" {
		t.Errorf("run without --debug: %v, want only the container's output", r)
	}

	log := filepath.Join(t.TempDir(), "log.json")
	r = b.MustRun("--debug", "--log", log, "--log-format", "json", "run", "--bundle", bun.Dir, "cli-debug-json")
	if r.Stderr != "" || r.Stdout != "hi\n" {
		t.Errorf("run --debug --log FILE: %v, want only the container's output on stdout and stderr", r)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var entry map[string]string
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not a JSON object of strings: %v", line, err)
		}
		if entry["container"] != "cli-debug-json" {
			continue
		}
		if entry["level"] != "debug" || entry["time"] == "" || entry["took"] == "" && entry["total"] == "" {
			t.Errorf("log line %q: want level debug, a time, and took or total", line)
		}
		steps = append(steps, entry["msg"])
	}
	wantSteps(t, "run --debug --log-format json", steps, []string{
		"create: config loaded", "create: init: made namespaces", "create: init: plan applied", "create: done",
		"start: done", "delete: state removed", "delete: done",
	})
}
