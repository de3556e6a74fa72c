package cgdir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestMkdir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a/b/c")
	created, err := Mkdir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "a"), filepath.Join(root, "a/b"), dir}
	if !slices.Equal(created, want) {
		t.Errorf("Mkdir created %q, want %q", created, want)
	}
	if created, err := Mkdir(dir); err != nil || created != nil {
		t.Errorf("Mkdir of an existing dir = %q, %v; want nothing", created, err)
	}

	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Mkdir(file + "/x/y")
	if want := "create cgroup " + file + "/x/y: not a directory"; err == nil || err.Error() != want {
		t.Errorf("Mkdir under a file: %v, want %s", err, want)
	}
}

func TestReadWriteFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Longer than the first read buffer, to cover growing it.
	long := string(make([]byte, 5000))
	if err := WriteFile(dir, "f", long); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(dir, "f"); err != nil || got != long {
		t.Errorf("ReadFile = %d bytes, %v; want %d bytes", len(got), err, len(long))
	}
	if _, err := ReadFile(dir, "missing"); err == nil || err.Error() != "read missing: no such file or directory" {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
	if err := WriteFile(dir, "missing", "1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile of a missing file: %v", err)
	}
}

func TestPoll(t *testing.T) {
	calls := 0
	done, err := Poll(time.Second, func() (bool, error) {
		calls++
		return calls == 3, nil
	})
	if !done || err != nil || calls != 3 {
		t.Errorf("Poll = %v, %v after %d calls; want done after 3", done, err, calls)
	}

	boom := errors.New("boom")
	if done, err := Poll(time.Second, func() (bool, error) { return false, boom }); done || err != boom {
		t.Errorf("Poll = %v, %v; want the check's error", done, err)
	}

	start := time.Now()
	done, err = Poll(20*time.Millisecond, func() (bool, error) { return false, nil })
	if elapsed := time.Since(start); done || err != nil || elapsed < 20*time.Millisecond || elapsed > time.Second {
		t.Errorf("Poll = %v, %v after %v; want a timeout after 20ms", done, err, elapsed)
	}
}

func TestRemoveMissing(t *testing.T) {
	if err := Remove(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("Remove of a missing dir: %v", err)
	}
	if err := Destroy([]string{filepath.Join(t.TempDir(), "missing")}, nil); err != nil {
		t.Errorf("Destroy of a missing dir: %v", err)
	}
}
