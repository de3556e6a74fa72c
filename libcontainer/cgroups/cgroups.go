// Package cgroups places a container's processes in cgroups and controls
// them as a group: limit their resources, freeze, kill, list, read their
// usage, remove.
//
// Two drivers write cgroupfs directly: fs2 on hosts where /sys/fs/cgroup is
// the unified (v2) hierarchy, fs1 on v1 and hybrid hosts. New picks one from
// the host; Load rebuilds one from the paths a manager reported earlier.
package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/berthrt/berth/libcontainer/cgroups/fs1"
	"github.com/berthrt/berth/libcontainer/cgroups/fs2"
	"github.com/berthrt/berth/libcontainer/cgroups/internal/limits"
	"github.com/berthrt/berth/libcontainer/cgroups/stats"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Manager controls the cgroups of one container.
type Manager interface {
	// Create makes the cgroups that do not exist yet, with any missing
	// parents. A cgroup that exists already must hold no process, in any
	// hierarchy, and none may be frozen: the container's limits, pause
	// and kill would reach processes that are not its own, and its init
	// would hang. If Create fails, call Destroy to remove what it made.
	Create() error
	// Apply moves process pid, with its threads, into the cgroups.
	Apply(pid int) error
	// Pids lists every process in the container's cgroups, including the
	// cgroups the container created below them.
	Pids() ([]int, error)
	// Freeze stops every process and returns once the kernel reports them
	// frozen.
	Freeze() error
	// Thaw lets frozen processes run again.
	Thaw() error
	// Kill sends SIGKILL to every process, with no window for a fork to
	// escape; the processes may take a moment to go.
	Kill() error
	// Destroy removes the cgroups Create made and those below them.
	// Processes that are left there are killed and given a few seconds
	// to go; cgroups that are already gone are not an error. A cgroup
	// that was there before Create is left as it is, with what is in it,
	// and so are parents that Create made, as other containers may share
	// them.
	Destroy() error
	// Paths returns the cgroup directories by controller key ("memory",
	// "name=systemd"…, and "unified" for the v2 hierarchy), for Load.
	Paths() map[string]string
	// Preexisting returns the directories of Paths that were there before
	// Create, for Load: Destroy leaves them.
	Preexisting() []string
	// Validate checks that r's values are valid and that this host and
	// cgroup version can apply every one, touching no cgroup, so that a
	// bad config fails before anything is made.
	Validate(r *specs.LinuxResources) error
	// Set writes the limits r sets into the cgroups Apply made; what r
	// leaves out keeps its value. Device rules, when r has any, replace
	// the whole device policy.
	Set(r *specs.LinuxResources) error
	// Stats reads the cgroups' usage counters.
	Stats() (*stats.Stats, error)
	// Frozen reports whether the cgroups are frozen (paused).
	Frozen() (bool, error)
	// NotifyOOM returns a channel that receives a value when the kernel
	// runs out of memory in the cgroup, and is closed once the cgroup is
	// gone (v1) or empty (v2).
	NotifyOOM() (<-chan struct{}, error)
}

// New returns the manager of the container id's cgroups, creating nothing
// yet. cgroupsPath is the OCI config's linux.cgroupsPath: an absolute path is
// taken from each hierarchy's root; a relative one nests under the calling
// process's own cgroup in each hierarchy, as does the id when cgroupsPath is
// empty. The path must not contain "..", nor name the caller's own cgroup or
// an ancestor of it, which Kill and Destroy would turn on the runtime itself.
func New(cgroupsPath, id string) (Manager, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("find own cgroups: %w", err)
	}
	own, err := parseProcCgroup(string(data))
	if err != nil {
		return nil, err
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, fmt.Errorf("find cgroup mounts: %w", err)
	}
	unified := IsUnified()
	paths, err := resolvePaths(own, mounts, unified, cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	if unified {
		return fs2.New(paths["unified"]), nil
	}
	return fs1.New(paths), nil
}

// Load returns the manager of the cgroups at paths, as a Manager's Paths
// reported them, for a later process to control the same container;
// preexisting are the directories its Preexisting reported, which Destroy
// leaves. A lone "unified" path means the fs2 driver; anything else, fs1.
func Load(paths map[string]string, preexisting []string) (Manager, error) {
	if len(paths) == 0 {
		return nil, errors.New("load cgroups: no cgroup paths")
	}
	for key, dir := range paths {
		if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
			return nil, fmt.Errorf("load cgroups: %s path %q is not a clean absolute path", key, dir)
		}
	}
	if dir, ok := paths["unified"]; ok && len(paths) == 1 {
		return fs2.Load(dir, slices.Contains(preexisting, dir)), nil
	}
	return fs1.Load(maps.Clone(paths), preexisting), nil
}

// IsUnified reports whether the host is pure cgroup v2: /sys/fs/cgroup is a
// cgroup2 mount.
func IsUnified() bool {
	return isUnified()
}

var isUnified = sync.OnceValue(func() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
})

// cgroupMounts returns the cgroup and cgroup2 mounts of the process's mount
// namespace that are not covered by later mounts. The namespace does not
// change under a runtime; parsing mountinfo once per process is enough.
var cgroupMounts = sync.OnceValues(func() ([]*mountinfo.Info, error) {
	all, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil, err
	}
	return visibleCgroupMounts(all), nil
})

// ParseCPUList parses a CPU list in cpuset's syntax ("0-3,8,10-11"); the
// empty list is empty.
func ParseCPUList(s string) ([]uint16, error) { return limits.ParseList(s) }
