package runcdiff

// Known bugs: differences from runc that nobody chose. A case marked with
// one is skipped with its name (on a step: where that step differs); once
// the fix is merged, remove the marker. RUNCDIFF_KNOWN=1 runs the marked
// cases to see which pass.
const (
	// Issue 14, item 2: found by hand, being fixed in another branch.
	bugFlagsAfterID defect = "issue 14: a flag after the container id is ignored; runc 1.1.5 (urfave/cli v1) moves it before the id"
	bugDebug        defect = "issue 14: --debug logs almost nothing; runc logs each stage"
	bugDotID        defect = "issue 14: an id that starts with a dot passes validation, then fails on the session keyring"

	// Found by this suite.
	bugMountShape defect = "runcdiff: mounts look unlike runc's: masks' tmpfs options, read-only superblocks, " +
		"the cgroup v1 tmpfs, the hybrid host's unified hierarchy, the systemd hierarchy's source"
	bugExtraArgs    defect = "runcdiff: arguments after the container id are ignored; runc wants exactly one"
	bugMountFlags   defect = "runcdiff: the mount options acl, noacl, iversion and noiversion are passed to the filesystem, which refuses them; runc sets them as mount flags"
	bugNoSubreaper  defect = "runcdiff: run has no --no-subreaper flag"
	bugGlobalFlags  defect = "runcdiff: the global flags --rootless and --criu are missing"
	bugKeyringName  defect = "runcdiff: the container's session keyring is named ID, not runc's _ses.ID (which lets an id start with a dot), and lacks the user's search permission runc adds"
	bugUsernsMqueue defect = "runcdiff: with a user namespace, /dev/mqueue belongs to the container's root group; runc's to the overflow group (65534)"
)

// Deliberate differences: berth differs from runc 1.1.5 on purpose, for
// the reason docs/compat.md gives.
const (
	compatRbindRo      difference = "docs/compat.md, root filesystem: ro on a recursive bind is recursive (CVE-2023-25809)"
	compatNoPivot      difference = "docs/compat.md, root filesystem: --no-pivot detaches the host's mounts"
	compatTmpcopyup    difference = "docs/compat.md, tmpcopyup: a device node under the tmpfs is refused"
	compatDevices      difference = "docs/compat.md, cgroups: device rules as written; a listed default device keeps its rule"
	compatPopulated    difference = "docs/compat.md, cgroups: a cgroup that holds processes at create is refused"
	compatPreserveFds  difference = "docs/compat.md, command line: a negative --preserve-fds is refused"
	compatExecUserName difference = "docs/compat.md, command line: exec --user takes names"
	compatIgnorePaused difference = "docs/compat.md, command line: exec --ignore-paused --detach returns at once"
	compatPsDashDash   difference = "docs/compat.md, command line: ps takes its options after --"
	compatUpdateAtomic difference = "docs/compat.md, command line: an update that fails changes nothing"
	compatSpecDefaults difference = "docs/compat.md, command line: berth spec's config"
	compatDomainname   difference = "docs/compat.md, config: domainname is set"
	compatPoststart    difference = "docs/compat.md, config: poststart hooks run at start"
	compatMaskUnderRO  difference = "docs/compat.md, config: a masked path under a read-only path stays masked"
	compatOCIVersion   difference = "docs/compat.md, config: ociVersion must be there, 1.x"
	compatUnknownCap   difference = "docs/compat.md, config: an unknown capability is refused"
)
