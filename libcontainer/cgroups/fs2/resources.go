package fs2

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/cgroups/devices"
	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
	"github.com/berthrt/berth/libcontainer/cgroups/internal/limits"
)

// Validate checks r's values, refuses what cgroup v2 cannot express, and
// checks that every controller r needs reaches the container's cgroup: for
// a cgroup not made yet, that its nearest existing parent has it, since
// Apply enables from there down. It touches no cgroup.
func (m *Manager) Validate(r *specs.LinuxResources) error {
	if err := limits.Validate(r); err != nil {
		return err
	}
	if r == nil {
		return nil
	}
	if err := unsupported(r); err != nil {
		return fmt.Errorf("unsupported linux.resources on cgroup v2: %w", err)
	}
	needs := controllersFor(r)
	if len(needs) == 0 {
		return nil
	}
	// The nearest existing cgroup: m.dir itself, or the parent Apply
	// will create it under.
	dir := m.dir
	for !cgdir.Exists(dir, "cgroup.controllers") && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
	}
	var available []string
	var err error
	if dir == m.dir {
		available, err = readList(dir, "cgroup.controllers")
	} else {
		available, err = delegable(dir)
	}
	if err != nil {
		return fmt.Errorf("check cgroup controllers: %w", err)
	}
	for _, need := range needs {
		if slices.Contains(available, need.controller) {
			continue
		}
		if dir != m.dir && holdsProcesses(dir) {
			return fmt.Errorf("unsupported linux.resources: %s needs the %s cgroup controller, which cgroup %s cannot pass down while it holds processes (cgroup v2 lets only leaves hold them): give the container a cgroupsPath outside the runtime's own cgroup", need.resource, need.controller, dir)
		}
		return fmt.Errorf("unsupported linux.resources: %s needs the %s cgroup controller, which cgroup %s does not have", need.resource, need.controller, dir)
	}
	return nil
}

func readList(dir, file string) ([]string, error) {
	list, err := cgdir.ReadFile(dir, file)
	return strings.Fields(list), err
}

// unsupported reports resources that exist only in cgroup v1.
func unsupported(r *specs.LinuxResources) error {
	if n := r.Network; n != nil && (n.ClassID != nil || len(n.Priorities) > 0) {
		return errors.New("network (net_cls and net_prio are v1 controllers; use nftables or tc on the cgroup path instead)")
	}
	if c := r.CPU; c != nil && (c.RealtimeRuntime != nil || c.RealtimePeriod != nil) {
		return errors.New("cpu.realtimeRuntime and cpu.realtimePeriod (v2 has no realtime bandwidth control)")
	}
	if b := r.BlockIO; b != nil {
		leaf := b.LeafWeight != nil
		for _, d := range b.WeightDevice {
			leaf = leaf || d.LeafWeight != nil
		}
		if leaf {
			return errors.New("blockIO leafWeight (a v1 CFQ setting)")
		}
	}
	if mem := r.Memory; mem != nil {
		if mem.Swappiness != nil {
			return errors.New("memory.swappiness (v2 has no per-cgroup swappiness)")
		}
		if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
			return errors.New("memory.disableOOMKiller (v2 cannot turn the OOM killer off)")
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
		need(c.Shares != nil || c.Quota != nil || c.Period != nil || c.Burst != nil || c.Idle != nil, "cpu", "cpu")
		need(c.Cpus != "" || c.Mems != "", "cpu.cpus and cpu.mems", "cpuset")
	}
	if mem := r.Memory; mem != nil {
		need(mem.Limit != nil || mem.Reservation != nil || mem.Swap != nil, "memory", "memory")
	}
	need(r.Pids != nil && r.Pids.Limit != nil, "pids", "pids")
	need(r.BlockIO != nil, "blockIO", "io")
	need(len(r.HugepageLimits) > 0, "hugepageLimits", "hugetlb")
	need(len(r.Rdma) > 0, "rdma", "rdma")
	for _, key := range slices.Sorted(maps.Keys(r.Unified)) {
		ctrl, _, _ := strings.Cut(key, ".")
		need(ctrl != "cgroup", "unified key "+strconv.Quote(key), ctrl)
	}
	return out
}

// Set writes every limit r sets into the container's cgroup; what r leaves
// out keeps its value. The unified map is written last, so that it can
// override what the other fields set. Device rules replace the cgroup's
// device program only when r has some: they must come with the defaults
// (see devices).
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []func(*specs.LinuxResources) error{
		m.setCpuset, m.setMemory, m.setCPU, m.setPids, m.setIO,
		m.setHugetlb, m.setRdma, m.setDevices, m.setUnified,
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
	if r.CPU.Cpus != "" {
		if err := cgdir.Set(m.dir, "cpuset.cpus", r.CPU.Cpus); err != nil {
			return err
		}
	}
	if r.CPU.Mems != "" {
		return cgdir.Set(m.dir, "cpuset.mems", r.CPU.Mems)
	}
	return nil
}

func (m *Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	if err := m.checkUsage(mem); err != nil {
		return err
	}
	var limit, swap int64
	if mem.Limit != nil {
		limit = *mem.Limit
	}
	if mem.Swap != nil {
		swap = *mem.Swap
	}
	swapMax, err := limits.SwapV2(swap, limit)
	if err != nil {
		return err
	}
	switch {
	case swapMax != 0:
		err = cgdir.Set(m.dir, "memory.swap.max", maxString(swapMax))
	case swap > 0:
		// Memory plus swap equal to memory: no swap at all.
		err = cgdir.Set(m.dir, "memory.swap.max", "0")
	}
	if err != nil {
		return err
	}
	if limit != 0 {
		if err := cgdir.Set(m.dir, "memory.max", maxString(limit)); err != nil {
			return err
		}
	}
	if mem.Reservation != nil && *mem.Reservation != 0 {
		return cgdir.Set(m.dir, "memory.low", maxString(*mem.Reservation))
	}
	return nil
}

// maxString renders a v2 limit, -1 standing for none.
func maxString(v int64) string {
	if v == -1 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// checkUsage refuses limits below what the cgroup already uses when the
// config asks for that check (checkBeforeUpdate), rather than let the
// kernel reclaim or OOM-kill to meet them.
func (m *Manager) checkUsage(mem *specs.LinuxMemory) error {
	if mem.CheckBeforeUpdate == nil || !*mem.CheckBeforeUpdate {
		return nil
	}
	usage, err := cgdir.ReadUint(m.dir, "memory.current")
	if err != nil {
		return nil // nothing to compare with yet
	}
	for _, v := range []struct {
		name  string
		limit *int64
	}{{"memory limit", mem.Limit}, {"memory+swap limit", mem.Swap}} {
		if v.limit != nil && *v.limit > 0 && uint64(*v.limit) <= usage {
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
	idle := c.Idle != nil && *c.Idle == 1
	if c.Idle != nil {
		if err := cgdir.Set(m.dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return err
		}
	}
	// An idle cgroup has the minimum weight; the kernel refuses another.
	if c.Shares != nil && *c.Shares != 0 && !idle {
		if err := cgdir.Set(m.dir, "cpu.weight", strconv.FormatUint(limits.CPUWeight(*c.Shares), 10)); err != nil {
			return err
		}
	}
	quotaSet := c.Quota != nil && *c.Quota != 0 || c.Period != nil && *c.Period != 0
	if quotaSet {
		quota := "max"
		if c.Quota != nil && *c.Quota > 0 {
			quota = strconv.FormatInt(*c.Quota, 10)
		}
		period := uint64(100000) // the kernel's default
		if c.Period != nil && *c.Period != 0 {
			period = *c.Period
		}
		if err := cgdir.Set(m.dir, "cpu.max", quota+" "+strconv.FormatUint(period, 10)); err != nil {
			return err
		}
	}
	// After cpu.max: the kernel checks the burst against the quota.
	if c.Burst != nil {
		return cgdir.Set(m.dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10))
	}
	return nil
}

func (m *Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	return cgdir.Set(m.dir, "pids.max", limits.PidsMax(*r.Pids.Limit))
}

// ioMaxKeys are the io.max keys of the v1 throttle files.
var ioMaxKeys = map[string]string{
	"read_bps_device":   "rbps",
	"write_bps_device":  "wbps",
	"read_iops_device":  "riops",
	"write_iops_device": "wiops",
}

// setIO sets weights through BFQ's io.bfq.weight where the kernel has it, in
// blkio's own range, and otherwise through io.weight, converted to its
// range.
func (m *Manager) setIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	bfq := cgdir.Exists(m.dir, "io.bfq.weight")
	weight := func(w uint16) string {
		if bfq {
			return strconv.Itoa(int(w))
		}
		return strconv.FormatUint(limits.IOWeight(w), 10)
	}
	file := "io.weight"
	if bfq {
		file = "io.bfq.weight"
	}
	if b.Weight != nil && *b.Weight != 0 {
		if err := cgdir.Set(m.dir, file, weight(*b.Weight)); err != nil {
			return err
		}
	}
	for _, d := range b.WeightDevice {
		if d.Weight != nil {
			if err := cgdir.Set(m.dir, file, fmt.Sprintf("%d:%d %s", d.Major, d.Minor, weight(*d.Weight))); err != nil {
				return err
			}
		}
	}
	for name, list := range limits.ThrottleFiles(b) {
		for _, d := range list {
			rate := "max" // 0 removes the limit, as on v1
			if d.Rate != 0 {
				rate = strconv.FormatUint(d.Rate, 10)
			}
			if err := cgdir.Set(m.dir, "io.max", fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, ioMaxKeys[name], rate)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) setHugetlb(r *specs.LinuxResources) error {
	for _, l := range r.HugepageLimits {
		limit := strconv.FormatUint(l.Limit, 10)
		if err := cgdir.Set(m.dir, "hugetlb."+l.Pagesize+".max", limit); err != nil {
			return err
		}
		// Where the kernel counts reservations (5.7+), limit them too:
		// a reservation is what fails cleanly at mmap time, rather
		// than with SIGBUS at fault time.
		if rsvd := "hugetlb." + l.Pagesize + ".rsvd.max"; cgdir.Exists(m.dir, rsvd) {
			if err := cgdir.Set(m.dir, rsvd, limit); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) setRdma(r *specs.LinuxResources) error {
	for dev, l := range r.Rdma {
		if err := cgdir.Set(m.dir, "rdma.max", limits.RdmaLine(dev, l)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) setDevices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	return devices.Attach(m.dir, r.Devices)
}

// setUnified writes the unified map's files as given, in key order.
func (m *Manager) setUnified(r *specs.LinuxResources) error {
	for _, key := range slices.Sorted(maps.Keys(r.Unified)) {
		err := cgdir.WriteFile(m.dir, key, r.Unified[key])
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("set unified key %q in cgroup %s: no such file (is its controller enabled?)", key, m.dir)
		}
		if err != nil {
			return fmt.Errorf("set unified key %q to %q in cgroup %s: %w", key, r.Unified[key], m.dir, errors.Unwrap(err))
		}
	}
	return nil
}
