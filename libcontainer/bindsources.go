package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A container with a user namespace has its init look bind sources up as
// the container's root, who may not reach a source the runtime can (one
// below a directory only the host's root may enter). runc opens the
// sources before its init enters the user namespace; berth's parent does
// the same once init asks (msgBindSources): from a thread in init's mount
// namespace, as the host's root, it opens each source O_PATH and passes
// the handles over the sync socket. Init clones the mounts behind them
// (it can clone only mounts of its own namespace), with the locks its
// namespace puts on the mounts below, as if it had looked the source up
// itself. The lookup is the one init did, host paths as the config names
// them: no path of the container's is looked up on the host's behalf.

// bindSourcesFromParent lists, by index in s.Mounts, the bind mounts whose
// sources the parent opens: all but the idmapped ones (idmap.go) of a
// container with a user namespace. Parent and init both call it.
func bindSourcesFromParent(s *specs.Spec) []int {
	if s.Linux == nil || !slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace }) {
		return nil
	}
	var indices []int
	for i, m := range s.Mounts {
		if isBindMount(m) && len(m.UIDMappings) == 0 {
			indices = append(indices, i)
		}
	}
	return indices
}

// sendBindSources opens the sources of the mounts indices of s in the
// mount namespace of init pid and sends them on sync, one per message.
// In the parent.
func sendBindSources(sync *syncPipe, s *specs.Spec, bundle string, pid int, indices []int) error {
	var sources []int
	defer func() {
		for _, fd := range sources {
			unix.Close(fd)
		}
	}()
	err := onContainerThread(pid, unix.CLONE_NEWNS, func() error {
		// Relative sources resolve in the bundle.
		if err := unix.Chdir(bundle); err != nil {
			return fmt.Errorf("chdir to the bundle: %w", err)
		}
		for _, i := range indices {
			m := s.Mounts[i]
			fd, err := unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("mount %s on %s: bind source: %w", m.Source, m.Destination, &os.PathError{Op: "open", Path: m.Source, Err: err})
			}
			sources = append(sources, fd)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, fd := range sources {
		if err := unix.Sendmsg(int(sync.f.Fd()), []byte{0}, unix.UnixRights(fd), nil, 0); err != nil {
			return fmt.Errorf("send a bind source: %w", err)
		}
	}
	return nil
}

// recvBindSources asks the parent for the sources of the mounts indices
// and returns them by index. In init, right after the bootstrap, whose
// decoder holds no more than the newline that ended it.
func recvBindSources(sync *syncPipe, indices []int) (map[int]*os.File, error) {
	if len(indices) == 0 {
		return nil, nil
	}
	if err := sync.send(syncMsg{Type: msgBindSources}); err != nil {
		return nil, err
	}
	sources := make(map[int]*os.File, len(indices))
	for _, i := range indices {
		fd, err := recvFD(sync.f)
		if err != nil {
			closeAll(sources)
			return nil, fmt.Errorf("receive a bind source: %w", err)
		}
		sources[i] = os.NewFile(uintptr(fd), "bind source")
	}
	return sources, nil
}

// recvFD receives one fd sent with one byte, passing over the newline
// that ended the message before, if it is still unread.
func recvFD(f *os.File) (int, error) {
	for {
		buf := make([]byte, 1)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := unix.Recvmsg(int(f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			return -1, err
		}
		if n == 0 {
			return -1, errPeerGone
		}
		if oobn == 0 && buf[0] == '\n' {
			continue
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return -1, err
		}
		if len(msgs) != 1 {
			return -1, errors.New("protocol error: no fd")
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil {
			return -1, err
		}
		if len(fds) != 1 {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return -1, fmt.Errorf("protocol error: %d fds, want 1", len(fds))
		}
		return fds[0], nil
	}
}
