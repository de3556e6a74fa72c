package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
)

const (
	// workdirEnv hands the inner process the directory the outer one
	// prepared; its presence is what makes a process the inner one.
	workdirEnv = "BERTH_BENCH_WORKDIR"
	// cgroupEnv names the benchmark's cgroup as the host sees it, for the
	// inner process to report.
	cgroupEnv  = "BERTH_BENCH_CGROUP"
	cgroupRoot = "/sys/fs/cgroup"
)

// outer makes the bundle and the benchmark's cgroup, runs the inner process
// in its namespaces and removes both afterwards, killing whatever the inner
// process left in the cgroup: all of it descends from the benchmark.
func outer(cfg config) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("must run as root: it creates containers")
	}
	if cgroups.IsUnified() {
		return errors.New("this host is pure cgroup v2; the benchmark supports v1 and hybrid hosts only for now")
	}
	for _, bin := range []string{cfg.berth, cfg.runc, cfg.crun} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%w (hack/install-deps.sh bench installs runc and crun; make berth builds berth)", err)
		}
	}
	work, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return fmt.Errorf("make work directory: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(work)) }()
	mk := exec.Command(cfg.mkbundle, filepath.Join(work, "bundle"), "true")
	mk.Env = append(os.Environ(), "BERTH="+cfg.berth)
	if out, err := mk.CombinedOutput(); err != nil {
		return fmt.Errorf("make bundle: %v: %s", err, out)
	}

	own, err := cgroups.Mounts(0)
	if err != nil {
		return err
	}
	mgr, err := cgroups.New("berth-bench-"+strconv.Itoa(os.Getpid()), "")
	if err != nil {
		return fmt.Errorf("benchmark cgroup: %w", err)
	}
	if err := mgr.Create(); err != nil {
		return errors.Join(fmt.Errorf("make benchmark cgroup: %w", err), mgr.Destroy())
	}
	// A new cgroup namespace is rooted at the cgroup its creator is in,
	// so this process goes there just long enough to start the inner one.
	if err := mgr.Apply(os.Getpid()); err != nil {
		return errors.Join(fmt.Errorf("enter benchmark cgroup: %w", err), leave(own), mgr.Destroy())
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Env = append(os.Environ(), workdirEnv+"="+work, cgroupEnv+"="+describeCgroup(mgr.Paths()))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Should this process die, the inner one stops and deletes its
	// containers. The signal follows the thread that started the child, so
	// that thread must live as long as this process.
	runtime.LockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP, Pdeathsig: unix.SIGTERM}
	startErr := cmd.Start()
	if err := leave(own); err != nil {
		// Destroy would kill this process too; leave the cgroup for a
		// person to remove.
		if startErr == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		return fmt.Errorf("%w; remove the cgroup %s by hand", err, describeCgroup(mgr.Paths()))
	}
	if startErr != nil {
		return errors.Join(fmt.Errorf("start inner process: %w", startErr), mgr.Destroy())
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	waitErr := cmd.Wait()
	signal.Stop(sigs)
	if err := mgr.Destroy(); err != nil {
		return fmt.Errorf("remove benchmark cgroup: %w (the benchmark: %v)", err, waitErr)
	}
	return waitErr
}

// leave moves this process back to the cgroups it started in.
func leave(own []cgroups.Mount) error {
	pid := []byte(strconv.Itoa(os.Getpid()))
	var errs []error
	for _, m := range own {
		if m.Own == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(m.Own, "cgroup.procs"), pid, 0); err != nil {
			errs = append(errs, fmt.Errorf("return to cgroup %s: %w", m.Own, err))
		}
	}
	return errors.Join(errs...)
}

// describeCgroup names the benchmark's cgroup by its memory directory (the
// one this machine's supervisor nests us in), or any if there is none.
func describeCgroup(paths map[string]string) string {
	if p, ok := paths["memory"]; ok {
		return p
	}
	for _, p := range paths {
		return p
	}
	return "?"
}

// enterV1View gives this mount namespace a /sys/fs/cgroup that shows the
// host's v1 hierarchies and nothing else: a tmpfs over the host's, with each
// v1 hierarchy mounted again inside. Mounting a hierarchy with the options it
// has attaches to the existing one; nothing is unmounted or remounted, and
// with / a slave of the host's mounts nothing propagates back. Mounted from
// inside the new cgroup namespace, each mount's root is the namespace's
// root: the benchmark's cgroup.
func enterV1View() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	hierarchies, err := cgroups.Mounts(0)
	if err != nil {
		return err
	}
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("tmpfs", cgroupRoot, "tmpfs", flags, "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", cgroupRoot, err)
	}
	mounted := 0
	for _, h := range hierarchies {
		if h.FSType != "cgroup" {
			continue
		}
		name := filepath.Base(h.Mountpoint)
		dir := filepath.Join(cgroupRoot, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("cgroup", dir, "cgroup", flags, h.Options); err != nil {
			return fmt.Errorf("mount cgroup hierarchy %s on %s: %w", h.Options, dir, err)
		}
		// Co-mounted controllers ("cpu,cpuacct") are also found by each
		// controller's name, as on the host.
		for _, c := range strings.Split(h.Options, ",") {
			if c != name && !strings.Contains(c, "=") {
				if err := os.Symlink(name, filepath.Join(cgroupRoot, c)); err != nil && !errors.Is(err, os.ErrExist) {
					return err
				}
			}
		}
		mounted++
	}
	if mounted == 0 {
		return errors.New("the host has no cgroup v1 hierarchy to show")
	}
	return nil
}
