// Package spawn starts commands from a small process, the spawner, and
// reports each one's exit with its rusage.
//
// It exists because of how Linux accounts ru_maxrss: exec records the
// high-water mark of the memory the process had before, and a child forked
// (or vforked, as Go does) from a large process has that process's memory
// until it execs, so it reports at least its parent's peak RSS. Forked from
// the spawner, whose peak stays near the Go runtime's minimum, commands
// report their own (the spawner's peak is the floor; Client.Pid finds it).
//
// The spawner is also the child subreaper of everything below it: processes
// that outlive the command that started them are reparented to it, and it
// reports their exits too.
//
// The two ends talk over a SOCK_SEQPACKET socket, one message per packet.
// The client sends a request with the command's stdin, stdout and stderr
// attached (SCM_RIGHTS); the spawner answers "started" with the pid, then
// sends an "exit" for every child it reaps, a pid's "started" always before
// its "exit". Times are CLOCK_MONOTONIC, taken by the spawner right before
// the fork and right after wait4. The messages are plain bytes, not JSON:
// the spawner runs as little code as it can, as every page it touches
// raises the floor.
package spawn

import (
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Env is the whole environment of every command: the same for all, and
// nothing from the caller's.
var Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// serverFd is the spawner's end of the socket.
const serverFd = 3

// A request is the id the client chose, then the command's arguments,
// each ended by a NUL.
func encodeRequest(id uint64, argv []string) []byte {
	b := binary.LittleEndian.AppendUint64(nil, id)
	for _, a := range argv {
		b = append(append(b, a...), 0)
	}
	return b
}

func decodeRequest(b []byte) (uint64, []string, bool) {
	if len(b) < 9 || b[len(b)-1] != 0 {
		return 0, nil, false
	}
	return binary.LittleEndian.Uint64(b), strings.Split(string(b[8:len(b)-1]), "\x00"), true
}

// Kinds of event.
const (
	started = iota
	exited
)

// An event is nine little-endian int64s, then, for a command that could not
// start, the error.
type event struct {
	kind, id, pid, start, end, status, utime, stime, maxRSS int64
	err                                                     string
}

func (e *event) encode() []byte {
	b := make([]byte, 0, 72+len(e.err))
	for _, v := range [...]int64{e.kind, e.id, e.pid, e.start, e.end, e.status, e.utime, e.stime, e.maxRSS} {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return append(b, e.err...)
}

func decodeEvent(b []byte) (event, bool) {
	if len(b) < 72 {
		return event{}, false
	}
	var v [9]int64
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return event{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], string(b[72:])}, true
}

// Serve is the spawner: it starts the commands requested on fd 3 and
// reports their exits, until the client shuts the socket down. Each command
// runs in a process group of its own, so that a terminal's ^C reaches the
// client only.
func Serve() error {
	// Commands get their stdio and nothing else.
	unix.CloseOnExec(serverFd)
	// This process's peak RSS is the floor of every child's ru_maxrss:
	// keep the heap near its live size (the default GC target lets garbage
	// grow it to 4 MiB) and have one P's caches and threads, not one per
	// CPU.
	debug.SetGCPercent(10)
	debug.SetMemoryLimit(2 << 20)
	runtime.GOMAXPROCS(1)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return errors.New("become child subreaper: " + err.Error())
	}
	var mu sync.Mutex
	starts := make(map[int]int64)
	kick := make(chan struct{}, 1)
	send := func(e event) {
		if _, err := unix.Write(serverFd, e.encode()); err != nil {
			// The client is gone, and with it whoever cleans up.
			os.Exit(1)
		}
	}
	go func() {
		for {
			var ws unix.WaitStatus
			var ru unix.Rusage
			pid, err := unix.Wait4(-1, &ws, unix.WALL, &ru)
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case err != nil:
				// ECHILD: orphans only ever come from a child's
				// descendants, so wait for the next command.
				<-kick
				continue
			}
			end := monotonic()
			mu.Lock()
			start := starts[pid]
			delete(starts, pid)
			send(event{kind: exited, pid: int64(pid), start: start, end: end, status: int64(ws),
				utime: ru.Utime.Nano(), stime: ru.Stime.Nano(), maxRSS: ru.Maxrss})
			mu.Unlock()
		}
	}()

	buf := make([]byte, 16<<10)
	oob := make([]byte, unix.CmsgSpace(3*4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(serverFd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return errors.New("spawner: receive: " + err.Error())
		}
		if n == 0 {
			return nil
		}
		fds, err := receivedFds(oob[:oobn])
		if err != nil {
			return err
		}
		id, argv, ok := decodeRequest(buf[:n])
		if !ok || len(fds) != 3 {
			return errors.New("spawner: bad request")
		}
		files := make([]uintptr, len(fds))
		for i, fd := range fds {
			files[i] = uintptr(fd)
		}
		attr := &syscall.ProcAttr{Env: Env, Files: files, Sys: &syscall.SysProcAttr{Setpgid: true}}
		mu.Lock()
		ev := event{kind: started, id: int64(id), start: monotonic()}
		pid, err := syscall.ForkExec(argv[0], argv, attr)
		if err != nil {
			ev.err = "start " + argv[0] + ": " + err.Error()
		} else {
			ev.pid = int64(pid)
			starts[pid] = ev.start
		}
		send(ev)
		mu.Unlock()
		for _, fd := range fds {
			unix.Close(fd)
		}
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

func receivedFds(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, errors.New("spawner: control message: " + err.Error())
	}
	var fds []int
	for _, m := range msgs {
		rights, err := unix.ParseUnixRights(&m)
		if err != nil {
			return nil, errors.New("spawner: control message: " + err.Error())
		}
		fds = append(fds, rights...)
	}
	return fds, nil
}

func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
