package runcdiff

// Known bugs: differences from runc that nobody chose, as defect
// constants here. A case marked with one is skipped with its name (on a
// step: where that step differs); once the fix is merged, remove the
// marker. RUNCDIFF_KNOWN=1 runs the marked cases to see which pass. There
// are none today: the five this suite found were fixed or decided
// (docs/compat.md, "Known bugs of the differential suite, decided").

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
	// Rows of the section on the suite's known bugs, decided; the mount
	// and probe lines they rewrite are in probe_test.go.
	compatSysfsSuperblock difference = "docs/compat.md, known bugs decided: a read-only sysfs leaves its superblock read-write"
	compatCgroupTmpfs     difference = "docs/compat.md, known bugs decided: the cgroup v1 tmpfs is read-only when the mount is"
	compatUsernsMqueue    difference = "docs/compat.md, known bugs decided: with a user namespace, /dev/mqueue belongs to the container's root group"
	// Rows other branches of issue 14 added.
	compatBoolFlagAfterID difference = "docs/compat.md, command line: a boolean flag after the id takes no value"
	compatDebug           difference = "docs/compat.md, command line: --debug logs each step"
	compatExecKeyring     difference = "docs/compat.md, session keyrings: an exec'd process joins a keyring of its own"
)
