package cgroups

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
)

func TestVisibleCgroupMounts(t *testing.T) {
	tests := []struct {
		name   string
		mounts string
		want   []int
	}{{
		name:   "hybrid host",
		mounts: "23 1 0:20 / /sys rw - sysfs sysfs rw\n" + hybridMounts,
		want:   []int{32, 35, 40, 41},
	}, {
		// A private mount namespace with a pure v1 view of a hybrid host:
		// a tmpfs over /sys/fs/cgroup, the v1 hierarchies mounted again in
		// it, no cgroup2. The host's mounts stay listed under the new tmpfs.
		name: "tmpfs over /sys/fs/cgroup",
		mounts: "23 1 0:20 / /sys rw - sysfs sysfs rw\n" + hybridMounts +
			`63 31 0:39 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
64 63 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
67 63 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
`,
		want: []int{64, 67},
	}, {
		name: "stacked on the same mountpoint",
		mounts: `30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
31 30 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw
`,
		want: nil,
	}, {
		name: "mounted below another cgroup mount",
		mounts: `30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
31 30 0:27 / /sys/fs/cgroup/sub rw - cgroup cgroup rw,name=x
`,
		want: []int{30, 31},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all, err := mountinfo.GetMountsFromReader(strings.NewReader(tt.mounts), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range visibleCgroupMounts(all) {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("visible mounts %v, want %v", got, tt.want)
			}
		})
	}
}
