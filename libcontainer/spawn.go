package libcontainer

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/nsenter"
)

// spawn collects what a `berth init` process inherits: the caller's
// preserved fds first (they keep their numbers), then berth's own, each
// announced to init by an environment variable naming its number.
type spawn struct {
	files []*os.File
	env   []string
}

func newSpawn(preserveFDs int) *spawn {
	s := &spawn{}
	for i := 0; i < preserveFDs; i++ {
		s.files = append(s.files, os.NewFile(uintptr(3+i), "preserved fd "+strconv.Itoa(3+i)))
	}
	return s
}

// pass hands f to init as the fd named by the variable env (none when env
// is empty), and returns its number there.
func (s *spawn) pass(env string, f *os.File) int {
	fd := 3 + len(s.files)
	s.files = append(s.files, f)
	if env != "" {
		s.env = append(s.env, env+"="+strconv.Itoa(fd))
	}
	return fd
}

// envNsenter carries the nsenter constructor's instructions
// (libcontainer/nsenter).
const envNsenter = "_BERTH_NSENTER"

// launch starts `berth init` with the nsenter instructions nsWords, follows
// the constructor to the pid that goes on (writing the id maps of l when it
// makes a user namespace), and reaps the intermediate process when the
// constructor forked into a pid namespace. The pid returned is the
// caller's child either way: the constructor forks with CLONE_PARENT.
func (s *spawn) launch(sync *syncPipe, nsWords string, l *specs.Linux, dir string, stdin, stdout, stderr *os.File) (int, error) {
	s.env = append(s.env, envNsenter+"="+nsWords)
	if sync.trace.On() {
		s.env = append(s.env, envDebug+"=1")
	}
	cmd, err := s.start(dir, stdin, stdout, stderr, &syscall.SysProcAttr{
		Setsid: true,
		// If the parent dies during set-up, so does the child; init clears
		// this once it is ready (a process the constructor forked never
		// has it, and sees the sync socket close instead).
		Pdeathsig: unix.SIGKILL,
	})
	if err != nil {
		return 0, err
	}
	pid, err := sync.awaitPid(cmd.Process.Pid, l)
	if err != nil {
		_ = cmd.Process.Kill()
	}
	if err != nil || pid != cmd.Process.Pid {
		_ = cmd.Wait()
	}
	return pid, err
}

// start runs `berth init` from the sealed binary with the collected fds.
func (s *spawn) start(dir string, stdin, stdout, stderr *os.File, attr *syscall.SysProcAttr) (*exec.Cmd, error) {
	sealed, err := sealedSelf()
	if err != nil {
		return nil, err
	}
	// The child execs /proc/self/fd/N after Go has moved the inherited fds
	// into place: 0 … 2+len(files), with any that were in the way parked
	// just above that. N must be out of that range, or it would name some
	// other file by then.
	n, err := unix.FcntlInt(uintptr(sealed), unix.F_DUPFD_CLOEXEC, 2*(3+len(s.files))+2)
	if err != nil {
		return nil, fmt.Errorf("dup berth's own binary: %w", err)
	}
	defer unix.Close(n)
	cmd := &exec.Cmd{
		Path: "/proc/self/fd/" + strconv.Itoa(n),
		Args: []string{"berth", "init"},
		// init is short-lived and single-threaded: one P spares the Go
		// runtime reading cgroup CPU limits at start, and it need not
		// collect garbage. It inherits berth's raised timer slack, and
		// gives the process it execs this one, the caller's.
		Env: append([]string{"GOMAXPROCS=1", "GOGC=off",
			"_BERTH_TIMERSLACK=" + strconv.FormatUint(nsenter.CallerTimerSlack(), 10)}, s.env...),
		Dir:         dir,
		Stdin:       stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		ExtraFiles:  s.files,
		SysProcAttr: attr,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start berth init: %w", err)
	}
	return cmd, nil
}
