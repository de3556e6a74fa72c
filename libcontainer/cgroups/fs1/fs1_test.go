package fs1

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgtest"
)

// The manager as a whole is tested through cgroups.New on v1 and hybrid
// hosts; these tests cover what that cannot reach.

func TestNewOrdersDirs(t *testing.T) {
	m := New(map[string]string{
		"cpu":     "/cg/cpu,cpuacct/c1",
		"cpuacct": "/cg/cpu,cpuacct/c1",
		"memory":  "/cg/memory/c1",
		"freezer": "/cg/freezer/c1",
		"unified": "/cg/unified/c1",
	})
	want := []string{"/cg/freezer/c1", "/cg/cpu,cpuacct/c1", "/cg/memory/c1", "/cg/unified/c1"}
	if !slices.Equal(m.dirs, want) {
		t.Errorf("dirs = %q, want %q", m.dirs, want)
	}
}

func TestNoFreezer(t *testing.T) {
	m := New(map[string]string{"memory": "/cg/memory/c1"})
	if err := m.Freeze(); err == nil || !strings.Contains(err.Error(), "freezer controller is not mounted") {
		t.Errorf("Freeze without a freezer: %v", err)
	}
}

// TestInheritCpuset puts a process in a cpuset cgroup whose parent someone
// created without setting its cpus and mems.
func TestInheritCpuset(t *testing.T) {
	cgtest.RequireRoot(t)
	own, ok := cgtest.Cgroups(t, "self")["cpuset"]
	root := "/sys/fs/cgroup/cpuset"
	if _, err := os.Stat(filepath.Join(root, "cpuset.cpus")); !ok || err != nil {
		t.Skip("no v1 cpuset hierarchy at " + root)
	}
	parent := filepath.Join(root, own, fmt.Sprintf("berth-fs1-test-%d", os.Getpid()))
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(parent); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	m := New(map[string]string{"cpuset": filepath.Join(parent, "c1")})
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
	for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
		want := readFile(t, filepath.Join(root, own, file))
		for _, dir := range []string{parent, m.paths["cpuset"]} {
			if got := readFile(t, filepath.Join(dir, file)); got != want {
				t.Errorf("%s/%s = %q, want %q", dir, file, got, want)
			}
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
