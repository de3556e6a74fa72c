package libcontainer

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/cgroups"
	"github.com/berthrt/berth/libcontainer/cgroups/devices"
	"github.com/berthrt/berth/libcontainer/cgroups/stats"
	"github.com/berthrt/berth/libcontainer/state"
	"github.com/berthrt/berth/libcontainer/trace"
)

// errNoCgroup is returned for a container whose state records no cgroup,
// which only a create that crashed half way leaves.
var errNoCgroup = errors.New("it has no cgroup")

// Pause freezes every process of a created or running container.
func (c *Container) Pause() error {
	entry, err := c.lockFresh()
	if err != nil {
		return err
	}
	defer entry.Unlock()
	switch st := c.Status(); st {
	case specs.StateCreated, specs.StateRunning:
	default:
		return fmt.Errorf("cannot pause container %q: it is %s", c.p.ID, st)
	}
	cg, err := c.mustCgroup("pause")
	if err != nil {
		return err
	}
	// Recorded first: should berth die after freezing, the record is
	// there for the freezer to confirm.
	if err := c.savePaused(entry, true); err != nil {
		return err
	}
	if err := cg.Freeze(); err != nil {
		_ = cg.Thaw()
		return errors.Join(fmt.Errorf("pause container %q: %w", c.p.ID, err), c.savePaused(entry, false))
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	entry, err := c.lockFresh()
	if err != nil {
		return err
	}
	defer entry.Unlock()
	if st := c.Status(); st != StatePaused {
		return fmt.Errorf("cannot resume container %q: it is %s, not paused", c.p.ID, st)
	}
	return c.thaw(entry, "resume")
}

// thawKilled thaws a paused container just sent SIGKILL, so that its
// processes die: on cgroup v1 a frozen process does not until thawed. On
// v2 it may be gone already, so its status is not checked again.
func (c *Container) thawKilled() error {
	entry, err := c.lockFresh()
	if err != nil {
		return err
	}
	defer entry.Unlock()
	return c.thaw(entry, "thaw")
}

// thaw thaws the container's cgroups for operation op and records that it
// is no longer paused.
func (c *Container) thaw(entry *state.Entry, op string) error {
	cg, err := c.mustCgroup(op)
	if err != nil {
		return err
	}
	if err := cg.Thaw(); err != nil {
		return fmt.Errorf("%s container %q: %w", op, c.p.ID, err)
	}
	return c.savePaused(entry, false)
}

// lockFresh locks the container and rereads its state, which another
// command may have changed since it was loaded.
func (c *Container) lockFresh() (*state.Entry, error) {
	entry, err := c.store.Lock(c.p.ID)
	if err != nil {
		return nil, err
	}
	if err := entry.Load(&c.p); err != nil {
		entry.Unlock()
		return nil, err
	}
	return entry, nil
}

func (c *Container) savePaused(entry *state.Entry, paused bool) error {
	c.p.Paused = paused
	return entry.Save(&c.p)
}

// Update changes the resource limits of a container that has not stopped.
// The fields r sets replace those the container has; the rest stay. Device
// rules cannot be changed this way and are ignored, as runc does. The
// container's saved config is updated too, so that a later Update knows
// the limits that depend on each other (swap on memory, quota on period).
func (c *Container) Update(r *specs.LinuxResources) (err error) {
	tr := trace.Start("update", c.p.ID)
	defer func() { tr.End(err) }()
	entry, err := c.store.Lock(c.p.ID)
	if err != nil {
		return err
	}
	defer entry.Unlock()
	if st := c.Status(); st == specs.StateStopped {
		return fmt.Errorf("cannot update container %q: it has stopped", c.p.ID)
	}
	cg, err := c.mustCgroup("update")
	if err != nil {
		return err
	}
	spec, err := c.Spec()
	if err != nil {
		return err
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	merged := mergeResources(spec.Linux.Resources, r)
	set := *merged
	set.Devices = nil
	if err := cg.Validate(&set); err != nil {
		return fmt.Errorf("update container %q: %w", c.p.ID, err)
	}
	tr.Step("limits checked")
	if err := cg.Set(&set); err != nil {
		return fmt.Errorf("update container %q: %w", c.p.ID, err)
	}
	tr.Step("cgroup limits written")
	spec.Linux.Resources = merged
	if err := writeJSON(filepath.Join(entry.Dir(), configFileName), spec); err != nil {
		return err
	}
	tr.Step("config saved")
	return nil
}

// Processes lists the pids, in the runtime's pid namespace, of every
// process in the container's cgroup.
func (c *Container) Processes() ([]int, error) {
	cg, err := c.mustCgroup("list processes of")
	if err != nil {
		return nil, err
	}
	pids, err := cg.Pids()
	if err != nil {
		return nil, fmt.Errorf("list processes of container %q: %w", c.p.ID, err)
	}
	return pids, nil
}

// Stats reads the container's cgroup counters.
func (c *Container) Stats() (*stats.Stats, error) {
	cg, err := c.mustCgroup("read stats of")
	if err != nil {
		return nil, err
	}
	s, err := cg.Stats()
	if err != nil {
		return nil, fmt.Errorf("read stats of container %q: %w", c.p.ID, err)
	}
	return s, nil
}

// NotifyOOM returns a channel that receives a value each time the kernel
// runs out of memory in the container's cgroup, and is closed once the
// cgroup is gone (cgroup v1) or empty (v2).
func (c *Container) NotifyOOM() (<-chan struct{}, error) {
	cg, err := c.mustCgroup("watch")
	if err != nil {
		return nil, err
	}
	ch, err := cg.NotifyOOM()
	if err != nil {
		return nil, fmt.Errorf("container %q: %w", c.p.ID, err)
	}
	return ch, nil
}

func (c *Container) mustCgroup(action string) (cgroups.Manager, error) {
	if len(c.p.CgroupPaths) == 0 {
		return nil, fmt.Errorf("cannot %s container %q: %w", action, c.p.ID, errNoCgroup)
	}
	return c.cgroup()
}

// paused reports whether the container's cgroup is frozen, by berth's
// pause or by anyone else: a process exec'd into it would freeze too.
// `list` reads only the summary of a state, with no cgroup paths, unless
// berth paused the container: it reads no other freezer.
func (c *Container) paused() bool {
	if len(c.p.CgroupPaths) == 0 {
		return false
	}
	cg, err := c.cgroup()
	if err != nil {
		return false
	}
	frozen, err := cg.Frozen()
	return err == nil && frozen
}

// containerResources returns the resources create applies: the config's,
// with the defaults every container gets after its device rules. Nodes in
// linux.devices get no rule of their own: the config's rules say what may
// be opened, as runc reads them.
func containerResources(s *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if s.Linux != nil && s.Linux.Resources != nil {
		r = *s.Linux.Resources
	}
	r.Devices = append(slices.Clip(r.Devices), devices.DefaultRules()...)
	return &r
}

// mergeResources returns old with the fields that update sets replaced, as
// runc's update merges them. old is not changed.
func mergeResources(old, update *specs.LinuxResources) *specs.LinuxResources {
	var m specs.LinuxResources
	if old != nil {
		m = *old
	}
	if update == nil {
		return &m
	}
	if u := update.Memory; u != nil {
		mem := specs.LinuxMemory{}
		if m.Memory != nil {
			mem = *m.Memory
		}
		override(&mem.Limit, u.Limit)
		override(&mem.Reservation, u.Reservation)
		override(&mem.Swap, u.Swap)
		override(&mem.KernelTCP, u.KernelTCP)
		override(&mem.Swappiness, u.Swappiness)
		override(&mem.DisableOOMKiller, u.DisableOOMKiller)
		override(&mem.CheckBeforeUpdate, u.CheckBeforeUpdate)
		if u.Limit != nil && *u.Limit == -1 && u.Swap == nil {
			// No memory limit means no memory+swap limit either.
			unlimited := int64(-1)
			mem.Swap = &unlimited
		}
		m.Memory = &mem
	}
	if u := update.CPU; u != nil {
		cpu := specs.LinuxCPU{}
		if m.CPU != nil {
			cpu = *m.CPU
		}
		override(&cpu.Shares, u.Shares)
		override(&cpu.Quota, u.Quota)
		override(&cpu.Burst, u.Burst)
		override(&cpu.Period, u.Period)
		override(&cpu.RealtimeRuntime, u.RealtimeRuntime)
		override(&cpu.RealtimePeriod, u.RealtimePeriod)
		override(&cpu.Idle, u.Idle)
		if u.Cpus != "" {
			cpu.Cpus = u.Cpus
		}
		if u.Mems != "" {
			cpu.Mems = u.Mems
		}
		m.CPU = &cpu
	}
	if u := update.Pids; u != nil && u.Limit != nil {
		m.Pids = &specs.LinuxPids{Limit: u.Limit}
	}
	if u := update.BlockIO; u != nil {
		b := specs.LinuxBlockIO{}
		if m.BlockIO != nil {
			b = *m.BlockIO
		}
		override(&b.Weight, u.Weight)
		override(&b.LeafWeight, u.LeafWeight)
		replace(&b.WeightDevice, u.WeightDevice)
		replace(&b.ThrottleReadBpsDevice, u.ThrottleReadBpsDevice)
		replace(&b.ThrottleWriteBpsDevice, u.ThrottleWriteBpsDevice)
		replace(&b.ThrottleReadIOPSDevice, u.ThrottleReadIOPSDevice)
		replace(&b.ThrottleWriteIOPSDevice, u.ThrottleWriteIOPSDevice)
		m.BlockIO = &b
	}
	replace(&m.HugepageLimits, update.HugepageLimits)
	if update.Network != nil {
		m.Network = update.Network
	}
	if update.Rdma != nil {
		m.Rdma = update.Rdma
	}
	if update.Unified != nil {
		unified := make(map[string]string, len(m.Unified)+len(update.Unified))
		maps.Copy(unified, m.Unified)
		maps.Copy(unified, update.Unified)
		m.Unified = unified
	}
	return &m
}

func override[T any](dst **T, src *T) {
	if src != nil {
		v := *src
		*dst = &v
	}
}

func replace[T any](dst *[]T, src []T) {
	if src != nil {
		*dst = src
	}
}
