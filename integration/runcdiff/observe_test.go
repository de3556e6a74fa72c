package runcdiff

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthrt/berth/integration/internal/testhost"
)

// waitStatus waits, up to ten seconds, until `state $ID` says status.
func waitStatus(status string) step {
	return observe("status "+status, func(s *side) (string, error) {
		var last string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			st, err := s.state(s.id)
			if err != nil {
				last = err.Error()
				continue
			}
			if last = st.Status; last == status {
				break
			}
		}
		return "status " + last, nil
	})
}

// stateOf is the part of `state` the harness reads.
type stateOf struct {
	Status string `json:"status"`
	Pid    int    `json:"pid"`
}

func (s *side) state(id string) (stateOf, error) {
	out, err := s.must("state", id)
	if err != nil {
		return stateOf{}, err
	}
	var st stateOf
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return stateOf{}, fmt.Errorf("state: %w", err)
	}
	return st, nil
}

// cgroupFiles compares the files of the container's cgroup, named as
// CONTROLLER.FILE ("memory.limit_in_bytes"); a file the host's kernel does
// not have is left out.
func cgroupFiles(files ...string) step {
	what := "cgroup files " + strings.Join(files, " ")
	if len(files) == len(resourceFiles) && files[0] == resourceFiles[0] {
		what = "cgroup files of every resource"
	}
	return observe(what, func(s *side) (string, error) {
		var out []string
		for _, name := range files {
			dir, ok := cgroupDir(s.t, strings.SplitN(name, ".", 2)[0])
			if !ok {
				continue
			}
			cg := filepath.Join(dir, s.id)
			if _, err := os.Stat(cg); err != nil {
				out = append(out, fmt.Sprintf("%s: no cgroup", name))
				continue
			}
			data, err := os.ReadFile(filepath.Join(cg, name))
			if errors.Is(err, os.ErrNotExist) {
				continue // the kernel has no such file
			}
			if err != nil {
				out = append(out, fmt.Sprintf("%s: %v", name, errors.Unwrap(err)))
				continue
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if name == "devices.list" {
				// The kernel lists the rules in the order they came.
				slices.Sort(lines)
			}
			out = append(out, name+": "+strings.Join(lines, "\n"))
		}
		return strings.Join(out, "\n"), nil
	})
}

// resourceFiles are the cgroup v1 files of every resource `update` sets,
// the device policy and the freezer's state.
var resourceFiles = []string{
	"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness",
	"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.idle",
	"cpuset.cpus", "cpuset.mems", "pids.max", "blkio.weight", "devices.list", "freezer.state",
}

var ownCgroups struct {
	once sync.Once
	hs   []testhost.Hierarchy
}

// cgroupDir is the test's own directory in the hierarchy of controller.
func cgroupDir(t testing.TB, controller string) (string, bool) {
	ownCgroups.once.Do(func() { ownCgroups.hs = testhost.OwnCgroups(t) })
	for _, h := range ownCgroups.hs {
		if slices.Contains(h.Controllers, controller) {
			return h.Dir, true
		}
	}
	return "", false
}

// pidFile compares what a --pid-file holds: whose pid, and its format.
func pidFile(path string) step {
	return observe("pid file "+path, func(s *side) (string, error) {
		data, err := os.ReadFile(s.expand.Replace(path))
		if err != nil {
			return "", err
		}
		text := string(data)
		pid, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return fmt.Sprintf("not a pid: %q", text), nil
		}
		format := strings.Replace(text, strconv.Itoa(pid), "PID", 1)
		st, err := s.state(s.id)
		if err != nil {
			return "", err
		}
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		switch {
		case pid == st.Pid:
			return fmt.Sprintf("%q: the container's init", format), nil
		case strings.Contains(string(cg), s.id):
			return fmt.Sprintf("%q: a process in the container", format), nil
		}
		return fmt.Sprintf("%q: a process outside the container", format), nil
	})
}

// fileContent compares a file on the host ($DIR/…), normalized.
func fileContent(path string) step {
	return observe("file "+path, func(s *side) (string, error) {
		data, err := os.ReadFile(s.expand.Replace(path))
		if err != nil {
			return fmt.Sprintf("unreadable: %v", errors.Unwrap(err)), nil
		}
		return string(data), nil
	})
}

// finish compares which containers are left after the steps, deletes
// them, and checks that berth left nothing: no state, process, mount or
// cgroup. What runc leaves is logged and removed.
func finish(t *testing.T, sides [2]*side, compareLeft bool) {
	for _, s := range sides {
		s.console.close()
	}
	if compareLeft {
		for _, idOf := range []func(*side) string{func(s *side) string { return s.id }, func(s *side) string { return s.id2 }} {
			b, r := sides[0], sides[1]
			bHas := b.run("", nil, "state", idOf(b)).Code == 0
			rHas := r.run("", nil, "state", idOf(r)).Code == 0
			if bHas != rHas {
				t.Errorf("after the steps berth has container %s: %v, runc has %s: %v", idOf(b), bHas, idOf(r), rHas)
			}
		}
	}
	var left [2][]string
	for i, s := range sides {
		for _, id := range []string{s.id, s.id2} {
			if s.run("", nil, "state", id).Code != 0 {
				continue
			}
			if o := s.run("", nil, "delete", "--force", id); o.Err != nil || o.Code != 0 {
				t.Errorf("%s delete --force %s: exit %d %v: %s", s.rt.Name, id, o.Code, o.Err, oneLine(o.Stderr))
			}
		}
		left[i] = s.leftovers()
		s.removeLeftovers()
	}
	// What runc leaves too (the parents of a nested cgroupsPath) is how
	// both work; what only berth leaves is a leak.
	for _, l := range left[0] {
		if slices.Contains(left[1], l) {
			t.Logf("both runtimes leave %s", l)
		} else {
			t.Errorf("leak: berth left %s", l)
		}
	}
	for _, l := range left[1] {
		if !slices.Contains(left[0], l) {
			t.Logf("runc left %s", l)
		}
	}
}

// leftovers lists what is left of the side's containers on the host,
// normalized.
func (s *side) leftovers() []string {
	var left []string
	if entries, err := os.ReadDir(s.root); err == nil {
		for _, e := range entries {
			left = append(left, "state "+filepath.Join(s.root, e.Name()))
		}
	}
	for range testhost.ProcessesUnder(s.dir) {
		left = append(left, "a process of the container")
	}
	if info, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if strings.Contains(line, s.dir+"/") {
				left = append(left, "mount "+normalizeMountinfo(line))
			}
		}
	}
	for _, dir := range s.cgroupDirs() {
		left = append(left, "cgroup "+dir)
	}
	for i, l := range left {
		left[i] = s.normalize.Replace(l)
	}
	return left
}

// cgroupDirs are the side's containers' cgroups that exist, but for those
// the case made before create.
func (s *side) cgroupDirs() []string {
	var dirs []string
	for _, own := range testhost.OwnCgroupDirs(s.t) {
		for _, id := range []string{s.id, s.id2} {
			dir := filepath.Join(own, id)
			if _, err := os.Stat(dir); err == nil && !slices.Contains(s.cgroupsBefore, dir) {
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

// removeLeftovers kills the side's container processes (by pid; they are
// the test's) and removes their cgroups and state.
func (s *side) removeLeftovers() {
	for _, pid := range testhost.ProcessesUnder(s.dir) {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
	for _, dir := range append(s.cgroupDirs(), s.cgroupsBefore...) {
		removeCgroup(dir)
	}
	os.RemoveAll(s.root)
}

// startInCgroup makes the side's container's pids cgroup before create
// and starts a process of the test's in it, which the test's cleanup
// kills.
func startInCgroup(s *side) error {
	dir, ok := cgroupDir(s.t, "pids")
	if !ok {
		return errors.New("no pids hierarchy")
	}
	cg := filepath.Join(dir, s.id)
	if err := os.Mkdir(cg, 0o755); err != nil {
		return err
	}
	s.cgroupsBefore = append(s.cgroupsBefore, cg)
	c := exec.Command(testhost.BusyboxPath, "sleep", "1000")
	if err := c.Start(); err != nil {
		return err
	}
	s.t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	return os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(c.Process.Pid)), 0o644)
}

// removeCgroup removes a cgroup and the cgroups below it, deepest first.
func removeCgroup(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeCgroup(filepath.Join(dir, e.Name()))
		}
	}
	for i := 0; i < 50; i++ {
		if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(20 * time.Millisecond) // its last process is exiting
	}
}

// mkdirCgroup makes the cgroup dir/parent/name; a cpuset gets its
// parent's cpus and memory nodes, which v1 does not give it.
func mkdirCgroup(dir, parent, name string) error {
	path := filepath.Join(dir, parent, name)
	if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		data, err := os.ReadFile(filepath.Join(dir, parent, f))
		if err != nil {
			continue // not the cpuset hierarchy
		}
		if err := os.WriteFile(filepath.Join(path, f), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
