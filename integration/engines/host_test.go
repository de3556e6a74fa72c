package engines

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// result is what one command did.
type result struct {
	Stdout, Stderr string
	Code           int
}

// Output is stdout and stderr together, for messages that may be on either.
func (r result) Output() string { return r.Stdout + r.Stderr }

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
}

// commandTimeout bounds every engine command; one that hangs fails the test.
const commandTimeout = 2 * time.Minute

// background is a command running while the test goes on.
type background struct {
	argv           []string
	cmd            *exec.Cmd
	done           chan struct{}
	stdout, stderr *os.File
	collected      sync.Once
	res            result
}

// start starts argv with env added to ours and stdin as its input.
// Output goes to files, not pipes: detached containers and their monitors
// (conmon, the shims) inherit stdio, and a pipe would stay open as long as
// they live.
func start(t *testing.T, env []string, stdin string, argv ...string) *background {
	t.Helper()
	b := &background{argv: argv, cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	b.cmd.Env = append(os.Environ(), env...)
	b.cmd.Stdin = strings.NewReader(stdin)
	var err error
	if b.stdout, err = os.CreateTemp(workDir, "stdout"); err != nil {
		t.Fatal(err)
	}
	if b.stderr, err = os.CreateTemp(workDir, "stderr"); err != nil {
		t.Fatal(err)
	}
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	return b
}

// wait waits for the command and returns what it did; after commandTimeout
// it kills the command and fails the test.
func (b *background) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(commandTimeout):
		_ = b.cmd.Process.Kill()
		<-b.done
		t.Fatalf("%s hung: killed after %v", strings.Join(b.argv, " "), commandTimeout)
	}
	b.collected.Do(func() {
		b.res = result{Stdout: b.output(b.stdout), Stderr: b.output(b.stderr), Code: b.cmd.ProcessState.ExitCode()}
		os.Remove(b.stdout.Name())
		os.Remove(b.stderr.Name())
	})
	return b.res
}

func (b *background) output(f *os.File) string {
	data, _ := os.ReadFile(f.Name())
	return string(data)
}

// run runs argv to the end.
func run(t *testing.T, env []string, stdin string, argv ...string) result {
	t.Helper()
	return start(t, env, stdin, argv...).wait(t)
}

// mustRun runs argv and fails the test unless it exits 0.
func mustRun(t *testing.T, env []string, argv ...string) result {
	t.Helper()
	r := run(t, env, "", argv...)
	if r.Code != 0 {
		t.Fatalf("%s: %v", strings.Join(argv, " "), r)
	}
	return r
}

// stopDaemon stops a daemon the test started: SIGTERM, then SIGKILL if it
// has not gone within half a minute.
func stopDaemon(t *testing.T, d *background) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s of SIGTERM: killed", d.argv[0])
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cgroupParent is a cgroup path for an engine's containers, nested under
// this process's own cgroup in every hierarchy: this machine's memory
// cgroup is not the root, and nothing may run outside it.
type cgroupParent struct {
	Path string
	// missing are the directories, in every hierarchy, that the engine
	// will create above Path and that are ours to remove afterwards.
	missing []string
}

func newCgroupParent(t *testing.T) *cgroupParent {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	deepest := "/"
	var own []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			t.Fatalf("/proc/self/cgroup: unexpected line %q", line)
		}
		own = append(own, parts[2])
		if len(parts[2]) > len(deepest) {
			deepest = parts[2]
		}
	}
	for _, p := range own {
		if p != "/" && p != deepest && !strings.HasPrefix(deepest, p+"/") {
			t.Fatalf("this process's cgroups %q are not nested in one another: no single cgroup parent stays inside all of them", own)
		}
	}
	c := &cgroupParent{Path: filepath.Join(deepest, "berth-engines-"+randomSuffix())}
	for _, mp := range cgroupMounts(t) {
		for dir := c.Path; dir != "/"; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(mp, dir)); errors.Is(err, os.ErrNotExist) {
				c.missing = append(c.missing, filepath.Join(mp, dir))
			}
		}
	}
	t.Cleanup(func() { c.remove(t) })
	return c
}

// remove removes every cgroup under the parent and the directories made
// above it; a cgroup that still holds a process is a leak.
func (c *cgroupParent) remove(t *testing.T) {
	for _, mp := range cgroupMounts(t) {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(mp, c.Path), func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, dir := range dirs {
			if procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs")); len(procs) > 0 {
				t.Errorf("leak: processes %s still in cgroup %s", strings.Fields(string(procs)), dir)
				continue
			}
			if err := os.Remove(dir); err != nil {
				t.Errorf("remove cgroup: %v", err)
			}
		}
	}
	// Deepest first: missing lists each hierarchy's directories from Path up.
	for _, dir := range c.missing {
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("remove cgroup: %v", err)
		}
	}
}

// cgroupMounts returns the mount points of the cgroup hierarchies.
func cgroupMounts(t *testing.T) []string {
	t.Helper()
	infos, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		return i.FSType != "cgroup" && i.FSType != "cgroup2", false
	})
	if err != nil {
		t.Fatal(err)
	}
	var mps []string
	for _, i := range infos {
		mps = append(mps, i.Mountpoint)
	}
	return mps
}

// cgroupValue reads a cgroup file of the process pid as the host sees it:
// file in the v1 hierarchy of controller, or v2file in the unified one.
func cgroupValue(t *testing.T, pid int, controller, file, v2file string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	infos, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		return i.FSType != "cgroup" && i.FSType != "cgroup2", false
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !slices.Contains(strings.Split(parts[1], ","), controller) {
			continue
		}
		for _, i := range infos {
			if i.FSType == "cgroup" && slices.Contains(strings.Split(i.VFSOptions, ","), controller) {
				return readTrimmed(t, filepath.Join(i.Mountpoint, parts[2], file))
			}
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			for _, i := range infos {
				if i.FSType == "cgroup2" {
					return readTrimmed(t, filepath.Join(i.Mountpoint, path, v2file))
				}
			}
		}
	}
	t.Fatalf("process %d has no %s cgroup", pid, controller)
	return ""
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// unmountUnder unmounts everything mounted under dir, deepest first, and
// returns what it unmounted. The engines leave their storage mounted.
func unmountUnder(dir string) []string {
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil
	}
	var done []string
	for i := len(infos) - 1; i >= 0; i-- {
		if unix.Unmount(infos[i].Mountpoint, unix.MNT_DETACH) == nil {
			done = append(done, infos[i].Mountpoint)
		}
	}
	return done
}

// processesNaming returns the processes whose command line names path:
// the daemons, shims and conmons of an engine whose state is there.
func processesNaming(path string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), path) {
			found = append(found, fmt.Sprintf("%d (%s)", pid, strings.ReplaceAll(strings.TrimSpace(string(cmdline)), "\x00", " ")))
		}
	}
	return found
}

// checkNoProcesses fails the test if a process still names dir half a
// minute after the engine is done, and kills it: every such process
// descends from an engine the test started. The grace is for podman, whose
// conmon runs `podman container cleanup` after the container exits.
func checkNoProcesses(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); len(processesNaming(dir)) > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range processesNaming(dir) {
		t.Errorf("leak: process %s outlives its engine", p)
		if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// hostSnapshot is what the host had, outside the work directory, before
// the engines ran: directories they or the runtime create when missing,
// and the mount table.
type hostSnapshot struct {
	absent []string
	mounts map[string]bool
}

// hostPaths are the places outside the work directory that the engines
// write to whatever their flags say: runtimes' default state roots (podman
// passes no --root), containerd's shim socket directory, podman's network
// namespace directory, dockerd's plugin directory, the CNI library's cache
// of containerd's CRI plugin. Children come first.
var hostPaths = []string{"/run/berth", "/run/runc", "/run/containerd/s", "/run/containerd/fifo", "/run/containerd",
	"/run/netns", "/run/docker/plugins", "/run/docker", "/var/lib/cni/results", "/var/lib/cni"}

func snapshotHost() *hostSnapshot {
	s := &hostSnapshot{mounts: map[string]bool{}}
	for _, p := range hostPaths {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			s.absent = append(s.absent, p)
		}
	}
	infos, _ := mountinfo.GetMounts(nil)
	for _, i := range infos {
		s.mounts[i.Mountpoint] = true
	}
	return s
}

// check fails the test if a mount outside the work directory appeared
// since the snapshot.
func (s *hostSnapshot) check(t *testing.T) {
	t.Helper()
	infos, _ := mountinfo.GetMounts(nil)
	for _, i := range infos {
		// podman mounts /run/netns on itself, as ip-netns(8) does; restore
		// removes it.
		if !s.mounts[i.Mountpoint] && !strings.HasPrefix(i.Mountpoint, workDir+"/") && !slices.Contains(s.absent, i.Mountpoint) {
			t.Errorf("leak: mount %s (%s) left on the host", i.Mountpoint, i.FSType)
		}
	}
}

// restore removes the directories the run created outside the work
// directory; they must be empty by then.
func (s *hostSnapshot) restore() error {
	var errs []error
	for _, p := range s.absent {
		_ = unix.Unmount(p, unix.MNT_DETACH)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkEngineGone fails the test if a process of the engine whose state is
// in dir, or a mount outside the work directory, outlives the engine.
func checkEngineGone(t *testing.T, dir string) {
	t.Helper()
	checkNoProcesses(t, dir)
	host.check(t)
}
