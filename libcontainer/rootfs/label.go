package rootfs

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/lsm"
)

// withMountLabel adds linux.mountLabel, as the option that labels a new
// filesystem of type fstype, to opts.
func withMountLabel(opts mountOptions, fstype string, s *specs.Spec) mountOptions {
	if s.Linux == nil {
		return opts
	}
	if o := lsm.MountOption(fstype, s.Linux.MountLabel); o != "" {
		opts.data = append(slices.Clone(opts.data), o)
	}
	return opts
}
