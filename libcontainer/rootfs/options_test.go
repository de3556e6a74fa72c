package rootfs

import (
	"slices"
	"strings"
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
		{[]string{"acl", "iversion", "noacl", "mode=1777"}, unix.MS_I_VERSION, "mode=1777", 0, 0},
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

// FuzzParseMountOptions checks parseMountOptions against mount(8)'s rules
// read one option at a time: for each flag and each recursive attribute
// the last option that names it decides, propagation options apply in
// order, anything unknown goes to the filesystem in order; and the flags
// must make attributes that fsmount(2) and mount_setattr(2) accept.
func FuzzParseMountOptions(f *testing.F) {
	for _, seed := range []string{
		"ro,nosuid,nodev,size=10m,mode=755", "rbind,ro,rw", "bind,rro,rnosuid", "rro,rrw",
		"rnoatime,ratime", "defaults,exec,noexec", "rslave,shared", "tmpcopyup,mode=1777",
		"noatime,strictatime", "strictatime,relatime,noatime", "rstrictatime,rnorelatime,rnodiratime",
		"nosuid,noexec,nodev,relatime,ro", "newinstance,ptmxmode=0666,mode=0620,gid=5",
		`context="system_u:object_r:container_file_t:s0:c1,c2"`, "acl,noiversion,iversion,noacl",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, list string) {
		options := strings.Split(list, ",")
		o := parseMountOptions(options)

		var wantFlags uintptr
		var wantProp []uintptr
		var wantData []string
		var set, clr uint64
		atime := false
		for _, opt := range options {
			switch r, isRec := recursiveOptions[opt]; {
			case opt == "tmpcopyup":
			case isRec && r.attr&unix.MOUNT_ATTR__ATIME == r.attr:
				atime = true
				set &^= unix.MOUNT_ATTR__ATIME
				if !r.clear {
					set |= r.attr
				}
			case isRec && r.clear:
				set, clr = set&^r.attr, clr|r.attr
			case isRec:
				set, clr = set|r.attr, clr&^r.attr
			default:
				if fl, ok := flagOptions[opt]; ok {
					if fl.clear {
						wantFlags &^= fl.flag
					} else {
						wantFlags |= fl.flag
					}
				} else if p, ok := PropagationFlags[opt]; ok {
					wantProp = append(wantProp, p)
				} else {
					wantData = append(wantData, opt)
				}
			}
		}
		if atime {
			clr |= unix.MOUNT_ATTR__ATIME
		}
		if o.flags != wantFlags {
			t.Errorf("%q: flags %#x, want %#x", options, o.flags, wantFlags)
		}
		if !slices.Equal(o.propagation, wantProp) || !slices.Equal(o.data, wantData) {
			t.Errorf("%q: propagation %v data %q, want %v %q", options, o.propagation, o.data, wantProp, wantData)
		}
		if o.tmpcopyup != slices.Contains(options, "tmpcopyup") {
			t.Errorf("%q: tmpcopyup %v", options, o.tmpcopyup)
		}
		if o.recursive.Attr_set != set || o.recursive.Attr_clr != clr {
			t.Errorf("%q: recursive set %#x clr %#x, want %#x %#x", options, o.recursive.Attr_set, o.recursive.Attr_clr, set, clr)
		}
		// The kernel takes one atime mode: MOUNT_ATTR_NOATIME and
		// MOUNT_ATTR_STRICTATIME together are EINVAL. mount(2) settles
		// the flags so: strictatime over noatime over relatime.
		wantAtime := uint64(unix.MOUNT_ATTR_RELATIME)
		switch {
		case wantFlags&unix.MS_STRICTATIME != 0:
			wantAtime = unix.MOUNT_ATTR_STRICTATIME
		case wantFlags&unix.MS_NOATIME != 0:
			wantAtime = unix.MOUNT_ATTR_NOATIME
		}
		if got := mountAttrs(o.flags) & unix.MOUNT_ATTR__ATIME; got != wantAtime {
			t.Errorf("%q: atime attribute %#x, want %#x", options, got, wantAtime)
		}
	})
}
