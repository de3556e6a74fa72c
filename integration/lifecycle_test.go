package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// spawned is a berth command that runs while the test goes on, such as a
// foreground `berth run` the test signals.
type spawned struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr string // paths of the files berth writes to
	done           chan struct{}
}

// Spawn starts berth with the given arguments (and extra fds from 3 up)
// without waiting for it. If the test ends with it still running, it is
// killed.
func (b *berth) Spawn(extra []*os.File, args ...string) *spawned {
	b.t.Helper()
	return b.SpawnIn("", extra, args...)
}

// SpawnIn is Spawn in the working directory dir.
func (b *berth) SpawnIn(dir string, extra []*os.File, args ...string) *spawned {
	b.t.Helper()
	for i, a := range args {
		if (a == "create" || a == "run") && i+1 < len(args) {
			b.ids[args[len(args)-1]] = true
		}
	}
	cmd := exec.Command(berthBinary, append([]string{"--root", b.Root}, args...)...)
	stdout, stderr := b.tempFile("stdout"), b.tempFile("stderr")
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = extra
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start berth: %v", err)
	}
	p := &spawned{t: b.t, cmd: cmd, stdout: stdout.Name(), stderr: stderr.Name(), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	b.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Stdout returns what berth has written to stdout so far.
func (p *spawned) Stdout() string {
	data, _ := os.ReadFile(p.stdout)
	return string(data)
}

// Wait waits up to 30s for berth to exit and returns what it did.
func (p *spawned) Wait() result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("berth %s did not exit within 30s", strings.Join(p.cmd.Args[1:], " "))
	}
	stderr, _ := os.ReadFile(p.stderr)
	return result{Stdout: p.Stdout(), Stderr: string(stderr), Code: p.cmd.ProcessState.ExitCode()}
}

// runSafe is Run for use from several goroutines at once: it does not touch
// the test (the caller registers ids and reports failures). A hang of a
// minute is reported as exit code -1.
func (b *berth) runSafe(args ...string) result {
	cmd := exec.Command(berthBinary, append([]string{"--root", b.Root}, args...)...)
	dir := filepath.Dir(b.Root)
	stdout, err := os.CreateTemp(dir, "stdout")
	if err != nil {
		return result{Code: -1, Stderr: err.Error()}
	}
	defer stdout.Close()
	stderr, err := os.CreateTemp(dir, "stderr")
	if err != nil {
		return result{Code: -1, Stderr: err.Error()}
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return result{Code: -1, Stderr: err.Error()}
	}
	timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	_ = cmd.Wait()
	hung := !timer.Stop()
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	r := result{Stdout: string(out), Stderr: string(errOut), Code: cmd.ProcessState.ExitCode()}
	if hung {
		r.Code = -1
		r.Stderr += "\n(hung for a minute)"
	}
	return r
}

// shareDir bind-mounts a new host directory at dest in the container and
// returns its path on the host, for the container to report through.
func (bun *bundle) shareDir(t *testing.T, dest string) string {
	t.Helper()
	dir := t.TempDir()
	bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{
		Destination: dest, Type: "bind", Source: dir, Options: []string{"rbind", "rw"},
	})
	bun.Save(t)
	return dir
}

// withoutNamespace drops a namespace from the bundle's config.
func (bun *bundle) withoutNamespace(t *testing.T, typ specs.LinuxNamespaceType) {
	t.Helper()
	bun.Spec.Linux.Namespaces = slices.DeleteFunc(bun.Spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
		return ns.Type == typ
	})
	bun.Save(t)
}

// waitStatus polls `berth state` until id has the wanted status.
func waitStatus(t *testing.T, b *berth, id string, want specs.ContainerState) ociState {
	t.Helper()
	var st ociState
	waitFor(t, fmt.Sprintf("container %q to be %s", id, want), func() bool {
		st = b.State(id)
		return st.Status == want
	})
	return st
}

// waitFileContent polls a file on the host until it holds want.
func waitFileContent(t *testing.T, path, want string) {
	t.Helper()
	var got []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ = os.ReadFile(path)
		if string(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q", path, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processGone reports whether pid has exited (a zombie counts as gone).
func processGone(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i >= 0 && i+2 < len(data) && (data[i+2] == 'Z' || data[i+2] == 'X')
}

func procCmdline(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(data)
}

// mustNotExist checks that `berth state id` reports the container gone.
func mustNotExist(b *berth, id string) {
	b.t.Helper()
	b.MustFail([]string{strconv.Quote(id), "does not exist"}, "state", id)
}

// listIDs returns the ids `berth list -q` prints.
func listIDs(b *berth) []string {
	b.t.Helper()
	return strings.Fields(b.MustRun("list", "-q").Stdout)
}

func TestLifecycleCreateStartStopDelete(t *testing.T) {
	b := newBerth(t)
	// The user's process leaves a mark on the host as soon as it runs,
	// and runs until the test lets it stop.
	bun := newBundle(t, "sh", "-c", "echo $$ > /out/ran; while [ ! -e /out/stop ]; do sleep 0.02; done")
	out := bun.shareDir(t, "/out")
	ran := filepath.Join(out, "ran")

	b.MustRun("create", "--bundle", bun.Dir, "life")
	t.Cleanup(func() { b.Run("delete", "--force", "life") })
	st := b.State("life")
	if st.Status != specs.StateCreated {
		t.Fatalf("after create: status %q, want created", st.Status)
	}
	if st.Pid <= 0 || processGone(st.Pid) {
		t.Fatalf("after create: pid %d is not a live process", st.Pid)
	}
	initPid := st.Pid
	// Nothing to poll for: the process must not run at all. Give a
	// runtime that started it early the time to leave its mark.
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(ran); err == nil {
		t.Fatalf("the user's process ran before start")
	}
	if strings.HasPrefix(procCmdline(initPid), "sh\x00") {
		t.Fatalf("init already exec'd the user's process before start: %q", procCmdline(initPid))
	}
	if st := b.State("life"); st.Status != specs.StateCreated {
		t.Fatalf("created container became %q without start", st.Status)
	}

	b.MustRun("start", "life")
	waitFileContent(t, ran, "1\n") // it runs, as pid 1 of its namespace
	st = b.State("life")
	if st.Status != specs.StateRunning || st.Pid != initPid {
		t.Fatalf("after start: status %q pid %d, want running with pid %d", st.Status, st.Pid, initPid)
	}
	if !strings.HasPrefix(procCmdline(initPid), "sh\x00") {
		t.Errorf("init %d runs %q, want the user's sh", initPid, procCmdline(initPid))
	}

	writeFile(t, filepath.Join(out, "stop"), "")
	st = waitStatus(t, b, "life", specs.StateStopped)
	if st.Pid != 0 {
		t.Errorf("stopped container shows pid %d, want 0", st.Pid)
	}
	if ids := listIDs(b); !slices.Equal(ids, []string{"life"}) {
		t.Errorf("list -q of a stopped container: %q", ids)
	}

	r := b.MustRun("delete", "life")
	if r.Stdout != "" || r.Stderr != "" {
		t.Errorf("delete printed something: %v", r)
	}
	mustNotExist(b, "life")
	if ids := listIDs(b); len(ids) != 0 {
		t.Errorf("list -q after delete: %q", ids)
	}
}

func TestStateJSONFields(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	bun.Spec.Annotations = map[string]string{"org.example.color": "blue", "berth.test": "state"}
	bun.Save(t)

	before := time.Now()
	b.MustRun("create", "--bundle", bun.Dir, "fields")
	after := time.Now()
	t.Cleanup(func() { b.Run("delete", "--force", "fields") })

	for _, status := range []string{"created", "running"} {
		if status == "running" {
			b.MustRun("start", "fields")
		}
		out := b.MustRun("state", "fields").Stdout
		var raw map[string]any
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatalf("state is not a JSON object: %v\n%s", err, out)
		}
		for _, key := range []string{"ociVersion", "id", "status", "pid", "bundle", "rootfs", "created", "owner", "annotations"} {
			if _, ok := raw[key]; !ok {
				t.Errorf("%s state has no %q field:\n%s", status, key, out)
			}
		}
		st := b.State("fields")
		if !strings.HasPrefix(st.Version, "1.") {
			t.Errorf("ociVersion %q, want 1.x", st.Version)
		}
		if st.ID != "fields" || string(st.Status) != status {
			t.Errorf("id %q status %q, want fields %s", st.ID, st.Status, status)
		}
		if pid, ok := raw["pid"].(float64); !ok || int(pid) <= 0 || processGone(int(pid)) {
			t.Errorf("pid %v is not a live process", raw["pid"])
		}
		if st.Bundle != bun.Dir || st.Rootfs != bun.Rootfs() {
			t.Errorf("bundle %q rootfs %q, want %q and %q", st.Bundle, st.Rootfs, bun.Dir, bun.Rootfs())
		}
		created, _ := raw["created"].(string)
		ts, err := time.Parse(time.RFC3339Nano, created)
		if err != nil {
			t.Errorf("created %q is not RFC3339: %v", created, err)
		} else if ts.Before(before.Add(-time.Second)) || ts.After(after.Add(time.Second)) {
			t.Errorf("created %v is not when create ran (%v … %v)", ts, before, after)
		}
		// As runc's state: only list names the owner.
		if st.Owner != "" {
			t.Errorf("owner %q, want none", st.Owner)
		}
		if len(st.Annotations) != 2 || st.Annotations["org.example.color"] != "blue" || st.Annotations["berth.test"] != "state" {
			t.Errorf("annotations %v, want those of config.json", st.Annotations)
		}
	}
}

// The bundle in state is absolute however create was given it: engines
// and hooks read it from anywhere.
func TestStateBundleIsAbsolute(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	parent, name := filepath.Split(bun.Dir)
	for _, c := range []struct {
		id, dir string
		args    []string
	}{
		{"cwd", bun.Dir, nil},
		{"dot", bun.Dir, []string{"--bundle", "."}},
		{"relative", parent, []string{"--bundle", name}},
		{"short", parent, []string{"-b", name}},
	} {
		args := append(append([]string{"create"}, c.args...), c.id)
		if r := b.SpawnIn(c.dir, nil, args...).Wait(); r.Code != 0 {
			t.Fatalf("berth %v in %s: %v", args, c.dir, r)
		}
		t.Cleanup(func() { b.Run("delete", "--force", c.id) })
		if st := b.State(c.id); st.Bundle != bun.Dir || st.Rootfs != bun.Rootfs() {
			t.Errorf("create %v in %s: state has bundle %q rootfs %q, want %q and %q", c.args, c.dir, st.Bundle, st.Rootfs, bun.Dir, bun.Rootfs())
		}
		b.MustRun("delete", c.id)
	}
}

// runc prints "pid": 0 for a stopped container; engines and scripts that
// read .pid expect a number, not a missing field.
func TestStateOfStoppedContainerHasPidZero(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	b.MustRun("run", "--keep", "--bundle", bun.Dir, "gone")
	t.Cleanup(func() { b.Run("delete", "--force", "gone") })
	out := b.MustRun("state", "gone").Stdout
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("state is not a JSON object: %v\n%s", err, out)
	}
	if raw["status"] != "stopped" {
		t.Fatalf("status %v, want stopped", raw["status"])
	}
	if pid, ok := raw["pid"]; !ok || pid != float64(0) {
		t.Errorf(`state of a stopped container: "pid" is %v (present: %v), want 0 as runc prints:
%s`, pid, ok, out)
	}
}

func TestList(t *testing.T) {
	b := newBerth(t)
	header := []string{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}

	// Empty.
	r := b.MustRun("list")
	if lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n"); len(lines) != 1 || !slices.Equal(strings.Fields(lines[0]), header) {
		t.Errorf("list with no containers: %q, want only the header %v", r.Stdout, header)
	}
	if r := b.MustRun("list", "-q"); r.Stdout != "" {
		t.Errorf("list -q with no containers: %q, want nothing", r.Stdout)
	}
	for _, flag := range []string{"-f", "--format"} {
		if r := b.MustRun("list", flag, "json"); strings.TrimSpace(r.Stdout) != "null" {
			t.Errorf("list %s json with no containers: %q, want null, as runc prints it", flag, r.Stdout)
		}
	}

	// One created, one running, one stopped.
	created, running, stopped := newBundle(t, "sleep", "1000"), newBundle(t, "sleep", "1000"), newBundle(t, "true")
	b.MustRun("create", "--bundle", created.Dir, "lc")
	t.Cleanup(func() { b.Run("delete", "--force", "lc") })
	b.MustRun("run", "-d", "--bundle", running.Dir, "lr")
	t.Cleanup(func() { b.Run("delete", "--force", "lr") })
	b.MustRun("run", "--keep", "--bundle", stopped.Dir, "ls")
	t.Cleanup(func() { b.Run("delete", "--force", "ls") })
	want := map[string]struct {
		status string
		pid    int
		bundle string
	}{
		"lc": {"created", b.State("lc").Pid, created.Dir},
		"lr": {"running", b.State("lr").Pid, running.Dir},
		"ls": {"stopped", 0, stopped.Dir},
	}

	for _, args := range [][]string{{"list"}, {"list", "--format", "table"}} {
		r := b.MustRun(args...)
		lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
		if len(lines) != 4 || !slices.Equal(strings.Fields(lines[0]), header) {
			t.Errorf("%v: want the header and 3 rows, got\n%s", args, r.Stdout)
			continue
		}
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			if len(f) != 6 {
				t.Errorf("%v: row %q does not have 6 columns", args, line)
				continue
			}
			w, ok := want[f[0]]
			if !ok {
				t.Errorf("%v: unknown container in row %q", args, line)
				continue
			}
			if f[1] != strconv.Itoa(w.pid) || f[2] != w.status || f[3] != w.bundle || f[5] != "root" {
				t.Errorf("%v: row %q, want pid %d status %s bundle %s owner root", args, line, w.pid, w.status, w.bundle)
			}
			if _, err := time.Parse(time.RFC3339Nano, f[4]); err != nil {
				t.Errorf("%v: CREATED %q is not RFC3339: %v", args, f[4], err)
			}
		}
	}

	ids := listIDs(b)
	sort.Strings(ids)
	if !slices.Equal(ids, []string{"lc", "lr", "ls"}) {
		t.Errorf("list -q: %q, want lc lr ls", ids)
	}

	for _, flag := range []string{"-f", "--format"} {
		r := b.MustRun("list", flag, "json")
		var states []ociState
		if err := json.Unmarshal([]byte(r.Stdout), &states); err != nil {
			t.Errorf("list %s json is not a JSON array of states: %v\n%s", flag, err, r.Stdout)
			continue
		}
		if len(states) != 3 {
			t.Errorf("list %s json has %d entries, want 3:\n%s", flag, len(states), r.Stdout)
		}
		for _, st := range states {
			w, ok := want[st.ID]
			if !ok || string(st.Status) != w.status || st.Pid != w.pid || st.Bundle != w.bundle || st.Owner != "root" || st.Created.IsZero() {
				t.Errorf("list %s json: entry %+v, want %+v", flag, st, w)
			}
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	b := newBerth(t)
	for _, code := range []int{0, 3, 42} {
		bun := newBundle(t, "sh", "-c", fmt.Sprintf("echo out; echo err >&2; exit %d", code))
		r := b.RunContainer(bun, fmt.Sprintf("exit%d", code))
		if r.Code != code {
			t.Errorf("container exiting %d: berth run exited %d (%v)", code, r.Code, r)
		}
		if r.Stdout != "out\n" || !strings.Contains(r.Stderr, "err\n") {
			t.Errorf("container's stdio not passed through: %v", r)
		}
	}
}

func TestRunPassesStdin(t *testing.T) {
	b := newBerth(t)
	in := filepath.Join(t.TempDir(), "stdin")
	writeFile(t, in, "line one\nline two\n")
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bun := newBundle(t, "sh", "-c", "tac")
	if r := b.RunStdin(f, "run", "--bundle", bun.Dir, "stdin"); r.Code != 0 || r.Stdout != "line two\nline one\n" {
		t.Errorf("run with stdin: %v, want the container to read it", r)
	}
}

func TestRunKilledBySignal(t *testing.T) {
	b := newBerth(t)

	// The init of a pid namespace can only be killed from outside.
	bun := newBundle(t, "sleep", "1000")
	run := b.Spawn(nil, "run", "--bundle", bun.Dir, "killed")
	t.Cleanup(func() { b.Run("delete", "--force", "killed") })
	waitFor(t, "the container to run", func() bool {
		r := b.Run("state", "killed")
		return r.Code == 0 && strings.Contains(r.Stdout, `"running"`)
	})
	b.MustRun("kill", "killed", "KILL")
	if r := run.Wait(); r.Code != 128+9 {
		t.Errorf("container killed by SIGKILL: berth run exited %d, want 137 (%v)", r.Code, r)
	}
	mustNotExist(b, "killed")

	// Without a pid namespace the container can kill itself.
	for _, sig := range []struct {
		name string
		num  int
	}{{"KILL", 9}, {"TERM", 15}} {
		bun := newBundle(t, "sh", "-c", "kill -"+sig.name+" $$; echo survived")
		bun.withoutNamespace(t, specs.PIDNamespace)
		id := "self" + strings.ToLower(sig.name)
		if r := b.RunContainer(bun, id); r.Code != 128+sig.num || strings.Contains(r.Stdout, "survived") {
			t.Errorf("container killing itself with SIG%s: berth run exited %d, want %d (%v)", sig.name, r.Code, 128+sig.num, r)
		}
	}
}

func TestRunForwardsSignals(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", `trap 'echo got USR1' USR1; trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.02; done`)
	run := b.Spawn(nil, "run", "--bundle", bun.Dir, "fwd")
	t.Cleanup(func() { b.Run("delete", "--force", "fwd") })
	waitFor(t, "the container's traps", func() bool { return run.Stdout() == "ready\n" })

	if err := run.cmd.Process.Signal(unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the container to handle SIGUSR1", func() bool { return run.Stdout() == "ready\ngot USR1\n" })
	if st := b.State("fwd"); st.Status != specs.StateRunning {
		t.Errorf("after SIGUSR1 the container is %s, want running", st.Status)
	}
	if err := run.cmd.Process.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := run.Wait()
	if r.Code != 7 || r.Stdout != "ready\ngot USR1\ngot TERM\n" {
		t.Errorf("SIGTERM to berth run: want the container's trap to exit 7, got %v", r)
	}
	mustNotExist(b, "fwd")
}

func TestRunDetach(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	start := time.Now()
	b.MustRun("run", "-d", "--bundle", bun.Dir, "det")
	t.Cleanup(func() { b.Run("delete", "--force", "det") })
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("run -d took %v", d)
	}
	st := b.State("det")
	if st.Status != specs.StateRunning {
		t.Fatalf("after run -d: status %q, want running", st.Status)
	}
	waitFor(t, "the container's process to be sleep 1000", func() bool {
		return procCmdline(st.Pid) == "sleep\x001000\x00"
	})

	// --detach, spelled out.
	b.MustRun("run", "--detach", "--bundle", bun.Dir, "det2")
	t.Cleanup(func() { b.Run("delete", "--force", "det2") })
	if st := b.State("det2"); st.Status != specs.StateRunning {
		t.Errorf("after run --detach: status %q, want running", st.Status)
	}
	b.MustRun("delete", "--force", "det")
	b.MustRun("delete", "--force", "det2")
	waitFor(t, "the container's process to die", func() bool { return processGone(st.Pid) })
}

func TestRunKeep(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "exit 3")
	if r := b.Run("run", "--keep", "--bundle", bun.Dir, "kept"); r.Code != 3 {
		t.Fatalf("run --keep: exit %d, want the container's 3 (%v)", r.Code, r)
	}
	t.Cleanup(func() { b.Run("delete", "--force", "kept") })
	st := b.State("kept")
	if st.Status != specs.StateStopped || st.Pid != 0 {
		t.Errorf("kept container: status %q pid %d, want stopped with pid 0", st.Status, st.Pid)
	}
	if ids := listIDs(b); !slices.Equal(ids, []string{"kept"}) {
		t.Errorf("list -q: %q, want the kept container", ids)
	}
	b.MustRun("delete", "kept")
	mustNotExist(b, "kept")
}

func TestRunWithoutKeepLeavesNothing(t *testing.T) {
	b := newBerth(t)
	for i, args := range [][]string{{"true"}, {"sh", "-c", "exit 5"}} {
		bun := newBundle(t, args...)
		id := fmt.Sprintf("nokeep%d", i)
		b.RunContainer(bun, id)
		mustNotExist(b, id)
		if ids := listIDs(b); len(ids) != 0 {
			t.Errorf("list -q after run %v: %q, want nothing", args, ids)
		}
		if entries, _ := os.ReadDir(b.Root); len(entries) != 0 {
			t.Errorf("state root not empty after run %v: %v", args, entries)
		}
	}
}

func TestKillSignals(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", `trap 'echo TERM >> /out/log' TERM; trap 'echo USR1 >> /out/log' USR1; echo > /out/ready; while :; do sleep 0.02; done`)
	out := bun.shareDir(t, "/out")
	log := filepath.Join(out, "log")

	b.MustRun("run", "-d", "--bundle", bun.Dir, "sig")
	t.Cleanup(func() { b.Run("delete", "--force", "sig") })
	waitFor(t, "the container's traps", func() bool { _, err := os.Stat(filepath.Join(out, "ready")); return err == nil })

	var want string
	for _, k := range []struct {
		args []string
		got  string
	}{
		{nil, "TERM"}, // the default
		{[]string{"usr1"}, "USR1"},
		{[]string{"SIGUSR1"}, "USR1"},
		{[]string{"TERM"}, "TERM"},
		{[]string{"SIGTERM"}, "TERM"},
		{[]string{"15"}, "TERM"},
		{[]string{strconv.Itoa(int(unix.SIGUSR1))}, "USR1"},
	} {
		b.MustRun(append([]string{"kill", "sig"}, k.args...)...)
		want += k.got + "\n"
		waitFileContent(t, log, want)
	}
	if st := b.State("sig"); st.Status != specs.StateRunning {
		t.Fatalf("after trapped signals the container is %s", st.Status)
	}

	// SIGKILL by every spelling stops it.
	for i, name := range []string{"KILL", "SIGKILL", "9", "kill"} {
		id := fmt.Sprintf("sigkill%d", i)
		if i == 0 {
			id = "sig"
		} else {
			b.MustRun("run", "-d", "--bundle", bun.Dir, id)
			t.Cleanup(func() { b.Run("delete", "--force", id) })
		}
		pid := b.State(id).Pid
		b.MustRun("kill", id, name)
		waitStatus(t, b, id, specs.StateStopped)
		waitFor(t, "init to die", func() bool { return processGone(pid) })
		b.MustRun("delete", id)
	}
}

func TestKillAll(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "/init.sh")
	out := bun.shareDir(t, "/out")
	writeFile(t, filepath.Join(bun.Rootfs(), "child.sh"), `trap 'echo child USR1 >> /out/log' USR1
trap 'echo child USR2 >> /out/log' USR2
echo > /out/child-ready
while :; do sleep 0.02; done
`)
	writeFile(t, filepath.Join(bun.Rootfs(), "init.sh"), `trap 'echo init USR1 >> /out/log' USR1
trap 'echo init USR2 >> /out/log' USR2
sh /child.sh &
echo > /out/ready
while :; do sleep 0.02; done
`)
	b.MustRun("run", "-d", "--bundle", bun.Dir, "all")
	t.Cleanup(func() { b.Run("delete", "--force", "all") })
	for _, f := range []string{"ready", "child-ready"} {
		waitFor(t, f, func() bool { _, err := os.Stat(filepath.Join(out, f)); return err == nil })
	}
	log := filepath.Join(out, "log")

	// Without --all only init gets the signal; with it, the background
	// child too. Each shell runs its USR1 trap before its USR2 trap, so a
	// stray "child USR1" shows before "child USR2" does.
	b.MustRun("kill", "all", "USR1")
	b.MustRun("kill", "--all", "all", "USR2")
	var lines []string
	waitFor(t, "init and the child to get SIGUSR2", func() bool {
		data, _ := os.ReadFile(log)
		lines = strings.Split(strings.TrimSpace(string(data)), "\n")
		return slices.Contains(lines, "init USR2") && slices.Contains(lines, "child USR2")
	})
	sort.Strings(lines)
	if !slices.Equal(lines, []string{"child USR2", "init USR1", "init USR2"}) {
		t.Errorf("signals seen: %q; want init USR1 (kill), init and child USR2 (kill --all)", lines)
	}

	b.MustRun("kill", "-a", "all", "KILL")
	waitStatus(t, b, "all", specs.StateStopped)
	waitFor(t, "every process of the container to die", func() bool { return len(processesUnder(bun.Dir)) == 0 })
	b.MustRun("delete", "all")
}

func TestKillCreatedContainer(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "echo > /out/ran")
	ran := filepath.Join(bun.shareDir(t, "/out"), "ran")
	b.MustRun("create", "--bundle", bun.Dir, "kc")
	t.Cleanup(func() { b.Run("delete", "--force", "kc") })
	pid := b.State("kc").Pid
	b.MustRun("kill", "kc") // SIGTERM, as runc: a created container dies of it
	waitStatus(t, b, "kc", specs.StateStopped)
	waitFor(t, "init to die", func() bool { return processGone(pid) })
	if _, err := os.Stat(ran); err == nil {
		t.Errorf("killing a created container ran its process")
	}
	b.MustFail([]string{`"kc"`, "stopped"}, "start", "kc")
	b.MustRun("delete", "kc")
}

// A container that shares the host's pid namespace can leave processes
// behind in its cgroup when init exits. containerd's shim then runs
// `kill --all ID KILL` on the stopped container to end them, which runc
// allows.
func TestKillAllAfterInitExited(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "sleep 1000 & echo $! > /out/child")
	bun.withoutNamespace(t, specs.PIDNamespace)
	out := bun.shareDir(t, "/out")
	b.MustRun("run", "-d", "--bundle", bun.Dir, "leftover")
	t.Cleanup(func() { b.Run("delete", "--force", "leftover") })
	waitStatus(t, b, "leftover", specs.StateStopped)
	waitFor(t, "the child's pid", func() bool { data, _ := os.ReadFile(filepath.Join(out, "child")); return len(data) > 0 })
	data, _ := os.ReadFile(filepath.Join(out, "child"))
	child, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || processGone(child) || !strings.HasPrefix(procCmdline(child), "sleep\x00") {
		t.Fatalf("the container's background child %q is not running sleep (%q)", data, procCmdline(child))
	}

	if r := b.Run("kill", "--all", "leftover", "KILL"); r.Code != 0 {
		t.Errorf("kill --all of a stopped container with processes left: %v, want exit 0 as runc", r)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !processGone(child) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !processGone(child) {
		t.Errorf("kill --all KILL left the container's process %d running", child)
	}
	b.MustRun("delete", "leftover")
	waitFor(t, "delete to end the container's processes", func() bool { return processGone(child) })
}

func TestDelete(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "echo > /out/ran; exec sleep 1000")
	ran := filepath.Join(bun.shareDir(t, "/out"), "ran")

	// A created container: its process never runs.
	b.MustRun("create", "--bundle", bun.Dir, "dc")
	t.Cleanup(func() { b.Run("delete", "--force", "dc") })
	pid := b.State("dc").Pid
	b.MustRun("delete", "dc")
	mustNotExist(b, "dc")
	waitFor(t, "the created container's init to die", func() bool { return processGone(pid) })
	if _, err := os.Stat(ran); err == nil {
		t.Errorf("deleting a created container ran its process")
	}

	// A running one needs --force.
	for _, force := range []string{"-f", "--force"} {
		id := "dr" + strings.Trim(force, "-")
		b.MustRun("run", "-d", "--bundle", bun.Dir, id)
		t.Cleanup(func() { b.Run("delete", "--force", id) })
		pid := b.State(id).Pid
		waitFor(t, "the running container to leave its mark", func() bool { _, err := os.Stat(ran); return err == nil })
		b.MustFail([]string{strconv.Quote(id), "running"}, "delete", id)
		if st := b.State(id); st.Status != specs.StateRunning || st.Pid != pid || processGone(pid) {
			t.Errorf("refused delete changed the container: status %q pid %d (was %d)", st.Status, st.Pid, pid)
		}
		if r := b.MustRun("delete", force, id); r.Stdout != "" || r.Stderr != "" {
			t.Errorf("delete %s printed something: %v", force, r)
		}
		mustNotExist(b, id)
		waitFor(t, "the deleted container's init to die", func() bool { return processGone(pid) })
	}

	// containerd repeats deletes: --force of an unknown id succeeds quietly.
	for _, force := range []string{"-f", "--force"} {
		r := b.Run("delete", force, "never-was")
		if r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
			t.Errorf("delete %s of an unknown id: %v, want exit 0 and no output", force, r)
		}
	}
}

func TestPidFile(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	dir := t.TempDir()
	for _, args := range [][]string{{"create"}, {"run", "-d"}} {
		id := "pf" + args[0]
		pidFile := filepath.Join(dir, id+".pid")
		b.MustRun(append(args, "--pid-file", pidFile, "--bundle", bun.Dir, id)...)
		t.Cleanup(func() { b.Run("delete", "--force", id) })
		data, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatalf("%s --pid-file: %v", args[0], err)
		}
		// Engines parse the file with strconv.Atoi: digits only.
		pid, err := strconv.Atoi(string(data))
		if err != nil {
			t.Errorf("%s --pid-file holds %q, want a bare pid", args[0], data)
		}
		if st := b.State(id); st.Pid != pid || pid <= 0 {
			t.Errorf("%s --pid-file says %d, state says %d", args[0], pid, st.Pid)
		}
	}
}

func TestPreserveFDs(t *testing.T) {
	b := newBerth(t)
	dir := t.TempDir()
	open := func(name, content string) *os.File {
		path := filepath.Join(dir, name)
		writeFile(t, path, content)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	// The container's process reads fd 3, then lists its own fds: ls, as
	// pid 1, holds what the runtime handed over plus the directory it
	// reads.
	bun := newBundle(t, "sh", "-c", "cat <&3; echo; exec ls -l /proc/self/fd")
	openFDs := func(ls string) []string {
		var fds []string
		for _, line := range strings.Split(ls, "\n") {
			before, target, ok := strings.Cut(line, " -> ")
			if f := strings.Fields(before); ok && len(f) > 0 && !regexp.MustCompile(`^/proc/\d+/fd$`).MatchString(target) {
				fds = append(fds, f[len(f)-1])
			}
		}
		return fds
	}

	// fd 3 is preserved, fd 4 is not.
	r := b.Spawn([]*os.File{open("three", "from fd 3"), open("four", "from fd 4")},
		"run", "--preserve-fds", "1", "--bundle", bun.Dir, "keep1").Wait()
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "from fd 3\n") {
		t.Errorf("--preserve-fds 1: fd 3 not readable in the container: %v", r)
	}
	if fds := openFDs(r.Stdout); !slices.Equal(fds, []string{"0", "1", "2", "3"}) {
		t.Errorf("--preserve-fds 1 with fds 3 and 4 open: the container has fds %v, want 0-3:\n%s", fds, r.Stdout)
	}

	// create holds the preserved fd until start.
	create := b.Spawn([]*os.File{open("three3", "from fd 3"), open("four3", "from fd 4")},
		"create", "--preserve-fds", "1", "--bundle", bun.Dir, "keepc")
	t.Cleanup(func() { b.Run("delete", "--force", "keepc") })
	if r := create.Wait(); r.Code != 0 {
		t.Fatalf("create --preserve-fds 1: %v", r)
	}
	b.MustRun("start", "keepc")
	waitStatus(t, b, "keepc", specs.StateStopped)
	if out := create.Stdout(); !strings.HasPrefix(out, "from fd 3\n") || !slices.Equal(openFDs(out), []string{"0", "1", "2", "3"}) {
		t.Errorf("create --preserve-fds 1, then start: the container printed %q, want fd 3 readable and fds 0-3 only", out)
	}
	b.MustRun("delete", "keepc")

	// Without the flag no extra fd reaches the container.
	r = b.Spawn([]*os.File{open("three2", "from fd 3")}, "run", "--bundle", bun.Dir, "keep0").Wait()
	if strings.Contains(r.Stdout, "from fd 3") {
		t.Errorf("fd 3 open but not preserved: the container read it: %v", r)
	}
	if fds := openFDs(r.Stdout); !slices.Equal(fds, []string{"0", "1", "2"}) {
		t.Errorf("fd 3 open but not preserved: the container has fds %v, want 0-2:\n%s", fds, r.Stdout)
	}

	// The same for exec.
	runningContainer(t, b, "keepexec")
	r = b.Spawn([]*os.File{open("three4", "from fd 3"), open("four4", "from fd 4")},
		"exec", "--preserve-fds", "1", "keepexec", "sh", "-c", "cat <&3; echo; exec ls -l /proc/self/fd").Wait()
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "from fd 3\n") || !slices.Equal(openFDs(r.Stdout), []string{"0", "1", "2", "3"}) {
		t.Errorf("exec --preserve-fds 1 with fds 3 and 4 open: %v, want fd 3 readable and fds 0-3 only", r)
	}
}

func TestGlobalLogFlags(t *testing.T) {
	b := newBerth(t)
	dir := t.TempDir()

	// JSON: one object per line, as runc writes; the file is appended to.
	jsonLog := filepath.Join(dir, "log.json")
	b.MustFail([]string{`"ghost"`, "does not exist"}, "--log", jsonLog, "--log-format", "json", "state", "ghost")
	b.MustFail([]string{"config.json"}, "--log", jsonLog, "--log-format", "json", "create", "--bundle", dir, "nobundle")
	data, err := os.ReadFile(jsonLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Errorf("json log: want one line per failing command (2), got %d:\n%s", len(lines), data)
	}
	for i, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("json log line %q: %v", line, err)
			continue
		}
		msg, _ := entry["msg"].(string)
		ts, _ := entry["time"].(string)
		if entry["level"] != "error" {
			t.Errorf("json log line %q: level %v, want error", line, entry["level"])
		}
		if i == 0 && (!strings.Contains(msg, `"ghost"`) || !strings.Contains(msg, "does not exist")) {
			t.Errorf("json log line %q: msg does not say what failed", line)
		}
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("json log line %q: time %q: %v", line, ts, err)
		}
	}

	// JSON to stderr when there is no log file.
	r := b.Run("--log-format", "json", "state", "ghost")
	var entry map[string]any
	if r.Code == 0 || json.Unmarshal([]byte(strings.TrimSpace(r.Stderr)), &entry) != nil || entry["level"] != "error" {
		t.Errorf("--log-format json without --log: want one JSON error on stderr, got %v", r)
	}

	// Text.
	textLog := filepath.Join(dir, "log.txt")
	b.MustFail([]string{"does not exist"}, "--log", textLog, "--log-format", "text", "state", "ghost")
	data, _ = os.ReadFile(textLog)
	text := strings.TrimRight(string(data), "\n")
	if strings.Contains(text, "\n") || !strings.Contains(text, "level=error") || !strings.Contains(text, "time=") ||
		!strings.Contains(text, "msg=") || !strings.Contains(text, "does not exist") {
		t.Errorf("text log: want one logfmt line with time, level=error and msg, got %q", data)
	}

	// --debug is accepted and keeps the container's stdout clean.
	bun := newBundle(t, "echo", "hi")
	if r := b.Run("--debug", "run", "--bundle", bun.Dir, "dbg"); r.Code != 0 || r.Stdout != "hi\n" {
		t.Errorf("--debug run: %v, want exit 0 and stdout hi", r)
	}
	b.MustRun("--debug", "list")
	b.MustRun("--debug", "--log", filepath.Join(dir, "debug.log"), "--log-format", "json", "list")
}

func TestRootIsolatesContainers(t *testing.T) {
	a, other := newBerth(t), newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	a.MustRun("run", "-d", "--bundle", bun.Dir, "iso")
	t.Cleanup(func() { a.Run("delete", "--force", "iso") })
	if _, err := os.Stat(filepath.Join(a.Root, "iso")); err != nil {
		t.Errorf("the container's state is not under its --root: %v", err)
	}

	if ids := listIDs(other); len(ids) != 0 {
		t.Errorf("list under another --root shows %q", ids)
	}
	mustNotExist(other, "iso")
	other.MustFail([]string{`"iso"`, "does not exist"}, "kill", "iso", "KILL")
	other.MustRun("delete", "--force", "iso")
	if st := a.State("iso"); st.Status != specs.StateRunning {
		t.Errorf("commands under another --root reached the container: it is %s", st.Status)
	}
	if ids := listIDs(a); !slices.Equal(ids, []string{"iso"}) {
		t.Errorf("list under its own --root: %q", ids)
	}
	a.MustRun("delete", "--force", "iso")
}

func TestSpecCommand(t *testing.T) {
	b := newBerth(t)

	// In the current directory.
	dir := t.TempDir()
	cmd := exec.Command(berthBinary, "spec")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("berth spec: %v: %s", err, out)
	}
	config := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("spec wrote invalid JSON: %v", err)
	}
	if !strings.HasPrefix(s.Version, "1.") || s.Root == nil || s.Root.Path != "rootfs" {
		t.Errorf("spec: ociVersion %q root %+v, want 1.x and rootfs", s.Version, s.Root)
	}
	if s.Process == nil || !s.Process.Terminal || !slices.Equal(s.Process.Args, []string{"sh"}) {
		t.Errorf("spec: process %+v, want terminal true and args [sh]", s.Process)
	}
	var nss []string
	if s.Linux != nil {
		for _, ns := range s.Linux.Namespaces {
			nss = append(nss, string(ns.Type))
		}
	}
	sort.Strings(nss)
	if !slices.Equal(nss, []string{"cgroup", "ipc", "mount", "network", "pid", "uts"}) {
		t.Errorf("spec: namespaces %v, want pid network ipc uts mount cgroup", nss)
	}
	if len(s.Mounts) == 0 || s.Linux == nil || len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0 ||
		s.Process.Capabilities == nil || len(s.Process.Capabilities.Bounding) == 0 {
		t.Errorf("spec: want default mounts, masked and read-only paths and capabilities")
	}

	// Never over an existing config.
	writeFile(t, config, `{"edited": true}`)
	cmd = exec.Command(berthBinary, "spec")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "config.json") || !strings.Contains(string(out), "exists") {
		t.Errorf("spec over an existing config.json: %v %q, want an error saying it exists", err, out)
	}
	if data, _ := os.ReadFile(config); string(data) != `{"edited": true}` {
		t.Errorf("spec overwrote an existing config.json: %q", data)
	}

	// --bundle, and the config it writes runs once given a rootfs and no
	// terminal.
	for _, flag := range []string{"--bundle", "-b"} {
		dir := t.TempDir()
		b.MustRun("spec", flag, dir)
		bun := &bundle{Dir: dir}
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil {
			t.Fatalf("spec %s: %v", flag, err)
		}
		if err := json.Unmarshal(data, &bun.Spec); err != nil {
			t.Fatal(err)
		}
		makeRootfs(t, bun.Rootfs())
		bun.Spec.Process.Terminal = false
		bun.Spec.Process.Args = []string{"sh", "-c", "echo ok from $(hostname)"}
		bun.Save(t)
		if r := b.RunContainer(bun, "spec"+strings.Trim(flag, "-")); r.Code != 0 || r.Stdout != "ok from berth\n" {
			t.Errorf("running the config of spec %s: %v", flag, r)
		}
	}
}

func TestVersion(t *testing.T) {
	b := newBerth(t)
	for _, flag := range []string{"--version", "-v"} {
		r := b.MustRun(flag)
		for _, re := range []string{
			`(?m)^berth version \S+$`,
			`(?m)^commit: \S+$`,
			`(?m)^spec: ` + regexp.QuoteMeta(specs.Version) + `$`,
			`(?m)^libseccomp: \d+\.\d+\.\d+$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.Stdout) {
				t.Errorf("berth %s: output does not match %s:\n%s", flag, re, r.Stdout)
			}
		}
	}
}

func TestConcurrentRunStateListDelete(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("conc%02d", i)
		b.ids[ids[i]] = true
	}
	t.Cleanup(func() {
		for _, id := range ids {
			b.Run("delete", "--force", id)
		}
	})

	parallel := func(what string, jobs [][]string, check func(args []string, r result) string) {
		t.Helper()
		var wg sync.WaitGroup
		problems := make([]string, len(jobs))
		for i, args := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := b.runSafe(args...)
				if r.Code != 0 {
					problems[i] = fmt.Sprintf("berth %s: %v", strings.Join(args, " "), r)
				} else if check != nil {
					problems[i] = check(args, r)
				}
			}()
		}
		wg.Wait()
		for _, p := range problems {
			if p != "" {
				t.Errorf("%s: %s", what, p)
			}
		}
	}

	checkList := func(min int) func([]string, result) string {
		return func(args []string, r result) string {
			if args[0] != "list" {
				return ""
			}
			var states []ociState
			if err := json.Unmarshal([]byte(r.Stdout), &states); err != nil {
				return fmt.Sprintf("list -f json printed %q: %v", r.Stdout, err)
			}
			if len(states) < min {
				return fmt.Sprintf("list shows %d containers, want at least %d", len(states), min)
			}
			return ""
		}
	}

	// list works while containers are being made.
	var runs [][]string
	for _, id := range ids {
		runs = append(runs, []string{"run", "-d", "--bundle", bun.Dir, id}, []string{"list", "-f", "json"})
	}
	parallel("concurrent run -d and list", runs, checkList(0))

	var reads [][]string
	for _, id := range ids {
		reads = append(reads, []string{"state", id}, []string{"list", "-f", "json"})
	}
	parallel("concurrent state and list", reads, func(args []string, r result) string {
		if args[0] == "list" {
			return checkList(n)(args, r)
		}
		var st ociState
		if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || st.ID != args[1] || st.Status != specs.StateRunning {
			return fmt.Sprintf("state %s: %q, want it running", args[1], r.Stdout)
		}
		return ""
	})

	// Each container is deleted twice at once: both succeed, as a repeated
	// delete --force must. list works while containers go away.
	var deletes [][]string
	for _, id := range ids {
		deletes = append(deletes, []string{"delete", "-f", id}, []string{"delete", "--force", id}, []string{"list", "-f", "json"})
	}
	parallel("concurrent delete -f and list", deletes, checkList(0))
	if left := listIDs(b); len(left) != 0 {
		t.Errorf("after deleting all: list -q shows %q", left)
	}
}

func TestConcurrentCreateSameID(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	b.ids["twin"] = true
	t.Cleanup(func() { b.Run("delete", "--force", "twin") })
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		results := make([]result, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = b.runSafe("create", "--bundle", bun.Dir, "twin")
			}()
		}
		wg.Wait()
		won := 0
		for _, r := range results {
			if r.Code == 0 {
				won++
			} else if !strings.Contains(r.Stderr, `"twin"`) || !strings.Contains(r.Stderr, "already exists") {
				t.Errorf("round %d: the losing create failed for another reason: %v", round, r)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of 2 concurrent creates of one id succeeded, want exactly 1: %v", round, won, results)
		}
		// The winner's container is intact.
		st := b.State("twin")
		if st.Status != specs.StateCreated || processGone(st.Pid) {
			t.Fatalf("round %d: the created container is %s with pid %d", round, st.Status, st.Pid)
		}
		b.MustRun("delete", "twin")
		waitFor(t, "the container's init to die", func() bool { return processGone(st.Pid) })
	}
}
