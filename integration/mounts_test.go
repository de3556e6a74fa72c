package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hostTreeWithSubmount makes a host directory with a tmpfs mounted inside
// it, unmounted after the test.
func hostTreeWithSubmount(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(sub, unix.MNT_DETACH) })
	return dir
}

func TestRecursiveReadonlyBind(t *testing.T) {
	b := newBerth(t)
	src := hostTreeWithSubmount(t)
	bun := newBundle(t, "sh", "-c", "touch /ro/top /ro/sub/x 2>&1; touch /plain/sub/y && echo plain-sub-writable")
	bun.Spec.Mounts = append(bun.Spec.Mounts,
		specs.Mount{Destination: "/ro", Type: "bind", Source: src, Options: []string{"rbind", "rro"}},
		specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"rbind", "ro"}},
	)
	bun.Spec.Root.Readonly = false
	bun.Save(t)
	r := b.RunContainer(bun, "rro")
	if got := strings.Count(r.Stdout, "Read-only file system"); got != 2 {
		t.Errorf("rro: want both the mount and its submount read-only, got:\n%s", r.Stdout)
	}
	// Plain "ro" covers only the top mount, as mount(8) does.
	if !strings.Contains(r.Stdout, "plain-sub-writable") {
		t.Errorf("ro without r: submount should stay writable:\n%s", r.Stdout)
	}
}

func TestRecursiveNoexec(t *testing.T) {
	b := newBerth(t)
	src := hostTreeWithSubmount(t)
	if err := os.WriteFile(filepath.Join(src, "sub", "prog"), []byte("#!/bin/sh\necho ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	bun := newBundle(t, "sh", "-c", "/m/sub/prog; grep ' /m/sub ' /proc/self/mountinfo")
	bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: src, Options: []string{"rbind", "rnoexec", "rnosuid"}})
	bun.Save(t)
	r := b.RunContainer(bun, "rnoexec")
	if strings.Contains(r.Stdout, "ran") {
		t.Errorf("rnoexec: a program on a submount ran:\n%v", r)
	}
	if !strings.Contains(r.Stdout, "noexec") || !strings.Contains(r.Stdout, "nosuid") {
		t.Errorf("rnoexec,rnosuid: submount options:\n%s", r.Stdout)
	}
}
