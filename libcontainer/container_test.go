package libcontainer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProcStat reads a process whose name has spaces and parentheses in it,
// which /proc/<pid>/stat shows unescaped.
func TestProcStat(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(t.TempDir(), "a) b (c")
	if err := os.WriteFile(odd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// What ps would say, by another route: the fields after the name's
	// last ')'.
	var stat string
	for deadline := time.Now().Add(5 * time.Second); ; {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		stat = string(b)
		if strings.Contains(stat, "(a) b (c)") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // until the exec has happened
	}
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	wantStart, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	state, start, err := procStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if state != fields[0][0] || start != wantStart {
		t.Errorf("procStat = %c, %d; want %c, %d (from %q)", state, start, fields[0][0], wantStart, stat)
	}
}
