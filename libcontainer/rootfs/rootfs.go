// Package rootfs builds a container's root filesystem inside its new mount
// namespace: the spec's mounts in order, /dev, pivot_root (or chroot), masked
// and read-only paths.
//
// Every path inside the container's root is resolved with
// filepath-securejoin's pathrs (openat2 RESOLVE_IN_ROOT where the kernel has
// it) and mounted through /proc/self/fd/N of the resolved handle, so a
// symlink planted in the image cannot steer a mount onto the host.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"

	"github.com/berthrt/berth/libcontainer/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Config says how to build a container's root filesystem.
type Config struct {
	Spec *specs.Spec
	// Rootfs is the root filesystem's absolute path on the host.
	Rootfs string
	// NoPivot uses MS_MOVE and chroot instead of pivot_root.
	NoPivot bool
	// Hierarchies are the host's cgroup hierarchies and the container's
	// cgroup in each, read before init made its cgroup namespace (which
	// hides the paths); CgroupNS says whether it made one.
	Hierarchies []cgroups.Mount
	CgroupNS    bool
	// MountTrees are detached, idmapped copies of bind mount sources that
	// the parent made, by index in Spec.Mounts: moved into place instead
	// of bind-mounting the source.
	MountTrees map[int]*os.File
	// MountSources are O_PATH handles of bind mount sources, by index in
	// Spec.Mounts, that the parent opened in this mount namespace: the
	// mount behind each is cloned instead of looking the source up.
	MountSources map[int]*os.File
	// BeforePivot, if set, runs once the mounts are made, before the root
	// is switched: where the spec's create hooks belong.
	BeforePivot func() error
	// ProcFS, if set, is a procfs filesystem context (fsopen(2)) that the
	// container's init opened in its pid namespace, for the spec's proc
	// mount: Setup then runs on a thread of the parent that joined the
	// container's other namespaces, and a procfs made there would show
	// the host's processes.
	ProcFS *os.File
}

// Pty is a pseudo-terminal allocated in the container's devpts.
type Pty struct{ Master, Slave *os.File }

// Close closes both ends.
func (p *Pty) Close() {
	p.Master.Close()
	p.Slave.Close()
}

// Setup builds the root filesystem from the config and makes it the calling
// process's root; Finish completes it. It must run in a fresh mount namespace, with the current
// directory at the bundle (relative bind sources resolve there). When the
// process wants a terminal, it returns one, already bound to /dev/console.
func Setup(c Config) (_ *Pty, err error) {
	s := c.Spec
	propagation := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if s.Linux != nil && s.Linux.RootfsPropagation != "" {
		p, ok := PropagationFlags[s.Linux.RootfsPropagation]
		if !ok {
			return nil, fmt.Errorf("unknown rootfsPropagation %q", s.Linux.RootfsPropagation)
		}
		propagation = p
	}
	if err := prepareRoot(c.Rootfs, propagation); err != nil {
		return nil, err
	}
	root, err := os.OpenFile(c.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open rootfs: %w", err)
	}
	defer root.Close()

	var readonlyLater []*os.File
	defer func() {
		for _, mnt := range readonlyLater {
			mnt.Close()
		}
	}()
	for i := range s.Mounts {
		mnt, err := mountEntry(root, &s.Mounts[i], c.MountTrees[i], c.MountSources[i], c)
		if err != nil {
			return nil, fmt.Errorf("mount %s on %s: %w", s.Mounts[i].Source, s.Mounts[i].Destination, err)
		}
		if mnt != nil {
			readonlyLater = append(readonlyLater, mnt)
		}
	}
	if needsDev(s.Mounts) {
		var devices []specs.LinuxDevice
		if s.Linux != nil {
			devices = s.Linux.Devices
		}
		if err := setupDev(root, devices); err != nil {
			return nil, fmt.Errorf("set up /dev: %w", err)
		}
	}
	var console *Pty
	if s.Process != nil && s.Process.Terminal {
		if console, err = consolePty(root); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				console.Close()
			}
		}()
	}

	if c.BeforePivot != nil {
		if err := c.BeforePivot(); err != nil {
			return nil, err
		}
	}
	if c.NoPivot {
		err = moveRoot(c.Rootfs)
	} else {
		err = pivotRoot(c.Rootfs)
	}
	if err != nil {
		return nil, err
	}
	// Propagation of the new "/" is set only now: applied before the switch
	// it would act on the host's mount of the rootfs.
	if s.Linux != nil && s.Linux.RootfsPropagation != "" {
		if err := unix.Mount("", "/", "", propagation, ""); err != nil {
			return nil, fmt.Errorf("set rootfsPropagation %s on /: %w", s.Linux.RootfsPropagation, err)
		}
	}

	// A missing cwd is created, as runc does; as root, before the process
	// changes its user, like the mount points.
	if s.Process != nil && s.Process.Cwd != "" {
		if err := makeCwd(s.Process.Cwd); err != nil {
			return nil, err
		}
	}
	// Through the mounts' fds: the paths may lead elsewhere by now.
	for _, mnt := range readonlyLater {
		if err := setMountAttr(int(mnt.Fd()), 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, "make "+mnt.Name()+" read-only"); err != nil {
			return nil, err
		}
	}
	return console, nil
}

// Finish applies what must come after the rest of the container's set-up
// (sysctls write under /proc/sys, which readonlyPaths usually covers):
// masked paths, read-only paths and a read-only root.
func Finish(s *specs.Spec) error {
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer root.Close()
	if s.Linux != nil {
		for _, p := range s.Linux.MaskedPaths {
			if err := maskPath(root, p, s.Linux.MountLabel); err != nil {
				return fmt.Errorf("mask %s: %w", p, err)
			}
		}
		for _, p := range s.Linux.ReadonlyPaths {
			if err := readonlyPath(root, p); err != nil {
				return fmt.Errorf("make %s read-only: %w", p, err)
			}
		}
	}
	if s.Root != nil && s.Root.Readonly {
		if err := setMountAttr(int(root.Fd()), 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, "make the root filesystem read-only"); err != nil {
			return err
		}
	}
	return nil
}

// makeCwd creates the process's working directory inside the (new) root.
func makeCwd(cwd string) error {
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer root.Close()
	dir, err := mkdirInRoot(root, cwd)
	// Magic links are not followed in the root: they can name a host
	// directory through an fd init holds (CVE-2024-21626). Built from a
	// thread outside the container's pid namespace (an init that starts
	// from a plan), /proc/self there is no link at all, and the lookup
	// stops at ENOTDIR instead.
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) && isUnder(path.Clean("/"+cwd), "/proc") {
		return fmt.Errorf("process.cwd %q is outside the container (through a magic link such as /proc/self/fd/N) or in a symlink loop", cwd)
	}
	if err != nil {
		return fmt.Errorf("create cwd %s: %w", cwd, err)
	}
	return dir.Close()
}

// consolePty allocates the container's terminal and binds it to
// /dev/console, while the host's /proc still names the slave's fd.
func consolePty(root *os.File) (*Pty, error) {
	master, slave, err := OpenPty(root)
	if err != nil {
		return nil, err
	}
	if err := bindConsole(root, slave); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	return &Pty{Master: master, Slave: slave}, nil
}

// prepareRoot stops mount events leaking between host and container, and
// makes the rootfs a mount point of its own, as pivot_root needs.
func prepareRoot(rootfs string, propagation uintptr) error {
	if err := unix.Mount("", "/", "", propagation, ""); err != nil {
		return fmt.Errorf("set propagation of /: %w", err)
	}
	// pivot_root refuses a new root whose parent mount is shared, which it
	// still is when rootfsPropagation is not recursive (or asks for
	// sharing) and the host's rootfs mount is shared, as a containerd
	// rootfs under systemd's /run is. A recursive slave, private or
	// unbindable "/" has no shared mount left, and mountinfo, which can
	// be long, need not be read.
	if propagation&unix.MS_REC == 0 || propagation&unix.MS_SHARED != 0 {
		if err := makeParentPrivate(rootfs); err != nil {
			return err
		}
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount rootfs %s on itself: %w", rootfs, err)
	}
	return nil
}

// makeParentPrivate makes the mount holding rootfs private if it is shared.
func makeParentPrivate(rootfs string) error {
	// The calling thread's mounts: Setup may run on a thread that joined
	// the container's mount namespace, in a process that did not.
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	mounts, err := mountinfo.GetMountsFromReader(f, mountinfo.ParentsFilter(rootfs))
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	var parent *mountinfo.Info
	for _, m := range mounts {
		if parent == nil || len(m.Mountpoint) > len(parent.Mountpoint) {
			parent = m
		}
	}
	if parent == nil {
		return fmt.Errorf("no mount holds %s", rootfs)
	}
	if !strings.Contains(parent.Optional, "shared:") {
		return nil
	}
	if err := unix.Mount("", parent.Mountpoint, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", parent.Mountpoint, err)
	}
	return nil
}

func pivotRoot(rootfs string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(oldRoot)
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one, so no
	// directory inside the container is needed to hold it.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir old root: %w", err)
	}
	// Make the old root a slave first so that detaching it cannot
	// propagate an unmount back to the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot is --no-pivot: for roots pivot_root cannot handle, such as a
// ramdisk. The host's root stays in the mount namespace under the
// container's, which is why pivot_root is the default.
func moveRoot(rootfs string) error {
	if err := detachHostMounts(rootfs); err != nil {
		return err
	}
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", rootfs, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// detachHostMounts removes from the container's mount namespace, before
// moveRoot hides them below the new root, the host's mounts that neither
// lie in the rootfs nor hold it. Hidden is not gone: the kernel lets a
// process that made a user namespace mount a new procfs or sysfs only if
// one is already fully visible in its mount namespace, hidden ones
// included, and the host's /proc, with nothing masked, would be one.
func detachHostMounts(rootfs string) error {
	// mountinfo names mounts by their real path. The calling thread's
	// mounts: the Go init, in the container's namespace.
	real, err := filepath.EvalSymlinks(rootfs)
	if err != nil {
		return fmt.Errorf("resolve rootfs %s: %w", rootfs, err)
	}
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	mounts, err := mountinfo.GetMountsFromReader(f, nil)
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	// The newest first: a mount made over another's mount point hides it
	// until it is gone.
	for i := len(mounts) - 1; i >= 0; i-- {
		if p := mounts[i].Mountpoint; !isUnder(p, real) && !isUnder(real, p) {
			if err := detachHostMount(mounts[i]); err != nil {
				return fmt.Errorf("--no-pivot: %w", err)
			}
		}
	}
	return nil
}

// detachHostMount detaches the host's mount m. The kernel refuses for a
// mount it locked, which every mount copied from the host into a mount
// namespace of a user namespace is: a procfs or sysfs is then covered
// with an empty tmpfs, as a locked mount over a directory that is not
// empty makes the kernel no longer count it fully visible in any
// namespace a container process copies from this one.
func detachHostMount(m *mountinfo.Info) error {
	p := m.Mountpoint
	// A slave first, so that the unmount cannot propagate to the host
	// (rootfsPropagation may have left the host's mounts shared with it).
	err := unix.Mount("", p, "", unix.MS_SLAVE|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil // no longer a mount point: it went with one above it
	}
	if err != nil {
		return fmt.Errorf("make %s a slave: %w", p, err)
	}
	err = unix.Unmount(p, unix.MNT_DETACH)
	if !errors.Is(err, unix.EINVAL) {
		if err != nil {
			return fmt.Errorf("detach %s: %w", p, err)
		}
		return nil
	}
	if m.Root != "/" || m.FSType != "proc" && m.FSType != "sysfs" {
		return nil // only a whole procfs or sysfs lets a new one be mounted
	}
	if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0,mode=755"); err != nil {
		return fmt.Errorf("cover the locked %s at %s: %w", m.FSType, p, err)
	}
	return nil
}

// fdPath names an open handle so that mount(2) acts on exactly the inode
// that was resolved, not on whatever the path names by the time it runs.
func fdPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }
