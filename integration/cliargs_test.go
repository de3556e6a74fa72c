package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runc 1.1 takes a command's flags after the container id too (`runc
// update ID --memory 1M`), except for exec and ps, whose words after the id
// belong to the program they run. berth ignored such flags and exited 0.

// TestFlagsAfterIDTakeEffect gives every command that has flags its flags
// after the container id and checks that each one did what it says.
func TestFlagsAfterIDTakeEffect(t *testing.T) {
	b := newBerth(t)
	dir := t.TempDir()

	// create and run: --bundle and --pid-file after the id.
	bun := cgroupBundle(t, "cli-late", "sh", "-c", "sleep 1000 & wait")
	pidFile := filepath.Join(dir, "pid")
	b.ids["cli-late"] = true
	b.MustRun("create", "cli-late", "--bundle", bun.Dir, "--pid-file", pidFile)
	t.Cleanup(func() { b.Run("delete", "--force", "cli-late") })
	if data, err := os.ReadFile(pidFile); err != nil || string(data) != strconv.Itoa(b.State("cli-late").Pid) {
		t.Errorf("create ID --pid-file: pid file %q (%v), want the init's pid %d", data, err, b.State("cli-late").Pid)
	}
	b.MustRun("start", "cli-late")
	b.ids["cli-late-run"] = true
	b.MustRun("run", "cli-late-run", "--bundle", bun.Dir, "--detach")
	t.Cleanup(func() { b.Run("delete", "--force", "cli-late-run") })
	if st := b.State("cli-late-run"); st.Status != specs.StateRunning {
		t.Errorf("run ID --bundle DIR --detach: container is %s, want running", st.Status)
	}

	// update: each flag after the id reaches the cgroup.
	b.MustRun("update", "cli-late", "--pids-limit", "7", "--cpuset-cpus", "0", "--cpu-period", "200000", "--memory", "64m")
	if got := cgroupFile(t, "pids", "cli-late", "pids.max"); got != "7" {
		t.Errorf("update ID --pids-limit 7: pids.max = %s", got)
	}
	if got := cgroupFile(t, "cpuset", "cli-late", "cpuset.cpus"); got != "0" {
		t.Errorf("update ID --cpuset-cpus 0: cpuset.cpus = %s", got)
	}
	if unifiedHost() {
		if got := cgroupFile(t, "cpu", "cli-late", "cpu.max"); !strings.HasSuffix(got, " 200000") {
			t.Errorf("update ID --cpu-period 200000: cpu.max = %s", got)
		}
		if got := cgroupFile(t, "memory", "cli-late", "memory.max"); got != "67108864" {
			t.Errorf("update ID --memory 64m: memory.max = %s", got)
		}
	} else {
		if got := cgroupFile(t, "cpu", "cli-late", "cpu.cfs_period_us"); got != "200000" {
			t.Errorf("update ID --cpu-period 200000: cpu.cfs_period_us = %s", got)
		}
		if got := cgroupFile(t, "memory", "cli-late", "memory.limit_in_bytes"); got != "67108864" {
			t.Errorf("update ID --memory 64m: memory.limit_in_bytes = %s", got)
		}
		if hasCgroupFile(t, "cpu", "cli-late", "cpu.rt_period_us") {
			b.MustRun("update", "cli-late", "--cpu-rt-period", "900000")
			if got := cgroupFile(t, "cpu", "cli-late", "cpu.rt_period_us"); got != "900000" {
				t.Errorf("update ID --cpu-rt-period 900000: cpu.rt_period_us = %s", got)
			}
		}
	}
	// The values of --resources and of a flag may begin with a dash.
	limits := writeTemp(t, `{"pids": {"limit": 9}}`)
	b.MustRun("update", "cli-late", "-r", limits)
	if got := cgroupFile(t, "pids", "cli-late", "pids.max"); got != "9" {
		t.Errorf("update ID -r FILE: pids.max = %s, want 9", got)
	}
	b.MustRun("update", "cli-late", "--pids-limit", "-1")
	if got := cgroupFile(t, "pids", "cli-late", "pids.max"); got != "max" {
		t.Errorf("update ID --pids-limit -1: pids.max = %s, want max", got)
	}

	// events and ps: --stats prints once and ends; ps's --format before
	// the id is berth's.
	r := b.MustRun("events", "cli-late", "--stats")
	if n := strings.Count(r.Stdout, "\n"); n != 1 || !strings.Contains(r.Stdout, `"type":"stats"`) {
		t.Errorf("events ID --stats: want one stats event, got %q", r.Stdout)
	}
	var pids []int
	if err := json.Unmarshal([]byte(b.MustRun("ps", "--format", "json", "cli-late").Stdout), &pids); err != nil || len(pids) != 2 {
		t.Errorf("ps --format json ID: %v, want the two pids of sh and sleep", err)
	}

	// kill: --all after the id, before or after the signal. sh, the
	// init of a pid namespace, ignores SIGTERM; its sleep does not, and
	// once it is dead the sh's wait returns.
	b.MustRun("kill", "cli-late", "TERM")
	if st := b.State("cli-late"); st.Status != specs.StateRunning {
		t.Fatalf("SIGTERM to init alone: container is %s, want running", st.Status)
	}
	b.MustRun("kill", "cli-late", "TERM", "--all")
	waitFor(t, "kill ID TERM --all to end sleep, and with it sh", func() bool { return b.State("cli-late").Status == specs.StateStopped })
	b.MustRun("kill", "cli-late-run", "--all", "TERM")
	waitFor(t, "kill ID --all TERM to end sleep, and with it sh", func() bool { return b.State("cli-late-run").Status == specs.StateStopped })

	// delete: --force after the id removes a running container.
	b.ids["cli-late-del"] = true
	b.MustRun("run", "--bundle", bun.Dir, "-d", "cli-late-del")
	b.MustRun("delete", "cli-late-del", "--force")
	b.MustFail([]string{`"cli-late-del"`, "does not exist"}, "state", "cli-late-del")

	// list: -q after nothing else; spec: --bundle.
	if r := b.MustRun("list", "--format", "json", "-q"); !strings.Contains(r.Stdout, "cli-late-run\n") || strings.Contains(r.Stdout, "{") {
		t.Errorf("list --format json -q: %q, want ids only", r.Stdout)
	}
	b.MustRun("spec", "--rootless", "--bundle", dir)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Errorf("spec --rootless --bundle DIR: %v", err)
	}
}

// TestWordsAfterIDAreTheProgramsForExecAndPs checks that exec and ps stop
// reading flags at the container id, as runc's do: what follows is the
// command to run, or options for ps(1).
func TestWordsAfterIDAreTheProgramsForExecAndPs(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "cli-words")

	if r := b.MustRun("exec", "--env", "X=1", "cli-words", "sh", "-c", "echo $X"); r.Stdout != "1\n" {
		t.Errorf("exec --env X=1 ID sh -c 'echo $X': %q, want 1", r.Stdout)
	}
	// runc runs "--env" as the command, and fails.
	r := b.MustFail([]string{`"--env"`}, "exec", "cli-words", "--env", "X=1", "sh", "-c", "echo $X")
	if r.Code != 255 {
		t.Errorf("exec ID --env X=1 sh: exit %d, want 255 (exec failed), as runc", r.Code)
	}
	// A flag after the command is the command's.
	if r := b.MustRun("exec", "cli-words", "sh", "-c", `echo "$0 $1"`, "--env", "-t"); r.Stdout != "--env -t\n" {
		t.Errorf("exec ID sh -c … --env -t: %q, want the flags passed to sh", r.Stdout)
	}
	// ps passes --format after the id to ps(1), which has no such format.
	b.MustFail(nil, "ps", "cli-words", "--format", "json")
}

// TestWordsACommandDoesNotTake checks that no command exits 0 having
// ignored a word: an unknown flag or an extra argument fails, anywhere on
// the line.
func TestWordsACommandDoesNotTake(t *testing.T) {
	b := newBerth(t)
	bun := runningContainer(t, b, "cli-extra")
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"state", "cli-extra", "--bogus"}, "bogus"},
		{[]string{"state", "cli-extra", "extra"}, `"extra"`},
		{[]string{"start", "cli-extra", "--bogus"}, "bogus"},
		{[]string{"pause", "cli-extra", "extra"}, `"extra"`},
		{[]string{"resume", "cli-extra", "--bogus"}, "bogus"},
		{[]string{"update", "cli-extra", "--bogus", "1"}, "bogus"},
		{[]string{"update", "cli-extra", "--pids-limit", "5", "extra"}, `"extra"`},
		{[]string{"update", "cli-extra", "--", "--pids-limit", "5"}, `"--pids-limit"`},
		{[]string{"update", "cli-extra", "--memory"}, "memory"},
		{[]string{"kill", "cli-extra", "KILL", "extra"}, `"extra"`},
		{[]string{"kill", "cli-extra", "--signal", "9"}, "signal"},
		{[]string{"delete", "cli-extra", "other"}, `"other"`},
		{[]string{"events", "cli-extra", "--stats", "extra"}, `"extra"`},
		{[]string{"list", "extra"}, `"extra"`},
		{[]string{"features", "extra"}, `"extra"`},
		{[]string{"spec", "--bundle", dir, "extra"}, `"extra"`},
		{[]string{"create", "--bundle", bun.Dir, "cli-extra2", "extra"}, `"extra"`},
		{[]string{"run", "cli-extra2", "--bundle", bun.Dir, "--bogus"}, "bogus"},
		{[]string{"ps"}, "missing container id"},
		{[]string{"exec"}, "missing container id"},
	} {
		b.MustFail([]string{tc.want}, tc.args...)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		t.Errorf("spec with an extra argument wrote a config")
	}
	if st := b.State("cli-extra"); st.Status != specs.StateRunning {
		t.Errorf("after the refused commands the container is %s, want running", st.Status)
	}
	if got := cgroupFile(t, "pids", "cli-extra", "pids.max"); got != "max" {
		t.Errorf("a refused update changed pids.max to %s", got)
	}

	// "help" is an id like any other, as in runc; --help still helps.
	b.MustFail([]string{`"help"`, "does not exist"}, "state", "help")
	if r := b.MustRun("update", "cli-extra", "--help"); !strings.Contains(r.Stdout, "--pids-limit") {
		t.Errorf("update ID --help: %q, want the command's help", r.Stdout)
	}
}

// TestFlagOrderAsRunc runs command lines with flags before and after the
// container id through runc and berth and compares which succeed.
func TestFlagOrderAsRunc(t *testing.T) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("skip: runc is not installed (hack/install-deps.sh engines)")
	}
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	// Each runtime its own id: both nest their cgroups under ours.
	const runcID, berthID, id = "cli-vs-runc-r", "cli-vs-runc-b", "ID"
	runcRoot := filepath.Join(t.TempDir(), "runc")
	withID := func(args []string, real string) []string {
		out := slices.Clone(args)
		if i := slices.Index(out, id); i >= 0 {
			out[i] = real
		}
		return out
	}
	// A file, not a pipe: the container runc detaches keeps it open.
	runcStderr := filepath.Join(t.TempDir(), "runc-stderr")
	runcRun := func(args ...string) int {
		cmd := exec.Command(runc, append([]string{"--root", runcRoot}, withID(args, runcID)...)...)
		stderr, err := os.Create(runcStderr)
		if err != nil {
			t.Fatal(err)
		}
		defer stderr.Close()
		cmd.Stderr = stderr
		err = cmd.Run()
		if cmd.ProcessState == nil {
			t.Fatalf("runc %v: %v", args, err)
		}
		return cmd.ProcessState.ExitCode()
	}
	berthRun := func(args ...string) int { return b.Run(withID(args, berthID)...).Code }
	b.ids[berthID] = true
	t.Cleanup(func() {
		runcRun("delete", "--force", id)
		berthRun("delete", "--force", id)
	})
	for _, run := range []func(...string) int{runcRun, berthRun} {
		if code := run("run", "-d", "--bundle", bun.Dir, id); code != 0 {
			t.Fatalf("run -d --bundle DIR ID: exit %d", code)
		}
	}
	for _, args := range [][]string{
		{"update", id, "--pids-limit", "5"},
		{"update", "--pids-limit", "5", id},
		{"update", id, "--cpu-quota", "-1"},
		{"update", id, "--pids-limit", "6", "--"},
		{"update", id, "--", "--pids-limit", "5"},
		{"update", id, "--bogus", "1"},
		{"update", id, "extra"},
		{"state", id, "--bogus"},
		{"state", id, "extra"},
		{"kill", id, "0", "--all"},
		{"kill", "--all", id, "0"},
		{"kill", id, "0", "extra"},
		{"events", id, "--stats"},
		{"ps", id, "--format", "json"},
		{"ps", "--format", "json", id},
		{"exec", id, "--env", "X=1", "true"},
		{"exec", "--env", "X=1", id, "true"},
		{"exec", id, "true", "--env", "X=1"},
		{"list", "-q", "extra"},
		{"features", "extra"},
		{"pause", id, "extra"},
		{"delete", id, "extra"},
	} {
		runcCode, berthCode := runcRun(args...), berthRun(args...)
		if (runcCode == 0) != (berthCode == 0) {
			said, _ := os.ReadFile(runcStderr)
			t.Errorf("%s: runc exits %d (%q), berth %d", strings.Join(args, " "), runcCode, said, berthCode)
		}
	}
}
