package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgtest"
)

// These tests run on the real host as root. They nest every cgroup under the
// test process's own, start their own processes, and remove both even when
// they fail.

// testCgroup returns a relative cgroups path unique to the test, and a
// manager for it that is destroyed when the test ends.
func testCgroup(t *testing.T) (string, Manager) {
	t.Helper()
	cgtest.RequireRoot(t)
	rel := fmt.Sprintf("berth-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	return rel, newManager(t, rel)
}

// newManager calls New and Create and, when the test ends, destroys the
// manager and checks that none of its directories is left.
func newManager(t *testing.T, cgroupsPath string) Manager {
	t.Helper()
	m, err := New(cgroupsPath, "unused")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		checkGone(t, m)
	})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	return m
}

func checkGone(t *testing.T, m Manager) {
	t.Helper()
	for key, dir := range m.Paths() {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s cgroup %s left behind (stat: %v)", key, dir, err)
		}
	}
}

// checkMember checks that /proc/<pid>/cgroup shows pid in the cgroup rel
// below the test process's own in every hierarchy m manages, and that m
// manages every hierarchy of a v1 or hybrid host.
func checkMember(t *testing.T, m Manager, pid int, rel string) {
	t.Helper()
	own := cgtest.Cgroups(t, "self")
	got := cgtest.Cgroups(t, fmt.Sprint(pid))
	paths := m.Paths()
	for controllers, p := range got {
		key, _, _ := strings.Cut(controllers, ",")
		if key == "" {
			key = "unified"
		}
		if _, ok := paths[key]; !ok {
			if !IsUnified() {
				t.Errorf("hierarchy %q is not managed", controllers)
			}
			continue
		}
		if want := path.Join(own[controllers], rel); p != want {
			t.Errorf("pid %d is in %q cgroup %s, want %s", pid, controllers, p, want)
		}
	}
}

func checkPids(t *testing.T, m Manager, want ...int) {
	t.Helper()
	slices.Sort(want)
	got, err := m.Pids()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Pids() = %v, want %v", got, want)
	}
}

// checkFrozen checks what the kernel reports of the cgroup's freezer.
func checkFrozen(t *testing.T, m Manager, pid int, frozen bool) {
	t.Helper()
	paths := m.Paths()
	if dir, ok := paths["freezer"]; ok {
		state, err := os.ReadFile(filepath.Join(dir, "freezer.state"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(state)) == "FROZEN"; got != frozen {
			t.Errorf("freezer.state is %s, want frozen %v", state, frozen)
		}
		// A task the v1 freezer holds sleeps uninterruptibly.
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(status), "State:\tD"); got != frozen {
			t.Errorf("pid %d: frozen %v, want %v; status:\n%s", pid, got, frozen, status)
		}
		return
	}
	events, err := os.ReadFile(filepath.Join(paths["unified"], "cgroup.events"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Contains(string(events), "frozen 1"); got != frozen {
		t.Errorf("cgroup.events:\n%s\nwant frozen %v", events, frozen)
	}
}

func TestManager(t *testing.T) {
	rel, m := testCgroup(t)
	child := cgtest.Sleep(t)
	if err := m.Apply(child.Pid); err != nil {
		t.Fatal(err)
	}
	checkMember(t, m, child.Pid, rel)
	checkPids(t, m, child.Pid)

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	checkFrozen(t, m, child.Pid, true)
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	checkFrozen(t, m, child.Pid, false)

	loaded, err := Load(m.Paths(), m.Preexisting())
	if err != nil {
		t.Fatal(err)
	}
	checkPids(t, loaded, child.Pid)
	if err := loaded.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(t); err == nil || err.Error() != "signal: killed" {
		t.Errorf("child ended with %v, want killed", err)
	}
	if err := loaded.Destroy(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, m)
	if err := loaded.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// TestPreexisting gives a manager cgroups that exist before its Create: it
// refuses them while a process is in one, takes them empty, and never
// removes them, nor does a manager that Load is told about them.
func TestPreexisting(t *testing.T) {
	rel, owner := testCgroup(t)
	child := cgtest.Sleep(t)
	if err := owner.Apply(child.Pid); err != nil {
		t.Fatal(err)
	}
	m, err := New(rel, "unused")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err == nil || !strings.Contains(err.Error(), "container's cgroup is not empty: 1 process(es) found in ") {
		t.Errorf("Create of cgroups that hold a process: %v", err)
	}
	if err := owner.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	dirs := slices.Compact(slices.Sorted(maps.Values(m.Paths())))
	if got := slices.Sorted(slices.Values(m.Preexisting())); !slices.Equal(dirs, got) {
		t.Errorf("Preexisting() = %q, want every directory: %q", got, dirs)
	}
	loaded, err := Load(m.Paths(), m.Preexisting())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Manager{m, loaded} {
		if err := d.Destroy(); err != nil {
			t.Fatal(err)
		}
		for _, dir := range dirs {
			if !exists(dir) {
				t.Fatalf("Destroy removed %s, which was there before Create", dir)
			}
		}
	}
}

// TestDestroyLingering destroys a frozen container whose processes still
// run, one of them in a cgroup the container made below its own.
func TestDestroyLingering(t *testing.T) {
	rel, m := testCgroup(t)
	sub := newManager(t, rel+"/sub")
	top, nested := cgtest.Sleep(t), cgtest.Sleep(t)
	if err := m.Apply(top.Pid); err != nil {
		t.Fatal(err)
	}
	if err := sub.Apply(nested.Pid); err != nil {
		t.Fatal(err)
	}
	checkMember(t, sub, nested.Pid, rel+"/sub")
	checkPids(t, m, top.Pid, nested.Pid)
	checkPids(t, sub, nested.Pid)
	// A paused container, as `delete --force` finds it.
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, m)
	for _, c := range []*cgtest.Child{top, nested} {
		if err := c.Wait(t); err == nil || err.Error() != "signal: killed" {
			t.Errorf("pid %d ended with %v, want killed", c.Pid, err)
		}
	}
}

// TestAbsolutePath places a container at an absolute path that still lies
// below the test process's own cgroup in every hierarchy: the deepest of its
// own cgroups.
func TestAbsolutePath(t *testing.T) {
	cgtest.RequireRoot(t)
	var deepest string
	for _, p := range cgtest.Cgroups(t, "self") {
		if len(p) > len(deepest) {
			deepest = p
		}
	}
	for controllers, p := range cgtest.Cgroups(t, "self") {
		if !within(deepest, p) {
			t.Skipf("own %q cgroup %s is not above %s", controllers, p, deepest)
		}
	}
	abs := path.Join(deepest, fmt.Sprintf("berth-test-%d-abs/c1", os.Getpid()))
	m, err := New(abs, "unused")
	if err != nil {
		t.Fatal(err)
	}
	// Create makes the missing parents, which Destroy rightly leaves; they
	// go after it, deepest first (cleanups run last registered first).
	for _, dir := range m.Paths() {
		var missing []string
		for p := filepath.Dir(dir); !exists(p); p = filepath.Dir(p) {
			missing = append(missing, p)
		}
		for _, p := range slices.Backward(missing) {
			t.Cleanup(func() {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("cleanup: %v", err)
				}
			})
		}
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	child := cgtest.Sleep(t)
	if err := m.Apply(child.Pid); err != nil {
		t.Fatal(err)
	}
	for controllers, p := range cgtest.Cgroups(t, fmt.Sprint(child.Pid)) {
		if p != abs {
			t.Errorf("pid %d is in %q cgroup %s, want %s", child.Pid, controllers, p, abs)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, m)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestNewRejects(t *testing.T) {
	for _, p := range []string{"../x", "a/../b", "/x/..", ".", "/"} {
		if m, err := New(p, "c1"); err == nil {
			t.Errorf("New(%q) = %v, want an error", p, m.Paths())
		}
	}
}

func TestLoadRejects(t *testing.T) {
	for _, paths := range []map[string]string{
		nil,
		{"memory": "relative/x"},
		{"unified": "/sys/fs/cgroup/a/../b"},
	} {
		if _, err := Load(paths, nil); err == nil {
			t.Errorf("Load(%v) succeeded", paths)
		}
	}
}
