package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A container whose init needs nothing only the Go init does starts from a
// plan, its root filesystem built by the parent (libcontainer/create_plan.go).
// Run the same container both ways and compare what its process sees.
func TestCreateFromPlanMatchesInit(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", `id; umask; pwd; echo "HOME=$HOME X=$X"; hostname; `+
		`grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; cat /proc/self/oom_score_adj; ulimit -u; ulimit -Hu; `+
		`mkdir /tmp/d 2>&1; ls /proc/$$/fd; cat /proc/sys/kernel/shm_rmid_forced; ls /proc | grep -c '^[0-9]'; `+
		`[ -w /proc/sys/kernel/domainname ] && echo domainname writable; `+
		`ip link | grep -c LOOPBACK,UP; cat /proc/self/cgroup; `+
		// Mount ids, device numbers and peer groups differ between runs.
		`sed -E 's/^[0-9]+ [0-9]+ [0-9]+:[0-9]+ //; s/ (shared|master|propagate_from):[0-9]+//g' /proc/self/mountinfo`)
	s := bun.Spec
	s.Root.Readonly = false
	s.Linux.Seccomp = denyOne("SCMP_ACT_ERRNO", nil)
	s.Linux.Sysctl = map[string]string{"kernel.shm_rmid_forced": "1"}
	s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 300, Hard: 400})
	umask := uint32(0o027)
	s.Process.User = specs.User{UID: 65534, GID: 65534, AdditionalGids: []uint32{10, 20}, Umask: &umask}
	s.Process.Cwd = "/new/cwd"
	s.Process.Env = append(s.Process.Env, "X=1")
	adj := 300
	s.Process.OOMScoreAdj = &adj
	bun.Save(t)
	const planned = "init starts from a plan"
	fast := b.MustRun("--debug", "run", "--bundle", bun.Dir, "same")
	if !strings.Contains(fast.Stderr, planned) {
		t.Fatalf("want the init to start from a plan; log:\n%s", fast.Stderr)
	}

	// Personality LINUX changes nothing but needs the Go init.
	s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
	bun.Save(t)
	slow := b.MustRun("--debug", "run", "--bundle", bun.Dir, "same")
	if strings.Contains(slow.Stderr, planned) {
		t.Fatalf("want the init with a personality to be the Go init; log:\n%s", slow.Stderr)
	}
	if fast.Stdout != slow.Stdout {
		t.Errorf("the container started from a plan and the one through the Go init differ:\nplan:\n%s\ninit:\n%s", fast.Stdout, slow.Stdout)
	}
	// fds 0-2, the sysctl, three processes in the pid namespace, lo up,
	// a cgroup namespace.
	for _, want := range []string{"uid=65534(nobody) gid=65534(nogroup) groups=10,20", "0027\n/new/cwd\nHOME=/nonexistent X=1\nberth\n",
		"NoNewPrivs:\t1", "Seccomp:\t2", "\n300\n300\n400\n", "Operation not permitted", "\n0\n1\n2\n1\n3\n1\n9:name=systemd:/\n",
		"\n/ /proc rw,relatime - proc proc rw\n", "\n/ /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n", "\n/sys /proc/sys ro,relatime - proc proc rw\n"} {
		if !strings.Contains(fast.Stdout, want) {
			t.Errorf("the container started from a plan lacks %q:\n%s", want, fast.Stdout)
		}
	}
}
