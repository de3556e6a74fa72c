package libcontainer

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

func openNamespace(ns specs.LinuxNamespace, flag uintptr) (*os.File, error) {
	f, err := os.OpenFile(ns.Path, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s namespace: %w", ns.Type, err)
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
