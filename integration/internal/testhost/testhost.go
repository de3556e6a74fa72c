// Package testhost is what the end-to-end test packages (integration/ and
// integration/runcdiff/) need of the host: a busybox root filesystem, the
// test's own cgroups, and the processes of containers left behind.
package testhost

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// BusyboxPath is Debian's busybox-static, the one program of every test
// root filesystem.
const BusyboxPath = "/bin/busybox"

// MakeRootfs makes a busybox root filesystem at rootfs: busybox with a link
// for each applet in /bin, and an /etc/passwd and /etc/group with root and
// nobody.
func MakeRootfs(t testing.TB, rootfs string) {
	t.Helper()
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(BusyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range busyboxApplets(t) {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", applet)); err != nil && !errors.Is(err, os.ErrExist) {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
	writeFile(t, filepath.Join(rootfs, "etc", "group"), "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")
}

var applets struct {
	once  sync.Once
	names []string
	err   error
}

func busyboxApplets(t testing.TB) []string {
	applets.once.Do(func() {
		out, err := exec.Command(BusyboxPath, "--list").Output()
		applets.names, applets.err = strings.Fields(string(out)), err
	})
	if applets.err != nil {
		t.Fatalf("busybox --list: %v", applets.err)
	}
	return applets.names
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// OwnCgroupDirs returns the directories of this process's cgroup in each
// mounted hierarchy, where containers with an empty or relative
// cgroupsPath nest.
func OwnCgroupDirs(t testing.TB) []string {
	t.Helper()
	var dirs []string
	for _, h := range OwnCgroups(t) {
		dirs = append(dirs, h.Dir)
	}
	return dirs
}

// Hierarchy is one line of /proc/self/cgroup: the controllers of a
// hierarchy (none for the unified one; "name=systemd" is "systemd") and
// this process's directory in it.
type Hierarchy struct {
	Controllers []string
	Dir         string
}

// OwnCgroups returns this process's cgroup in each mounted hierarchy.
func OwnCgroups(t testing.TB) []Hierarchy {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var hs []Hierarchy
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		name := parts[1]
		switch {
		case name == "":
			name = "unified"
			if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
				name = ""
			}
		case strings.HasPrefix(name, "name="):
			name = strings.TrimPrefix(name, "name=")
		}
		var controllers []string
		if parts[1] != "" {
			controllers = strings.Split(name, ",")
		}
		hs = append(hs, Hierarchy{Controllers: controllers, Dir: filepath.Join("/sys/fs/cgroup", name, parts[2])})
	}
	return hs
}

// ProcessesUnder lists processes whose root filesystem lies under dir: the
// processes of containers whose rootfs is there. /proc/<pid>/root shows "/"
// across mount namespaces, so the root mount's source path is read from
// the process's own mountinfo instead.
func ProcessesUnder(dir string) []int {
	ourNS, _ := os.Readlink("/proc/self/ns/mnt")
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "mnt"))
		if err != nil || ns == ourNS {
			continue
		}
		info, err := os.ReadFile(filepath.Join("/proc", e.Name(), "mountinfo"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			f := strings.Fields(line)
			if len(f) > 4 && f[4] == "/" && strings.HasPrefix(f[3], dir+"/") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
