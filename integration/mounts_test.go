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

// "rro" makes a bind and every mount below it read-only; so does "ro" on
// a recursive bind (CVE-2023-25809, see TestReadonlyRbindIsRecursive),
// and "rrw" after it clears read-only all the way down again.
func TestRecursiveReadonlyBind(t *testing.T) {
	b := newBerth(t)
	src := hostTreeWithSubmount(t)
	bun := newBundle(t, "sh", "-c", `for d in /rro /ro /rrw; do for f in $d/top $d/sub/x; do touch $f 2>/dev/null && echo "$f writable" || echo "$f read-only"; done; done`)
	bun.Spec.Mounts = append(bun.Spec.Mounts,
		specs.Mount{Destination: "/rro", Type: "bind", Source: src, Options: []string{"rbind", "rro"}},
		specs.Mount{Destination: "/ro", Type: "bind", Source: src, Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/rrw", Type: "bind", Source: src, Options: []string{"rbind", "ro", "rrw"}},
	)
	bun.Spec.Root.Readonly = false
	bun.Save(t)
	r := b.RunContainer(bun, "rro")
	want := "/rro/top read-only\n/rro/sub/x read-only\n/ro/top read-only\n/ro/sub/x read-only\n/rrw/top writable\n/rrw/sub/x writable\n"
	if r.Stdout != want {
		t.Errorf("recursive read-only binds: got\n%s\nwant\n%s", r.Stdout, want)
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

// An idmapped mount shows a file whose owner on disk is a mapping's
// containerID as owned by its hostID, as the kernel and runc define it.
func TestIDMappedBindMount(t *testing.T) {
	b := newBerth(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "owned"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bun := newBundle(t, "sh", "-c", "stat -c '%u:%g' /mapped/owned /plain/owned")
	idmap := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	bun.Spec.Mounts = append(bun.Spec.Mounts,
		specs.Mount{Destination: "/mapped", Type: "bind", Source: src, Options: []string{"bind"}, UIDMappings: idmap, GIDMappings: idmap},
		specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"bind"}},
	)
	bun.Save(t)
	r := b.RunContainer(bun, "idmap")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	if r.Stdout != "1000:1000\n0:0\n" {
		t.Errorf("a root-owned file through a mount mapping 0 to 1000, then through a plain bind: %q, want 1000:1000 then 0:0", r.Stdout)
	}

	bad := newBundle(t, "true")
	bad.Spec.Mounts = append(bad.Spec.Mounts, specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", UIDMappings: idmap, GIDMappings: idmap})
	bad.Save(t)
	b.MustFail([]string{"only bind mounts can be idmapped"}, "run", "--bundle", bad.Dir, "badidmap")
}

// The use engines make of it: a volume written by the host's root, shared
// with a container in a user namespace, idmapped with the container's own
// mapping, is the container root's own.
func TestIDMappedMountInUserNamespace(t *testing.T) {
	b := newBerth(t)
	vol := t.TempDir()
	if err := os.WriteFile(filepath.Join(vol, "data"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	bun := newBundle(t, "sh", "-c", "stat -c '%u' /vol/data; echo more >> /vol/data && echo wrote")
	userNamespace(bun, 100000)
	mapping := bun.Spec.Linux.UIDMappings
	bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"bind"}, UIDMappings: mapping, GIDMappings: mapping})
	openUp(t, bun, 100000)
	bun.Save(t)
	r := b.RunContainer(bun, "idmapns")
	if r.Code != 0 || r.Stdout != "0\nwrote\n" {
		t.Errorf("idmapped volume in a user namespace: %v, want owner 0 and a successful write", r)
	}
	fi, err := os.Stat(filepath.Join(vol, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscallStat).Uid; uid != 0 {
		t.Errorf("on the host the file is now owned by %d, want still 0", uid)
	}
}

// tmpcopyup (as podman passes it for tmpfs volumes) fills the tmpfs with
// what the image has there.
func TestTmpfsCopyUp(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "cat /data/file /data/sub/deep; readlink /data/link; stat -c '%a %g' /data/sub; touch /data/new 2>&1; grep ' /data ' /proc/self/mountinfo | grep -c tmpfs")
	data := filepath.Join(bun.Rootfs(), "data")
	if err := os.MkdirAll(filepath.Join(data, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(data, "file"), "from the image\n")
	writeFile(t, filepath.Join(data, "sub", "deep"), "deeper\n")
	if err := os.Symlink("/etc/passwd", filepath.Join(data, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(data, "sub"), 0, 1000); err != nil {
		t.Fatal(err)
	}
	bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "tmpcopyup", "ro"}})
	bun.Save(t)
	r := b.RunContainer(bun, "copyup")
	want := "from the image\ndeeper\n/etc/passwd\n750 1000\ntouch: /data/new: Read-only file system\n1\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("tmpfs with tmpcopyup: %v, want stdout %q", r, want)
	}
}
