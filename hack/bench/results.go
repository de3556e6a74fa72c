package main

import (
	"math"
	"slices"
)

// results collects the samples of every operation for every runtime, the
// operations in the order they first ran.
type results struct {
	ops  []*opResults
	byOp map[string]*opResults
	// waitingRSS is the resident set, in KiB, of each runtime's container
	// process between create and start.
	waitingRSS map[string][]int64
}

func newResults() *results {
	return &results{byOp: make(map[string]*opResults), waitingRSS: make(map[string][]int64)}
}

// op returns the results of the named operation. Concurrent operations
// start or stop many containers at once; each of their samples covers all.
func (r *results) op(name string, concurrent bool) *opResults {
	if o, ok := r.byOp[name]; ok {
		return o
	}
	o := &opResults{name: name, concurrent: concurrent, by: make(map[string]*series)}
	r.ops = append(r.ops, o)
	r.byOp[name] = o
	return o
}

// opResults are the samples of one operation by runtime.
type opResults struct {
	name       string
	concurrent bool
	by         map[string]*series
}

// series is what one runtime did in one operation.
type series struct {
	samples []sample
	// err is the first failure; after it the operation is not tried again.
	err error
	// notApplicable says why the runtime cannot do the operation.
	notApplicable string
}

func (o *opResults) series(rt string) *series {
	s, ok := o.by[rt]
	if !ok {
		s = &series{}
		o.by[rt] = s
	}
	return s
}

func (o *opResults) add(rt string, s sample) {
	o.series(rt).samples = append(o.series(rt).samples, s)
}

// fail records the first failure of runtime rt.
func (o *opResults) fail(rt string, err error) {
	if s := o.series(rt); s.err == nil {
		s.err = err
	}
}

func (o *opResults) setNotApplicable(rt, why string) {
	o.series(rt).notApplicable = why
}

// skip reports whether runtime rt is no longer tried in the operation.
func (o *opResults) skip(rt string) bool {
	s := o.series(rt)
	return s.err != nil || s.notApplicable != ""
}

// stats summarises a set of measurements.
type stats struct {
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Min    float64 `json:"min"`
}

// summarize returns the median (the mean of the middle two of an even
// count), the 95th percentile by the nearest-rank method (the largest value
// for fewer than 20) and the minimum. It returns zeros for no values.
func summarize(xs []float64) stats {
	if len(xs) == 0 {
		return stats{}
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	rank := int(math.Ceil(0.95 * float64(n)))
	return stats{Median: median, P95: s[rank-1], Min: s[0]}
}
