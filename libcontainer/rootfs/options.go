package rootfs

import (
	"maps"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountOptions is the parsed form of an OCI mount's options list.
type mountOptions struct {
	flags       uintptr   // mount(2) flags for the mount itself
	propagation []uintptr // applied one by one after the mount
	data        []string  // passed to the filesystem (size=, mode=, …)
	// tmpcopyup fills a new tmpfs with what it covers.
	tmpcopyup bool
	// recursive holds the "r"-prefixed options, applied to the mount and
	// every mount below it with mount_setattr(2).
	recursive unix.MountAttr
}

// flagOptions are mount(8)'s options that map to mount(2) flags. A false
// value clears the flag instead of setting it.
var flagOptions = map[string]struct {
	clear bool
	flag  uintptr
}{
	// Not mount(8)'s but runc's: filesystems that have ACLs take "acl"
	// as their own option, and mount(8) passes it to them.
	"acl":           {false, unix.MS_POSIXACL},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noacl":         {true, unix.MS_POSIXACL},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

// PropagationFlags maps propagation option names to mount(2) flags; it is
// also how rootfsPropagation is read.
var PropagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// MountOptions returns the names of every mount option berth acts on
// itself, sorted; any other option goes to the filesystem as data.
func MountOptions() []string {
	names := slices.Collect(maps.Keys(flagOptions))
	names = slices.AppendSeq(names, maps.Keys(PropagationFlags))
	names = slices.AppendSeq(names, maps.Keys(recursiveOptions))
	names = append(names, "tmpcopyup")
	slices.Sort(names)
	return names
}

// CopiesUp reports whether m is a tmpfs that tmpcopyup fills with what
// the image has at its mount point (see tmpcopyup.go).
func CopiesUp(m specs.Mount) bool {
	return m.Type == "tmpfs" && parseMountOptions(m.Options).tmpcopyup
}

// recursiveOptions are the options mount_setattr(2) applies to a whole
// mount tree, as runc names them. A false value clears the attribute.
var recursiveOptions = map[string]struct {
	clear bool
	attr  uint64
}{
	"rro":            {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":            {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":        {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":          {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":         {false, unix.MOUNT_ATTR_NODEV},
	"rdev":           {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":        {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":          {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":    {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":      {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow":   {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":     {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rrelatime":      {false, unix.MOUNT_ATTR_RELATIME},
	"rnoatime":       {false, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime":   {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnorelatime":    {true, unix.MOUNT_ATTR_RELATIME},
	"ratime":         {true, unix.MOUNT_ATTR_NOATIME},
	"rnostrictatime": {true, unix.MOUNT_ATTR_STRICTATIME},
}

func parseMountOptions(options []string) mountOptions {
	var o mountOptions
	for _, opt := range options {
		if opt == "tmpcopyup" {
			o.tmpcopyup = true
			continue
		}
		if r, ok := recursiveOptions[opt]; ok {
			o.addRecursive(r.attr, r.clear)
			continue
		}
		if f, ok := flagOptions[opt]; ok {
			if f.clear {
				o.flags &^= f.flag
			} else {
				o.flags |= f.flag
			}
			continue
		}
		if p, ok := PropagationFlags[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		o.data = append(o.data, opt)
	}
	return o
}

// addRecursive records one recursive attribute. The atime modes are one
// field in the kernel: setting any of them replaces the whole field.
func (o *mountOptions) addRecursive(attr uint64, clear bool) {
	if attr&unix.MOUNT_ATTR__ATIME == attr {
		o.recursive.Attr_clr |= unix.MOUNT_ATTR__ATIME
		if clear {
			// "ratime", "rnorelatime", "rnostrictatime": back to relatime,
			// the kernel's default.
			attr = unix.MOUNT_ATTR_RELATIME
		}
		o.recursive.Attr_set = o.recursive.Attr_set&^unix.MOUNT_ATTR__ATIME | attr
		return
	}
	if clear {
		o.recursive.Attr_set &^= attr
		o.recursive.Attr_clr |= attr
	} else {
		o.recursive.Attr_clr &^= attr
		o.recursive.Attr_set |= attr
	}
}

func (o mountOptions) dataString() string { return strings.Join(o.data, ",") }

// isBind reports whether the options ask for a bind mount.
func (o mountOptions) isBind() bool { return o.flags&unix.MS_BIND != 0 }
