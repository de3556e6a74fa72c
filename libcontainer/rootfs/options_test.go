package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	tests := []struct {
		options  []string
		flags    uintptr
		data     string
		set, clr uint64
	}{
		{[]string{"ro", "nosuid", "nodev", "size=10m", "mode=755"}, unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV, "size=10m,mode=755", 0, 0},
		{[]string{"rbind", "ro", "rw"}, unix.MS_BIND | unix.MS_REC, "", 0, 0},
		{[]string{"bind", "rro", "rnosuid"}, unix.MS_BIND, "", unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID, 0},
		{[]string{"rro", "rrw"}, 0, "", 0, unix.MOUNT_ATTR_RDONLY},
		{[]string{"rnoatime"}, 0, "", unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnoatime", "ratime"}, 0, "", unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"defaults", "exec", "noexec"}, unix.MS_NOEXEC, "", 0, 0},
	}
	for _, tc := range tests {
		o := parseMountOptions(tc.options)
		if o.flags != tc.flags || o.dataString() != tc.data || o.recursive.Attr_set != tc.set || o.recursive.Attr_clr != tc.clr {
			t.Errorf("%v: flags %#x data %q set %#x clr %#x; want %#x %q %#x %#x",
				tc.options, o.flags, o.dataString(), o.recursive.Attr_set, o.recursive.Attr_clr, tc.flags, tc.data, tc.set, tc.clr)
		}
	}
	if o := parseMountOptions([]string{"rslave", "shared"}); len(o.propagation) != 2 {
		t.Errorf("propagation options: %v", o.propagation)
	}
}
