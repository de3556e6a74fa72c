package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestResolveInRoot(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"etc", "real/sub"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"etc/resolv.conf": "../run/systemd/resolve/stub-resolv.conf", // dangling, relative
		"abs":             "/real/sub",
		"out":             "../../../../outside", // dangling, climbs past the root
		"chain":           "abs/../gone",
		"loop1":           "loop2",
		"loop2":           "loop1",
		"real/sub/up":     "../x",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for in, want := range map[string]string{
		"/etc/resolv.conf": "/run/systemd/resolve/stub-resolv.conf",
		"/abs/new/dir":     "/real/sub/new/dir",
		"/out/m":           "/outside/m",
		"/chain":           "/real/gone",
		"/abs/up/y":        "/real/x/y",
		"/../../etc/./x":   "/etc/x",
		"/":                "/",
	} {
		got, err := resolveInRoot(root, in)
		if err != nil || got != want {
			t.Errorf("resolveInRoot(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := resolveInRoot(root, "/loop1/x"); !errors.Is(err, unix.ELOOP) {
		t.Errorf("resolveInRoot through a symlink loop: %v, want ELOOP", err)
	}
}
