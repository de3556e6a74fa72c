package fs1

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
	"github.com/berthrt/berth/libcontainer/cgroups/internal/limits"
	"github.com/berthrt/berth/libcontainer/cgroups/stats"
	"github.com/berthrt/berth/libcontainer/internal/quote"
)

// userHZ is the unit of cpuacct.stat: USER_HZ ticks, 100 a second on every
// architecture Linux ships.
const userHZ = 100

// Stats reads the counters of every mounted controller that has some. A
// controller that is not mounted is left out of the result.
func (m *Manager) Stats() (*stats.Stats, error) {
	s := &stats.Stats{Hugetlb: map[string]stats.Hugetlb{}}
	readers := []struct {
		controller string
		read       func(string, *stats.Stats) error
	}{
		{"cpu", statCPU},
		{"cpuacct", statCPUAcct},
		{"cpuset", statCpuset},
		{"memory", statMemory},
		{"pids", statPids},
		{"blkio", statBlkio},
		{"hugetlb", statHugetlb},
	}
	for _, r := range readers {
		dir, ok := m.paths[r.controller]
		if !ok {
			continue
		}
		if err := r.read(dir, s); err != nil {
			return nil, fmt.Errorf("read %s stats of cgroup %s: %w", r.controller, dir, err)
		}
	}
	return s, nil
}

func statCPU(dir string, s *stats.Stats) error {
	kv, err := cgdir.ReadKeyValues(dir, "cpu.stat")
	if err != nil {
		return err
	}
	s.CPU.Throttling = stats.Throttling{
		Periods:          kv["nr_periods"],
		ThrottledPeriods: kv["nr_throttled"],
		ThrottledTime:    kv["throttled_time"],
	}
	return nil
}

func statCPUAcct(dir string, s *stats.Stats) error {
	var err error
	if s.CPU.Usage.Total, err = cgdir.ReadUint(dir, "cpuacct.usage"); err != nil {
		return err
	}
	for _, v := range []struct {
		file string
		dst  *[]uint64
	}{
		{"cpuacct.usage_percpu", &s.CPU.Usage.Percpu},
		{"cpuacct.usage_percpu_sys", &s.CPU.Usage.PercpuKernel},
		{"cpuacct.usage_percpu_user", &s.CPU.Usage.PercpuUser},
	} {
		if *v.dst, err = readUints(dir, v.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	kv, err := cgdir.ReadKeyValues(dir, "cpuacct.stat")
	if err != nil {
		return err
	}
	s.CPU.Usage.User = kv["user"] * (1e9 / userHZ)
	s.CPU.Usage.Kernel = kv["system"] * (1e9 / userHZ)
	return nil
}

func readUints(dir, file string) ([]uint64, error) {
	data, err := cgdir.ReadFile(dir, file)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, f := range strings.Fields(data) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", file, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func statCpuset(dir string, s *stats.Stats) error {
	for _, v := range []struct {
		file string
		dst  *[]uint16
	}{{"cpuset.cpus", &s.CPUSet.CPUs}, {"cpuset.mems", &s.CPUSet.Mems}} {
		list, err := cgdir.ReadFile(dir, v.file)
		if err != nil {
			return err
		}
		if *v.dst, err = limits.ParseList(list); err != nil {
			return fmt.Errorf("parse %s: %w", v.file, err)
		}
	}
	flags := []struct {
		file string
		dst  *uint64
	}{
		{"cpuset.cpu_exclusive", &s.CPUSet.CPUExclusive},
		{"cpuset.mem_exclusive", &s.CPUSet.MemExclusive},
		{"cpuset.mem_hardwall", &s.CPUSet.MemHardwall},
		{"cpuset.memory_migrate", &s.CPUSet.MemoryMigrate},
		{"cpuset.memory_pressure", &s.CPUSet.MemoryPressure},
		{"cpuset.memory_spread_page", &s.CPUSet.MemorySpreadPage},
		{"cpuset.memory_spread_slab", &s.CPUSet.MemorySpreadSlab},
		{"cpuset.sched_load_balance", &s.CPUSet.SchedLoadBalance},
	}
	for _, f := range flags {
		v, err := cgdir.ReadUint(dir, f.file)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	level, err := cgdir.ReadFile(dir, "cpuset.sched_relax_domain_level")
	if err != nil {
		return err
	}
	s.CPUSet.SchedRelaxDomainLevel, err = strconv.ParseInt(strings.TrimSpace(level), 10, 64)
	return err
}

func statMemory(dir string, s *stats.Stats) error {
	raw, err := cgdir.ReadKeyValues(dir, "memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["total_cache"]
	for _, e := range []struct {
		prefix string
		dst    *stats.MemoryEntry
	}{
		{"memory", &s.Memory.Usage},
		{"memory.memsw", &s.Memory.Swap},
		{"memory.kmem", &s.Memory.Kernel},
		{"memory.kmem.tcp", &s.Memory.KernelTCP},
	} {
		entry, err := memoryEntry(dir, e.prefix)
		if errors.Is(err, fs.ErrNotExist) && e.prefix != "memory" {
			continue // no swap or kernel memory accounting
		}
		if err != nil {
			return err
		}
		*e.dst = entry
	}
	oom, err := cgdir.ReadKeyValues(dir, "memory.oom_control")
	if err != nil {
		return err
	}
	s.Memory.EventCount.OOMKill = oom["oom_kill"]
	return nil
}

func memoryEntry(dir, prefix string) (stats.MemoryEntry, error) {
	var e stats.MemoryEntry
	for _, v := range []struct {
		file string
		dst  *uint64
	}{
		{".usage_in_bytes", &e.Usage},
		{".max_usage_in_bytes", &e.Max},
		{".failcnt", &e.Failcnt},
		{".limit_in_bytes", &e.Limit},
	} {
		n, err := cgdir.ReadUint(dir, prefix+v.file)
		if err != nil {
			return e, err
		}
		*v.dst = n
	}
	return e, nil
}

func statPids(dir string, s *stats.Stats) error {
	var err error
	if s.Pids.Current, err = cgdir.ReadUint(dir, "pids.current"); err != nil {
		return err
	}
	if s.Pids.Limit, err = cgdir.ReadUint(dir, "pids.max"); err != nil {
		return err
	}
	if s.Pids.Limit == math.MaxUint64 {
		s.Pids.Limit = 0 // runc reports "max" as no limit, 0
	}
	return nil
}

// statBlkio reads the recursive byte and I/O counts, from BFQ's files when
// the kernel has them (CFQ's are gone since Linux 5.0), otherwise from the
// throttling layer's, which count every I/O the cgroup issued.
func statBlkio(dir string, s *stats.Stats) error {
	prefix := "blkio.throttle."
	if cgdir.Exists(dir, "blkio.bfq.io_service_bytes_recursive") {
		prefix = "blkio.bfq."
	}
	var err error
	if s.Blkio.IoServiceBytesRecursive, err = readBlkio(dir, prefix+"io_service_bytes_recursive"); err != nil {
		return err
	}
	s.Blkio.IoServicedRecursive, err = readBlkio(dir, prefix+"io_serviced_recursive")
	return err
}

// readBlkio reads a file of lines of "major:minor Op value".
func readBlkio(dir, file string) ([]stats.BlkioEntry, error) {
	data, err := cgdir.ReadFile(dir, file)
	if err != nil {
		return nil, err
	}
	out, err := parseBlkio(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	return out, nil
}

// parseBlkio parses lines of "major:minor Op value", skipping the "Total"
// line.
func parseBlkio(data string) ([]stats.BlkioEntry, error) {
	var out []stats.BlkioEntry
	for line := range strings.Lines(data) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var e stats.BlkioEntry
		var err error
		if _, err = fmt.Sscanf(f[0], "%d:%d", &e.Major, &e.Minor); err == nil {
			e.Value, err = strconv.ParseUint(f[2], 10, 64)
		}
		if err != nil {
			return nil, fmt.Errorf("line %s", quote.Short(strings.TrimSpace(line)))
		}
		e.Op = f[1]
		out = append(out, e)
	}
	return out, nil
}

func statHugetlb(dir string, s *stats.Stats) error {
	sizes, err := limits.Pagesizes()
	if err != nil {
		return err
	}
	for _, size := range sizes {
		var h stats.Hugetlb
		for _, v := range []struct {
			file string
			dst  *uint64
		}{
			{".usage_in_bytes", &h.Usage},
			{".max_usage_in_bytes", &h.Max},
			{".failcnt", &h.Failcnt},
		} {
			if *v.dst, err = cgdir.ReadUint(dir, "hugetlb."+size+v.file); err != nil {
				return err
			}
		}
		s.Hugetlb[size] = h
	}
	return nil
}
