package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	st := &specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 42, Bundle: "/b"}
	one := 1
	tests := []struct {
		name    string
		hook    specs.Hook
		wantErr string
	}{
		{"state on stdin, args and env", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", `cat > "$OUT"; echo >> "$OUT"; echo "$0 $1" >> "$OUT"`, "zero", "one"}, Env: []string{"OUT=" + out}}, ""},
		{"non-zero exit shows stderr", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo broken >&2; exit 3"}}, "exit status 3: broken"},
		{"missing program", specs.Hook{Path: filepath.Join(dir, "nope")}, "no such file"},
		{"timeout", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 10"}, Timeout: &one}, "timed out after 1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Run("prestart", tc.hook, st)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "prestart hook") {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 2)
	var got specs.State
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("hook stdin %q is not the state: %v", lines[0], err)
	}
	if got.ID != "c1" || got.Pid != 42 || got.Status != specs.StateCreating {
		t.Errorf("state on stdin = %+v", got)
	}
	if lines[1] != "zero one\n" {
		t.Errorf("argv = %q, want args as given", lines[1])
	}
}

func TestRunWithoutEnvGetsNoEnvironment(t *testing.T) {
	t.Setenv("_BERTH_SECRET", "leak")
	out := filepath.Join(t.TempDir(), "env")
	h := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "env > " + out}}
	if err := Run("poststart", h, &specs.State{}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	if strings.Contains(string(data), "_BERTH_SECRET") {
		t.Errorf("a hook without env inherited berth's environment:\n%s", data)
	}
}
