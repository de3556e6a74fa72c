package integration

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// CVE-2019-5736: a process that gets hold of berth init's executable (as
// /proc/<pid>/exe) must not be able to write the runtime binary through
// it, even after init has exec'd the container's process.
func TestRuntimeBinaryCannotBeOverwritten(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	b.MustRun("create", "--bundle", bun.Dir, "exe")
	t.Cleanup(func() { b.Run("delete", "--force", "exe") })
	pid := b.State("exe").Pid

	// From inside, init is not even reachable before start: it is not
	// dumpable.
	r := b.Run("exec", "exe", "sh", "-c", "echo pwned >> /proc/1/exe")
	if r.Code == 0 || !strings.Contains(r.Stderr, "denied") {
		t.Errorf("writing /proc/1/exe from the container: %v, want permission denied", r)
	}

	// The attack of CVE-2019-5736: hold the exe open, wait for the
	// runtime to get out of the way, then reopen it for writing.
	held, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(held)
	b.MustRun("start", "exe")
	waitFor(t, "init to exec sleep", func() bool {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return strings.HasSuffix(exe, "/busybox")
	})

	// The binary itself is writable now that nothing runs from it, so a
	// naive runtime would be overwritten here.
	f, err := os.OpenFile(berthBinary, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("berth binary is not writable: %v (test cannot tell anything)", err)
	}
	f.Close()
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", held), os.O_WRONLY, 0)
	if err == nil {
		w.Close()
		t.Errorf("reopened berth init's exe for writing: the runtime binary could be overwritten")
	} else if !errors.Is(err, unix.EROFS) {
		t.Errorf("reopen berth init's exe for writing: %v, want EROFS", err)
	}
}
