package runcdiff

// Known bugs: differences from runc that nobody chose. A case marked with
// one is skipped with its name (on a step: where that step differs); once
// the fix is merged, remove the marker. RUNCDIFF_KNOWN=1 runs the marked
// cases to see which pass.
const (
	// Found by this suite.
	bugMountShape defect = "runcdiff: mounts look unlike runc's: masks' tmpfs options, read-only superblocks, " +
		"the cgroup v1 tmpfs, the hybrid host's unified hierarchy, the systemd hierarchy's source"
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
	compatRootlessTrue difference = "docs/compat.md, command line: --rootless true is refused"
	// Rows other branches of issue 14 added.
	compatBoolFlagAfterID difference = "docs/compat.md, command line: a boolean flag after the id takes no value"
	compatDebug           difference = "docs/compat.md, command line: --debug logs each step"
	compatExecKeyring     difference = "docs/compat.md, session keyrings: an exec'd process joins a keyring of its own"
)
