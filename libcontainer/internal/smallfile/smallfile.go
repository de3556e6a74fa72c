// Package smallfile reads the small files a runtime reads on every command
// (state documents, /proc and cgroupfs files) straight through open, read
// and close. os.ReadFile also stats the file, sets up an *os.File with a
// finalizer and asks whether the poller can take it: little each time, but
// `list` does it for every container.
package smallfile

import (
	"errors"
	"slices"

	"golang.org/x/sys/unix"
)

// Read returns the content of the file at path. Its errors are the bare
// errno, for the caller to name the file in its own words;
// errors.Is(err, fs.ErrNotExist) works on them.
func Read(path string) ([]byte, error) {
	return ReadInto(make([]byte, 0, 1024), path)
}

// ReadInto is Read into buf's capacity, which it grows if the file needs
// more: a caller that reads many files can use one buffer on its stack.
func ReadInto(buf []byte, path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(len(buf), 512))
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
