package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// A procfs or sysfs mount point must be a directory in the image, or be
// missing (then it is made); a symlink there is refused wherever it
// leads. Only the last component counts, as for runc.
func TestOrdinaryDirInRoot(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"proc", "real", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"sys": "real", "abs": "/real", "dangling": "/gone", "via": "/etc"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for dest, refused := range map[string]string{
		"/proc":      "",
		"/proc/":     "",
		"/new/proc":  "",
		"/via/proc":  "", // a link before the last component resolves in the root
		"/sys":       "a symlink",
		"/sys/":      "a symlink",
		"/abs":       "a symlink",
		"/dangling":  "a symlink",
		"/file":      "a file",
		"/../../sys": "a symlink",
	} {
		f, err := ordinaryDirInRoot(root, dest, "proc")
		if refused == "" {
			if err != nil {
				t.Errorf("%s: %v, want it opened", dest, err)
			} else {
				f.Close()
			}
			continue
		}
		if err == nil {
			f.Close()
			t.Errorf("%s: opened, want it refused as %s", dest, refused)
		} else if want := "proc must be mounted on an ordinary directory"; !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), " is "+refused) {
			t.Errorf("%s: %v, want %q and %q", dest, err, want, refused)
		}
	}
	for _, made := range []string{"new/proc", "etc/proc"} {
		if fi, err := os.Lstat(filepath.Join(dir, made)); err != nil || !fi.IsDir() {
			t.Errorf("%s was not made a directory: %v", made, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "gone")); err == nil {
		t.Error("the dangling link's target was made")
	}
}

func TestIsUnder(t *testing.T) {
	for _, tc := range []struct {
		p, dir string
		want   bool
	}{
		{"/proc", "/proc", true},
		{"/proc/sys", "/proc", true},
		{"/procfs", "/proc", false},
		{"/", "/proc", false},
		{"/tmp/b/rootfs", "/", true},
		{"/", "/", true},
	} {
		if got := isUnder(tc.p, tc.dir); got != tc.want {
			t.Errorf("isUnder(%q, %q) = %v, want %v", tc.p, tc.dir, got, tc.want)
		}
	}
}
