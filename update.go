package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "change the resource limits of a container",
	ArgsUsage: "<container-id>",
	Description: `Changes the limits the flags name and leaves the others. With --resources,
the limits come from linux.resources JSON (a file, or - for stdin) and the
other flags are ignored. Device rules cannot be changed.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "read linux.resources JSON from `FILE` (- for stdin)"},
		&cli.IntFlag{Name: "blkio-weight", Usage: "block I/O weight, 10 to 1000"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CFS period in µs"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CFS quota in µs per period (-1 for none)"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CFS burst in µs"},
		&cli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "realtime period in µs"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "realtime runtime in µs per period"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "1 for SCHED_IDLE, 0 for normal"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on (0-3,5)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to use (0-1)"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit in bytes, or with a unit (512m, 1g); -1 for none"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit; -1 for unlimited swap"},
		&cli.IntFlag{Name: "pids-limit", Usage: "maximum number of processes (0 or less for none)"},
		// Obsolete in runc too: accepted so that callers do not break.
		&cli.StringFlag{Name: "kernel-memory", Hidden: true},
		&cli.StringFlag{Name: "kernel-memory-tcp", Hidden: true},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT L3 cache schema (not supported)"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT memory bandwidth schema (not supported)"},
	},
	Action: func(c *cli.Context) error {
		ctr, err := loadContainer(c)
		if err != nil {
			return err
		}
		var r *specs.LinuxResources
		if file := c.String("resources"); file != "" {
			r, err = readResources(file)
		} else {
			r, err = resourcesFromFlags(c)
		}
		if err != nil {
			return err
		}
		return ctr.Update(r)
	},
}

// readResources decodes linux.resources JSON from file, or stdin for "-".
func readResources(file string) (*specs.LinuxResources, error) {
	var in io.Reader = os.Stdin
	name := "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("read --resources: %w", err)
		}
		defer f.Close()
		in, name = f, file
	}
	var r specs.LinuxResources
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read --resources from %s: invalid linux.resources JSON: %w", name, err)
	}
	return &r, nil
}

func resourcesFromFlags(c *cli.Context) (*specs.LinuxResources, error) {
	for _, name := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if c.IsSet(name) {
			return nil, fmt.Errorf("--%s: berth does not manage Intel RDT", name)
		}
	}
	for _, name := range []string{"kernel-memory", "kernel-memory-tcp"} {
		if c.IsSet(name) {
			logrus.Warnf("--%s is obsolete and ignored", name)
		}
	}
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{}, CPU: &specs.LinuxCPU{}}
	if c.IsSet("blkio-weight") {
		w := c.Int("blkio-weight")
		if w < 0 || w > math.MaxUint16 {
			return nil, fmt.Errorf("invalid --blkio-weight %d: must be 10 to 1000", w)
		}
		weight := uint16(w)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &weight}
	}
	if c.IsSet("pids-limit") {
		limit := int64(c.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &limit}
	}
	r.CPU.Cpus = c.String("cpuset-cpus")
	r.CPU.Mems = c.String("cpuset-mems")
	for _, f := range []struct {
		name string
		dst  **uint64
	}{
		{"cpu-period", &r.CPU.Period},
		{"cpu-burst", &r.CPU.Burst},
		{"cpu-share", &r.CPU.Shares},
		{"cpu-rt-period", &r.CPU.RealtimePeriod},
	} {
		if s := c.String(f.name); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid --%s %q: want a whole number", f.name, s)
			}
			*f.dst = &v
		}
	}
	for _, f := range []struct {
		name string
		dst  **int64
	}{
		{"cpu-quota", &r.CPU.Quota},
		{"cpu-rt-runtime", &r.CPU.RealtimeRuntime},
		{"cpu-idle", &r.CPU.Idle},
	} {
		if s := c.String(f.name); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid --%s %q: want a whole number", f.name, s)
			}
			*f.dst = &v
		}
	}
	for _, f := range []struct {
		name string
		dst  **int64
	}{
		{"memory", &r.Memory.Limit},
		{"memory-reservation", &r.Memory.Reservation},
		{"memory-swap", &r.Memory.Swap},
	} {
		if s := c.String(f.name); s != "" {
			v, err := parseBytes(s)
			if err != nil {
				return nil, fmt.Errorf("invalid --%s %q: %w", f.name, s, err)
			}
			*f.dst = &v
		}
	}
	return r, nil
}

// parseBytes reads a size as runc's update does: a number of bytes with an
// optional binary unit (k, m, g, t, p, optionally followed by "b" or "ib",
// any case), or -1 for no limit.
func parseBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	lower := strings.ToLower(strings.TrimSpace(s))
	lower = strings.TrimSuffix(strings.TrimSuffix(lower, "b"), "i")
	shift := 0
	if n := len(lower); n > 0 {
		if i := strings.IndexByte("kmgtp", lower[n-1]); i >= 0 {
			shift = 10 * (i + 1)
			lower = lower[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(lower), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("want a size such as 1048576, 512m or 1g, or -1")
	}
	bytes := v * float64(int64(1)<<shift)
	if bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("size too large")
	}
	return int64(bytes), nil
}
