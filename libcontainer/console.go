package libcontainer

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/rootfs"
)

// envConsoleFD names the inherited fd of the console socket in init.
const envConsoleFD = "_BERTH_CONSOLEFD"

// ptyName is the payload sent with the pty master, as runc sends it;
// receivers read the fd from the control message.
const ptyName = "/dev/ptmx"

// DialConsoleSocket connects to the unix socket at path, which will receive
// the container's pty master (the runtime spec's console socket).
func DialConsoleSocket(path string) (*os.File, error) {
	f, err := dialUnix(path)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return f, nil
}

// dialUnix connects a blocking stream socket to path. It goes to the
// socket calls itself: package net would add a few hundred KB to a binary
// every berth command maps in.
func dialUnix(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", path, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect to %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ConsolePair returns a connected socket pair for a caller that receives the
// pty master itself (run in the foreground with a terminal): give the
// first to CreateOptions.ConsoleSocket, read the master from the second
// with RecvPty.
func ConsolePair() (send, recv *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("make console socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console send"), os.NewFile(uintptr(fds[1]), "console recv"), nil
}

// RecvPty reads one pty master sent over sock.
func RecvPty(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive pty master: no fd in the message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("receive pty master: no fd in the message")
	}
	return os.NewFile(uintptr(fds[0]), "pty master"), nil
}

// attachPty is init's side: it sends the master to the console socket and
// makes the slave the process's stdio and controlling terminal, owned by
// the process's user.
func attachPty(pty *rootfs.Pty, sock *os.File, p *specs.Process) error {
	defer pty.Master.Close()
	defer pty.Slave.Close()
	slave := int(pty.Slave.Fd())
	if p.ConsoleSize != nil {
		ws := &unix.Winsize{Row: uint16(p.ConsoleSize.Height), Col: uint16(p.ConsoleSize.Width)}
		if err := unix.IoctlSetWinsize(slave, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("set console size: %w", err)
		}
	}
	if err := unix.Fchown(slave, int(p.User.UID), -1); err != nil {
		return fmt.Errorf("give the terminal to uid %d: %w", p.User.UID, err)
	}
	rights := unix.UnixRights(int(pty.Master.Fd()))
	if err := unix.Sendmsg(int(sock.Fd()), []byte(ptyName), rights, nil, 0); err != nil {
		return fmt.Errorf("send pty master to the console socket: %w", err)
	}
	sock.Close()
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("make the terminal fd %d: %w", fd, err)
		}
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make the terminal the controlling terminal: %w", err)
	}
	return nil
}

// SendPidfd sends a pidfd of process pid to the unix socket at path (the
// --pidfd-socket protocol of runc), so a supervisor can wait for and signal
// the process without pid reuse races.
func SendPidfd(path string, pid int) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("open pidfd of %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	sock, err := dialUnix(path)
	if err != nil {
		return fmt.Errorf("pidfd socket: %w", err)
	}
	defer sock.Close()
	if err := unix.Sendmsg(int(sock.Fd()), []byte("pidfd"), unix.UnixRights(pidfd), nil, 0); err != nil {
		return fmt.Errorf("send pidfd to %s: %w", path, err)
	}
	return nil
}
