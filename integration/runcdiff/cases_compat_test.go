package runcdiff

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// compatCases are where berth differs from runc on purpose
// (docs/compat.md): each marks the step where the difference shows.
var compatCases = []scenario{
	{Name: "rbind-ro-recursive", Config: withProbe(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "ro"}})
	}), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts().deliberate(compatRbindRo),
	}},
	{Name: "no-pivot", Steps: []step{
		cmd("create", "--no-pivot", "--bundle", "$BUNDLE", "$ID"), start,
		cmd(append([]string{"exec", "$ID"}, probeArgs()...)...).out(probed), mounts().deliberate(compatNoPivot),
	}},
	{Name: "proc-symlink", Rootfs: func(t *testing.T, rootfs string) {
		replaceWithSymlink(t, filepath.Join(rootfs, "proc"), "tmp")
	}, Steps: []step{create.fails("proc"), gone}},
	{Name: "sys-symlink", Rootfs: func(t *testing.T, rootfs string) {
		replaceWithSymlink(t, filepath.Join(rootfs, "sys"), "/tmp")
	}, Steps: []step{create.fails("sys"), gone}},
	{Name: "tmpcopyup-block-device", Rootfs: func(t *testing.T, rootfs string) {
		dir := filepath.Join(rootfs, "data")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mknod(filepath.Join(dir, "loop"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))); err != nil {
			t.Fatal(err)
		}
	}, Config: func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}})
	}, Steps: []step{create.deliberate(compatTmpcopyup)}},
	{Name: "device-null-listed", Config: func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: fileMode(0o666)}}
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	}, Steps: []step{create.deliberate(compatDevices), cgroupFiles("devices.list")}},
	{Name: "populated-cgroup", Steps: []step{
		populateCgroup, create.deliberate(compatPopulated),
	}},
	{Name: "preserve-fds-negative", Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "--preserve-fds", "-1", "$ID").deliberate(compatPreserveFds),
	}},
}

func replaceWithSymlink(t *testing.T, path, target string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// populateCgroup makes the container's pids cgroup before create and
// moves a process of the side's into it: a `sleep` started by an exec of
// the runtime itself would need a container, so busybox's sleep is run
// from the host in that cgroup.
var populateCgroup = observe("a process in the container's cgroup", func(s *side) (string, error) {
	return "", startInCgroup(s)
})
