// Package trace logs the steps of one operation on one container (create,
// start, exec, kill, update, delete) at debug level, each with the time it
// took, so that an operator sees where the time of an operation goes and
// at which step it failed.
//
// A trace exists only while debug logging is on: Start returns nil
// otherwise, and a nil trace's methods return at once, reading no clock and
// formatting nothing.
package trace

import (
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
)

// Trace is one operation on one container; nil when debug logging is off.
type Trace struct {
	op          string
	log         *logrus.Entry
	start, last time.Time
}

// Start begins the trace of operation op on container id, or returns nil
// when debug logging is off.
func Start(op, id string) *Trace {
	if !logrus.IsLevelEnabled(logrus.DebugLevel) {
		return nil
	}
	now := time.Now()
	return &Trace{op: op, log: logrus.WithField("container", id), start: now, last: now}
}

// On reports whether t logs, to decide whether to ask a child process for
// its lines too.
func (t *Trace) On() bool { return t != nil }

// Step logs that step what is done, with the time since the previous step
// ("took").
func (t *Trace) Step(what string) {
	if t == nil {
		return
	}
	now := time.Now()
	t.log.WithField("took", now.Sub(t.last).Round(time.Microsecond).String()).Debug(t.op + ": " + what)
	t.last = now
}

// Stepf is Step with a description formatted only when t logs.
func (t *Trace) Stepf(format string, args ...any) {
	if t == nil {
		return
	}
	t.Step(fmt.Sprintf(format, args...))
}

// End logs the end of the operation with its whole time ("total"), and the
// error it failed with, if any.
func (t *Trace) End(err error) {
	if t == nil {
		return
	}
	log := t.log.WithField("total", time.Since(t.start).Round(time.Microsecond).String())
	if err != nil {
		log.Debugf("%s: failed: %v", t.op, err)
		return
	}
	log.Debug(t.op + ": done")
}
