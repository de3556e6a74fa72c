package integration

import (
	"strings"
	"testing"
)

func TestRunPrintsFromInside(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "echo pid=$$; hostname")
	r := b.RunContainer(bun, "smoke")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	if !strings.Contains(r.Stdout, "pid=1\n") || !strings.Contains(r.Stdout, "berth\n") {
		t.Fatalf("want pid 1 and hostname berth, got %q", r.Stdout)
	}
}
