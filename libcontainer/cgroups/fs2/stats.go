package fs2

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

// Stats reads the counters of the cgroup's controllers, translated into
// the v1 shape runc reports: times in nanoseconds, swap counted together
// with memory. A controller that is not enabled is left out.
func (m *Manager) Stats() (*stats.Stats, error) {
	s := &stats.Stats{Hugetlb: map[string]stats.Hugetlb{}}
	for _, read := range []func(string, *stats.Stats) error{
		statCPU, statCpuset, statMemory, statPids, statIO, statHugetlb,
	} {
		if err := read(m.dir, s); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read stats of cgroup %s: %w", m.dir, err)
		}
	}
	return s, nil
}

// statCPU reads cpu.stat, which every cgroup has, the cpu controller or
// not; the throttling counters come with the controller.
func statCPU(dir string, s *stats.Stats) error {
	kv, err := cgdir.ReadKeyValues(dir, "cpu.stat")
	if err != nil {
		return err
	}
	s.CPU.Usage.Total = kv["usage_usec"] * 1000
	s.CPU.Usage.User = kv["user_usec"] * 1000
	s.CPU.Usage.Kernel = kv["system_usec"] * 1000
	s.CPU.Throttling = stats.Throttling{
		Periods:          kv["nr_periods"],
		ThrottledPeriods: kv["nr_throttled"],
		ThrottledTime:    kv["throttled_usec"] * 1000,
	}
	return nil
}

func statCpuset(dir string, s *stats.Stats) error {
	for _, v := range []struct {
		file string
		dst  *[]uint16
	}{{"cpuset.cpus.effective", &s.CPUSet.CPUs}, {"cpuset.mems.effective", &s.CPUSet.Mems}} {
		list, err := cgdir.ReadFile(dir, v.file)
		if err != nil {
			return err
		}
		if *v.dst, err = limits.ParseList(list); err != nil {
			return fmt.Errorf("parse %s: %w", v.file, err)
		}
	}
	return nil
}

func statMemory(dir string, s *stats.Stats) error {
	raw, err := cgdir.ReadKeyValues(dir, "memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["file"]
	if s.Memory.Usage, err = memoryEntry(dir, "memory"); err != nil {
		return err
	}
	swap, err := memoryEntry(dir, "memory.swap")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No swap accounting.
	case err != nil:
		return err
	default:
		// v1's memsw counts memory and swap together; so does runc's
		// report of v2.
		swap.Usage += s.Memory.Usage.Usage
		swap.Max = 0
		if swap.Limit != math.MaxUint64 {
			swap.Limit += s.Memory.Usage.Limit
		}
		s.Memory.Swap = swap
	}
	events, err := cgdir.ReadKeyValues(dir, "memory.events")
	if err != nil {
		return err
	}
	s.Memory.EventCount = stats.MemoryEvents{
		Low: events["low"], High: events["high"], Max: events["max"],
		OOM: events["oom"], OOMKill: events["oom_kill"],
	}
	s.Memory.Usage.Failcnt = events["max"]
	return nil
}

func memoryEntry(dir, prefix string) (stats.MemoryEntry, error) {
	var e stats.MemoryEntry
	var err error
	if e.Usage, err = cgdir.ReadUint(dir, prefix+".current"); err != nil {
		return e, err
	}
	if e.Limit, err = cgdir.ReadUint(dir, prefix+".max"); err != nil {
		return e, err
	}
	// memory.peak came in Linux 5.19.
	if peak, err := cgdir.ReadUint(dir, prefix+".peak"); err == nil {
		e.Max = peak
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

// statIO maps io.stat's "major:minor rbytes=… wbytes=… rios=… wios=…" lines
// onto v1's per-operation tables.
func statIO(dir string, s *stats.Stats) error {
	data, err := cgdir.ReadFile(dir, "io.stat")
	if err != nil {
		return err
	}
	return parseIOStat(data, s)
}

// parseIOStat adds the counters of io.stat's content to s.
func parseIOStat(data string, s *stats.Stats) error {
	tables := map[string]struct {
		dst *[]stats.BlkioEntry
		op  string
	}{
		"rbytes": {&s.Blkio.IoServiceBytesRecursive, "Read"},
		"wbytes": {&s.Blkio.IoServiceBytesRecursive, "Write"},
		"rios":   {&s.Blkio.IoServicedRecursive, "Read"},
		"wios":   {&s.Blkio.IoServicedRecursive, "Write"},
	}
	for line := range strings.Lines(data) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var major, minor uint64
		if _, err := fmt.Sscanf(f[0], "%d:%d", &major, &minor); err != nil {
			return fmt.Errorf("parse io.stat: line %s", quote.Short(strings.TrimSpace(line)))
		}
		for _, kv := range f[1:] {
			key, value, _ := strings.Cut(kv, "=")
			t, ok := tables[key]
			if !ok {
				continue
			}
			v, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return fmt.Errorf("parse io.stat: line %s", quote.Short(strings.TrimSpace(line)))
			}
			*t.dst = append(*t.dst, stats.BlkioEntry{Major: major, Minor: minor, Op: t.op, Value: v})
		}
	}
	return nil
}

func statHugetlb(dir string, s *stats.Stats) error {
	sizes, err := limits.Pagesizes()
	if err != nil {
		return err
	}
	for _, size := range sizes {
		usage, err := cgdir.ReadUint(dir, "hugetlb."+size+".current")
		if err != nil {
			return err
		}
		events, err := cgdir.ReadKeyValues(dir, "hugetlb."+size+".events")
		if err != nil {
			return err
		}
		s.Hugetlb[size] = stats.Hugetlb{Usage: usage, Failcnt: events["max"]}
	}
	return nil
}
