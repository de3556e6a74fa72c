package fs2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgtest"
	"golang.org/x/sys/unix"
)

// testParent creates a cgroup unique to the test below the test process's
// own in the v2 hierarchy (/sys/fs/cgroup on a unified host, the "unified"
// mount on a hybrid one) and removes it when the test ends. It returns the
// directory and the cgroup path /proc/<pid>/cgroup shows for it.
func testParent(t *testing.T) (dir, cgroup string) {
	t.Helper()
	cgtest.RequireRoot(t)
	mount := ""
	for _, m := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(m, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			mount = m
			break
		}
	}
	if mount == "" {
		t.Skip("no cgroup2 mount")
	}
	name := fmt.Sprintf("berth-fs2-test-%d-%s", os.Getpid(), t.Name())
	cgroup = filepath.Join(cgtest.Cgroups(t, "self")[""], name)
	dir = filepath.Join(mount, cgroup)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir, cgroup
}

// newManager creates the cgroup dir with a manager that destroys it when
// the test ends.
func newManager(t *testing.T, dir string) *Manager {
	t.Helper()
	m := New(dir)
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	return m
}

func checkPids(t *testing.T, m *Manager, want ...int) {
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

func checkKilled(t *testing.T, c *cgtest.Child) {
	t.Helper()
	if err := c.Wait(t); err == nil || err.Error() != "signal: killed" {
		t.Errorf("pid %d ended with %v, want killed", c.Pid, err)
	}
}

func checkGone(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup %s left behind (stat: %v)", dir, err)
	}
}

func checkFrozen(t *testing.T, m *Manager, want bool) {
	t.Helper()
	if got, err := m.frozen(); err != nil || got != want {
		t.Errorf("frozen() = %v, %v; want %v", got, err, want)
	}
}

func TestManager(t *testing.T) {
	parent, cgroup := testParent(t)
	m := newManager(t, filepath.Join(parent, "c1"))
	child := cgtest.Sleep(t)
	if err := m.Apply(child.Pid); err != nil {
		t.Fatal(err)
	}
	if got, want := cgtest.Cgroups(t, fmt.Sprint(child.Pid))[""], cgroup+"/c1"; got != want {
		t.Errorf("pid %d is in %s, want %s", child.Pid, got, want)
	}
	checkPids(t, m, child.Pid)

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	checkFrozen(t, m, true)
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	checkFrozen(t, m, false)

	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	checkKilled(t, child)
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, m.dir)
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// TestKillFrozen covers kernels without cgroup.kill, and a frozen container.
func TestKillFrozen(t *testing.T) {
	parent, _ := testParent(t)
	m := newManager(t, filepath.Join(parent, "c1"))
	child := cgtest.Sleep(t)
	if err := m.Apply(child.Pid); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := cgdir.KillFrozen(m); err != nil {
		t.Fatal(err)
	}
	checkKilled(t, child)
	checkFrozen(t, m, false)
}

// TestDestroyLingering destroys a frozen container whose processes still
// run, one of them in a cgroup the container made below its own, at a path
// whose parents Create had to make.
func TestDestroyLingering(t *testing.T) {
	parent, _ := testParent(t)
	t.Cleanup(func() {
		for _, p := range []string{"a/b", "a"} {
			if err := os.Remove(filepath.Join(parent, p)); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	m := newManager(t, filepath.Join(parent, "a/b/c1"))
	sub := newManager(t, filepath.Join(parent, "a/b/c1/sub"))
	top, nested := cgtest.Sleep(t), cgtest.Sleep(t)
	if err := m.Apply(top.Pid); err != nil {
		t.Fatal(err)
	}
	if err := sub.Apply(nested.Pid); err != nil {
		t.Fatal(err)
	}
	checkPids(t, m, top.Pid, nested.Pid)
	// A paused container, as `delete --force` finds it.
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, m.dir)
	checkKilled(t, top)
	checkKilled(t, nested)
}

func TestApplyErrors(t *testing.T) {
	parent, _ := testParent(t)
	m := newManager(t, filepath.Join(parent, "c1"))
	err := m.Apply(1 << 30)
	if err == nil || !strings.Contains(err.Error(), "add pid 1073741824 to cgroup "+m.dir+": write cgroup.procs: no such process") {
		t.Errorf("Apply of a missing pid: %v", err)
	}
}

func TestMissingControllers(t *testing.T) {
	tests := []struct {
		available, enabled string
		want               []string
	}{
		{"cpu io memory pids\n", "cpu memory\n", []string{"+io", "+pids"}},
		{"cpu memory\n", "cpu memory\n", nil},
		{"\n", "\n", nil},
		{"hugetlb\n", "\n", []string{"+hugetlb"}},
	}
	for _, tt := range tests {
		if got := missingControllers(tt.available, tt.enabled); !slices.Equal(got, tt.want) {
			t.Errorf("missingControllers(%q, %q) = %q, want %q", tt.available, tt.enabled, got, tt.want)
		}
	}
}
