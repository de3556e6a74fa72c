package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestGlobalRootlessAndCriu passes runc's global --rootless and --criu as
// engines write them (containerd's go-runc: --rootless=true|false,
// --criu PATH). berth runs containers as root and never ignores a cgroup
// error, which is what false and auto mean; true would run the container
// without the limits its config asks for, so it is refused at create and
// run, before anything is made, with the reason. A value runc refuses
// (strconv.ParseBool's) is refused too. --criu names the binary for
// checkpoint and restore, which berth does not do: taken, used by nothing.
func TestGlobalRootlessAndCriu(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	for _, global := range [][]string{
		{"--rootless", "false"}, {"--rootless=auto"}, {"--rootless", "0"}, {"--rootless=FALSE"},
		{"--criu", "/usr/sbin/criu"}, {"--criu=/no/such/criu"},
	} {
		b.MustRun(append(global, "run", "--bundle", bun.Dir, "kb-flags")...)
		b.MustRun(append(global, "list", "-q")...)
	}
	// runc reads --rootless only to create; other commands take any value.
	b.MustRun("--rootless", "true", "list", "-q")
	for _, create := range []string{"create", "run"} {
		b.MustFail([]string{"--rootless true", "ignore cgroup permission errors", "without the limits"},
			"--rootless", "true", create, "--bundle", bun.Dir, "kb-flags")
		b.MustFail([]string{`--rootless "maybe"`, "true, false or auto"},
			"--rootless", "maybe", create, "--bundle", bun.Dir, "kb-flags")
	}
}

// TestRunNoSubreaper runs a container in the foreground with and without
// runc's --no-subreaper. Either way berth waits for init and exits with
// its status, with a pid namespace too, where init is not the process
// berth started: the nsenter constructor clones it with CLONE_PARENT, so
// it is berth's child, as runc's init is runc's. Without --no-subreaper
// berth is a child subreaper: a process orphaned in a container without a
// pid namespace is adopted by berth, whose pid the container's first
// process sees as its parent; with it, the orphan goes elsewhere. Both
// start paths: from a plan, and through the Go init.
func TestRunNoSubreaper(t *testing.T) {
	// The orphan is adopted, then ends; berth, as runc, reaps what it
	// adopts, so it is not left a zombie while the container runs.
	const orphan = `sh -c 'sleep 0.5 & echo $!' > /dev/shm/orphan
o=$(cat /dev/shm/orphan)
sleep 0.2
adopter=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$o/status)
if [ "$adopter" = "$PPID" ]; then echo adopted by run; else echo adopted elsewhere; fi
sleep 0.8
if [ -e /proc/$o ]; then echo "left: $(sed -n 's/^State:[[:space:]]*//p' /proc/$o/status)"; else echo reaped; fi`
	for _, goInit := range []bool{false, true} {
		t.Run(fmt.Sprintf("goInit=%v", goInit), func(t *testing.T) {
			b := newBerth(t)
			status := newBundle(t, "sh", "-c", "exit 7")
			adopt := newBundle(t, "sh", "-c", orphan)
			adopt.Spec.Linux.Namespaces = slices.DeleteFunc(adopt.Spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
				return ns.Type == specs.PIDNamespace
			})
			if goInit {
				for _, bun := range []*bundle{status, adopt} {
					bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
				}
			}
			status.Save(t)
			adopt.Save(t)
			for _, flags := range [][]string{nil, {"--no-subreaper"}} {
				args := append(append([]string{"run"}, flags...), "--bundle", status.Dir, "kb-subreaper")
				if r := b.Run(args...); r.Code != 7 || r.Stderr != "" {
					t.Errorf("berth %s: %v, want exit 7 and no error", strings.Join(args, " "), r)
				}
			}
			if got := b.MustRun("run", "--bundle", adopt.Dir, "kb-subreaper").Stdout; got != "adopted by run\nreaped\n" {
				t.Errorf("berth run: the orphan was %q, want adopted by run, and reaped", got)
			}
			// Where it goes instead is the host's business.
			if got := b.MustRun("run", "--no-subreaper", "--bundle", adopt.Dir, "kb-subreaper").Stdout; !strings.HasPrefix(got, "adopted elsewhere\n") {
				t.Errorf("berth run --no-subreaper: the orphan was %q, want adopted elsewhere", got)
			}
		})
	}
}

// TestMountAclIversionFlags mounts with the options runc reads as mount(2)
// flags: acl and noacl (MS_POSIXACL), iversion and noiversion
// (MS_I_VERSION). They are superblock flags the new mount API has no key
// for, and no filesystem takes them as its own options: tmpfs refused
// them ("Unknown parameter 'acl'"). That the flag reaches the superblock
// shows on a filesystem without ACLs of its own: with MS_POSIXACL the
// kernel leaves the umask to ACLs there is none of, so a ramfs mounted
// with acl makes files 0666 under umask 022, as runc's does. Both start
// paths; a procfs with acl takes the Go init, since mount(2) makes a
// procfs of the caller's pid namespace, and the parent's thread that
// builds a root from a plan is in the host's.
func TestMountAclIversionFlags(t *testing.T) {
	const probe = `umask 022
for d in /mnt/acl /mnt/noacl; do touch $d/f; stat -c '%a %n' $d/f; done
touch /mnt/iversion/f 2>/dev/null || echo /mnt/iversion is read-only
read -r init < /proc/1/comm; echo $init
grep -c ' /mnt/' /proc/self/mountinfo`
	// The read-only tmpfs is read-only, its flags notwithstanding; the
	// procfs shows the container's pid namespace; berth's staging mounts
	// are gone.
	const want = "666 /mnt/acl/f\n644 /mnt/noacl/f\n/mnt/iversion is read-only\nsh\n3\n"
	for _, tc := range []struct {
		name            string
		procAcl, goInit bool
	}{{"plan", false, false}, {"procAcl", true, false}, {"goInit", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "sh", "-c", probe)
			bun.Spec.Mounts = append(bun.Spec.Mounts,
				specs.Mount{Destination: "/mnt/acl", Type: "ramfs", Source: "ramfs", Options: []string{"acl", "nodev"}},
				specs.Mount{Destination: "/mnt/noacl", Type: "ramfs", Source: "ramfs", Options: []string{"acl", "noacl"}},
				specs.Mount{Destination: "/mnt/iversion", Type: "tmpfs", Source: "tmpfs", Options: []string{"iversion", "acl", "noiversion", "iversion", "ro"}},
			)
			for i, m := range bun.Spec.Mounts {
				if m.Type == "proc" && tc.procAcl {
					bun.Spec.Mounts[i].Options = append(m.Options, "acl")
				}
			}
			if tc.goInit {
				bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
			}
			bun.Save(t)
			r := b.Run("--debug", "run", "--bundle", bun.Dir, "kb-aclflags")
			if r.Code != 0 || r.Stdout != want {
				t.Errorf("berth run: %v, want stdout %q", r, want)
			}
			if planned := strings.Contains(r.Stderr, "init starts from a plan"); planned != (tc.name == "plan") {
				t.Errorf("berth run: the init started from a plan: %v, want %v", planned, tc.name == "plan")
			}
			// A filesystem mount(2) refuses fails create, leaving nothing.
			bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "/mnt/bad", Type: "tmpfs", Source: "tmpfs", Options: []string{"acl", "size=lots"}})
			bun.Save(t)
			b.MustFail([]string{"mount tmpfs", "acl or iversion", "invalid argument"}, "run", "--bundle", bun.Dir, "kb-aclflags")
		})
	}
}
