package integration

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLinuxDevicesCreated(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "stat -c '%n %F %t:%T %a %u:%g' /dev/mynull /dev/sub/blk /dev/myfifo /opt/zero")
	mode := os.FileMode(0o640)
	uid, gid := uint32(1000), uint32(1001)
	bun.Spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid},
		{Path: "/dev/sub/blk", Type: "b", Major: 7, Minor: 0},
		{Path: "/dev/myfifo", Type: "p"},
		{Path: "/opt/zero", Type: "u", Major: 1, Minor: 5},
	}
	// The default config denies every device in the cgroup; allow these.
	bun.Spec.Linux.Resources.Devices = append(bun.Spec.Linux.Resources.Devices,
		specs.LinuxDeviceCgroup{Allow: true, Type: "a", Access: "rwm"})
	bun.Save(t)
	r := b.RunContainer(bun, "dev")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	for _, want := range []string{
		"/dev/mynull character special file 1:3 640 1000:1001",
		"/dev/sub/blk block special file 7:0 666 0:0",
		"/dev/myfifo fifo 0:0 666 0:0",
		"/opt/zero character special file 1:5 666 0:0",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r.Stdout)
		}
	}
	if _, err := os.Stat(bun.Rootfs() + "/opt/zero"); err != nil {
		t.Errorf("device outside /dev not made in the rootfs: %v", err)
	}
}

func TestLinuxDevicesBadType(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	bun.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z", Major: 1, Minor: 3}}
	bun.Save(t)
	b.MustFail([]string{"/dev/x", `"z"`}, "run", "--bundle", bun.Dir, "badtype")
}
