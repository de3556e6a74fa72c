package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/integration/internal/testhost"
	"github.com/berthrt/berth/spec"
)

const busyboxPath = testhost.BusyboxPath

// bundle is a busybox bundle in a test's temporary directory.
type bundle struct {
	Dir  string
	Spec *specs.Spec
}

// newBundle makes a bundle whose process runs args without a terminal,
// from berth's default config.
func newBundle(t *testing.T, args ...string) *bundle {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	makeRootfs(t, rootfs)
	s := spec.Default()
	s.Process.Terminal = false
	s.Process.Args = args
	b := &bundle{Dir: dir, Spec: s}
	b.Save(t)
	return b
}

// Save writes the bundle's config.json.
func (b *bundle) Save(t *testing.T) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Rootfs returns the path of the root filesystem.
func (b *bundle) Rootfs() string { return filepath.Join(b.Dir, "rootfs") }

func makeRootfs(t *testing.T, rootfs string) { testhost.MakeRootfs(t, rootfs) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// berth runs the binary under test with a private --root, and after the
// test checks that nothing the test made is left behind.
type berth struct {
	t    *testing.T
	Root string
	ids  map[string]bool
	// Binary is the berth binary this runs: berthBinary unless a test
	// needs a copy of its own.
	Binary string
}

func newBerth(t *testing.T) *berth {
	t.Helper()
	b := &berth{t: t, Root: filepath.Join(t.TempDir(), "state"), ids: map[string]bool{}, Binary: berthBinary}
	t.Cleanup(b.checkNothingLeft)
	return b
}

// result is what one berth command did.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
}

// Run runs berth with the given arguments and waits up to a minute; a hang
// fails the test.
func (b *berth) Run(args ...string) result {
	return b.RunStdin(nil, args...)
}

// RunStdin is Run with the given stdin.
func (b *berth) RunStdin(stdin *os.File, args ...string) result {
	b.t.Helper()
	for i, a := range args {
		if (a == "create" || a == "run") && i+1 < len(args) {
			b.ids[args[len(args)-1]] = true
		}
	}
	cmd := exec.Command(b.Binary, append([]string{"--root", b.Root}, args...)...)
	// Files, not pipes: a detached container keeps its stdio open, and
	// waiting for a pipe's EOF would wait for the container.
	stdout, stderr := b.tempFile("stdout"), b.tempFile("stderr")
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start berth: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		b.t.Fatalf("berth %s hung for a minute", strings.Join(args, " "))
	}
	return result{Stdout: readBack(b.t, stdout), Stderr: readBack(b.t, stderr), Code: cmd.ProcessState.ExitCode()}
}

func (b *berth) tempFile(name string) *os.File {
	f, err := os.CreateTemp(filepath.Dir(b.Root), name)
	if err != nil {
		b.t.Fatal(err)
	}
	return f
}

func readBack(t *testing.T, f *os.File) string {
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// background is a berth command left running while the test goes on.
type background struct {
	cmd    *exec.Cmd
	stderr *os.File
	done   chan error
}

// Start starts berth with the given arguments and does not wait for it.
func (b *berth) Start(args ...string) *background {
	b.t.Helper()
	cmd := exec.Command(b.Binary, append([]string{"--root", b.Root}, args...)...)
	bg := &background{cmd: cmd, stderr: b.tempFile("stderr"), done: make(chan error, 1)}
	cmd.Stderr = bg.stderr
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start berth: %v", err)
	}
	go func() { bg.done <- cmd.Wait() }()
	b.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-bg.done
		bg.stderr.Close()
	})
	return bg
}

// Wait waits up to a minute for the command to end and returns its stderr.
func (bg *background) Wait(t *testing.T) string {
	t.Helper()
	select {
	case <-bg.done:
		bg.done <- nil // for the cleanup
	case <-time.After(time.Minute):
		t.Fatalf("berth %s hung for a minute", strings.Join(bg.cmd.Args[1:], " "))
	}
	return readBack(t, bg.stderr)
}

// MustRun runs berth and fails the test unless it exits 0.
func (b *berth) MustRun(args ...string) result {
	b.t.Helper()
	r := b.Run(args...)
	if r.Code != 0 {
		b.t.Fatalf("berth %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// MustFail runs berth, expects a non-zero exit and an error on stderr
// containing each of want.
func (b *berth) MustFail(want []string, args ...string) result {
	b.t.Helper()
	r := b.Run(args...)
	if r.Code == 0 {
		b.t.Fatalf("berth %s succeeded, want failure: %v", strings.Join(args, " "), r)
	}
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			b.t.Errorf("berth %s: stderr %q does not contain %q", strings.Join(args, " "), r.Stderr, w)
		}
	}
	if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine ") {
		b.t.Errorf("berth %s panicked: %s", strings.Join(args, " "), r.Stderr)
	}
	return r
}

// RunContainer runs a bundle in the foreground and returns what it did.
func (b *berth) RunContainer(bun *bundle, id string) result {
	b.t.Helper()
	return b.Run("run", "--bundle", bun.Dir, id)
}

// State returns the parsed `berth state` of id.
func (b *berth) State(id string) ociState {
	b.t.Helper()
	r := b.MustRun("state", id)
	var st ociState
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		b.t.Fatalf("parse state %q: %v", r.Stdout, err)
	}
	return st
}

type ociState struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
}

// checkNothingLeft fails the test if any container, state dir, process,
// mount or cgroup of this test outlives it, then removes what it can.
func (b *berth) checkNothingLeft() {
	t := b.t
	testDir := filepath.Dir(filepath.Dir(b.Root))
	for _, pid := range processesUnder(testDir) {
		t.Errorf("leak: process %d has its root in this test's directory", pid)
	}
	if mounts, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(mounts), "\n") {
			if strings.Contains(line, testDir) {
				t.Errorf("leak: mount left on the host: %s", line)
			}
		}
	}
	for id := range b.ids {
		for _, dir := range ownCgroupDirs(t) {
			if _, err := os.Stat(filepath.Join(dir, id)); err == nil {
				t.Errorf("leak: cgroup %s/%s left behind", dir, id)
			}
		}
	}
	if entries, err := os.ReadDir(b.Root); err == nil {
		for _, e := range entries {
			t.Errorf("leak: state dir %s/%s left behind", b.Root, e.Name())
			b.Run("delete", "--force", e.Name())
		}
	}
	for _, pid := range processesUnder(testDir) {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

// processesUnder lists processes whose root filesystem lies under dir: the
// processes of containers whose rootfs is there.
func processesUnder(dir string) []int { return testhost.ProcessesUnder(dir) }

// ownCgroupDirs returns the directories of this process's cgroup in each
// mounted hierarchy, where containers with an empty cgroupsPath nest.
func ownCgroupDirs(t *testing.T) []string { return testhost.OwnCgroupDirs(t) }

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data))
}

type syscallStat = syscall.Stat_t

func itoa(n int) string { return strconv.Itoa(n) }
