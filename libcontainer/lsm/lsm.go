// Package lsm applies the container's AppArmor profile and SELinux labels:
// process.apparmorProfile and process.selinuxLabel take effect at the
// process's execve, linux.mountLabel labels the filesystems berth mounts.
//
// On a host without the LSM, berth refuses a config that asks for it, as
// runc 1.1 does: a profile or label the host cannot apply would otherwise
// leave the container less confined than its config says. (runc refuses a
// selinuxLabel up front, fails an apparmorProfile at init when writing
// /proc/self/attr/exec gives EINVAL, and fails a mountLabel when the kernel
// rejects the context= mount option; berth refuses all three before
// anything is made, with one line that names the field.)
package lsm

import (
	"bytes"
	"fmt"
	"os"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/procfs"
)

// AppArmorEnabled reports whether AppArmor confines processes on this
// host, by the test runc and docker use.
var AppArmorEnabled = sync.OnceValue(func() bool {
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		return false
	}
	enabled, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && bytes.HasPrefix(enabled, []byte("Y"))
})

// SELinuxEnabled reports whether SELinux is active on this host: selinuxfs
// is mounted and a policy gives processes a context other than the one of
// a kernel without policy.
var SELinuxEnabled = sync.OnceValue(func() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/selinux", &st); err != nil || st.Type != unix.SELINUX_MAGIC {
		return false
	}
	current, err := os.ReadFile("/proc/self/attr/current")
	return err == nil && string(bytes.TrimRight(current, "\x00\n")) != "kernel"
})

// Check refuses a process (and, for a container, its mountLabel) that asks
// for an LSM the host does not have.
func Check(p *specs.Process, mountLabel string) error {
	if p.ApparmorProfile != "" && !AppArmorEnabled() {
		return fmt.Errorf("process.apparmorProfile %q: AppArmor is not enabled on this host (runc refuses this too); leave the field empty to run without a profile", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !SELinuxEnabled() {
		return fmt.Errorf("process.selinuxLabel %q: SELinux is not enabled on this host (runc refuses this too); leave the field empty to run without a label", p.SelinuxLabel)
	}
	if mountLabel != "" && !SELinuxEnabled() {
		return fmt.Errorf("linux.mountLabel %q: SELinux is not enabled on this host (runc refuses this too); leave the field empty to mount without a label", mountLabel)
	}
	return nil
}

// SetExecLabels makes the next execve of the calling thread enter the
// process's AppArmor profile and SELinux label. The caller must be locked
// to its OS thread: both settings are the thread's own.
func SetExecLabels(p *specs.Process) error {
	if p.ApparmorProfile != "" {
		// aa_change_onexec(3): the profile is entered at execve, so that
		// berth's own set-up is not confined by it.
		if err := procfs.WriteThreadSelf("attr/apparmor/exec", "exec "+p.ApparmorProfile); err != nil {
			return fmt.Errorf("apply AppArmor profile %q: %w", p.ApparmorProfile, err)
		}
	}
	if p.SelinuxLabel != "" {
		if err := procfs.WriteThreadSelf("attr/exec", p.SelinuxLabel); err != nil {
			return fmt.Errorf("apply SELinux label %q: %w", p.SelinuxLabel, err)
		}
	}
	return nil
}

// MountOption returns the mount option that labels a new (not bind)
// filesystem of type fstype with label, or "" when there is no label or the
// filesystem takes none: procfs and sysfs are labelled by policy, and
// mqueue cannot be labelled at mount (the kernel refuses it).
func MountOption(fstype, label string) string {
	if label == "" || fstype == "proc" || fstype == "sysfs" || fstype == "mqueue" {
		return ""
	}
	// Quoted: MCS categories ("s0:c1,c2") hold commas.
	return fmt.Sprintf("context=%q", label)
}
