// Package procfs writes the procfs files a container's init must set
// (sysctls, its own oom_score_adj and LSM attributes) without letting the
// container choose which file is written.
//
// A write to /proc/sys/… or /proc/self/… by path goes wherever the
// container's /proc leads: a tmpfs or bind mount on or inside /proc, a
// symlink planted in a shared volume, or a racing rename can steer it to a
// file of the container's making, so the setting silently does not apply,
// or to another procfs file, even a host-wide one such as
// /proc/sys/kernel/core_pattern (CVE-2019-19921, CVE-2025-52881). So these
// helpers never use the container's /proc: they resolve the file in a procfs
// instance of berth's own, made with fsopen(2) and attached nowhere the
// container can reach, refusing symlinks, magic links and mount crossings
// on the way (filepath-securejoin's pathrs-lite procfs does the work).
package procfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// WriteSysctls sets each sysctl (a dotted key, as linux.sysctl names it) in
// the namespaces of the calling thread.
func WriteSysctls(sysctl map[string]string) error {
	if len(sysctl) == 0 {
		return nil
	}
	// /proc/sys is not in the pid-only procfs handle pathrs keeps, so open
	// a full one once for all keys, and close it before anything else runs.
	proc, err := procfs.OpenUnsafeProcRoot()
	if err != nil {
		return fmt.Errorf("open a private procfs to set sysctls: %w", err)
	}
	defer proc.Close()
	for key, value := range sysctl {
		file := "sys/" + strings.ReplaceAll(key, ".", "/")
		h, err := proc.OpenRoot(file)
		if err == nil {
			err = write(h, value)
		}
		if err != nil {
			return fmt.Errorf("set sysctl %s=%s: %w", key, value, err)
		}
	}
	return nil
}

// WriteThreadSelf writes value to /proc/thread-self/<subpath>: a setting of
// the calling thread (an LSM's attr/exec), or of its process
// (oom_score_adj).
func WriteThreadSelf(subpath, value string) error {
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open a private procfs: %w", err)
	}
	defer proc.Close()
	h, unlock, err := proc.OpenThreadSelf(subpath)
	if err != nil {
		return err
	}
	defer unlock()
	return write(h, value)
}

// write writes value in one write(2), as procfs wants, to the file behind
// the O_PATH handle h, and closes h.
func write(h *os.File, value string) error {
	defer h.Close()
	f, err := pathrs.Reopen(h, unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(value)
	// The handle's name (fsmount:fscontext:…) means nothing to a user;
	// callers say which file they wrote.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
