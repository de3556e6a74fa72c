// Package cgdir holds the cgroupfs operations both cgroup drivers share.
//
// The runtime touches these files on every container start, and they are
// tiny and read or written whole, so the helpers go straight to open, read or
// write, and close: no fstat, no poller registration.
package cgdir

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/internal/smallfile"
)

// ReadFile returns the content of file in the cgroup directory dir.
func ReadFile(dir, file string) (string, error) {
	data, err := smallfile.Read(dir + "/" + file)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return string(data), nil
}

// WriteFile writes data to file in the cgroup directory dir in one write,
// which is how cgroupfs takes a value.
func WriteFile(dir, file, data string) error {
	fd, err := unix.Open(dir+"/"+file, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	_, err = unix.Write(fd, []byte(data))
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// Mkdir creates the cgroup directory dir and any missing ancestors, and
// returns the directories it created, outermost first. It tries dir first:
// in the common case its parent exists and one mkdir is all it costs.
func Mkdir(dir string) ([]string, error) {
	err := unix.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		return []string{dir}, nil
	case errors.Is(err, unix.EEXIST):
		return nil, nil
	case !errors.Is(err, unix.ENOENT) || filepath.Dir(dir) == dir:
		return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	created, err := Mkdir(filepath.Dir(dir))
	if err != nil {
		return nil, err
	}
	switch err := unix.Mkdir(dir, 0o755); {
	case err == nil:
		return append(created, dir), nil
	case errors.Is(err, unix.EEXIST): // someone else made it meanwhile
		return created, nil
	default:
		// Leave no empty ancestor behind that nobody would remove.
		for i := len(created) - 1; i >= 0; i-- {
			_ = unix.Rmdir(created[i])
		}
		return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
}

// AddPid moves process pid, with all its threads, into the cgroup at dir.
func AddPid(dir string, pid int) error {
	if err := WriteFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("add pid %d to cgroup %s: %w", pid, dir, err)
	}
	return nil
}
