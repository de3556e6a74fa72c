package runcdiff

import (
	"fmt"
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
// compares in a step of its own, with the lines of probeDifferences
// rewritten alike.
func probed(b, r observed) error {
	seen := map[difference]bool{}
	var reports [2]string
	for i, o := range []observed{b, r} {
		var lines []string
		for _, l := range strings.Split(withoutSection(o.Stdout, "mountinfo"), "\n") {
			lines = append(lines, rewriteDifferences(l, probeDifferences, seen))
		}
		reports[i] = strings.Join(lines, "\n")
	}
	if reports[0] != reports[1] {
		return fmt.Errorf("the processes see different things:\n%s", lineDiff(reports[0], reports[1]))
	}
	if withoutSection(b.Stdout, "mountinfo") != withoutSection(r.Stdout, "mountinfo") {
		logDifferences(b.side, seen)
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
		seen := map[difference]bool{}
		for _, l := range strings.Split(strings.TrimSpace(section(s.last.Stdout, "mountinfo")), "\n") {
			if l = rewriteDifferences(normalizeMountinfo(l), mountDifferences, seen); l != "" {
				lines = append(lines, l)
			}
		}
		if s.rt == berth {
			logDifferences(s, seen)
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

// lineDifference is a deliberate difference (docs/compat.md) in what a
// line of a probe report says: where re matches a line, on either side,
// the line is rewritten with repl, so that the comparison passes over the
// difference and compares the rest.
type lineDifference struct {
	why  difference
	re   *regexp.Regexp
	repl string
}

// mountDifferences are the deliberate differences in mountinfo lines, as
// normalizeMountinfo leaves them.
var mountDifferences = []lineDifference{
	{compatSysfsSuperblock, regexp.MustCompile(`^(\S+ \S+ ro,[^-]*- sysfs sysfs) r[ow]$`), "$1 …"},
	{compatCgroupTmpfs, regexp.MustCompile(`^(\S+ /sys/fs/cgroup) r[ow],([^-]*- tmpfs tmpfs)`), "$1 …,$2"},
}

// probeDifferences are the deliberate differences in the rest of a probe
// report: with a user namespace, the group of /dev/mqueue.
var probeDifferences = []lineDifference{
	{compatUsernsMqueue, regexp.MustCompile(`^(/dev/mqueue directory 1777 0):(?:0|65534)( .*)$`), "$1:…$2"},
}

// rewriteDifferences rewrites line where a difference of diffs matches it,
// and notes which in seen.
func rewriteDifferences(line string, diffs []lineDifference, seen map[difference]bool) string {
	for _, d := range diffs {
		if d.re.MatchString(line) {
			seen[d.why] = true
			return d.re.ReplaceAllString(line, d.repl)
		}
	}
	return line
}

// logDifferences logs the deliberate differences whose lines were
// rewritten.
func logDifferences(s *side, seen map[difference]bool) {
	for why := range seen {
		s.t.Logf("compared without the deliberate difference: %s", why)
	}
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
