package main

import (
	"time"

	"github.com/berthrt/berth/hack/bench/spawn"
)

// sample is one measurement of a command, or of several added up.
type sample struct {
	wall time.Duration
	// cpu is user+system time of the command and of every descendant it
	// waited for, as wait4 reports it.
	cpu time.Duration
	// maxRSS is ru_maxrss in KiB: the largest resident set of the command
	// or of a descendant it waited for.
	maxRSS int64
	// start and end are when the first command was forked and the last
	// reaped (CLOCK_MONOTONIC).
	start, end time.Duration
}

func sampleOf(e spawn.Exit) sample {
	return sample{wall: e.End - e.Start, cpu: e.CPU, maxRSS: e.MaxRSS, start: e.Start, end: e.End}
}

// add combines samples of commands run one after the other: wall times
// add up, not the time between them.
func (s sample) add(o sample) sample {
	return s.merge(o, s.wall+o.wall)
}

// overlap combines samples of commands run at the same time: the wall time
// is from the first start to the last end.
func (s sample) overlap(o sample) sample {
	m := s.merge(o, 0)
	m.wall = m.end - m.start
	return m
}

func (s sample) merge(o sample, wall time.Duration) sample {
	m := sample{wall: wall, cpu: s.cpu + o.cpu, maxRSS: max(s.maxRSS, o.maxRSS), start: s.start, end: max(s.end, o.end)}
	if s.start == 0 || (o.start != 0 && o.start < s.start) {
		m.start = o.start
	}
	return m
}
