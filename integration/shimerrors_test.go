package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailuresAsEnginesSeeThem makes every command an engine issues fail,
// with the global flags containerd's runc shim passes (--root, --log FILE,
// --log-format json). The shim shows the user the last error line of the
// log; docker and podman pick exit statuses 127 and 126 from its words; and
// runc's exit codes say whether exec itself failed (255) or the process ran.
func TestFailuresAsEnginesSeeThem(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "running")
	dir := t.TempDir()
	missingCmd := newBundle(t, "/no/such/cmd")
	stdinResources := filepath.Join(dir, "resources.json")
	writeFile(t, stdinResources, `{"memory": {"limit": 67108864}}`)

	for _, tc := range []struct {
		args []string
		code int
		want []string // in the log's msg
	}{
		{[]string{"state", "ghost"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"create", "--bundle", filepath.Join(dir, "nobundle"), "c1"}, 1, []string{"nobundle", "config.json"}},
		{[]string{"create", "--bundle", missingCmd.Dir, "c2"}, 1, []string{"/no/such/cmd", "no such file or directory"}},
		{[]string{"start", "ghost"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"kill", "ghost", "9"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"pause", "ghost"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"resume", "ghost"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"ps", "--format", "json", "ghost"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"update", "--resources", stdinResources, "ghost"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"delete", "ghost"}, 1, []string{`"ghost"`, "does not exist"}},
		{[]string{"delete", "running"}, 1, []string{`"running"`, "running"}},
		{[]string{"exec", "ghost", "true"}, 255, []string{`"ghost"`, "does not exist"}},
		{[]string{"exec", "--process", filepath.Join(dir, "noprocess.json"), "running"}, 255, []string{"noprocess.json"}},
		{[]string{"exec", "running", "/no/such/cmd"}, 255, []string{"/no/such/cmd", "no such file or directory"}},
		{[]string{"exec", "running", "no-such-cmd"}, 255, []string{"no-such-cmd", "executable file not found"}},
		{[]string{"exec", "running", "/etc/passwd"}, 255, []string{"/etc/passwd", "permission denied"}},
	} {
		log := filepath.Join(dir, "log.json")
		os.Remove(log)
		r := b.Run(append([]string{"--log", log, "--log-format", "json"}, tc.args...)...)
		if r.Code != tc.code {
			t.Errorf("berth %s: exit %d, want %d as runc (%v)", strings.Join(tc.args, " "), r.Code, tc.code, r)
		}
		data, _ := os.ReadFile(log)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		var entry struct{ Level, Msg string }
		if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &entry) != nil || entry.Level != "error" {
			t.Errorf("berth %s: want one JSON error line in the log, got %q", strings.Join(tc.args, " "), data)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(entry.Msg, w) {
				t.Errorf("berth %s: log msg %q lacks %q", strings.Join(tc.args, " "), entry.Msg, w)
			}
		}
	}

	// The shim deletes with --force after a plain delete: a container that
	// is gone already is no error, and nothing is logged.
	log := filepath.Join(dir, "force.json")
	r := b.Run("--log", log, "--log-format", "json", "delete", "--force", "ghost")
	if data, _ := os.ReadFile(log); r.Code != 0 || r.Stderr != "" || len(data) != 0 {
		t.Errorf("delete --force of a missing container: %v, log %q; want a quiet success", r, data)
	}
}
