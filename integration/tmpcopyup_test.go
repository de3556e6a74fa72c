package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// initPaths are the configs that reach each way of starting a container's
// init: a default config starts from a plan, built by berth create
// (libcontainer/create_plan.go), unless it needs what only the Go init
// does, as a tmpfs with tmpcopyup does since these tests were written; a
// personality always needs the Go init.
var initPaths = []struct {
	name   string
	goInit bool
}{{"default", false}, {"goinit", true}}

// hostSecret is what the loop device standing for a host disk holds.
const hostSecret = "HOST-DISK-SECRET"

// tmpcopyup copies what is under a tmpfs's mount point into the tmpfs.
// When that directory is a volume another container writes, the other
// side can swap an entry for a FIFO or a device node while berth copies it:
// a copy that checks an entry by name and then opens it by name hangs
// `create` on the FIFO, or reads a device the container may not open into
// the container's tmpfs. Here a host process stands for the other
// container, exchanging a regular file with a FIFO or with a block device
// (a loop device over a file holding hostSecret) as fast as it can.
func TestTmpcopyupRace(t *testing.T) {
	secret := loopDevice(t, hostSecret)
	for _, swap := range []struct {
		name string
		make func(path string) error
	}{
		{"fifo", func(path string) error { return unix.Mkfifo(path, 0o644) }},
		{"device", func(path string) error { return unix.Mknod(path, unix.S_IFBLK|0o644, int(secret)) }},
	} {
		for _, path := range initPaths {
			t.Run(swap.name+"/"+path.name, func(t *testing.T) {
				raceTmpcopyup(t, "tcu-"+swap.name+"-"+path.name, swap.make, path.goInit)
			})
		}
	}
}

// raceTmpcopyup runs containers whose tmpfs with tmpcopyup covers a volume
// directory where a racer exchanges a regular file with what makeSwap
// makes, and checks each run: it must not hang, and must either show the
// file's content or fail with an error naming the entry.
func raceTmpcopyup(t *testing.T, id string, makeSwap func(string) error, goInit bool) {
	b := newBerth(t)
	vol := t.TempDir()
	mustMkdir(t, filepath.Join(vol, "data"))
	entry, spare := filepath.Join(vol, "data", "f"), filepath.Join(vol, "spare")
	writeFile(t, entry, "regular\n")
	if err := makeSwap(spare); err != nil {
		t.Fatal(err)
	}
	bun := newBundle(t, "sh", "-c", "f=/vol/data/f; if [ -f $f ]; then cat $f; else stat -c %F $f; fi")
	addMount(bun, specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind"}})
	addMount(bun, specs.Mount{Destination: "/vol/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "tmpcopyup"}})
	if goInit {
		bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
	}
	bun.Save(t)

	stop := exchangeLoop(t, entry, spare)
	files, refused := 0, 0
	// 40 runs or 2 s, and longer on a loaded machine until the copy has
	// met both the file and what was swapped in.
	enough, giveUp := time.Now().Add(2*time.Second), time.Now().Add(10*time.Second)
	for i := 0; time.Now().Before(giveUp); i++ {
		if (i >= 40 || time.Now().After(enough)) && files > 0 && refused > 0 {
			break
		}
		// A copy blocked opening the FIFO waits for a writer: be one
		// after a while, so that the run ends and leaves nothing behind.
		var hung atomic.Bool
		watchdog := time.AfterFunc(5*time.Second, func() {
			hung.Store(true)
			stop()
			openFIFOs(t, entry, spare)
		})
		r := b.Run("run", "--bundle", bun.Dir, id)
		watchdog.Stop()
		out := fmt.Sprintf("exit %d, stdout %.60q, stderr %q", r.Code, r.Stdout, r.Stderr)
		switch {
		case hung.Load():
			t.Fatalf("run %d hung until the FIFO swapped in for the file had a writer: %s", i, out)
		case strings.Contains(r.Stdout, hostSecret):
			t.Fatalf("run %d: the copy read the host's device into the container: %s", i, out)
		case r.Code == 0 && r.Stdout == "regular\n":
			files++
		case r.Code == 0:
			t.Fatalf("run %d: /vol/data/f is not the file: %s", i, out)
		case strings.Contains(r.Stderr, "panic") || !strings.Contains(r.Stderr, "tmpcopyup") || !strings.Contains(r.Stderr, " f: "):
			t.Fatalf("run %d failed without a clear error naming the entry: %s", i, out)
		default:
			refused++
		}
	}
	stop()
	t.Logf("the copy saw the file %d times and refused what was swapped in %d times", files, refused)
	if files == 0 || refused == 0 {
		t.Error("the copy never saw both the file and what was swapped in: the race proved nothing")
	}
}

// exchangeLoop exchanges the entries at a and b (renameat2 RENAME_EXCHANGE)
// in a loop until the function it returns is called.
func exchangeLoop(t *testing.T, a, b string) (stop func()) {
	var done atomic.Bool
	errc := make(chan error, 1)
	go func() {
		for !done.Load() {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
				errc <- fmt.Errorf("exchange %s and %s: %w", a, b, err)
				return
			}
		}
		errc <- nil
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			done.Store(true)
			if err := <-errc; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// openFIFOs opens for writing, and closes, each of paths that is a FIFO,
// which lets a reader blocked opening it go on.
func openFIFOs(t *testing.T, paths ...string) {
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			continue
		}
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Errorf("open %s for writing: %v", p, err)
			continue
		}
		unix.Close(fd)
	}
}

// loopDevice attaches a loop device, standing for a disk of the host, to
// a 64 KiB file that starts with content, and returns its device number.
func loopDevice(t *testing.T, content string) uint64 {
	t.Helper()
	file := filepath.Join(t.TempDir(), "disk")
	if err := os.WriteFile(file, append([]byte(content), make([]byte, 64<<10-len(content))...), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", file).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device to stand for a host disk: losetup: %v %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "--detach", dev).CombinedOutput(); err != nil {
			t.Errorf("detach %s: %v %s", dev, err, out)
		}
	})
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	return st.Rdev
}

// The tmpfs's pages belong to whoever writes them: the copy must run in
// the container's cgroups, so that what the image has under the mount
// point counts against the container's memory, not the caller's. (Named
// TestCgroup… so that hack/vm-test.sh runs it on cgroup v2 too.)
func TestCgroupTmpcopyupCharged(t *testing.T) {
	for _, path := range initPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			id := "tcu-charge-" + path.name
			bun := cgroupBundle(t, id, "true")
			const size = 16 << 20
			mustMkdir(t, filepath.Join(bun.Rootfs(), "data"))
			writeFile(t, filepath.Join(bun.Rootfs(), "data", "big"), strings.Repeat("x", size))
			addMount(bun, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}})
			if path.goInit {
				bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
			}
			bun.Save(t)
			b.MustRun("create", "--bundle", bun.Dir, id)
			defer b.MustRun("delete", "--force", id)
			if shmem := cgroupKey(t, "memory", id, "memory.stat", "shmem"); shmem < size {
				t.Errorf("the container's memory cgroup holds %d bytes of tmpfs, want the %d the copy wrote", shmem, size)
			}
		})
	}
}

// A device node, FIFO or socket under a tmpfs with tmpcopyup fails create
// with an error that names it: the copy makes none of them, so none the
// container could not make itself appears in its tmpfs (runc 1.1.5 makes
// block devices and refuses the others, with a less clear error).
func TestTmpcopyupRefusesNodes(t *testing.T) {
	b := newBerth(t)
	for _, tc := range []struct {
		kind string
		make func(path string) error
	}{
		{"FIFO", func(path string) error { return unix.Mkfifo(path, 0o644) }},
		{"character device", func(path string) error { return unix.Mknod(path, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))) }},
		{"block device", func(path string) error { return unix.Mknod(path, unix.S_IFBLK|0o644, int(unix.Mkdev(7, 0))) }},
		{"socket", func(path string) error { return unix.Mknod(path, unix.S_IFSOCK|0o644, 0) }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			bun := newBundle(t, "true")
			mustMkdir(t, filepath.Join(bun.Rootfs(), "data", "sub"))
			writeFile(t, filepath.Join(bun.Rootfs(), "data", "file"), "x")
			if err := tc.make(filepath.Join(bun.Rootfs(), "data", "sub", "node")); err != nil {
				t.Fatal(err)
			}
			addMount(bun, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}})
			bun.Save(t)
			b.MustFail([]string{"tmpcopyup: copy sub: copy node: a " + tc.kind}, "run", "--bundle", bun.Dir, "tcu-node")
		})
	}
}

// Rootless podman's use: the copy runs in the container's user namespace,
// and what it copies keeps its owners as the container sees them.
func TestTmpcopyupInUserNamespace(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "cat /data/sub/file; stat -c '%u %a' /data/sub /data/sub/file")
	mustMkdir(t, filepath.Join(bun.Rootfs(), "data", "sub"))
	writeFile(t, filepath.Join(bun.Rootfs(), "data", "sub", "file"), "copied\n")
	userNamespace(bun, 100000)
	openUp(t, bun, 100000)
	if err := os.Chmod(filepath.Join(bun.Rootfs(), "data", "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	addMount(bun, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}})
	bun.Save(t)
	if r := b.RunContainer(bun, "tcu-userns"); r.Code != 0 || r.Stdout != "copied\n0 750\n0 644\n" {
		t.Errorf("tmpcopyup in a user namespace: %v", r)
	}
}
