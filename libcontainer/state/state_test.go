package state

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berthrt/berth/libcontainer/internal/quote"
)

type testState struct {
	ID     string   `json:"id"`
	Pid    int      `json:"pid"`
	Labels []string `json:"labels"`
}

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "run", "berth"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCreate(t testing.TB, s *Store, id string) *Entry {
	t.Helper()
	e, err := s.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{
		"web", "a", "A-Z_a.z+0-9", "...", ".hidden", "-x", strings.Repeat("x", 1024),
	} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", id, err)
		}
	}
	for _, tc := range []struct{ name, id string }{
		{"empty", ""},
		{"too long", strings.Repeat("x", 1025)},
		{"dot", "."},
		{"dot dot", ".."},
		{"escape", "../x"},
		{"slash", "a/b"},
		{"absolute", "/etc"},
		{"nul", "a\x00b"},
		{"space", "a b"},
		{"colon", "a:b"},
		{"tilde", "~create-1"},
		{"non-ascii", "caf\u00e9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateID(tc.id)
			if err == nil {
				t.Fatalf("ValidateID(%q) = nil, want an error", tc.id)
			}
			if want := "invalid container id " + quote.Short(tc.id) + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if s.Root() != root {
		t.Errorf("Root() = %q, want %q", s.Root(), root)
	}
	fi, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("root mode = %v, want 0700", perm)
	}
	if _, err := Open(root); err != nil {
		t.Errorf("reopening an existing root: %v", err)
	}
}

// TestOpenRefusesRootOthersControl checks that a state root another user
// could write, or could swap, is refused: a local user who makes the
// directory an admin later names with --root could plant a container in
// it whose poststop hook `berth delete` runs as root.
func TestOpenRefusesRootOthersControl(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give directories to another user")
	}
	const nobody = 65534
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the --root
		want  string
	}{
		{"root writable by others", func(t *testing.T, dir string) string {
			root := filepath.Join(dir, "state")
			mustMkdir(t, root, 0o777)
			return root
		}, "is writable by group or others (mode 0777)"},
		{"root owned by another user", func(t *testing.T, dir string) string {
			root := filepath.Join(dir, "state")
			mustMkdir(t, root, 0o700)
			mustChown(t, root, nobody)
			return root
		}, "belongs to uid 65534, not to this user (uid 0)"},
		{"parent owned by another user", func(t *testing.T, dir string) string {
			parent := filepath.Join(dir, "home")
			mustMkdir(t, parent, 0o755)
			mustChown(t, parent, nobody)
			return filepath.Join(parent, "state")
		}, "belongs to uid 65534: that user could replace the state root"},
		{"parent writable by others, not sticky", func(t *testing.T, dir string) string {
			parent := filepath.Join(dir, "shared")
			mustMkdir(t, parent, 0o777)
			return filepath.Join(parent, "state")
		}, "is writable by group or others (mode 0777)"},
		{"symlink to a directory of another user", func(t *testing.T, dir string) string {
			theirs := filepath.Join(dir, "theirs")
			mustMkdir(t, theirs, 0o700)
			mustChown(t, theirs, nobody)
			root := filepath.Join(dir, "state")
			if err := os.Symlink(theirs, root); err != nil {
				t.Fatal(err)
			}
			return root
		}, "belongs to uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			root := tc.setup(t, dir)
			_, err := Open(root)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%s) = %v, want an error containing %q", root, err, tc.want)
			}
		})
	}
	t.Run("inside a sticky directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, os.ModeSticky|0o777); err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(dir, "state")
		s, err := Open(root)
		if err != nil {
			t.Fatalf("Open(%s) under a sticky directory: %v", root, err)
		}
		if s.Root() != root {
			t.Errorf("Root() = %q, want %q", s.Root(), root)
		}
	})
}

func mustMkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	// Mkdir's mode passes through the umask.
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func mustChown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

func TestCreate(t *testing.T) {
	s := openStore(t)
	e := mustCreate(t, s, "web")
	defer e.Unlock()
	if e.ID() != "web" {
		t.Errorf("ID() = %q, want web", e.ID())
	}
	if want := filepath.Join(s.Root(), "web"); e.Dir() != want {
		t.Errorf("Dir() = %q, want %q", e.Dir(), want)
	}
	fi, err := os.Stat(e.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("container dir mode = %v, want a 0700 directory", fi.Mode())
	}

	_, err = s.Create("web")
	if !errors.Is(err, ErrExist) {
		t.Fatalf("second Create = %v, want ErrExist", err)
	}
	if want := `container "web" already exists`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if _, err := s.Create("../web"); err == nil || errors.Is(err, ErrExist) {
		t.Errorf(`Create("../web") = %v, want an invalid id error`, err)
	}
	assertRootHolds(t, s, "web")
}

func TestLockNotExist(t *testing.T) {
	s := openStore(t)
	if err := os.WriteFile(filepath.Join(s.Root(), "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(s.Root(), "link")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"web", "file", "link"} {
		_, err := s.Lock(id)
		if !errors.Is(err, ErrNotExist) {
			t.Fatalf("Lock(%q) = %v, want ErrNotExist", id, err)
		}
		if want := "container " + strconv.Quote(id) + " does not exist"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	}
	if _, err := s.Lock(".."); err == nil || errors.Is(err, ErrNotExist) {
		t.Errorf(`Lock("..") = %v, want an invalid id error`, err)
	}
}

func TestSaveLoadRead(t *testing.T) {
	s := openStore(t)
	e := mustCreate(t, s, "web")

	var got testState
	if err := e.Load(&got); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load before Save = %v, want fs.ErrNotExist", err)
	}
	if err := s.Read("web", &got); !errors.Is(err, ErrNotExist) {
		t.Errorf("Read before Save = %v, want ErrNotExist", err)
	}

	want := testState{ID: "web", Pid: 42, Labels: []string{"a", "b"}}
	if err := e.Save(want); err != nil {
		t.Fatal(err)
	}
	if err := e.Load(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v, want %+v", got, want)
	}
	if err := e.Unlock(); err != nil {
		t.Fatal(err)
	}

	got = testState{}
	if err := s.Read("web", &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read = %+v, want %+v", got, want)
	}
	fi, err := os.Stat(filepath.Join(s.Root(), "web", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("state.json mode = %v, want 0600", perm)
	}
	// Save must not leave its temporary files behind.
	names, err := os.ReadDir(filepath.Join(s.Root(), "web"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 {
		t.Errorf("container dir holds %v, want only state.json", names)
	}

	if err := s.Read("nope", &got); !errors.Is(err, ErrNotExist) {
		t.Errorf("Read of unknown id = %v, want ErrNotExist", err)
	}
	if err := s.Read("../web", &got); err == nil || errors.Is(err, ErrNotExist) {
		t.Errorf(`Read("../web") = %v, want an invalid id error`, err)
	}
}

func TestSaveErrors(t *testing.T) {
	s := openStore(t)
	e := mustCreate(t, s, "web")
	defer e.Unlock()
	err := e.Save(func() {})
	if err == nil || !strings.HasPrefix(err.Error(), `save state of "web": `) {
		t.Errorf("Save of an unencodable value = %v, want a save error", err)
	}
	if err := os.WriteFile(filepath.Join(e.Dir(), "state.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	var v testState
	if err := e.Load(&v); err == nil || !strings.HasPrefix(err.Error(), `load state of "web": `) {
		t.Errorf("Load of broken JSON = %v, want a load error", err)
	}
	if err := s.Read("web", &v); err == nil || !strings.HasPrefix(err.Error(), `read state of "web": `) {
		t.Errorf("Read of broken JSON = %v, want a read error", err)
	}
}

// TestReadDuringSave checks that lock-free readers only ever see whole
// documents while the holder keeps replacing them with ones of other sizes.
func TestReadDuringSave(t *testing.T) {
	s := openStore(t)
	e := mustCreate(t, s, "web")
	defer e.Unlock()
	if err := e.Save(testState{ID: "web"}); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				var v testState
				if err := s.Read("web", &v); err != nil {
					errs <- err
					return
				}
				if v.ID != "web" || len(v.Labels) != v.Pid {
					errs <- errors.New("read a state that was never saved")
					return
				}
			}
		})
	}
	for i := range 500 {
		n := i % 50
		if err := e.Save(testState{ID: "web", Pid: n, Labels: make([]string, n)}); err != nil {
			t.Error(err)
			break
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestConcurrentCreate(t *testing.T) {
	s := openStore(t)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []*Entry
		errs    []error
	)
	for range 20 {
		wg.Go(func() {
			e, err := s.Create("web")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else {
				winners = append(winners, e)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d Creates succeeded, want exactly 1", len(winners))
	}
	defer winners[0].Unlock()
	for _, err := range errs {
		if !errors.Is(err, ErrExist) {
			t.Errorf("losing Create = %v, want ErrExist", err)
		}
	}
	assertRootHolds(t, s, "web")
}

func TestLockBlocks(t *testing.T) {
	s := openStore(t)
	first := mustCreate(t, s, "web")

	got := make(chan error, 1)
	go func() {
		e, err := s.Lock("web")
		if err == nil {
			err = e.Unlock()
		}
		got <- err
	}()
	waitForLockWaiter(t, first.Dir())
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while the container was held", err)
	default:
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
}

func TestRemoveWhileWaiting(t *testing.T) {
	s := openStore(t)
	first := mustCreate(t, s, "web")

	got := make(chan error, 1)
	go func() {
		e, err := s.Lock("web")
		if err == nil {
			e.Unlock()
		}
		got <- err
	}()
	waitForLockWaiter(t, first.Dir())
	if err := first.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, ErrNotExist) {
		t.Fatalf("Lock waiting on a removed container = %v, want ErrNotExist", err)
	}
	if _, err := os.Lstat(first.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("container dir still there after Remove: %v", err)
	}
	if _, err := s.Lock("web"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Lock after Remove = %v, want ErrNotExist", err)
	}
}

// TestRecreateWhileWaiting checks that a waiter does not take over a new
// container that reuses the id of the one it was waiting for.
func TestRecreateWhileWaiting(t *testing.T) {
	s := openStore(t)
	first := mustCreate(t, s, "web")

	got := make(chan error, 1)
	go func() {
		e, err := s.Lock("web")
		if err == nil {
			e.Unlock()
		}
		got <- err
	}()
	waitForLockWaiter(t, first.Dir())
	if err := os.RemoveAll(first.Dir()); err != nil {
		t.Fatal(err)
	}
	second := mustCreate(t, s, "web")
	defer second.Unlock()
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, ErrNotExist) {
		t.Fatalf("Lock waiting on a replaced container = %v, want ErrNotExist", err)
	}
}

func TestList(t *testing.T) {
	s := openStore(t)
	ids, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("List of an empty store = %q", ids)
	}
	for _, id := range []string{"web", "db", "Cache", "a.b", "0"} {
		mustCreate(t, s, id).Unlock()
	}
	for _, stray := range []string{"stray", ".lock"} {
		if err := os.WriteFile(filepath.Join(s.Root(), stray), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.Root(), "~create-1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(s.Root(), "link")); err != nil {
		t.Fatal(err)
	}
	ids, err = s.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0", "Cache", "a.b", "db", "web"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("List = %q, want %q", ids, want)
	}
}

func TestNoFDLeak(t *testing.T) {
	s := openStore(t)
	exercise := func() {
		e := mustCreate(t, s, "web")
		if _, err := s.Create("web"); !errors.Is(err, ErrExist) {
			t.Fatal(err)
		}
		if err := e.Save(testState{ID: "web"}); err != nil {
			t.Fatal(err)
		}
		var v testState
		if err := e.Load(&v); err != nil {
			t.Fatal(err)
		}
		if err := e.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := s.Read("web", &v); err != nil {
			t.Fatal(err)
		}
		if _, err := s.List(); err != nil {
			t.Fatal(err)
		}
		e, err := s.Lock("web")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Remove(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Lock("web"); !errors.Is(err, ErrNotExist) {
			t.Fatal(err)
		}
	}
	exercise() // let the runtime open whatever it opens once
	before := countFDs(t)
	for range 10 {
		exercise()
	}
	if after := countFDs(t); after != before {
		t.Errorf("open fds went from %d to %d", before, after)
	}
}

// BenchmarkListRead measures what `berth list` costs the store with 200
// containers: one List and a Read of each.
func BenchmarkListRead(b *testing.B) {
	s := openStore(b)
	for i := range 200 {
		id := "container-" + strconv.Itoa(i)
		e := mustCreate(b, s, id)
		if err := e.Save(testState{ID: id, Pid: i, Labels: []string{"a", "b"}}); err != nil {
			b.Fatal(err)
		}
		e.Unlock()
	}
	for b.Loop() {
		ids, err := s.List()
		if err != nil {
			b.Fatal(err)
		}
		for _, id := range ids {
			var v testState
			if err := s.Read(id, &v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// assertRootHolds fails unless the store's root holds exactly the given
// entries, which catches leftover temporary directories.
func assertRootHolds(t *testing.T, s *Store, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("root holds %q, want %q", got, names)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// waitForLockWaiter waits until some process is blocked in flock on dir, as
// /proc/locks shows, so tests need not guess how long a goroutine takes to
// get there.
func waitForLockWaiter(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	ino := ":" + strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if blockedOn(t, ino) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("nobody started waiting for the lock on %s", dir)
}

// blockedOn reports whether /proc/locks has a blocked flock request on an
// inode whose "major:minor:inode" field ends with ino.
func blockedOn(t *testing.T, ino string) bool {
	f, err := os.Open("/proc/locks")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// A waiter reads "2: -> FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF".
		fields := strings.Fields(sc.Text())
		if len(fields) >= 7 && fields[1] == "->" && fields[2] == "FLOCK" && strings.HasSuffix(fields[6], ino) {
			return true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return false
}

// FuzzValidateID checks ValidateID against the rule it documents, and
// that an id it accepts is one plain name under the root; an error is one
// short line whatever the id (ids come from the command line and from
// engines).
func FuzzValidateID(f *testing.F) {
	for _, seed := range []string{"web", "", ".", "..", "../x", "a/b", "a\x00b", "~create-1", strings.Repeat("x", 1025), "caf\u00e9", "-x", "A-Z_a.z+0-9"} {
		f.Add(seed)
	}
	valid := regexp.MustCompile(`^[A-Za-z0-9_+.-]+$`)
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateID(id)
		want := valid.MatchString(id) && len(id) <= 1024 && id != "." && id != ".."
		if (err == nil) != want {
			t.Fatalf("ValidateID(%q) = %v, want valid %v", id, err, want)
		}
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 500 {
				t.Fatalf("error is not one short line (%d bytes): %.500q", len(msg), msg)
			}
			return
		}
		if root := "/run/berth"; filepath.Dir(filepath.Join(root, id)) != root || filepath.Base(id) != id {
			t.Fatalf("id %q is not a plain name under the root", id)
		}
	})
}
