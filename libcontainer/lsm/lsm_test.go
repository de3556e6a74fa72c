package lsm

import "testing"

func TestMountOption(t *testing.T) {
	const label = "system_u:object_r:container_file_t:s0:c1,c2"
	for _, tc := range []struct{ fstype, label, want string }{
		{"tmpfs", label, `context="` + label + `"`},
		{"devpts", label, `context="` + label + `"`},
		{"tmpfs", "", ""},
		{"proc", label, ""},
		{"sysfs", label, ""},
		{"mqueue", label, ""},
	} {
		if got := MountOption(tc.fstype, tc.label); got != tc.want {
			t.Errorf("MountOption(%q, %q) = %q, want %q", tc.fstype, tc.label, got, tc.want)
		}
	}
}
