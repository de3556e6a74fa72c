// Package limits checks the values of an OCI config's linux.resources and
// converts the ones that cgroup v2 expresses differently from v1, for both
// cgroup drivers.
package limits

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/cgroups/devices"
)

// Kernel bounds of the values, so that a bad one fails before anything is
// created rather than as a bare EINVAL from a cgroup file.
const (
	minShares, maxShares = 2, 262144     // kernel/sched: MIN_SHARES, MAX_SHARES
	minPeriod, maxPeriod = 1000, 1000000 // CFS period: 1 ms to 1 s
	minQuota             = 1000          // CFS quota: at least 1 ms
	minWeight, maxWeight = 10, 1000      // blkio.weight
)

// Validate checks every value r sets, independent of the host's cgroup
// version. A nil r is valid.
func Validate(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	checks := []func(*specs.LinuxResources) error{
		validateMemory, validateCPU, validateBlockIO, validateHugepages,
		validateNetwork, validateRdma, validateUnified,
	}
	for _, check := range checks {
		if err := check(r); err != nil {
			return fmt.Errorf("invalid linux.resources: %w", err)
		}
	}
	if err := devices.Validate(r.Devices); err != nil {
		return fmt.Errorf("invalid linux.resources: %w", err)
	}
	return nil
}

func validateMemory(r *specs.LinuxResources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	for _, v := range []struct {
		name  string
		value *int64
	}{{"limit", m.Limit}, {"reservation", m.Reservation}, {"swap", m.Swap}} {
		if v.value != nil && *v.value < -1 {
			return fmt.Errorf("memory.%s %d: use a number of bytes, or -1 for no limit", v.name, *v.value)
		}
	}
	if m.Limit != nil && m.Swap != nil && *m.Limit > 0 && *m.Swap > 0 && *m.Swap < *m.Limit {
		return fmt.Errorf("memory.swap %d is below memory.limit %d: swap counts memory plus swap, so it must be at least the limit", *m.Swap, *m.Limit)
	}
	if m.Swappiness != nil && *m.Swappiness > 100 {
		return fmt.Errorf("memory.swappiness %d: must be 0 to 100", *m.Swappiness)
	}
	return nil
}

func validateCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if c.Shares != nil && *c.Shares != 0 && (*c.Shares < minShares || *c.Shares > maxShares) {
		return fmt.Errorf("cpu.shares %d: must be %d to %d", *c.Shares, minShares, maxShares)
	}
	if c.Quota != nil && *c.Quota != -1 && *c.Quota != 0 && *c.Quota < minQuota {
		return fmt.Errorf("cpu.quota %d: must be at least %d µs, or -1 for no limit", *c.Quota, minQuota)
	}
	if c.Period != nil && *c.Period != 0 && (*c.Period < minPeriod || *c.Period > maxPeriod) {
		return fmt.Errorf("cpu.period %d: must be %d to %d µs", *c.Period, minPeriod, maxPeriod)
	}
	if c.RealtimeRuntime != nil && *c.RealtimeRuntime < -1 {
		return fmt.Errorf("cpu.realtimeRuntime %d: use µs, or -1 for no limit", *c.RealtimeRuntime)
	}
	if c.RealtimeRuntime != nil && c.RealtimePeriod != nil && *c.RealtimePeriod != 0 && *c.RealtimeRuntime > int64(*c.RealtimePeriod) {
		return fmt.Errorf("cpu.realtimeRuntime %d is longer than cpu.realtimePeriod %d", *c.RealtimeRuntime, *c.RealtimePeriod)
	}
	if c.Idle != nil && *c.Idle != 0 && *c.Idle != 1 {
		return fmt.Errorf("cpu.idle %d: must be 0 or 1", *c.Idle)
	}
	if _, err := ParseList(c.Cpus); err != nil {
		return fmt.Errorf("cpu.cpus %q: %w", c.Cpus, err)
	}
	if _, err := ParseList(c.Mems); err != nil {
		return fmt.Errorf("cpu.mems %q: %w", c.Mems, err)
	}
	return nil
}

func validateBlockIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	if err := checkWeight("blockIO.weight", b.Weight); err != nil {
		return err
	}
	if err := checkWeight("blockIO.leafWeight", b.LeafWeight); err != nil {
		return err
	}
	for _, d := range b.WeightDevice {
		name := fmt.Sprintf("blockIO.weightDevice %d:%d", d.Major, d.Minor)
		if err := checkDevice(name, d.LinuxBlockIODevice); err != nil {
			return err
		}
		if err := checkWeight(name+" weight", d.Weight); err != nil {
			return err
		}
		if err := checkWeight(name+" leafWeight", d.LeafWeight); err != nil {
			return err
		}
	}
	for name, list := range ThrottleFiles(b) {
		for _, d := range list {
			if err := checkDevice(fmt.Sprintf("blockIO.%s %d:%d", name, d.Major, d.Minor), d.LinuxBlockIODevice); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkWeight(name string, w *uint16) error {
	if w != nil && *w != 0 && (*w < minWeight || *w > maxWeight) {
		return fmt.Errorf("%s %d: must be %d to %d", name, *w, minWeight, maxWeight)
	}
	return nil
}

func checkDevice(name string, d specs.LinuxBlockIODevice) error {
	if d.Major < 0 || d.Minor < 0 {
		return fmt.Errorf("%s: major and minor must not be negative", name)
	}
	return nil
}

// ThrottleFiles names the v1 throttle file of each throttle list in b:
// read_bps_device… The v2 io.max keys are derived from the same names.
func ThrottleFiles(b *specs.LinuxBlockIO) map[string][]specs.LinuxThrottleDevice {
	return map[string][]specs.LinuxThrottleDevice{
		"read_bps_device":   b.ThrottleReadBpsDevice,
		"write_bps_device":  b.ThrottleWriteBpsDevice,
		"read_iops_device":  b.ThrottleReadIOPSDevice,
		"write_iops_device": b.ThrottleWriteIOPSDevice,
	}
}

func validateHugepages(r *specs.LinuxResources) error {
	for _, l := range r.HugepageLimits {
		kb, err := PagesizeKB(l.Pagesize)
		if err != nil {
			return err
		}
		if _, err := os.Stat(fmt.Sprintf("/sys/kernel/mm/hugepages/hugepages-%dkB", kb)); err != nil {
			return fmt.Errorf("hugepageLimits pageSize %q: this kernel has no huge pages of that size (see /sys/kernel/mm/hugepages)", l.Pagesize)
		}
	}
	return nil
}

// PagesizeKB parses a hugepageLimits pageSize ("64KB", "2MB", "1GB"), the
// form the hugetlb controller's file names use, into kilobytes.
func PagesizeKB(size string) (uint64, error) {
	units := map[string]uint64{"KB": 1, "MB": 1 << 10, "GB": 1 << 20}
	if len(size) > 2 {
		if mult, ok := units[size[len(size)-2:]]; ok {
			n, err := strconv.ParseUint(size[:len(size)-2], 10, 32)
			if err == nil && n > 0 {
				return n * mult, nil
			}
		}
	}
	return 0, fmt.Errorf("hugepageLimits pageSize %q: want a number and KB, MB or GB, such as 2MB", size)
}

func validateNetwork(r *specs.LinuxResources) error {
	if r.Network == nil {
		return nil
	}
	for _, p := range r.Network.Priorities {
		if p.Name == "" || strings.ContainsAny(p.Name, " \n/") {
			return fmt.Errorf("network.priorities: invalid interface name %q", p.Name)
		}
	}
	return nil
}

func validateRdma(r *specs.LinuxResources) error {
	for dev := range r.Rdma {
		if dev == "" || strings.ContainsAny(dev, " \n") {
			return fmt.Errorf("rdma: invalid device name %q", dev)
		}
	}
	return nil
}

func validateUnified(r *specs.LinuxResources) error {
	for key := range r.Unified {
		ctrl, param, ok := strings.Cut(key, ".")
		if !ok || ctrl == "" || param == "" || strings.Contains(key, "/") {
			return fmt.Errorf("unified key %q: must name a file of the cgroup, as CONTROLLER.PARAMETER (memory.high)", key)
		}
		if key == "cgroup.procs" || key == "cgroup.threads" || key == "cgroup.subtree_control" {
			return fmt.Errorf("unified key %q: the runtime manages that file itself", key)
		}
	}
	return nil
}

// ParseList parses a cpuset list ("0-3,8,10-11") into its members, in
// order and once each. The empty list is valid: it means the parent's
// set. The ranges are merged before they are expanded, so that a list of
// any length (a config's cpu.cpus can repeat "0-65535" a million times)
// costs its own length and at most the 65536 possible members.
func ParseList(s string) ([]uint16, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ranges [][2]uint16
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number or range", part)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseUint(hi, 10, 16); err != nil || last < first {
				return nil, fmt.Errorf("%q is not a range", part)
			}
		}
		ranges = append(ranges, [2]uint16{uint16(first), uint16(last)})
	}
	slices.SortFunc(ranges, func(a, b [2]uint16) int { return cmp.Compare(a[0], b[0]) })
	var out []uint16
	next := 0 // the smallest number not in out yet
	for _, r := range ranges {
		for n := max(int(r[0]), next); n <= int(r[1]); n++ {
			out = append(out, uint16(n))
		}
		next = max(next, int(r[1])+1)
	}
	return out, nil
}

// CPUWeight converts cpu.shares (v1: 2 to 262144, default 1024) to
// cpu.weight (v2: 1 to 10000, default 100), as runc and crun do now: a
// quadratic in log2(shares) through both ends and the two defaults, so that
// the default maps to the default, which the old linear formula did not.
// 0 stays 0, "unset".
func CPUWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= minShares:
		return 1
	case shares >= maxShares:
		return 10000
	}
	l := math.Log2(float64(shares))
	return uint64(math.Ceil(math.Pow(10, (l*l+125*l)/612.0-7.0/34.0)))
}

// IOWeight converts blkio.weight (v1: 10 to 1000) to io.weight (v2: 1 to
// 10000) linearly, as runc does.
func IOWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	return 1 + (uint64(w)-minWeight)*9999/990
}

// SwapV2 converts the spec's memory.swap, which counts memory plus swap as
// v1's memsw does, into v2's memory.swap.max, which counts swap alone.
// -1 means no limit, 0 leaves the file alone.
func SwapV2(swap, limit int64) (int64, error) {
	switch {
	case limit == -1 && swap == 0:
		// "No memory limit" on v1 lifts the memsw limit too.
		return -1, nil
	case swap == -1 || swap == 0:
		return swap, nil
	case limit == 0 || limit == -1:
		return 0, errors.New("memory.swap needs a memory.limit on cgroup v2, which limits swap apart from memory")
	case swap < limit:
		return 0, fmt.Errorf("memory.swap %d is below memory.limit %d", swap, limit)
	}
	return swap - limit, nil
}

// Pagesizes lists the huge page sizes of the host in the form hugetlb file
// names use ("2MB", "1GB").
func Pagesizes() ([]string, error) {
	entries, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list huge page sizes: %w", err)
	}
	var sizes []string
	for _, e := range entries {
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(e.Name(), "hugepages-"), "kB"), 10, 64)
		if err != nil {
			continue
		}
		switch {
		case kb%(1<<20) == 0:
			sizes = append(sizes, fmt.Sprintf("%dGB", kb>>20))
		case kb%(1<<10) == 0:
			sizes = append(sizes, fmt.Sprintf("%dMB", kb>>10))
		default:
			sizes = append(sizes, fmt.Sprintf("%dKB", kb))
		}
	}
	return sizes, nil
}

// RdmaLine renders one device's limits as rdma.max takes them, in v1 and
// v2 alike: "mlx4_0 hca_handle=2 hca_object=max".
func RdmaLine(dev string, l specs.LinuxRdma) string {
	line := dev
	if l.HcaHandles != nil {
		line += fmt.Sprintf(" hca_handle=%d", *l.HcaHandles)
	}
	if l.HcaObjects != nil {
		line += fmt.Sprintf(" hca_object=%d", *l.HcaObjects)
	}
	return line
}

// PidsMax renders a pids limit for pids.max: zero or negative means none.
func PidsMax(limit int64) string {
	if limit <= 0 {
		return "max"
	}
	return strconv.FormatInt(limit, 10)
}
