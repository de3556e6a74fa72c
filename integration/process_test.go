package integration

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestTimerSlackOfCaller starts berth with an unusual timer slack: berth
// raises its own, but the container's process, an exec'd one and the hooks
// must get the caller's.
func TestTimerSlackOfCaller(t *testing.T) {
	// berth inherits the slack of the thread that starts it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	const slack = 123456
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, slack, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(orig), 0, 0, 0)

	b := newBerth(t)
	out := t.TempDir()
	bun := newBundle(t, "sleep", "1000")
	bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"bind"}})
	record := func(dir, name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat /proc/self/timerslack_ns > " + filepath.Join(dir, name)}}
	}
	bun.Spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{record(out, "prestart")},
		CreateContainer: []specs.Hook{record(out, "createContainer")},
		StartContainer:  []specs.Hook{record("/out", "startContainer")},
	}
	bun.Save(t)
	b.MustRun("run", "-d", "--bundle", bun.Dir, "slack")
	t.Cleanup(func() { b.Run("delete", "--force", "slack") })

	got := map[string]string{"exec": strings.TrimSpace(b.MustRun("exec", "slack", "cat", "/proc/self/timerslack_ns").Stdout)}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(b.State("slack").Pid) + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	got["process"] = strings.TrimSpace(string(data))
	for _, h := range []string{"prestart", "createContainer", "startContainer"} {
		data, err := os.ReadFile(filepath.Join(out, h))
		if err != nil {
			t.Fatalf("%s hook: %v", h, err)
		}
		got[h+" hook"] = strings.TrimSpace(string(data))
	}
	for what, v := range got {
		if v != strconv.Itoa(slack) {
			t.Errorf("timer slack of the %s: %s ns, want the caller's %d", what, v, slack)
		}
	}
}

func TestProcessSchedulingAttributes(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "cat /proc/self/oom_score_adj; ionice -p $$; uname -m; grep -E '^(policy|prio)' /proc/self/sched; cat /proc/self/stat | cut -d' ' -f19")
	adj := 500
	bun.Spec.Process.OOMScoreAdj = &adj
	bun.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}
	bun.Spec.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 7}
	bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	bun.Save(t)
	r := b.RunContainer(bun, "sched")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	want := map[string]func(string) bool{
		"oomScoreAdj 500":    func(l string) bool { return l == "500" },
		"ioPriority idle":    func(l string) bool { return strings.Contains(l, "idle") },
		"personality i686":   func(l string) bool { return l == "i686" },
		"policy SCHED_BATCH": func(l string) bool { return strings.HasPrefix(l, "policy") && strings.HasSuffix(l, " 3") },
		"nice 7":             func(l string) bool { return l == "7" },
	}
	for what, ok := range want {
		found := false
		for _, l := range lines {
			found = found || ok(strings.TrimSpace(l))
		}
		if !found {
			t.Errorf("%s not seen in:\n%s", what, r.Stdout)
		}
	}
}

func TestExecCPUAffinity(t *testing.T) {
	b := newBerth(t)
	bun := runningContainer(t, b, "aff")
	p := *bun.Spec.Process
	p.Args = []string{"sh", "-c", "grep Cpus_allowed_list /proc/self/status"}
	p.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-1", Final: "1"}
	path := t.TempDir() + "/process.json"
	writeJSONFile(t, path, &p)
	r := b.MustRun("exec", "--process", path, "aff")
	if f := strings.Fields(r.Stdout); len(f) != 2 || f[1] != "1" {
		t.Errorf("exec with execCPUAffinity.final 1: %q", r.Stdout)
	}
}

// TestExecPersonality checks that an exec'd process takes the container's
// execution domain, which exec reads from the container's config.
func TestExecPersonality(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	bun.Save(t)
	b.MustRun("run", "-d", "--bundle", bun.Dir, "pers")
	t.Cleanup(func() { b.Run("delete", "--force", "pers") })
	if r := b.MustRun("exec", "pers", "uname", "-m"); strings.TrimSpace(r.Stdout) != "i686" {
		t.Errorf("exec in a LINUX32 container: uname -m = %q, want i686", r.Stdout)
	}
}

func TestProcessAttributesBadInput(t *testing.T) {
	b := newBerth(t)
	for name, edit := range map[string]func(*specs.Spec){
		"oomScoreAdj":     func(s *specs.Spec) { v := 5000; s.Process.OOMScoreAdj = &v },
		"scheduler":       func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FAST"} },
		"ioPriority":      func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_BEST"} },
		"personality":     func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"} },
		"execCPUAffinity": func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "3-1"} },
	} {
		bun := newBundle(t, "true")
		edit(bun.Spec)
		bun.Save(t)
		b.MustFail([]string{name}, "run", "--bundle", bun.Dir, "bad-"+strings.ToLower(name))
	}
}

// Engines ask for a low oomScoreAdj (containerd's CRI gives a pod's sandbox
// -998). Lowering it needs CAP_SYS_RESOURCE, which this host's root lacks:
// the error must say so rather than only "permission denied".
func TestOOMScoreAdjBelowOwn(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "cat", "/proc/self/oom_score_adj")
	v := -998
	bun.Spec.Process.OOMScoreAdj = &v
	bun.Save(t)
	var caps [2]unix.CapUserData
	if err := unix.Capget(&unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}, &caps[0]); err != nil {
		t.Fatal(err)
	}
	if caps[0].Effective&(1<<unix.CAP_SYS_RESOURCE) != 0 {
		if r := b.MustRun("run", "--bundle", bun.Dir, "oom-low"); strings.TrimSpace(r.Stdout) != "-998" {
			t.Errorf("oom_score_adj = %q, want -998", r.Stdout)
		}
		return
	}
	b.MustFail([]string{"set oomScoreAdj -998", "permission denied", "CAP_SYS_RESOURCE"}, "run", "--bundle", bun.Dir, "oom-low")
	// The same for an exec, whose parent sets it (the process starts from
	// a plan, without a Go init).
	runningContainer(t, b, "oom-exec")
	process := filepath.Join(t.TempDir(), "process.json")
	writeFile(t, process, `{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "oomScoreAdj": -998}`)
	mustFailClean(b, []string{"set oomScoreAdj -998", "permission denied", "CAP_SYS_RESOURCE"}, "exec", "--process", process, "oom-exec")
}
