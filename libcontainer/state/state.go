// Package state is the on-disk store of containers under the runtime's root
// directory (--root, /run/berth by default).
//
// Each container owns the directory <root>/<id>, which holds its state.json
// and whatever else the runtime keeps per container (the exec fifo, for
// instance). Writers serialise on an flock(2) of that directory; readers take
// no lock at all, because state.json is only ever replaced by rename(2) and so
// is always either the old or the new document in full. That keeps `state` and
// `list` cheap even while other commands work on the same containers.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/internal/quote"
	"github.com/berthrt/berth/libcontainer/internal/smallfile"
)

// stateFile is the name of the state document inside a container's directory.
const stateFile = "state.json"

// maxIDLen caps ids so that a hostile one cannot bloat every error message
// and log line that quotes it (ValidateID's own errors show a long one cut
// short). Most filesystems refuse names over 255 bytes anyway, so ids
// between that and maxIDLen pass ValidateID but fail in Create.
const maxIDLen = 1024

var (
	// ErrNotExist means no container has the given id.
	ErrNotExist = errors.New("container does not exist")
	// ErrExist means a container with the given id already exists.
	ErrExist = errors.New("container already exists")
)

// containerError names the container an ErrExist or ErrNotExist is about,
// reading as `container "web" does not exist` while still matching the
// sentinel with errors.Is.
type containerError struct {
	id  string
	err error
}

func (e *containerError) Error() string {
	if e.err == ErrExist {
		return fmt.Sprintf("container %q already exists", e.id)
	}
	return fmt.Sprintf("container %q does not exist", e.id)
}

func (e *containerError) Unwrap() error { return e.err }

// ValidateID reports whether id may name a container. It accepts only
// non-empty ids of at most 1024 bytes drawn from [A-Za-z0-9_+-.], other than
// "." and "..", so that an id is always a single plain file name under the
// root and can never escape it.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("invalid container id %q: must not be empty", id)
	case len(id) > maxIDLen:
		return fmt.Errorf("invalid container id %s: longer than %d bytes", quote.Short(id), maxIDLen)
	case id == "." || id == "..":
		return fmt.Errorf("invalid container id %q: must not be %q or %q", id, ".", "..")
	}
	for i := 0; i < len(id); i++ {
		if !validIDByte(id[i]) {
			return fmt.Errorf("invalid container id %s: contains %q; only letters, digits, '_', '+', '-' and '.' are allowed", quote.Short(id), id[i:i+1])
		}
	}
	return nil
}

func validIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '+' || c == '-' || c == '.'
}

// Store is the set of containers kept under one root directory. Its methods
// are safe for concurrent use, also by several processes sharing the root.
type Store struct {
	root string
}

// Open returns the store rooted at root, creating the directory (mode 0700,
// with parents) if it does not exist. The root is made absolute so that the
// paths the store hands out stay valid after a change of working directory.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open state root %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open state root: %w", err)
	}
	// The store keeps the resolved path: a symlink on the way, which its
	// owner could point elsewhere later, is followed once, here.
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("open state root: %w", err)
	}
	if err := checkPrivate(real); err != nil {
		return nil, fmt.Errorf("open state root %q: %w", root, err)
	}
	return &Store{root: real}, nil
}

// checkPrivate refuses a state root that a user other than the caller (or
// root) could change: whoever can write into it, or replace it or a
// directory above it, can plant a container there whose state and config
// berth trusts, such as a poststop hook that `delete` runs as root. So
// the root must belong to the caller and be writable by no one else, and
// every directory above it must belong to the caller or root and be
// writable by no one else unless it is sticky (as /tmp is), where others
// cannot rename or remove what they do not own. root has no symlinks.
func checkPrivate(root string) error {
	euid := uint32(os.Geteuid())
	for dir := root; ; dir = filepath.Dir(dir) {
		var st unix.Stat_t
		if err := unix.Lstat(dir, &st); err != nil {
			return &os.PathError{Op: "lstat", Path: dir, Err: err}
		}
		switch {
		case dir == root && st.Uid != euid:
			return fmt.Errorf("%s belongs to uid %d, not to this user (uid %d): that user could plant containers in it", dir, st.Uid, euid)
		case st.Uid != euid && st.Uid != 0:
			return fmt.Errorf("%s belongs to uid %d: that user could replace the state root inside it", dir, st.Uid)
		case st.Mode&0o022 != 0 && (dir == root || st.Mode&unix.S_ISVTX == 0):
			return fmt.Errorf("%s is writable by group or others (mode %04o): they could plant containers in it", dir, st.Mode&0o7777)
		}
		if dir == "/" {
			return nil
		}
	}
}

// Root returns the absolute path of the store's root directory.
func (s *Store) Root() string { return s.root }

func (s *Store) dir(id string) string { return filepath.Join(s.root, id) }

// Create reserves a new container id and returns its entry, locked, with an
// empty directory. It fails with an error matching ErrExist if the id is
// taken.
//
// The directory is built and locked under a temporary name and then renamed
// into place without replacing anything, so no other process can ever find
// the new container unlocked, or mistake someone else's for its own.
func (s *Store) Create(id string) (*Entry, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	// "~" is not allowed in ids, so List and Lock never see the temporary.
	tmp, err := os.MkdirTemp(s.root, "~create-")
	if err != nil {
		return nil, fmt.Errorf("make state directory: %w", err)
	}
	f, err := openLocked(tmp)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("lock state directory: %w", err)
	}
	dir := s.dir(id)
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_NOREPLACE); err != nil {
		f.Close()
		os.Remove(tmp)
		if err == unix.EEXIST {
			return nil, &containerError{id: id, err: ErrExist}
		}
		return nil, fmt.Errorf("make state directory: %w", &os.LinkError{Op: "rename", Old: tmp, New: dir, Err: err})
	}
	return &Entry{id: id, dir: dir, f: f}, nil
}

// Lock returns the entry of an existing container, waiting as long as
// another holder has it locked. It fails with an error matching ErrNotExist
// if there is no such container, including when the container was removed
// while Lock waited for it.
func (s *Store) Lock(id string) (*Entry, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := s.dir(id)
	f, err := openLocked(dir)
	if err != nil {
		if missing(err) {
			return nil, &containerError{id: id, err: ErrNotExist}
		}
		return nil, fmt.Errorf("lock container %q: %w", id, err)
	}
	// The holder we waited for may have removed the container, and someone
	// may even have created a new one under the same id since; either way
	// the directory we hold is no longer the one the id names.
	same, err := namesFile(dir, f)
	if err != nil || !same {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("lock container %q: %w", id, err)
		}
		return nil, &containerError{id: id, err: ErrNotExist}
	}
	return &Entry{id: id, dir: dir, f: f}, nil
}

// Read decodes the state last saved for container id into v, without taking
// its lock. A container is visible to Read from its first Save until its
// Remove; at other times, and for unknown ids, Read fails with an error
// matching ErrNotExist. v must not keep the JSON it is decoded from (a
// json.RawMessage): Read reuses the bytes.
func (s *Store) Read(id string, v any) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	buf := readBufs.Get().(*[]byte)
	defer readBufs.Put(buf)
	data, err := smallfile.ReadInto(*buf, filepath.Join(s.dir(id), stateFile))
	*buf = data
	if err != nil {
		if missing(err) {
			return &containerError{id: id, err: ErrNotExist}
		}
		return fmt.Errorf("read state of %q: %w", id, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read state of %q: %w", id, err)
	}
	return nil
}

// readBufs are Read's buffers: list reads a state per container, and the
// decoded state holds no reference to the bytes.
var readBufs = sync.Pool{New: func() any { return new([]byte) }}

// List returns the ids of all containers in the store, sorted. It includes
// containers still being created or being removed, whose Read fails with
// ErrNotExist; callers that want only live containers skip those. Anything
// in the root that is not a directory with a valid id is ignored.
func (s *Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil // os.ReadDir has sorted them by name
}

// Entry is one container held under its exclusive lock. Only the holder may
// change the container's directory. An Entry is not safe for concurrent use;
// after Unlock or Remove it must not be used again.
type Entry struct {
	id  string
	dir string
	f   *os.File // the container directory; holding it open holds the lock
}

// ID returns the container's id.
func (e *Entry) ID() string { return e.id }

// Dir returns the container's directory, <root>/<id>, where the runtime may
// keep further per-container files.
func (e *Entry) Dir() string { return e.dir }

// Save replaces the container's state with the JSON encoding of v. The new
// document is written to a temporary file and renamed over state.json, so
// lock-free readers see either the old state or the new one, never a mix.
// It does not fsync: the root normally lives on tmpfs and does not outlive a
// reboot, and neither do the containers it describes.
func (e *Entry) Save(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("save state of %q: %w", e.id, err)
	}
	tmp, err := os.CreateTemp(e.dir, stateFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("save state of %q: %w", e.id, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(e.dir, stateFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save state of %q: %w", e.id, err)
	}
	return nil
}

// Load decodes the container's saved state into v. For a container whose
// state was never saved it fails with an error matching fs.ErrNotExist.
func (e *Entry) Load(v any) error {
	data, err := smallfile.Read(filepath.Join(e.dir, stateFile))
	if err != nil {
		return fmt.Errorf("load state of %q: %w", e.id, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("load state of %q: %w", e.id, err)
	}
	return nil
}

// Remove deletes the container's directory and everything in it, then
// releases the lock. Deleting while still locked means that whoever waits in
// Lock for this container wakes up to find it gone and gets ErrNotExist.
func (e *Entry) Remove() error {
	err := os.RemoveAll(e.dir)
	if uerr := e.Unlock(); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("remove container %q: %w", e.id, err)
	}
	return nil
}

// Unlock releases the container's lock.
func (e *Entry) Unlock() error {
	if err := e.f.Close(); err != nil {
		return fmt.Errorf("unlock container %q: %w", e.id, err)
	}
	return nil
}

// openLocked opens the directory at path and takes an exclusive flock on it,
// waiting for any other holder. Locking the directory itself leaves no lock
// file behind to clean up, and the lock dies with the descriptor, so a
// crashed holder never wedges a container.
func openLocked(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		// Go's own signal handlers restart flock, but one installed by C
		// code without SA_RESTART would interrupt it.
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}

// namesFile reports whether path still names the file open as f.
func namesFile(path string, f *os.File) (bool, error) {
	now, err := os.Lstat(path)
	if missing(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	return os.SameFile(now, held), nil
}

// missing reports whether err means a path does not lead to a container
// directory: nothing is there, or a stray file or symlink that List ignores.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR)
}
