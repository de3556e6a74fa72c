package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// sealedSelf returns an fd through which berth re-executes itself as a
// container's init or exec process.
//
// A process in the container can reach that process's executable through
// /proc/<pid>/exe, and later ones too: an image whose program starts with
// `#!/proc/self/exe` makes the kernel run berth again, dumpable, inside the
// container. Were that executable the host's berth binary, opening it for
// writing would let the container replace the runtime (CVE-2019-5736).
//
// A read-only mount is not enough: a process with CAP_SYS_ADMIN in the
// container clears MOUNT_ATTR_RDONLY of a detached mount with
// mount_setattr(2) for as long as the berth that made it runs, so the file
// must sit on a filesystem that cannot be written at all. berth mounts an
// overlayfs with two lower layers and no upper one — the binary's
// directory and an empty tmpfs — whose superblock stays read-only: no
// mount attribute makes it writable, and reconfiguring it read-write
// fails even for the host's root. It costs some 20-90 µs. Where overlayfs
// cannot be made that way (a kernel that takes no layer as an fd, such as
// 6.1; a caller that is not root), berth copies itself into a memfd
// sealed against every change, which costs a few ms.
//
// The fd is close-on-exec: a child holds it only until its execve, by
// when the kernel has opened the binary.
var sealedSelf = sync.OnceValues(func() (int, error) {
	fd, err := sealedOverlay()
	if err == nil {
		return fd, nil
	}
	logrus.Debugf("seal berth's binary in an overlayfs: %v; copying it into a sealed memfd instead", err)
	return sealedMemfd()
})

// sealedOverlay opens berth's binary, checked to be the running one,
// through a read-only overlayfs attached nowhere.
func sealedOverlay() (int, error) {
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		return -1, fmt.Errorf("stat berth's own binary: %w", err)
	}
	path, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return -1, fmt.Errorf("find berth's own binary: %w", err)
	}
	dir, name := filepath.Split(path)
	lower, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(lower)
	empty, err := emptyTmpfs()
	if err != nil {
		return -1, err
	}
	defer unix.Close(empty)

	ctx, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(ctx)
	// The binary's layer is the upper of the two, so that nothing in the
	// other can hide it; overlayfs wants two layers when none is writable.
	if err := unix.FsconfigSetFd(ctx, "lowerdir+", lower); err != nil {
		return -1, fmt.Errorf("overlay lower layer %s: %w", dir, err)
	}
	if err := unix.FsconfigSetFd(ctx, "lowerdir+", empty); err != nil {
		return -1, fmt.Errorf("overlay's empty lower layer: %w", err)
	}
	// Spares the kernel log a note when the layers are on two filesystems.
	_ = unix.FsconfigSetString(ctx, "xino", "off")
	if err := unix.FsconfigCreate(ctx); err != nil {
		return -1, fmt.Errorf("create overlay over %s: %w", dir, err)
	}
	mnt, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return -1, fmt.Errorf("mount overlay over %s: %w", dir, err)
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s in the overlay: %w", name, err)
	}
	// The path may name another file by now (berth upgraded while it
	// runs); an init from another build would not speak this one's
	// protocol. overlayfs shows a lower file's inode number, not its device.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != self.Ino || st.Size != self.Size || st.Mtim != self.Mtim || st.Ctim != self.Ctim {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is no longer the running binary", path)
	}
	return fd, nil
}

// emptyTmpfs returns a read-only, empty tmpfs attached nowhere.
func emptyTmpfs() (int, error) {
	ctx, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(ctx)
	if err := unix.FsconfigCreate(ctx); err != nil {
		return -1, fmt.Errorf("create tmpfs: %w", err)
	}
	fd, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return -1, fmt.Errorf("mount tmpfs: %w", err)
	}
	return fd, nil
}

// sealedMemfd copies berth's binary into a memfd that can no longer be
// written, grown, shrunk or unsealed.
func sealedMemfd() (int, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return -1, fmt.Errorf("open berth's own binary: %w", err)
	}
	defer src.Close()
	// MFD_EXEC (Linux 6.3) keeps the copy executable where the
	// vm.memfd_noexec sysctl would deny it; older kernels refuse the flag.
	fd, err := unix.MemfdCreate("berth", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate("berth", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return -1, fmt.Errorf("memfd_create for a copy of berth's binary: %w", err)
	}
	if err := copyAll(fd, int(src.Fd())); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("copy berth's binary into a memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("seal the copy of berth's binary: %w", err)
	}
	return fd, nil
}

// copyAll copies what is left of the file src into dst, in the kernel.
func copyAll(dst, src int) error {
	for {
		n, err := unix.Sendfile(dst, src, nil, 1<<30)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return err
		}
	}
}
