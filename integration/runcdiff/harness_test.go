package runcdiff

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// scenario is one case: a config, the steps that drive it, and a marker
// where the runtimes differ.
type scenario struct {
	// Name names the case and ends its container ids: lower case letters,
	// digits and dashes.
	Name string
	// Base is the config the case starts from: "" for `berth spec`'s,
	// runcSpec for `runc spec`'s, or an engine's fixture
	// ("engines/docker-default"). Every base gets a relative cgroupsPath
	// of the container's id, no terminal and `/bin/sleep 1000` as its
	// process before Config changes it. Its root is read-only: files the
	// process writes go to /dev/shm.
	Base   string
	Config func(s *specs.Spec)
	// Raw, when set, is config.json as written instead (bad input).
	Raw string
	// Rootfs changes the side's root filesystem after it is made.
	Rootfs func(t *testing.T, rootfs string)
	// Bundle2 makes a second bundle, $BUNDLE2, for a second container
	// ($ID2): the same config in a cgroup of its own, on the same rootfs.
	Bundle2 bool
	Steps   []step
	// Known is a bug being fixed: the case is skipped with its name.
	Known defect
}

// defect names a known difference from runc that is a bug, with where it
// is being fixed.
type defect string

// difference names a deliberate difference from runc: a row of
// docs/compat.md, or one of the escape fixes it lists.
type difference string

// step is one action on both sides and what to compare: a command (cmd)
// or an observation (observe).
type step struct {
	// Args follow `--root $ROOT`; placeholders are replaced (side.expand).
	Args []string
	// Fail says that both runtimes must fail.
	Fail bool
	// Cause holds words both stderrs must contain when they fail; "a|b"
	// is either.
	Cause []string
	// Out compares stdout when both succeed; nil compares it as text.
	Out   compareFunc
	Stdin string
	// Fds are the contents of files passed as fds 3, 4, … (--preserve-fds).
	Fds []string
	// Console listens on $CONSOLE for the pty master the command sends;
	// consoleOutput reads what the container writes to it.
	Console bool
	// Observe, instead of Args, returns what the side shows on the host.
	Observe func(s *side) (string, error)
	What    string
	// Deliberate allows this step to differ: the difference is logged
	// and the case ends here.
	Deliberate difference
	// Known is a bug being fixed that shows at this step: where the step
	// differs, the case is skipped here with the bug's name.
	Known defect
	// Dir is the command's working directory (default $DIR).
	Dir string
	// Timeout is how long the command may take (default 30 s); one that
	// takes longer is killed and counts as hung.
	Timeout time.Duration
	// StopAfter, for a command that runs until stopped (events), sends it
	// SIGTERM after this long; it then counts as having exited 0.
	StopAfter time.Duration
}

// cmd is a command step: the runtime run with args after its --root.
func cmd(args ...string) step { return step{Args: args} }

// observe is a step that compares what f sees of each side.
func observe(what string, f func(s *side) (string, error)) step {
	return step{Observe: f, What: what}
}

// fails makes the step one both runtimes must fail, each naming every
// word of cause in its error.
func (st step) fails(cause ...string) step {
	st.Fail, st.Cause = true, cause
	return st
}

// out sets how stdout is compared.
func (st step) out(f compareFunc) step {
	st.Out = f
	return st
}

// stdin gives the command stdin.
func (st step) stdin(s string) step {
	st.Stdin = s
	return st
}

// fds passes files with these contents as fds 3, 4, ….
func (st step) fds(contents ...string) step {
	st.Fds = contents
	return st
}

// withConsole receives a pty master on $CONSOLE.
func (st step) withConsole() step {
	st.Console = true
	return st
}

// deliberate marks the step as one where berth differs on purpose.
func (st step) deliberate(d difference) step {
	st.Deliberate = d
	return st
}

// known marks the step as one where a known bug shows.
func (st step) known(d defect) step {
	st.Known = d
	return st
}

// in runs the command in dir instead of $DIR.
func (st step) in(dir string) step {
	st.Dir = dir
	return st
}

// timeout sets how long the command may take.
func (st step) timeout(d time.Duration) step {
	st.Timeout = d
	return st
}

// stopAfter stops the command with SIGTERM after d.
func (st step) stopAfter(d time.Duration) step {
	st.StopAfter = d
	return st
}

func (st step) String() string {
	if st.Observe != nil {
		return st.What
	}
	return strings.Join(st.Args, " ")
}

// observed is what one side's step did.
type observed struct {
	side *side
	Code int
	// Stdout is normalized (side.normalize); Stderr is as written.
	Stdout, Stderr string
	// Err is set when the step could not be carried out at all.
	Err error
}

// compareFunc compares what berth and runc printed when both succeeded.
type compareFunc func(b, r observed) error

// run runs the scenario, or skips it if it is a known bug.
func (sc scenario) run(t *testing.T) {
	runKnown := os.Getenv("RUNCDIFF_KNOWN") != ""
	if sc.Known != "" && !runKnown {
		t.Skipf("known bug: %s (RUNCDIFF_KNOWN=1 runs it)", sc.Known)
	}
	dir, err := os.MkdirTemp("", "rcd-")
	if err != nil {
		t.Fatal(err)
	}
	// A container's root in a user namespace must reach its bundle.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sides := [2]*side{newSide(t, berth, sc, dir), newSide(t, runc, sc, dir)}
	// Which containers are left is compared unless the case ended early.
	compareLeft := true
	t.Cleanup(func() { finish(t, sides, compareLeft && !t.Failed()) })
	for i, st := range sc.Steps {
		var obs [2]observed
		var wg sync.WaitGroup
		for j, s := range sides {
			wg.Add(1)
			go func() {
				defer wg.Done()
				obs[j] = s.do(st)
			}()
		}
		wg.Wait()
		err := st.compare(obs[0], obs[1])
		switch {
		case err != nil && st.Deliberate != "":
			t.Logf("step %d (%s): deliberate difference, %s: %v", i+1, st, st.Deliberate, err)
			compareLeft = false
			return
		case err != nil && st.Known != "" && !runKnown:
			compareLeft = false
			t.Skipf("known bug: %s: step %d (%s): %v", st.Known, i+1, st, err)
		case err != nil:
			t.Fatalf("step %d (%s): %v", i+1, st, err)
		case st.Deliberate != "":
			t.Logf("step %d (%s): the deliberate difference %q did not show", i+1, st, st.Deliberate)
		case st.Known != "":
			t.Logf("step %d (%s): the known bug %q did not show: remove the marker if it is fixed", i+1, st, st.Known)
		}
	}
}

// compare says how berth's observation differs from runc's.
func (st step) compare(b, r observed) error {
	for _, o := range []observed{b, r} {
		if o.Err != nil {
			return fmt.Errorf("%s: %w", o.side.rt.Name, o.Err)
		}
	}
	if isPanic(b.Stderr) {
		return fmt.Errorf("berth panicked:\n%s", b.Stderr)
	}
	if st.Observe != nil {
		if b.Stdout != r.Stdout {
			return fmt.Errorf("%s differs:\n%s", st.What, lineDiff(b.Stdout, r.Stdout))
		}
		return nil
	}
	switch {
	case b.Code != r.Code && r.Code == 0:
		return fmt.Errorf("runc succeeds, berth fails with exit %d: %s", b.Code, oneLine(b.Stderr))
	case b.Code != r.Code && b.Code == 0:
		return fmt.Errorf("runc fails with exit %d (%s), berth succeeds", r.Code, oneLine(r.Stderr))
	case b.Code != r.Code:
		return fmt.Errorf("exit status: berth %d (%s), runc %d (%s)", b.Code, oneLine(b.Stderr), r.Code, oneLine(r.Stderr))
	case b.Code != 0 && !st.Fail:
		return fmt.Errorf("both fail with exit %d, the step expects success (mark it fails if that is meant): berth: %s; runc: %s",
			b.Code, oneLine(b.Stderr), oneLine(r.Stderr))
	case b.Code != 0:
		return sameCause(st.Cause, b, r)
	case st.Fail:
		return errors.New("both succeed, the step expects both to fail")
	}
	out := st.Out
	if out == nil {
		out = sameText
	}
	return out(b, r)
}

// sameCause checks that both errors name every word of cause, where "a|b"
// is a or b.
func sameCause(cause []string, b, r observed) error {
	says := func(stderr, word string) bool {
		for _, w := range strings.Split(strings.ToLower(word), "|") {
			if strings.Contains(strings.ToLower(stderr), w) {
				return true
			}
		}
		return false
	}
	var missing []string
	for _, o := range []observed{b, r} {
		for _, w := range cause {
			if !says(o.Stderr, w) {
				missing = append(missing, fmt.Sprintf("%s's error %q does not say %q", o.side.rt.Name, oneLine(o.Stderr), w))
			}
		}
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "; "))
	}
	return nil
}

func isPanic(stderr string) bool {
	return strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ")
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// side is one runtime's run of a scenario.
type side struct {
	t  *testing.T
	rt *runtime
	sc scenario
	// dir holds the bundles, the state root and the step's files.
	dir, bundle, bundle2, root string
	id, id2                    string
	// expand replaces placeholders in arguments and configs; normalize
	// replaces the side's own paths and ids in what it prints.
	expand, normalize *strings.Replacer
	console           *console
	// last is what the last command step printed, for observations of
	// parts of it (mounts).
	last observed
	// cgroupsBefore are cgroups the case made before create: not the
	// runtime's to remove.
	cgroupsBefore []string
}

func newSide(t *testing.T, rt *runtime, sc scenario, caseDir string) *side {
	t.Helper()
	dir := filepath.Join(caseDir, rt.Letter)
	s := &side{
		t: t, rt: rt, sc: sc, dir: dir,
		bundle: filepath.Join(dir, "bundle"), bundle2: filepath.Join(dir, "bundle2"), root: filepath.Join(dir, "root"),
		id: "rcd-" + rt.Letter + "-" + sc.Name, id2: "rcd-" + rt.Letter + "-" + sc.Name + "-2",
	}
	s.expand = strings.NewReplacer(
		"$BUNDLE2", s.bundle2, "$BUNDLE", s.bundle, "$ROOT", s.root, "$CONSOLE", filepath.Join(dir, "console.sock"),
		"$DIR", dir, "$ID2", s.id2, "$ID", s.id, "$CGROUP", s.id)
	// A path as a mountinfo root shows it may start below the host's
	// path, at a mount point: the case directory's name finds it too.
	s.normalize = strings.NewReplacer(
		s.bundle2, "$BUNDLE2", s.bundle, "$BUNDLE", s.root, "$ROOT", dir, "$DIR",
		filepath.Join(filepath.Base(caseDir), rt.Letter), "$DIR",
		s.id2, "$ID2", s.id, "$ID")
	if err := os.MkdirAll(s.bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	s.writeBundle()
	return s
}

// do carries out one step on this side.
func (s *side) do(st step) observed {
	if st.Observe != nil {
		out, err := st.Observe(s)
		return observed{side: s, Stdout: s.normalize.Replace(out), Err: err}
	}
	args := make([]string, len(st.Args))
	for i, a := range st.Args {
		args[i] = s.expand.Replace(a)
	}
	if st.Console {
		c, err := listenConsole(filepath.Join(s.dir, "console.sock"))
		if err != nil {
			return observed{side: s, Err: err}
		}
		s.console.close()
		s.console = c
	}
	o := s.runStep(st, args)
	if st.Console && o.Err == nil && o.Code == 0 {
		o.Err = s.console.accept()
	}
	s.last = o
	return o
}

// run runs the runtime with args after its --root, in $DIR, and waits up
// to 30 seconds.
func (s *side) run(stdin string, fds []string, args ...string) observed {
	return s.runStep(step{Stdin: stdin, Fds: fds}, args)
}

// runStep runs the runtime with args (placeholders replaced) as st says.
func (s *side) runStep(st step, args []string) observed {
	c := exec.Command(s.rt.Binary, append([]string{"--root", s.root}, args...)...)
	c.Dir = s.dir
	if st.Dir != "" {
		c.Dir = s.expand.Replace(st.Dir)
	}
	stdin, fds := st.Stdin, st.Fds
	// Files, not pipes: a detached container keeps its stdio open, and
	// waiting for a pipe's EOF would wait for the container.
	stdout, err := s.tempFile()
	if err != nil {
		return observed{side: s, Err: err}
	}
	defer stdout.Close()
	stderr, err := s.tempFile()
	if err != nil {
		return observed{side: s, Err: err}
	}
	defer stderr.Close()
	c.Stdout, c.Stderr = stdout, stderr
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	for _, content := range fds {
		f, err := s.tempFile()
		if err != nil {
			return observed{side: s, Err: err}
		}
		defer f.Close()
		if _, err := f.WriteString(content); err != nil {
			return observed{side: s, Err: err}
		}
		if _, err := f.Seek(0, 0); err != nil {
			return observed{side: s, Err: err}
		}
		c.ExtraFiles = append(c.ExtraFiles, f)
	}
	if err := c.Start(); err != nil {
		return observed{side: s, Err: err}
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	timeout := cmp.Or(st.Timeout, 30*time.Second)
	var stop <-chan time.Time
	if st.StopAfter > 0 {
		stop = time.After(st.StopAfter)
	}
	stopped := false
	select {
	case <-done:
	case <-stop:
		_ = c.Process.Signal(unix.SIGTERM)
		stopped = true
		select {
		case <-done:
		case <-time.After(timeout):
			_ = c.Process.Kill()
			<-done
			return observed{side: s, Err: fmt.Errorf("%s %s did not stop on SIGTERM", s.rt.Name, strings.Join(args, " "))}
		}
	case <-time.After(timeout):
		_ = c.Process.Kill()
		<-done
		return observed{side: s, Err: fmt.Errorf("%s %s hung for %v", s.rt.Name, strings.Join(args, " "), timeout)}
	}
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	code := c.ProcessState.ExitCode()
	if stopped {
		code = 0
	}
	return observed{side: s, Code: code, Stdout: s.normalize.Replace(string(out)), Stderr: string(errOut)}
}

func (s *side) tempFile() (*os.File, error) {
	return os.CreateTemp(s.dir, "out")
}

// must runs a command that the harness itself needs to succeed.
func (s *side) must(args ...string) (string, error) {
	o := s.run("", nil, args...)
	if o.Err != nil {
		return "", o.Err
	}
	if o.Code != 0 {
		return "", fmt.Errorf("%s %s: exit %d: %s", s.rt.Name, strings.Join(args, " "), o.Code, oneLine(o.Stderr))
	}
	return o.Stdout, nil
}

// lineDiff shows the lines only one of two texts has (a longest common
// subsequence of lines is what they share), at most 60 of them.
func lineDiff(berthText, runcText string) string {
	b, r := strings.Split(berthText, "\n"), strings.Split(runcText, "\n")
	// common[i][j] is the length of the longest common subsequence of
	// b[i:] and r[j:].
	common := make([][]int, len(b)+1)
	for i := range common {
		common[i] = make([]int, len(r)+1)
	}
	for i := len(b) - 1; i >= 0; i-- {
		for j := len(r) - 1; j >= 0; j-- {
			if b[i] == r[j] {
				common[i][j] = common[i+1][j+1] + 1
			} else {
				common[i][j] = max(common[i+1][j], common[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(b) || j < len(r) {
		switch {
		case i < len(b) && j < len(r) && b[i] == r[j]:
			i, j = i+1, j+1
		case j == len(r) || (i < len(b) && common[i+1][j] >= common[i][j+1]):
			out = append(out, fmt.Sprintf("  berth %4d: %s", i+1, b[i]))
			i++
		default:
			out = append(out, fmt.Sprintf("  runc  %4d: %s", j+1, r[j]))
			j++
		}
	}
	if len(out) > 60 {
		out = append(out[:60], fmt.Sprintf("  … %d more lines", len(out)-60))
	}
	return strings.Join(out, "\n")
}
