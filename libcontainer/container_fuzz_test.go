package libcontainer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthrt/berth/libcontainer/state"
)

// FuzzStateFile gives the commands that read a container's state.json a
// document that is damaged or planted: Load, State (with Status, which
// reads /proc and the freezer the state names) and List must read it or
// refuse it with one line that names the container, and never panic.
// Nothing here writes or signals.
func FuzzStateFile(f *testing.F) {
	good, err := json.Marshal(persisted{
		summary: summary{
			ID: "fz", InitPid: os.Getpid(), InitStartTime: 12345, Bundle: "/b", Rootfs: "/b/rootfs",
			Created: time.Unix(1700000000, 0).UTC(), Owner: "root", Annotations: map[string]string{"a": "b"}, Paused: true,
		},
		CgroupPaths:        map[string]string{"freezer": "/sys/fs/cgroup/freezer/fz", "unified": "/sys/fs/cgroup/unified/fz"},
		PreexistingCgroups: []string{"/sys/fs/cgroup/freezer/fz"},
		HasHooks:           true,
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(good), string(good[:len(good)/2]), "", "null", "{}", "[]",
		`{"id":"fz","initPid":-1}`, `{"id":"other","initPid":1,"initStartTime":1}`,
		`{"id":"fz","initPid":1,"paused":true,"cgroupPaths":{"freezer":"../../..","unified":""}}`,
		`{"id":"fz","initPid":99999999999999999999}`, `{"id":"fz","created":"yesterday"}`,
	} {
		f.Add([]byte(seed))
	}
	store, err := state.Open(filepath.Join(f.TempDir(), "state"))
	if err != nil {
		f.Fatal(err)
	}
	entry, err := store.Create("fz")
	if err != nil {
		f.Fatal(err)
	}
	if err := entry.Unlock(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(store.Root(), "fz", "state.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(store, "fz")
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, `"fz"`) {
				t.Fatalf("Load error %q: want one line that names the container", msg)
			}
			return
		}
		if st := c.State(); st.Status == "stopped" && st.Pid != 0 {
			t.Fatalf("a stopped container reports pid %d", st.Pid)
		}
		if _, err := List(store); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("List error is not one line: %q", err)
		}
	})
}
