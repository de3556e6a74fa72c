package cgroups

import "github.com/moby/sys/mountinfo"

// visibleCgroupMounts returns the cgroup and cgroup2 mounts among all that a
// path lookup still reaches. mountinfo keeps listing a mount after another is
// stacked over it or over a directory above it (a tmpfs over /sys/fs/cgroup
// in a private mount namespace), but its mountpoint then leads to the new
// mount: trusting the covered entry would send writes to a directory that
// is not the hierarchy.
func visibleCgroupMounts(all []*mountinfo.Info) []*mountinfo.Info {
	byID := make(map[int]*mountinfo.Info, len(all))
	for _, m := range all {
		byID[m.ID] = m
	}
	var out []*mountinfo.Info
	for _, m := range all {
		if (m.FSType == "cgroup" || m.FSType == "cgroup2") && !covered(m, all, byID) {
			out = append(out, m)
		}
	}
	return out
}

// covered reports whether some mount hides m: one stacked on m itself, or a
// sibling of m or of one of its ancestors mounted over that one's mountpoint
// or a directory above it. Which of two siblings on the same mountpoint is on
// top mountinfo does not say; the later (higher id) is taken.
func covered(m *mountinfo.Info, all []*mountinfo.Info, byID map[int]*mountinfo.Info) bool {
	for _, x := range all {
		if x.Parent == m.ID && x.Mountpoint == m.Mountpoint {
			return true
		}
	}
	seen := make(map[int]bool)
	for c := m; c != nil && !seen[c.ID]; c = byID[c.Parent] {
		seen[c.ID] = true
		for _, x := range all {
			if x.Parent != c.Parent || x.ID == c.ID || !within(c.Mountpoint, x.Mountpoint) {
				continue
			}
			if x.Mountpoint != c.Mountpoint || x.ID > c.ID {
				return true
			}
		}
	}
	return false
}
