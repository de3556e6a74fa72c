package spawn

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// commandTimeout and exitTimeout only catch hangs; no measurement
	// depends on them.
	commandTimeout = 2 * time.Minute
	exitTimeout    = time.Minute
)

// ErrGone is returned once the spawner has died or been closed.
var ErrGone = errors.New("the spawner process is gone")

// Exit is what the spawner reports about a child it reaped.
type Exit struct {
	// Start is when the spawner forked the child, zero for an orphan;
	// End is when it reaped it. Both are CLOCK_MONOTONIC.
	Start, End time.Duration
	Status     unix.WaitStatus
	// CPU is user+system time of the child and of every descendant it
	// waited for.
	CPU time.Duration
	// MaxRSS is ru_maxrss in KiB: the largest resident set of the child
	// or of a descendant it waited for.
	MaxRSS int64
}

// Client starts commands through a spawner process and follows the exits of
// the processes it reaps. It is safe for concurrent use.
type Client struct {
	sock    int
	proc    *os.Process
	devNull *os.File
	// gone is closed when the spawner's socket closes.
	gone chan struct{}

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*command
	// waiting maps a pid to whoever waits for its exit.
	waiting map[int]chan Exit
	// early keeps exits nobody waited for yet: processes that may be
	// watched later, and helpers nobody will ask about.
	early map[int]Exit
}

// Start starts the spawner binary at path. Its stderr is the caller's.
func Start(path string) (*Client, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("spawner socket: %w", err)
	}
	theirs := os.NewFile(uintptr(fds[1]), "spawner")
	defer theirs.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	proc, err := os.StartProcess(path, []string{path}, &os.ProcAttr{
		Env:   Env,
		Files: []*os.File{devNull, os.Stderr, os.Stderr, theirs},
	})
	if err != nil {
		unix.Close(fds[0])
		devNull.Close()
		return nil, fmt.Errorf("start spawner: %w", err)
	}
	c := &Client{
		sock: fds[0], proc: proc, devNull: devNull, gone: make(chan struct{}),
		pending: make(map[uint64]*command), waiting: make(map[int]chan Exit), early: make(map[int]Exit),
	}
	go c.read()
	return c, nil
}

// Pid returns the spawner's pid.
func (c *Client) Pid() int { return c.proc.Pid }

// Close stops the spawner and waits for it.
func (c *Client) Close() error {
	// A shutdown, not just a close, so that the read blocked in the other
	// goroutine ends too, and the spawner sees the end.
	_ = unix.Shutdown(c.sock, unix.SHUT_RDWR)
	<-c.gone
	unix.Close(c.sock)
	c.devNull.Close()
	st, err := c.proc.Wait()
	if err == nil && !st.Success() {
		err = fmt.Errorf("spawner: %s", st)
	}
	return err
}

func (c *Client) read() {
	defer close(c.gone)
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(c.sock, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return
		}
		ev, ok := decodeEvent(buf[:n])
		if !ok {
			fmt.Fprintf(os.Stderr, "spawn: bad message from spawner %q\n", buf[:n])
			return
		}
		c.mu.Lock()
		switch ev.kind {
		case started:
			cmd := c.pending[uint64(ev.id)]
			delete(c.pending, uint64(ev.id))
			if ev.err != "" {
				cmd.started <- errors.New(ev.err)
				break
			}
			pid := int(ev.pid)
			cmd.pid = pid
			c.waiting[pid] = cmd.done
			delete(c.early, pid) // an exit of an earlier process with this pid
			cmd.started <- nil
		case exited:
			e := Exit{Start: time.Duration(ev.start), End: time.Duration(ev.end), Status: unix.WaitStatus(ev.status),
				CPU: time.Duration(ev.utime + ev.stime), MaxRSS: ev.maxRSS}
			pid := int(ev.pid)
			if ch, ok := c.waiting[pid]; ok {
				delete(c.waiting, pid)
				ch <- e
			} else {
				c.early[pid] = e
			}
		}
		c.mu.Unlock()
	}
}

// command is a command the client started.
type command struct {
	argv           []string
	pid            int
	started        chan error
	done           chan Exit
	stdout, stderr *os.File
}

// Run runs argv with stdin from /dev/null, to its end, and returns its exit
// and standard output. A command that fails is an error that quotes its
// standard error; the exit is still returned.
func (c *Client) Run(argv ...string) (Exit, string, error) {
	cmd, err := c.start(argv)
	if err != nil {
		return Exit{}, "", err
	}
	defer cmd.close()
	var e Exit
	select {
	case e = <-cmd.done:
	case <-c.gone:
		return Exit{}, "", ErrGone
	case <-time.After(commandTimeout):
		// The group is the one the spawner made for this command.
		_ = unix.Kill(-cmd.pid, unix.SIGKILL)
		return Exit{}, "", fmt.Errorf("%s: still running after %s; killed", strings.Join(argv, " "), commandTimeout)
	}
	stdout := readAll(cmd.stdout)
	if !e.Status.Exited() || e.Status.ExitStatus() != 0 {
		msg := strings.TrimSpace(readAll(cmd.stderr))
		if msg == "" {
			msg = "(no message)"
		}
		return e, stdout, fmt.Errorf("%s: %s: %s", strings.Join(argv, " "), describe(e.Status), msg)
	}
	return e, stdout, nil
}

func (c *Client) start(argv []string) (*command, error) {
	cmd := &command{argv: argv, started: make(chan error, 1), done: make(chan Exit, 1)}
	var err error
	// Not pipes: detached containers keep their runtime's stdio open.
	if cmd.stdout, err = memFile("stdout"); err != nil {
		return nil, err
	}
	if cmd.stderr, err = memFile("stderr"); err != nil {
		cmd.stdout.Close()
		return nil, err
	}
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.pending[id] = cmd
	c.mu.Unlock()
	rights := unix.UnixRights(int(c.devNull.Fd()), int(cmd.stdout.Fd()), int(cmd.stderr.Fd()))
	err = unix.Sendmsg(c.sock, encodeRequest(id, argv), rights, nil, 0)
	if err == nil {
		select {
		case err = <-cmd.started:
		case <-c.gone:
			err = ErrGone
		}
	}
	if err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		cmd.close()
		return nil, err
	}
	return cmd, nil
}

func (cmd *command) close() {
	cmd.stdout.Close()
	cmd.stderr.Close()
}

// Watch returns a channel that yields the exit of pid, a process below the
// spawner that it reaps once the command that started it has let go of it.
// Call it while the process exists: a pid that is gone is taken to be the
// one reaped last with that pid.
func (c *Client) Watch(pid int) <-chan Exit {
	ch := make(chan Exit, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
		if e, ok := c.early[pid]; ok {
			delete(c.early, pid)
			ch <- e
			return ch
		}
	}
	delete(c.early, pid)
	c.waiting[pid] = ch
	return ch
}

// AwaitExit waits for an exit from Watch; what names the process in the
// error.
func (c *Client) AwaitExit(ch <-chan Exit, what string) (Exit, error) {
	select {
	case e := <-ch:
		return e, nil
	case <-c.gone:
		return Exit{}, ErrGone
	case <-time.After(exitTimeout):
		return Exit{}, fmt.Errorf("%s did not exit within %s", what, exitTimeout)
	}
}

func describe(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

func memFile(name string) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd for %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

func readAll(f *os.File) string {
	b, _ := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	return string(b)
}
