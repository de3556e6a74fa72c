// Package cgtest helps the cgroup tests that run on the real host: they need
// root, and start processes they must not leak.
package cgtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireRoot skips the test unless it runs as root, which creating cgroups
// and moving processes between them needs.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// Child is a process a test started.
type Child struct {
	Pid  int
	done chan struct{}
	err  error
}

// Sleep starts a process that sleeps, and kills and reaps it when the test
// ends. It is reaped as soon as it exits, as a container's init is by its
// parent, so that no zombie lingers in a cgroup.
func Sleep(t testing.TB) *Child {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &Child{Pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

// Wait waits a few seconds for the child to exit and returns how it ended.
func (c *Child) Wait(t testing.TB) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(5 * time.Second):
		t.Fatalf("pid %d still running", c.Pid)
		return nil
	}
}

// Cgroups returns the cgroups of process pid ("self" for the caller) by the
// controllers field of /proc/<pid>/cgroup: "" for the v2 hierarchy, "cpu",
// "name=systemd"… for v1 ones.
func Cgroups(t testing.TB, pid string) map[string]string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	cgroups := make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 {
			t.Fatalf("/proc/%s/cgroup: malformed line %q", pid, line)
		}
		cgroups[fields[1]] = fields[2]
	}
	return cgroups
}
