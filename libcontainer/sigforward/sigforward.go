// Package sigforward passes the signals berth receives on to a container's
// process, as `run` and `exec` in the foreground do.
//
// os/signal could catch them, but enabling each signal costs the Go runtime
// a round trip between two threads (its signal-mask thread is locked to its
// own OS thread): about 1.5 ms of CPU for every signal there is, more than
// a tenth of an exec. A C handler installed with sigaction(2) costs one
// system call per signal, and forwards without waking any Go code.
package sigforward

/*
int berth_sigforward_catch(int sig);
void berth_sigforward_to(int pidfd);
*/
import "C"

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// kept are the signals berth handles itself: those the Go runtime needs
// (faults arrive as SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP, SIGURG
// preempts goroutines, SIGPROF profiles), the C library's internal
// real-time signals (glibc's 32 and 33, musl's 32 to 34: timers, thread
// cancellation, setting ids across threads; the C library's sigaction
// refuses them, and os/signal never delivers them), those that concern
// berth (SIGCHLD, SIGPIPE, and SIGWINCH, which resizes the container's
// terminal) and those nobody can catch.
var kept = map[unix.Signal]bool{
	unix.SIGSEGV: true, unix.SIGBUS: true, unix.SIGFPE: true, unix.SIGILL: true, unix.SIGTRAP: true,
	unix.SIGURG: true, unix.SIGPROF: true, 32: true, 33: true, 34: true,
	unix.SIGCHLD: true, unix.SIGPIPE: true, unix.SIGWINCH: true,
	unix.SIGKILL: true, unix.SIGSTOP: true,
}

// sigRTMax is the highest signal number on Linux.
const sigRTMax = 64

// Start catches every signal but the kept ones; until To names where they
// go, each is held.
func Start() error {
	for sig := unix.Signal(1); sig <= sigRTMax; sig++ {
		if kept[sig] {
			continue
		}
		if ret, err := C.berth_sigforward_catch(C.int(sig)); ret != 0 {
			return fmt.Errorf("catch signal %d to forward it: %w", sig, err)
		}
	}
	return nil
}

// To sends the signals held so far, and each one after, to the process
// behind pidfd, which must stay open. A pidfd reaches no other process that
// reuses the pid once this one has been waited for.
func To(pidfd int) {
	C.berth_sigforward_to(C.int(pidfd))
}
