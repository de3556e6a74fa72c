package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestIDsStartingWithADot runs containers whose ids start with a dot,
// which runc accepts. The kernel reserves session keyring names that start
// with a dot; berth named the container's keyring after its id and failed
// to create it. Like runc it names the keyring "_ses.<id>".
func TestIDsStartingWithADot(t *testing.T) {
	b := newBerth(t)
	for _, goInit := range []bool{false, true} {
		// Unique per run: keyrings outlive their containers until the
		// kernel collects them.
		id := ".cli-dot-" + strconv.Itoa(os.Getpid())
		if goInit {
			id = "..cli-dot-" + strconv.Itoa(os.Getpid())
		}
		bun := newBundle(t, "echo", "hi")
		if goInit {
			useGoInit(bun)
			bun.Save(t)
		}
		t.Cleanup(func() { b.Run("delete", "--force", id) })
		r := b.MustRun("--debug", "create", "--bundle", bun.Dir, id)
		if fromPlan := strings.Contains(r.Stderr, planned); fromPlan == goInit {
			t.Fatalf("%s: init from a plan: %v, want %v", id, fromPlan, !goInit)
		}
		keys, err := os.ReadFile("/proc/keys")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(keys), " _ses."+id+": ") {
			t.Errorf("%s: no session keyring _ses.%s in /proc/keys:\n%s", id, id, keys)
		}
		b.MustRun("start", id)
		waitFor(t, id+" to stop", func() bool { return b.State(id).Status == "stopped" })
		b.MustRun("delete", id)
	}
}
