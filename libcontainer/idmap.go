package libcontainer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Idmapped bind mounts (a mount's uidMappings/gidMappings) need
// CAP_SYS_ADMIN in the host's user namespace, which init no longer has
// once it is in the container's. So the parent makes them: a detached
// clone of the source tree, idmapped with a user namespace holding the
// mount's mappings, passed to init, which moves it into place.

// checkIDMappedMounts rejects id mappings on mounts that cannot take them.
func checkIDMappedMounts(s *specs.Spec) error {
	for i, m := range s.Mounts {
		if len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
			continue
		}
		if len(m.UIDMappings) == 0 || len(m.GIDMappings) == 0 {
			return fmt.Errorf("mounts[%d] (%s): an idmapped mount needs both uidMappings and gidMappings", i, m.Destination)
		}
		if !isBindMount(m) {
			return fmt.Errorf("mounts[%d] (%s): only bind mounts can be idmapped", i, m.Destination)
		}
	}
	return nil
}

func isBindMount(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// idmappedMounts makes the detached idmapped trees of the spec's mounts that
// ask for one, by mount index. The caller closes the files.
func idmappedMounts(s *specs.Spec, bundle string) (map[int]*os.File, error) {
	trees := map[int]*os.File{}
	for i, m := range s.Mounts {
		if len(m.UIDMappings) == 0 {
			continue
		}
		tree, err := idmappedTree(m, bundle)
		if err != nil {
			closeAll(trees)
			return nil, fmt.Errorf("idmapped mount %s on %s: %w", m.Source, m.Destination, err)
		}
		trees[i] = tree
	}
	return trees, nil
}

func idmappedTree(m specs.Mount, bundle string) (*os.File, error) {
	userns, err := newUserNamespace(m.UIDMappings, m.GIDMappings)
	if err != nil {
		return nil, err
	}
	defer userns.Close()
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundle, src)
	}
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	setFlags := unix.AT_EMPTY_PATH
	for _, o := range m.Options {
		if o == "rbind" {
			flags |= unix.AT_RECURSIVE
			setFlags |= unix.AT_RECURSIVE
		}
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, uint(flags))
	if err != nil {
		return nil, fmt.Errorf("clone %s: %w", src, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(fd, "", uint(setFlags), &attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("idmap %s (the filesystem must support idmapped mounts): %w", src, err)
	}
	return os.NewFile(uintptr(fd), "idmapped "+src), nil
}

// newUserNamespace returns a user namespace with the given mappings: a
// child made with CLONE_NEWUSER holds it (the nsenter constructor blocks
// it before the Go runtime starts) while it is opened.
func newUserNamespace(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	self, err := sealedSelf()
	if err != nil {
		return nil, err
	}
	// The child holds the namespace until w closes.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/fd/" + strconv.Itoa(self),
		Args:       []string{"berth", "userns"},
		Env:        []string{envNsenter + "=hold=3"},
		ExtraFiles: []*os.File{r},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: sysIDMap(uids),
			GidMappings: sysIDMap(gids),
			Pdeathsig:   unix.SIGKILL,
		},
	}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("make a user namespace for the mapping: %w", err)
	}
	defer cmd.Wait()
	defer w.Close()
	f, err := os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user")
	if err != nil {
		return nil, fmt.Errorf("open the mapping's user namespace: %w", err)
	}
	return f, nil
}

func sysIDMap(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, e := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)}
	}
	return out
}

func closeAll(files map[int]*os.File) {
	for _, f := range files {
		f.Close()
	}
}
