package runcdiff

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// probeScript reports what a process in the container sees: its ids and
// groups, capability sets, no_new_privs and seccomp mode, working
// directory, environment, hostname, umask, rlimits, open fds, cgroups,
// mounts and /dev. It reads the shell's own /proc entries ($$), not those
// of the programs it runs, whose credentials execve may have changed.
const probeScript = `echo "== id"; id
echo "== status"; grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/$$/status
echo "== cwd"; pwd
echo "== env"; env | sort
echo "== hostname"; hostname; cat /proc/sys/kernel/domainname
echo "== umask"; umask
echo "== oom_score_adj"; cat /proc/$$/oom_score_adj
echo "== limits"; cat /proc/$$/limits
echo "== fds"; ls /proc/$$/fd
echo "== cgroup"; cat /proc/$$/cgroup
echo "== mountinfo"; cat /proc/$$/mountinfo
echo "== dev"; for f in /dev/* /dev/pts/* /dev/mqueue /dev/shm; do
	if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else stat -c '%n %F %a %u:%g %t:%T' "$f"; fi
done
echo "== end"`

// probeArgs is a process that prints the probe's report.
func probeArgs() []string { return []string{"/bin/sh", "-c", probeScript} }

// probeProcess makes the container's process the probe.
func probeProcess(s *specs.Spec) { s.Process.Args = probeArgs() }

// withProbe makes the container's process the probe, after change.
func withProbe(change func(s *specs.Spec)) func(s *specs.Spec) {
	return func(s *specs.Spec) {
		change(s)
		probeProcess(s)
	}
}

// probed compares two probe reports but for their mounts, which mounts()
// compares in a step of its own.
func probed(b, r observed) error {
	bn, rn := withoutSection(b.Stdout, "mountinfo"), withoutSection(r.Stdout, "mountinfo")
	if bn != rn {
		return fmt.Errorf("the processes see different things:\n%s", lineDiff(bn, rn))
	}
	return nil
}

// mounts compares the mounts the probe of the last command step saw,
// sorted by mount point (mounts on one point stay in their order), with
// what differs from mount to mount (ids, device numbers, peer groups)
// left out.
func mounts() step {
	return observe("the container's mounts", func(s *side) (string, error) {
		var lines []string
		quirks := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(section(s.last.Stdout, "mountinfo")), "\n") {
			l = normalizeMountinfo(l)
			if os.Getenv("RUNCDIFF_KNOWN") == "" {
				l = knownMountQuirks(l, quirks)
			}
			if l != "" {
				lines = append(lines, l)
			}
		}
		if s.rt == berth {
			for what := range quirks {
				s.t.Logf("not compared, known bug (%s): %s", bugMountShape, what)
			}
		}
		slices.SortStableFunc(lines, func(a, b string) int {
			return strings.Compare(mountPoint(a), mountPoint(b))
		})
		return strings.Join(lines, "\n"), nil
	})
}

// section returns the lines of a probe report's section name.
func section(report, name string) string {
	in, _ := splitSection(report, name)
	return in
}

// withoutSection returns a probe report without the section name.
func withoutSection(report, name string) string {
	_, out := splitSection(report, name)
	return out
}

// splitSection splits a probe report into the lines of the section name
// and the rest, headers included.
func splitSection(report, name string) (in, out string) {
	var inLines, outLines []string
	inside := false
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "== ") {
			inside = line == "== "+name
			if inside {
				continue
			}
		}
		if inside {
			inLines = append(inLines, line)
		} else {
			outLines = append(outLines, line)
		}
	}
	return strings.Join(inLines, "\n"), strings.Join(outLines, "\n")
}

// mountQuirks are the known ways berth's mounts look unlike runc's
// (bugMountShape): what they match, mounts() does not compare. Each is
// rewritten alike on both sides, and a case logs the quirks berth's
// mounts showed; RUNCDIFF_KNOWN=1 compares the lines as they are.
var mountQuirks = []struct {
	what string
	re   *regexp.Regexp
	repl string
}{
	{"a masked directory's empty tmpfs is also nosuid,nodev,noexec, its superblock read-write with size=0k,mode=755; runc's superblock is read-only",
		regexp.MustCompile(`^(\S+ \S+) ro,(?:nosuid,nodev,noexec,)?relatime( [^-]*)? - tmpfs tmpfs (?:rw,size=0k,mode=755|ro)$`), "$1 ro,…$2 - tmpfs tmpfs (an empty mask)"},
	{"sysfs in a network namespace of its own has a read-write superblock; runc's is read-only",
		regexp.MustCompile(`^(\S+ \S+ ro,[^-]*- sysfs sysfs) r[ow]$`), "$1 …"},
	{"cgroup v1: the tmpfs on /sys/fs/cgroup is read-only; runc's is read-write",
		regexp.MustCompile(`^(\S+ /sys/fs/cgroup) r[ow],([^-]*- tmpfs tmpfs)`), "$1 …,$2"},
	{"cgroup v1: the hybrid host's cgroup2 hierarchy is mounted at /sys/fs/cgroup/unified; runc mounts none",
		regexp.MustCompile(`^\S+ /sys/fs/cgroup/unified [^-]*- cgroup2 .*$`), ""},
	{`cgroup v1: in a cgroup namespace the name=systemd hierarchy's source is "cgroup"; runc's is "systemd"`,
		regexp.MustCompile(`^(/ .* - cgroup) (?:cgroup|systemd) (rw,name=systemd)$`), "$1 … $2"},
}

// knownMountQuirks rewrites a normalized mountinfo line where a known
// quirk matches it, and notes which in seen.
func knownMountQuirks(line string, seen map[string]bool) string {
	for _, q := range mountQuirks {
		if q.re.MatchString(line) {
			seen[q.what] = true
			return q.re.ReplaceAllString(line, q.repl)
		}
	}
	return line
}

func mountPoint(normalized string) string {
	f := strings.Fields(normalized)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// normalizeMountinfo keeps of a mountinfo line the root, the mount point,
// the mount's options, the kind of its propagation, the filesystem type,
// source and superblock options.
func normalizeMountinfo(line string) string {
	f := strings.Fields(line)
	sep := -1
	for i, field := range f {
		if field == "-" {
			sep = i
			break
		}
	}
	if len(f) < 6 || sep < 6 {
		return line
	}
	kept := []string{f[3], f[4], f[5]}
	for _, opt := range f[6:sep] {
		kind, _, _ := strings.Cut(opt, ":")
		kept = append(kept, kind)
	}
	return strings.Join(append(kept, f[sep:]...), " ")
}
