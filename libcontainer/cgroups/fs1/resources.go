package fs1

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/cgroups/devices"
	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
	"github.com/berthrt/berth/libcontainer/cgroups/internal/limits"
)

// Validate checks r's values and that this host mounts the v1 controller of
// every resource r sets. It touches no cgroup.
func (m *Manager) Validate(r *specs.LinuxResources) error {
	if err := limits.Validate(r); err != nil {
		return err
	}
	if r == nil {
		return nil
	}
	if len(r.Unified) > 0 {
		return errors.New("invalid linux.resources: unified sets cgroup v2 files, and this host uses cgroup v1")
	}
	for _, need := range controllersFor(r) {
		if _, ok := m.paths[need.controller]; !ok {
			return fmt.Errorf("unsupported linux.resources: %s needs the %s cgroup controller, which this host does not mount", need.resource, need.controller)
		}
	}
	return nil
}

type requirement struct{ resource, controller string }

func controllersFor(r *specs.LinuxResources) []requirement {
	var out []requirement
	need := func(cond bool, resource, controller string) {
		if cond {
			out = append(out, requirement{resource, controller})
		}
	}
	if c := r.CPU; c != nil {
		need(c.Shares != nil || c.Quota != nil || c.Period != nil || c.Burst != nil ||
			c.RealtimeRuntime != nil || c.RealtimePeriod != nil || c.Idle != nil, "cpu", "cpu")
		need(c.Cpus != "" || c.Mems != "", "cpu.cpus and cpu.mems", "cpuset")
	}
	if mem := r.Memory; mem != nil {
		need(mem.Limit != nil || mem.Reservation != nil || mem.Swap != nil || mem.KernelTCP != nil ||
			mem.Swappiness != nil || mem.DisableOOMKiller != nil, "memory", "memory")
	}
	need(r.Pids != nil && r.Pids.Limit != nil, "pids", "pids")
	need(r.BlockIO != nil, "blockIO", "blkio")
	need(len(r.HugepageLimits) > 0, "hugepageLimits", "hugetlb")
	if n := r.Network; n != nil {
		need(n.ClassID != nil, "network.classID", "net_cls")
		need(len(n.Priorities) > 0, "network.priorities", "net_prio")
	}
	need(len(r.Rdma) > 0, "rdma", "rdma")
	need(r.Devices != nil, "devices", "devices")
	return out
}

// Set writes every limit r sets into the container's cgroups; what r leaves
// out keeps its value. Device rules are written only when r has some, as a
// whole new policy: they must come with the defaults (see devices).
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []func(*specs.LinuxResources) error{
		m.setCpuset, m.setMemory, m.setCPU, m.setPids, m.setBlkio,
		m.setHugetlb, m.setNetwork, m.setRdma, m.setDevices,
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) setCpuset(r *specs.LinuxResources) error {
	if r.CPU == nil {
		return nil
	}
	dir := m.paths["cpuset"]
	if r.CPU.Cpus != "" {
		if err := cgdir.Set(dir, "cpuset.cpus", r.CPU.Cpus); err != nil {
			return err
		}
	}
	if r.CPU.Mems != "" {
		return cgdir.Set(dir, "cpuset.mems", r.CPU.Mems)
	}
	return nil
}

func (m *Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	dir := m.paths["memory"]
	if err := m.checkUsage(mem); err != nil {
		return err
	}
	if err := setMemoryAndSwap(dir, mem); err != nil {
		return err
	}
	for _, v := range []struct {
		file  string
		value *int64
	}{
		{"memory.soft_limit_in_bytes", mem.Reservation},
		{"memory.kmem.tcp.limit_in_bytes", mem.KernelTCP},
	} {
		if v.value != nil {
			if err := cgdir.Set(dir, v.file, strconv.FormatInt(*v.value, 10)); err != nil {
				return err
			}
		}
	}
	if mem.Swappiness != nil {
		if err := cgdir.Set(dir, "memory.swappiness", strconv.FormatUint(*mem.Swappiness, 10)); err != nil {
			return err
		}
	}
	if mem.DisableOOMKiller != nil {
		return cgdir.Set(dir, "memory.oom_control", boolString(*mem.DisableOOMKiller))
	}
	return nil
}

// setMemoryAndSwap sets memory.limit_in_bytes and memory.memsw.limit_in_bytes
// in the order the kernel accepts: memsw may never be below the memory
// limit, so a growing pair is raised swap first and a shrinking one memory
// first.
func setMemoryAndSwap(dir string, mem *specs.LinuxMemory) error {
	var limit, swap int64
	if mem.Limit != nil {
		limit = *mem.Limit
	}
	if mem.Swap != nil {
		swap = *mem.Swap
	}
	if limit == -1 && swap == 0 {
		// "No memory limit" lifts the memory+swap one too, as
		// the kernel would otherwise refuse it.
		swap = -1
	}
	setLimit := func() error { return cgdir.Set(dir, "memory.limit_in_bytes", strconv.FormatInt(limit, 10)) }
	setSwap := func() error { return cgdir.Set(dir, "memory.memsw.limit_in_bytes", strconv.FormatInt(swap, 10)) }
	switch {
	case limit != 0 && swap != 0:
		current, err := cgdir.ReadUint(dir, "memory.memsw.limit_in_bytes")
		if err != nil {
			return fmt.Errorf("set memory.swap in cgroup %s: %w (is swap accounting enabled in this kernel?)", dir, err)
		}
		if swap == -1 || current < uint64(swap) {
			if err := setSwap(); err != nil {
				return err
			}
			return setLimit()
		}
		if err := setLimit(); err != nil {
			return err
		}
		return setSwap()
	case limit != 0:
		return setLimit()
	case swap != 0:
		return setSwap()
	}
	return nil
}

// checkUsage refuses limits below what the cgroup already uses when the
// config asks for that check (checkBeforeUpdate), rather than let the
// kernel reclaim or OOM-kill to meet them.
func (m *Manager) checkUsage(mem *specs.LinuxMemory) error {
	if mem.CheckBeforeUpdate == nil || !*mem.CheckBeforeUpdate {
		return nil
	}
	dir := m.paths["memory"]
	for _, v := range []struct {
		name, file string
		limit      *int64
	}{
		{"memory limit", "memory.usage_in_bytes", mem.Limit},
		{"memory+swap limit", "memory.memsw.usage_in_bytes", mem.Swap},
	} {
		if v.limit == nil || *v.limit <= 0 {
			continue
		}
		usage, err := cgdir.ReadUint(dir, v.file)
		if err != nil {
			continue // nothing to compare with yet
		}
		if uint64(*v.limit) <= usage {
			return fmt.Errorf("refusing %s %d: the container already uses %d bytes (checkBeforeUpdate)", v.name, *v.limit, usage)
		}
	}
	return nil
}

func (m *Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	dir := m.paths["cpu"]
	writes := []struct {
		file  string
		value string
		set   bool
	}{
		{"cpu.shares", uintString(c.Shares), c.Shares != nil && *c.Shares != 0},
		{"cpu.cfs_period_us", uintString(c.Period), c.Period != nil && *c.Period != 0},
		{"cpu.cfs_quota_us", intString(c.Quota), c.Quota != nil && *c.Quota != 0},
		{"cpu.cfs_burst_us", uintString(c.Burst), c.Burst != nil},
		{"cpu.rt_period_us", uintString(c.RealtimePeriod), c.RealtimePeriod != nil && *c.RealtimePeriod != 0},
		{"cpu.rt_runtime_us", intString(c.RealtimeRuntime), c.RealtimeRuntime != nil},
		{"cpu.idle", intString(c.Idle), c.Idle != nil},
	}
	for _, w := range writes {
		if w.set {
			if err := cgdir.Set(dir, w.file, w.value); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	return cgdir.Set(m.paths["pids"], "pids.max", limits.PidsMax(*r.Pids.Limit))
}

func (m *Manager) setBlkio(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	dir := m.paths["blkio"]
	// CFQ's blkio.weight went with CFQ in Linux 5.0; BFQ's weight files
	// take the same values.
	weight, weightDevice := "blkio.weight", "blkio.weight_device"
	if !cgdir.Exists(dir, weight) && cgdir.Exists(dir, "blkio.bfq.weight") {
		weight, weightDevice = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	if b.Weight != nil && *b.Weight != 0 {
		if err := cgdir.Set(dir, weight, strconv.Itoa(int(*b.Weight))); err != nil {
			return err
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		if err := cgdir.Set(dir, "blkio.leaf_weight", strconv.Itoa(int(*b.LeafWeight))); err != nil {
			return err
		}
	}
	for _, d := range b.WeightDevice {
		if d.Weight != nil {
			if err := cgdir.Set(dir, weightDevice, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight)); err != nil {
				return err
			}
		}
		if d.LeafWeight != nil {
			if err := cgdir.Set(dir, "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight)); err != nil {
				return err
			}
		}
	}
	for name, list := range limits.ThrottleFiles(b) {
		for _, d := range list {
			// A rate of 0 removes the device's limit.
			if err := cgdir.Set(dir, "blkio.throttle."+name, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) setHugetlb(r *specs.LinuxResources) error {
	dir := m.paths["hugetlb"]
	for _, l := range r.HugepageLimits {
		limit := strconv.FormatUint(l.Limit, 10)
		if err := cgdir.Set(dir, "hugetlb."+l.Pagesize+".limit_in_bytes", limit); err != nil {
			return err
		}
		// Where the kernel counts reservations (5.7+), limit them too:
		// a reservation is what fails cleanly at mmap time, rather
		// than with SIGBUS at fault time.
		if rsvd := "hugetlb." + l.Pagesize + ".rsvd.limit_in_bytes"; cgdir.Exists(dir, rsvd) {
			if err := cgdir.Set(dir, rsvd, limit); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) setNetwork(r *specs.LinuxResources) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		if err := cgdir.Set(m.paths["net_cls"], "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10)); err != nil {
			return err
		}
	}
	for _, p := range n.Priorities {
		if err := cgdir.Set(m.paths["net_prio"], "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) setRdma(r *specs.LinuxResources) error {
	for dev, l := range r.Rdma {
		if err := cgdir.Set(m.paths["rdma"], "rdma.max", limits.RdmaLine(dev, l)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) setDevices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	dir := m.paths["devices"]
	for _, l := range devices.V1Lines(r.Devices) {
		if err := cgdir.Set(dir, l.File, l.Line); err != nil {
			return err
		}
	}
	return nil
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func uintString(v *uint64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatUint(*v, 10)
}

func intString(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}
