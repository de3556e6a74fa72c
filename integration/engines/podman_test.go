package engines

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

const busyboxPath = "/bin/busybox"

// podmanDir holds podman's storage and configuration; podman also builds
// the image the other engines load.
func podmanDir() string { return filepath.Join(workDir, "podman") }

// podmanEnv is podman's private configuration, kept out of /etc, /var and
// /dev/shm. The [engine.runtimes] table is how docs/integration.md names
// berth; the rest keeps the run private. This host lacks CAP_SYS_RESOURCE,
// so podman's default nofile and nproc limits (1048576) fail under every
// runtime: the defaults here stay below the hard limits.
var podmanEnv = sync.OnceValues(func() ([]string, error) {
	dir := podmanDir()
	for _, d := range []string{"tmp", "net"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	var nofile, nproc unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err != nil {
		return nil, err
	}
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &nproc); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=%[1]d:%[1]d", "nproc=%[2]d:%[2]d"]

[network]
network_config_dir = "%[3]s/net"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[3]s/events.log"
lock_type = "file"
image_copy_tmp_dir = "%[3]s/tmp"

[engine.runtimes]
%[4]s = ["%[5]s"]
`, min(nofile.Max, 1024), min(nproc.Max, 4096), dir, runtimeName(), runtimePath)
	path := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return []string{"CONTAINERS_CONF=" + path, "TMPDIR=" + filepath.Join(dir, "tmp")}, nil
})

func podmanArgv() []string {
	dir := podmanDir()
	return []string{"podman", "--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--tmpdir", filepath.Join(dir, "tmp"), "--storage-driver", "overlay"}
}

// images are the busybox image as archives for containerd and docker, and
// the pod sandbox image for containerd's CRI plugin: busybox sleeping.
type images struct{ OCI, Docker, Pause string }

// pauseImage is the name of the sandbox image.
const pauseImage = "localhost/pause:latest"

// buildImages makes the busybox image offline, once: a rootfs tar of
// busybox-static imported into podman, saved in both archive formats.
var buildImages = sync.OnceValues(func() (images, error) {
	env, err := podmanEnv()
	if err != nil {
		return images{}, err
	}
	dir := filepath.Join(workDir, "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return images{}, err
	}
	rootfs := filepath.Join(dir, "rootfs.tar")
	if err := writeRootfsTar(rootfs); err != nil {
		return images{}, fmt.Errorf("busybox rootfs: %w", err)
	}
	imgs := images{OCI: filepath.Join(dir, "busybox-oci.tar"), Docker: filepath.Join(dir, "busybox-docker.tar"),
		Pause: filepath.Join(dir, "pause-oci.tar")}
	for _, args := range [][]string{
		{"import", "--change", `CMD ["/bin/sh"]`, rootfs, image},
		{"save", "--format", "oci-archive", "--output", imgs.OCI, image},
		{"save", "--format", "docker-archive", "--output", imgs.Docker, image},
		{"import", "--change", `CMD ["/bin/sleep", "2147483647"]`, rootfs, pauseImage},
		{"save", "--format", "oci-archive", "--output", imgs.Pause, pauseImage},
	} {
		cmd := exec.Command("podman", append(podmanArgv(), args...)[1:]...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return images{}, fmt.Errorf("podman %s: %v\n%s", args[0], err, out)
		}
	}
	return imgs, nil
})

// writeRootfsTar writes a root filesystem of busybox-static, its applets
// as symlinks, and the users the checks need.
func writeRootfsTar(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := tar.NewWriter(f)
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "root", "tmp"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode}); err != nil {
			return err
		}
	}
	bb, err := os.Open(busyboxPath)
	if err != nil {
		return err
	}
	defer bb.Close()
	fi, err := bb.Stat()
	if err != nil {
		return err
	}
	if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: fi.Size()}); err != nil {
		return err
	}
	if _, err := io.Copy(w, bb); err != nil {
		return err
	}
	list, err := exec.Command(busyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777}); err != nil {
			return err
		}
	}
	for name, content := range map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	} {
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
			return err
		}
		if _, err := w.Write([]byte(content)); err != nil {
			return err
		}
	}
	return w.Close()
}

func TestPodman(t *testing.T) {
	env, err := podmanEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := buildImages(); err != nil {
		t.Fatal(err)
	}
	cg := newCgroupParent(t)
	// conmon outlives podman's commands, in the cgroup parent.
	t.Cleanup(func() { checkEngineGone(t, podmanDir()) })
	e := &cliEngine{
		name:        "podman",
		argv:        podmanArgv(),
		env:         env,
		runFlags:    []string{"--runtime", runtimeName(), "--cgroup-parent", cg.Path},
		slirp4netns: true,
		// conmon 2.1.6 misses OOM kills on this hybrid host, under runc
		// as under berth.
		oomUnreported: true,
	}
	runChecks(t, e)
}
