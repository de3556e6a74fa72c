package spawn

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// startSpawner builds the spawner and starts a client on it.
func startSpawner(t *testing.T) *Client {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spawner")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/berthrt/berth/hack/bench/spawner").CombinedOutput(); err != nil {
		t.Fatalf("build spawner: %v\n%s", err, out)
	}
	c, err := Start(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

var ballast []byte

func TestRun(t *testing.T) {
	c := startSpawner(t)

	// A child forked from this process would report this much at least.
	ballast = make([]byte, 64<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	e, out, err := c.Run("/bin/sh", "-c", "echo hello")
	if err != nil {
		t.Fatal(err)
	}
	if out != "hello\n" {
		t.Errorf("stdout %q, want %q", out, "hello\n")
	}
	if e.Start == 0 || e.End < e.Start {
		t.Errorf("times %v..%v", e.Start, e.End)
	}
	if e.MaxRSS <= 0 || e.MaxRSS > 16<<10 {
		t.Errorf("ru_maxrss %d KiB: want the shell's own, not this process's 64 MiB", e.MaxRSS)
	}

	_, _, err = c.Run("/bin/sh", "-c", "echo oops >&2; exit 3")
	if err == nil || !strings.Contains(err.Error(), "exit status 3: oops") {
		t.Errorf("failing command: error %v, want exit status 3 and its stderr", err)
	}
	if _, _, err := c.Run("/nonexistent"); err == nil {
		t.Error("a missing binary started")
	}
}

// TestOrphan checks that the spawner reaps what outlives its command.
func TestOrphan(t *testing.T) {
	c := startSpawner(t)
	_, out, err := c.Run("/bin/sh", "-c", "sleep 0.2 >/dev/null & echo $!")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.AwaitExit(c.Watch(pid), "orphan")
	if err != nil {
		t.Fatal(err)
	}
	if e.Start != 0 || !e.Status.Exited() || e.Status.ExitStatus() != 0 {
		t.Errorf("orphan's exit %+v: want a clean exit with no start time", e)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		t.Errorf("orphan %d is still there", pid)
	}
}
