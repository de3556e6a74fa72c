package libcontainer

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/spec"
)

// nsFlags maps the spec's namespace types to CLONE_NEW* flags.
var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// Namespaces returns the namespace types a container can be created with
// or join, sorted.
func Namespaces() []string {
	var names []string
	for t := range nsFlags {
		names = append(names, string(t))
	}
	slices.Sort(names)
	return names
}

// nsPlan is how a container's init gets its namespaces: the namespace
// files it joins and the namespaces it makes, carried out by the nsenter
// constructor (libcontainer/nsenter) before the Go runtime starts. The
// cgroup namespace is left to init itself, which makes it once the parent
// has placed it in its cgroup.
type nsPlan struct {
	joins       []*os.File // user namespace first
	unshare     uintptr
	timeOffsets string
}

// planNamespaces opens the namespace files the spec names, checking that
// each is of the type the spec says.
func planNamespaces(s *specs.Spec) (_ *nsPlan, err error) {
	p := &nsPlan{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	for _, ns := range s.Linux.Namespaces {
		flag := nsFlags[ns.Type]
		if ns.Path == "" {
			if ns.Type != specs.CgroupNamespace {
				p.unshare |= flag
			}
			continue
		}
		f, err := openNamespace(ns, flag)
		if err != nil {
			return nil, err
		}
		if err := checkNotOwn(s, ns, f); err != nil {
			f.Close()
			return nil, err
		}
		if ns.Type == specs.UserNamespace {
			p.joins = append([]*os.File{f}, p.joins...)
		} else {
			p.joins = append(p.joins, f)
		}
	}
	if p.unshare&unix.CLONE_NEWTIME != 0 {
		mono, boot := s.Linux.TimeOffsets["monotonic"], s.Linux.TimeOffsets["boottime"]
		p.timeOffsets = fmt.Sprintf("%d:%d:%d:%d", mono.Secs, mono.Nanosecs, boot.Secs, boot.Nanosecs)
	}
	return p, nil
}

// openNamespace opens the namespace file ns names and checks its type. It
// looks with O_PATH first, which opens nothing: a FIFO given as the path
// would block create for good, and opening a device can act on it (a
// watchdog starts counting down).
func openNamespace(ns specs.LinuxNamespace, flag uintptr) (*os.File, error) {
	pathFD, err := unix.Open(ns.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s namespace: %w", ns.Type, &os.PathError{Op: "open", Path: ns.Path, Err: err})
	}
	defer unix.Close(pathFD)
	var fs unix.Statfs_t
	if err := unix.Fstatfs(pathFD, &fs); err != nil {
		return nil, fmt.Errorf("%s namespace path %s: %w", ns.Type, ns.Path, err)
	}
	if fs.Type != unix.NSFS_MAGIC {
		return nil, fmt.Errorf("%s namespace path %s is not a namespace file (not on nsfs)", ns.Type, ns.Path)
	}
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(pathFD), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s namespace %s: %w", ns.Type, ns.Path, err)
	}
	typ, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s namespace path %s is not a namespace file: %w", ns.Type, ns.Path, err)
	}
	if uintptr(typ) != flag {
		f.Close()
		return nil, fmt.Errorf("%s namespace path %s names a namespace of another type", ns.Type, ns.Path)
	}
	return f, nil
}

// checkNotOwn refuses a namespace given by path that is berth's own, the
// host's, when the config changes something in it: berth builds the root
// filesystem in the mount namespace (pivot_root there would give every
// process in it the container's root), and sets the hostname, domainname
// and sysctls in the uts, ipc and network namespaces. runc refuses the
// host's network namespace for net.* sysctls.
func checkNotOwn(s *specs.Spec, ns specs.LinuxNamespace, f *os.File) error {
	changes := changesIn(s, ns.Type)
	if len(changes) == 0 {
		return nil
	}
	own, err := isOwnNamespace(f, ns.Type)
	if err != nil || !own {
		return err
	}
	return fmt.Errorf("%s namespace path %s is berth's own (the host's): %s would change the host", ns.Type, ns.Path, changes[0])
}

// changesIn lists what a container's set-up changes in its namespace of
// type t, in the config's words.
func changesIn(s *specs.Spec, t specs.LinuxNamespaceType) []string {
	if t == specs.MountNamespace {
		return []string{"building the root filesystem there"}
	}
	var changes []string
	if t == specs.UTSNamespace && s.Hostname != "" {
		changes = append(changes, "hostname")
	}
	if t == specs.UTSNamespace && s.Domainname != "" {
		changes = append(changes, "domainname")
	}
	var keys []string
	for key := range s.Linux.Sysctl {
		if nsType, ok := spec.SysctlNamespace(key); ok && nsType == t {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		changes = append(changes, "linux.sysctl "+strconv.Quote(key))
	}
	return changes
}

// isOwnNamespace reports whether the namespace file f is the namespace of
// type t that this process is in.
func isOwnNamespace(f *os.File, t specs.LinuxNamespaceType) (bool, error) {
	var theirs, ours unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &theirs); err != nil {
		return false, fmt.Errorf("stat %s namespace: %w", t, err)
	}
	own := "/proc/self/ns/" + nsFileName(nsFlags[t])
	if err := unix.Stat(own, &ours); err != nil {
		return false, fmt.Errorf("stat own %s namespace: %w", t, &os.PathError{Op: "stat", Path: own, Err: err})
	}
	return theirs.Dev == ours.Dev && theirs.Ino == ours.Ino, nil
}

// nsFileName returns the name /proc/<pid>/ns gives the namespace type flag.
func nsFileName(flag uintptr) string {
	for _, ns := range nsTypes {
		if ns.flag == flag {
			return ns.file
		}
	}
	return ""
}

// words returns the nsenter constructor's instructions, passing the
// namespace files to init through sp.
func (p *nsPlan) words(sp *spawn, syncFD int) string {
	w := []string{"sync=" + strconv.Itoa(syncFD)}
	for _, f := range p.joins {
		w = append(w, "join="+strconv.Itoa(sp.pass("", f)))
	}
	if p.unshare != 0 {
		w = append(w, "unshare="+strconv.FormatUint(uint64(p.unshare), 16))
	}
	if p.timeOffsets != "" {
		w = append(w, "timens="+p.timeOffsets)
	}
	return strings.Join(w, " ")
}

func (p *nsPlan) close() {
	for _, f := range p.joins {
		f.Close()
	}
}

// writeIDMaps gives the new user namespace of process pid the spec's id
// mappings. berth runs as root, so setgroups(2) stays allowed.
func writeIDMaps(pid int, l *specs.Linux) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if err := os.WriteFile(dir+"uid_map", formatIDMap(l.UIDMappings), 0); err != nil {
		return fmt.Errorf("write uid map: %w", err)
	}
	if err := os.WriteFile(dir+"gid_map", formatIDMap(l.GIDMappings), 0); err != nil {
		return fmt.Errorf("write gid map: %w", err)
	}
	return nil
}

func formatIDMap(m []specs.LinuxIDMapping) []byte {
	var b strings.Builder
	for _, e := range m {
		fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	return []byte(b.String())
}
