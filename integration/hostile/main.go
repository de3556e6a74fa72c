// hostile is the attacker that berth's security tests run inside a
// container, for the attacks busybox cannot make:
//
//	hostile exchange A B   swap the names A and B with renameat2
//	                       RENAME_EXCHANGE, as fast as it can, until killed
//	hostile ptrace PID     try to attach to PID; prints "ptrace PID: attached"
//	                       or "ptrace PID: <error>"
//	hostile syscall NR...  make raw syscall NR with zero arguments; prints
//	                       "syscall NR: ERRNO-NAME" ("ok" when it succeeds)
//
// It is static, so that it runs in a busybox root.
package main

import (
	"fmt"
	"os"
	"strconv"

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
	fmt.Fprintln(os.Stderr, "usage: hostile exchange A B | hostile ptrace PID | hostile syscall NR...")
	os.Exit(2)
}
