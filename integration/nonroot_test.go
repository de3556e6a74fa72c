package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/berthrt/berth/spec"
)

// TestNonRootCallerToldWhy runs create and run as an unprivileged user,
// with a state root it may write and a bundle it may read. berth cannot
// make a container without root and does not run rootless containers; the
// caller must be told that, not some step's EPERM (or, before, that the
// kernel was too old), and nothing may be left behind.
func TestNonRootCallerToldWhy(t *testing.T) {
	const nobody = 65534
	dir, err := os.MkdirTemp("", "cli-nonroot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "state")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(root, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	for _, rootless := range []bool{false, true} {
		bun := &bundle{Dir: filepath.Join(dir, "bundle"), Spec: spec.Default()}
		makeRootfs(t, bun.Rootfs())
		bun.Spec.Process.Terminal = false
		bun.Spec.Process.Args = []string{"true"}
		if rootless {
			spec.Rootless(bun.Spec, nobody, nobody)
		}
		bun.Save(t)
		for _, args := range [][]string{
			{"create", "--bundle", bun.Dir, "cli-nonroot"},
			{"run", "--bundle", bun.Dir, "cli-nonroot"},
		} {
			cmd := exec.Command(berthBinary, append([]string{"--root", root}, args...)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("%s as uid %d (rootless config: %v) succeeded: %s", args[0], nobody, rootless, out)
			}
			for _, want := range []string{`"cli-nonroot"`, "needs root", "CAP_SYS_ADMIN", "rootless"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s as uid %d (rootless config: %v): %q does not say %q", args[0], nobody, rootless, out, want)
				}
			}
			if left, _ := os.ReadDir(root); len(left) > 0 {
				t.Errorf("%s as uid %d left %v in the state root", args[0], nobody, left)
			}
		}
	}
}
