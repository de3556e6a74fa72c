package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cpuNote says what the CPU columns include.
const cpuNote = "user+sys time of the runtime command and of the descendants it waited for " +
	"(wait4 rusage); for run and exec that includes the container's process. Container " +
	"processes that outlive their command (create, run -d) are reaped by the benchmark, " +
	"a child subreaper: their CPU is counted in create+start+delete only."

// baseline is the runtime the others are compared with.
const baseline = "crun"

// report is everything a run found, as printed and as written to JSON.
type report struct {
	Started     time.Time     `json:"started"`
	Seconds     float64       `json:"seconds"`
	Machine     machine       `json:"machine"`
	Reps        int           `json:"reps"`
	Rounds      int           `json:"rounds"`
	Concurrency []int         `json:"concurrency"`
	Cgroups     string        `json:"cgroups"`
	CPUTime     string        `json:"cpu_time"`
	Runtimes    []*ociRuntime `json:"runtimes"`
	Ops         []opReport    `json:"ops"`
	Memory      []memReport   `json:"memory"`
	// MaxRSSFloorKiB is the spawner's peak resident set, below which no
	// command's ru_maxrss can be.
	MaxRSSFloorKiB int64    `json:"maxrss_floor_kib"`
	Errors         []string `json:"errors,omitempty"`
}

type machine struct {
	CPUs   int    `json:"cpus"`
	Model  string `json:"cpu_model"`
	Kernel string `json:"kernel"`
}

// opReport is one operation of one runtime: times in milliseconds, memory
// in KiB.
type opReport struct {
	Op            string    `json:"op"`
	Runtime       string    `json:"runtime"`
	Concurrent    bool      `json:"concurrent,omitempty"`
	Samples       int       `json:"samples"`
	WallMs        stats     `json:"wall_ms"`
	CPUMs         stats     `json:"cpu_ms"`
	MaxRSSKiB     stats     `json:"maxrss_kib"`
	RawWallMs     []float64 `json:"raw_wall_ms"`
	RawCPUMs      []float64 `json:"raw_cpu_ms"`
	Error         string    `json:"error,omitempty"`
	NotApplicable string    `json:"not_applicable,omitempty"`
}

// memReport is the memory of one runtime, in KiB.
type memReport struct {
	Runtime     string `json:"runtime"`
	BinaryBytes int64  `json:"binary_bytes"`
	// PeakRSSKiB is the largest median ru_maxrss of the single-container
	// operations.
	PeakRSSKiB float64 `json:"peak_rss_kib"`
	// WaitingRSSKiB is the resident set of the container's process
	// between create and start.
	WaitingRSSKiB stats `json:"waiting_rss_kib"`
}

func newReport(res *results, rts []*ociRuntime) *report {
	rep := &report{Machine: describeMachine(), CPUTime: cpuNote, Runtimes: rts}
	peak := make(map[string]float64)
	for _, o := range res.ops {
		for _, rt := range rts {
			s := o.series(rt.Name)
			r := opReport{Op: o.name, Runtime: rt.Name, Concurrent: o.concurrent, Samples: len(s.samples), NotApplicable: s.notApplicable}
			if s.err != nil {
				r.Error = s.err.Error()
				rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: %s", rt.Name, o.name, r.Error))
			}
			var rss []float64
			for _, x := range s.samples {
				r.RawWallMs = append(r.RawWallMs, ms(x.wall))
				r.RawCPUMs = append(r.RawCPUMs, ms(x.cpu))
				rss = append(rss, float64(x.maxRSS))
			}
			r.WallMs, r.CPUMs, r.MaxRSSKiB = summarize(r.RawWallMs), summarize(r.RawCPUMs), summarize(rss)
			if !o.concurrent {
				peak[rt.Name] = max(peak[rt.Name], r.MaxRSSKiB.Median)
			}
			rep.Ops = append(rep.Ops, r)
		}
	}
	for _, rt := range rts {
		var waiting []float64
		for _, kib := range res.waitingRSS[rt.Name] {
			waiting = append(waiting, float64(kib))
		}
		rep.Memory = append(rep.Memory, memReport{
			Runtime: rt.Name, BinaryBytes: rt.BinaryBytes,
			PeakRSSKiB: peak[rt.Name], WaitingRSSKiB: summarize(waiting),
		})
	}
	return rep
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func describeMachine() machine {
	m := machine{CPUs: goruntime.NumCPU()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func (rep *report) writeJSON(path string) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// printTable writes the human-readable results: a header that says what
// ran where, one line per operation and runtime with ratios of the medians
// to crun's, and the memory figures.
func (rep *report) printTable(w io.Writer) {
	names := make([]string, len(rep.Runtimes))
	for i, rt := range rep.Runtimes {
		names[i] = rt.Name
	}
	fmt.Fprintf(w, "berth bench: %s, interleaved; %d reps; concurrent operations: %d rounds of %s containers\n",
		strings.Join(names, ", "), rep.Reps, rep.Rounds, joinInts(rep.Concurrency))
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s; took %.0f s\n", rep.Machine.CPUs, rep.Machine.Model, rep.Machine.Kernel, rep.Seconds)
	for _, rt := range rep.Runtimes {
		fmt.Fprintf(w, "%-6s %s: %s\n", rt.Name, rt.Path, rt.Version)
	}
	fmt.Fprintln(w, "cgroups: "+rep.Cgroups)
	fmt.Fprintln(w, "cpu: "+rep.CPUTime)
	fmt.Fprintln(w)

	fmt.Fprintf(w, "%-22s %-7s %29s  %29s %7s %15s\n", "", "", "---------- wall ms ----------", "---------- cpu ms -----------", "maxrss", "--- x "+baseline+" ----")
	fmt.Fprintf(w, "%-22s %-7s %9s %9s %9s  %9s %9s %9s %7s %7s %7s\n", "op", "runtime", "median", "p95", "min", "median", "p95", "min", "MiB", "wall", "cpu")
	base := make(map[string]opReport)
	for _, r := range rep.Ops {
		if r.Runtime == baseline {
			base[r.Op] = r
		}
	}
	last := ""
	for _, r := range rep.Ops {
		op := r.Op
		if op == last {
			op = ""
		}
		last = r.Op
		fmt.Fprintf(w, "%-22s %-7s ", op, r.Runtime)
		switch {
		case r.NotApplicable != "":
			fmt.Fprintf(w, "n/a: %s\n", r.NotApplicable)
			continue
		case r.Error != "":
			fmt.Fprintln(w, "FAILED (see errors below)")
			continue
		case r.Samples == 0:
			fmt.Fprintln(w, "not run")
			continue
		}
		b := base[r.Op]
		fmt.Fprintf(w, "%9s %9s %9s  %9s %9s %9s %7.1f %7s %7s\n",
			num(r.WallMs.Median), num(r.WallMs.P95), num(r.WallMs.Min),
			num(r.CPUMs.Median), num(r.CPUMs.P95), num(r.CPUMs.Min),
			r.MaxRSSKiB.Median/1024,
			ratio(r.WallMs.Median, b.WallMs.Median, b), ratio(r.CPUMs.Median, b.CPUMs.Median, b))
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-38s", "memory, MiB")
	for _, m := range rep.Memory {
		fmt.Fprintf(w, " %8s", m.Runtime)
	}
	for _, m := range rep.Memory {
		if m.Runtime != baseline {
			fmt.Fprintf(w, " %11s", m.Runtime+"/"+baseline)
		}
	}
	fmt.Fprintln(w)
	rows := []struct {
		name string
		val  func(memReport) float64
	}{
		{"binary size", func(m memReport) float64 { return float64(m.BinaryBytes) / (1 << 20) }},
		{"peak RSS (largest median ru_maxrss)", func(m memReport) float64 { return m.PeakRSSKiB / 1024 }},
		{"RSS waiting between create and start", func(m memReport) float64 { return m.WaitingRSSKiB.Median / 1024 }},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-38s", row.name)
		var baseVal float64
		for _, m := range rep.Memory {
			fmt.Fprintf(w, " %8.1f", row.val(m))
			if m.Runtime == baseline {
				baseVal = row.val(m)
			}
		}
		for _, m := range rep.Memory {
			if m.Runtime != baseline {
				fmt.Fprintf(w, " %11s", ratioOf(row.val(m), baseVal))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "ru_maxrss cannot be below %.1f MiB here: the peak RSS of the process that forks the commands\n", float64(rep.MaxRSSFloorKiB)/1024)
	if rep.Concurrency != nil {
		fmt.Fprintf(w, "\nrun -d xN: time until all N run; kill+delete xN: kill, wait for the process to be reaped, delete, all N at once; their cpu adds up all N commands, their maxrss is the largest\n")
	}
	if len(rep.Errors) > 0 {
		fmt.Fprintln(w, "\nerrors:")
		for _, e := range rep.Errors {
			fmt.Fprintln(w, "  "+e)
		}
	}
}

// num formats milliseconds: one decimal below a second.
func num(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// ratio is v over crun's value, or "-" when crun has none for the operation.
func ratio(v, baseVal float64, b opReport) string {
	if b.Samples == 0 || b.Error != "" {
		return "-"
	}
	return ratioOf(v, baseVal)
}

func ratioOf(v, baseVal float64) string {
	if baseVal <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/baseVal)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
