// Package nsenter joins a running container's namespaces before the Go
// runtime starts (see nsenter.c). Importing it is all it takes; the parent
// side is libcontainer's exec. It also raises the timer slack of every
// berth process, which the processes berth starts must not inherit: see
// RestoreTimerSlack.
package nsenter

// extern unsigned long berth_caller_timer_slack;
import "C"

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// CallerTimerSlack returns the timer slack, in nanoseconds, of the process
// that started berth (0 if unknown), for a `berth init` to get passed as
// _BERTH_TIMERSLACK.
func CallerTimerSlack() uint64 {
	return uint64(C.berth_caller_timer_slack)
}

// RestoreTimerSlack gives the calling thread the timer slack of the
// process that started berth. A process inherits the slack of the thread
// that forks or execs it, so the caller locks its goroutine to its thread
// first, unless it is locked already.
func RestoreTimerSlack() error {
	slack := CallerTimerSlack()
	if slack == 0 {
		return nil // never raised
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0); err != nil {
		return fmt.Errorf("restore timer slack: %w", err)
	}
	return nil
}
