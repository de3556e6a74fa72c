package limits

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCPUWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{
		0: 0, 1: 1, 2: 1, 1024: 100, 262144: 10000, 1 << 20: 10000,
		512: 59, 2048: 174,
	} {
		if got := CPUWeight(shares); got != want {
			t.Errorf("CPUWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	// Monotonic: more shares never means less weight.
	prev := uint64(0)
	for s := uint64(2); s <= 262144; s += 97 {
		w := CPUWeight(s)
		if w < prev || w < 1 || w > 10000 {
			t.Fatalf("CPUWeight(%d) = %d after %d", s, w, prev)
		}
		prev = w
	}
}

func TestIOWeight(t *testing.T) {
	for w, want := range map[uint16]uint64{0: 0, 10: 1, 500: 4950, 1000: 10000} {
		if got := IOWeight(w); got != want {
			t.Errorf("IOWeight(%d) = %d, want %d", w, got, want)
		}
	}
}

func TestSwapV2(t *testing.T) {
	tests := []struct {
		swap, limit, want int64
		err               string
	}{
		{0, 0, 0, ""},
		{0, -1, -1, ""},
		{-1, 100, -1, ""},
		{300, 100, 200, ""},
		{100, 100, 0, ""},
		{300, 0, 0, "needs a memory.limit"},
		{50, 100, 0, "below memory.limit"},
	}
	for _, tt := range tests {
		got, err := SwapV2(tt.swap, tt.limit)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SwapV2(%d, %d) = %d, %v; want error %q", tt.swap, tt.limit, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SwapV2(%d, %d) = %d, %v; want %d", tt.swap, tt.limit, got, err, tt.want)
		}
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("0-2,5, 7")
	if err == nil {
		t.Errorf("ParseList with a space = %v, want an error", got)
	}
	got, err = ParseList("0-2,5,7-7")
	if want := []uint16{0, 1, 2, 5, 7}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseList = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"a", "1-", "3-1", "1,,2", "70000"} {
		if got, err := ParseList(bad); err == nil {
			t.Errorf("ParseList(%q) = %v, want an error", bad, got)
		}
	}
	if got, err := ParseList(""); err != nil || got != nil {
		t.Errorf("ParseList(\"\") = %v, %v", got, err)
	}
}

func TestPagesizeKB(t *testing.T) {
	for size, want := range map[string]uint64{"64KB": 64, "2MB": 2048, "1GB": 1 << 20} {
		if got, err := PagesizeKB(size); err != nil || got != want {
			t.Errorf("PagesizeKB(%q) = %d, %v; want %d", size, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "2mb", "2M", "0MB", "-1GB", "2 MB"} {
		if _, err := PagesizeKB(bad); err == nil {
			t.Errorf("PagesizeKB(%q) succeeded", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		r    specs.LinuxResources
		err  string // "" for valid
	}{
		{"empty", specs.LinuxResources{}, ""},
		{"memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20), Swap: ptr[int64](2 << 20), Swappiness: ptr[uint64](60)}}, ""},
		{"unlimited memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](-1), Swap: ptr[int64](-1)}}, ""},
		{"negative memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](-2)}}, "memory.limit -2"},
		{"swap below limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](2 << 20), Swap: ptr[int64](1 << 20)}}, "below memory.limit"},
		{"swappiness", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](101)}}, "swappiness 101"},
		{"cpu", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](1024), Quota: ptr[int64](50000), Period: ptr[uint64](100000), Cpus: "0", Mems: "0", Idle: ptr[int64](1)}}, ""},
		{"shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](300000)}}, "cpu.shares 300000"},
		{"quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](10)}}, "cpu.quota 10"},
		{"period", specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr[uint64](2000000)}}, "cpu.period 2000000"},
		{"realtime", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr[int64](2000), RealtimePeriod: ptr[uint64](1000)}}, "longer than cpu.realtimePeriod"},
		{"idle", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr[int64](2)}}, "cpu.idle 2"},
		{"mems", specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "x"}}, `cpu.mems "x"`},
		{"weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](5)}}, "blockIO.weight 5"},
		{"device weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8}, Weight: ptr[uint16](2000)}}}}, "blockIO.weightDevice 8:0 weight 2000"},
		{"throttle device", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: -1}}}}}, "read_bps_device -1:0"},
		{"pagesize", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2 MB"}}}, `pageSize "2 MB"`},
		{"priority", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: ""}}}}, "network.priorities"},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "1G"}}, ""},
		{"unified path", specs.LinuxResources{Unified: map[string]string{"../memory.high": "1"}}, "unified key"},
		{"unified procs", specs.LinuxResources{Unified: map[string]string{"cgroup.procs": "1"}}, "manages that file"},
		{"device rule", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Access: "rx"}}}, "devices[0]: access"},
	}
	for _, tt := range tests {
		err := Validate(&tt.r)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.err)
		case err != nil && !strings.HasPrefix(err.Error(), "invalid linux.resources: "):
			t.Errorf("%s: error %q does not say what is invalid", tt.name, err)
		}
	}
}

// FuzzParseList checks ParseList against a reading of each part on its
// own: the members are the numbers some part covers, once each and in
// order, so that a list of any length makes at most 65536 of them; a
// list with a part that is not a number or range is refused.
func FuzzParseList(f *testing.F) {
	for _, seed := range []string{"0-2,5,7-7", "0-3,8,10-11", "", " 1 ", "3-1", "1,,2", "70000", "0-65535", "0-65535,0-65535", "7,3,5-6,3"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, list string) {
		got, err := ParseList(list)
		var covered [math.MaxUint16 + 1]bool
		valid := true
		if strings.TrimSpace(list) != "" {
			for _, part := range strings.Split(strings.TrimSpace(list), ",") {
				lo, hi, isRange := strings.Cut(part, "-")
				first, err1 := strconv.ParseUint(lo, 10, 16)
				last, err2 := first, error(nil)
				if isRange {
					last, err2 = strconv.ParseUint(hi, 10, 16)
				}
				if err1 != nil || err2 != nil || last < first {
					valid = false
					break
				}
				for n := first; n <= last; n++ {
					covered[n] = true
				}
			}
		}
		if !valid {
			if err == nil {
				t.Fatalf("ParseList(%q) = %v, want an error", list, got)
			}
			return
		}
		var want []uint16
		for n, ok := range covered {
			if ok {
				want = append(want, uint16(n))
			}
		}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("ParseList(%q) = %d members (%v), want %d: %.80v", list, len(got), err, len(want), want)
		}
	})
}

// FuzzValidate checks linux.resources as a config gives them: Validate
// accepts or refuses with one line, and what it accepts converts to v2's
// ranges (cpu.weight and io.weight 1 to 10000).
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{"cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-1","mems":"0"}}`,
		`{"memory":{"limit":1073741824,"swap":2147483648,"swappiness":60},"pids":{"limit":100}}`,
		`{"blockIO":{"weight":500,"leafWeight":10,"weightDevice":[{"major":8,"minor":0,"weight":1000}],"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}]}}`,
		`{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]}`,
		`{"hugepageLimits":[{"pageSize":"2MB","limit":0}],"rdma":{"mlx4_0":{"hcaHandles":2}},"unified":{"memory.high":"max"}}`,
		`{"cpu":{"shares":1,"quota":-2,"realtimeRuntime":-5,"idle":2,"cpus":"3-1"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var r specs.LinuxResources
		if json.Unmarshal([]byte(doc), &r) != nil {
			return
		}
		if err := Validate(&r); err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if c := r.CPU; c != nil && c.Shares != nil && *c.Shares != 0 {
			if w := CPUWeight(*c.Shares); w < 1 || w > 10000 {
				t.Fatalf("cpu.shares %d converts to cpu.weight %d", *c.Shares, w)
			}
		}
		if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 {
			if w := IOWeight(*b.Weight); w < 1 || w > 10000 {
				t.Fatalf("blockIO.weight %d converts to io.weight %d", *b.Weight, w)
			}
		}
		if m := r.Memory; m != nil && m.Swap != nil && m.Limit != nil {
			if v, err := SwapV2(*m.Swap, *m.Limit); err == nil && v < -1 {
				t.Fatalf("memory.swap %d with limit %d converts to swap.max %d", *m.Swap, *m.Limit, v)
			}
		}
	})
}
