package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want stats
	}{
		{"none", nil, stats{}},
		{"one", []float64{4}, stats{Median: 4, P95: 4, Min: 4}},
		{"odd, unsorted", []float64{9, 1, 5}, stats{Median: 5, P95: 9, Min: 1}},
		{"even: mean of the middle two", []float64{4, 1, 3, 2}, stats{Median: 2.5, P95: 4, Min: 1}},
		// Nearest rank: the 19th of 20 values, the 29th of 30.
		{"twenty", seq(20), stats{Median: 10.5, P95: 19, Min: 1}},
		{"thirty", seq(30), stats{Median: 15.5, P95: 29, Min: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.xs); got != tt.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tt.xs, got, tt.want)
			}
		})
	}
}

// seq returns 1..n in reverse, so that summarize must sort.
func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(n - i)
	}
	return xs
}

func TestRotate(t *testing.T) {
	rts := []*ociRuntime{{Name: "berth"}, {Name: "runc"}, {Name: "crun"}}
	for rep, want := range []string{"berth runc crun", "runc crun berth", "crun berth runc", "berth runc crun"} {
		var got []string
		for _, rt := range rotate(rts, rep) {
			got = append(got, rt.Name)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("repetition %d: order %v, want %s", rep, got, want)
		}
	}
	if rts[0].Name != "berth" {
		t.Errorf("rotate changed its argument: %s first", rts[0].Name)
	}
}

// TestTable checks the ratios to crun and how failures and missing
// operations show.
func TestTable(t *testing.T) {
	rts := []*ociRuntime{{Name: "berth", BinaryBytes: 4 << 20}, {Name: "runc", BinaryBytes: 8 << 20}, {Name: "crun", BinaryBytes: 1 << 20}}
	res := newResults()
	run := res.op(opRun, false)
	for _, ms := range []time.Duration{10, 12, 11} {
		run.add("berth", sample{wall: ms * time.Millisecond, cpu: ms * time.Millisecond / 2, maxRSS: 8192})
		run.add("crun", sample{wall: ms * 2 * time.Millisecond, cpu: ms * time.Millisecond / 4, maxRSS: 2048})
	}
	run.fail("runc", errors.New("runc: exit status 1: boom"))
	exec := res.op(opExec, false)
	exec.setNotApplicable("berth", "berth has no exec command yet")
	exec.add("runc", sample{wall: time.Millisecond})
	exec.add("crun", sample{wall: time.Millisecond})
	res.waitingRSS["berth"] = []int64{3072}
	res.waitingRSS["crun"] = []int64{1024}

	var out bytes.Buffer
	rep := newReport(res, rts)
	rep.printTable(&out)
	table := out.String()
	for _, want := range []string{
		// berth: wall 11 against crun's 22, CPU 5.5 against 2.75.
		"run true               berth        11.0      12.0      10.0        5.5       6.0       5.0     8.0    0.50    2.00",
		"                       runc    FAILED",
		"runc run true: runc: exit status 1: boom",
		"exec true              berth   n/a: berth has no exec command yet",
		"binary size                                 4.0      8.0      1.0        4.00        8.00",
		"RSS waiting between create and start        3.0      0.0      1.0        3.00        0.00",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if len(rep.Errors) != 1 {
		t.Errorf("errors %q, want the one failure", rep.Errors)
	}
}
