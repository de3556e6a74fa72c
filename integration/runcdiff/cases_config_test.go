package runcdiff

import (
	"encoding/json"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runProbe runs the probe as the container's process, in the foreground,
// and compares its report and mounts.
var runProbe = []step{cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts()}

// probeConfig is a case that runs the probe in a config changed by change.
func probeConfig(name string, change func(s *specs.Spec)) scenario {
	return scenario{Name: name, Config: withProbe(change), Steps: runProbe}
}

func u32(v uint32) *uint32 { return &v }
func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }

// allCaps is every capability this kernel has that both runtimes know.
var allCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}

// userNamespace maps the container's ids 0-65535 to the host's 100000-.
func userNamespace(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

// configCases run the probe in the configs `berth spec` and `runc spec`
// write, and in configs that set each part of the process and the
// container the probe sees.
var configCases = []scenario{
	{Name: "config-berth-spec", Config: probeProcess, Steps: runProbe},
	{Name: "config-runc-spec", Base: runcSpec, Config: probeProcess, Steps: runProbe},
	{Name: "config-runc-spec-no-ambient", Base: runcSpec, Config: withProbe(func(s *specs.Spec) {
		s.Process.Capabilities.Ambient = nil
	}), Steps: runProbe},
	{Name: "config-berth-spec-rootless", Base: berthRootless, Config: probeProcess, Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts().deliberate(compatRbindRo),
	}},
	{Name: "config-runc-spec-rootless", Base: runcRootless, Config: withProbe(func(s *specs.Spec) {
		s.Process.Capabilities.Ambient = nil
	}), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts().deliberate(compatRbindRo),
	}},
	probeConfig("hostname", func(s *specs.Spec) { s.Hostname = "rcd-host" }),
	// runc 1.1.5 does not set the domainname.
	{Name: "domainname", Config: withProbe(func(s *specs.Spec) { s.Domainname = "rcd.example" }), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed).deliberate(compatDomainname),
	}},
	probeConfig("no-uts-namespace", func(s *specs.Spec) {
		s.Hostname = ""
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.UTSNamespace)
	}),
	probeConfig("env", func(s *specs.Spec) { s.Process.Env = []string{"A=1", "B=", "PATH=/bin:/usr/bin", "A=2"} }),
	probeConfig("env-empty", func(s *specs.Spec) { s.Process.Env = nil }),
	probeConfig("cwd", func(s *specs.Spec) { s.Process.Cwd = "/tmp" }),
	probeConfig("cwd-new", func(s *specs.Spec) { s.Process.Cwd = "/new/dir" }),
	{Name: "cwd-relative", Config: func(s *specs.Spec) { s.Process.Cwd = "tmp" }, Steps: []step{
		create.fails("cwd"), gone,
	}},
	probeConfig("user", func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: u32(0o77)}
	}),
	probeConfig("user-root-groups", func(s *specs.Spec) { s.Process.User = specs.User{AdditionalGids: []uint32{0, 5}} }),
	probeConfig("capabilities", func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"},
			Effective:   []string{"CAP_CHOWN"},
			Permitted:   []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_NET_BIND_SERVICE"},
			Ambient:     []string{"CAP_NET_BIND_SERVICE"},
		}
	}),
	probeConfig("capabilities-all", func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: allCaps, Effective: allCaps, Permitted: allCaps}
	}),
	probeConfig("capabilities-none", func(s *specs.Spec) { s.Process.Capabilities = nil }),
	probeConfig("capabilities-user", func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: allCaps, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"},
			Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
		}
	}),
	{Name: "capabilities-unknown", Config: func(s *specs.Spec) {
		s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_NOPE")
		s.Process.Args = []string{"/bin/true"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID").deliberate(compatUnknownCap)}},
	probeConfig("no-new-privileges", func(s *specs.Spec) { s.Process.NoNewPrivileges = true }),
	probeConfig("rlimits", func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 1024}, {Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
			{Type: "RLIMIT_NPROC", Soft: 100, Hard: 200}, {Type: "RLIMIT_STACK", Soft: 1 << 20, Hard: 1 << 20},
		}
	}),
	{Name: "rlimit-unknown", Config: func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOPE", Soft: 1, Hard: 1}}
	}, Steps: []step{create.fails("RLIMIT_NOPE"), gone}},
	probeConfig("oom-score-adj", func(s *specs.Spec) { s.Process.OOMScoreAdj = intp(500) }),
	{Name: "sysctl", Config: func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1", "net.core.somaxconn": "1000"}
		s.Process.Args = []string{"cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shm_rmid_forced", "/proc/sys/net/core/somaxconn"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID")}},
	{Name: "sysctl-unknown", Config: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.ipv4.no_such_knob": "1"} },
		Steps: []step{create.fails("no_such_knob"), gone}},
	{Name: "sysctl-host-namespace", Config: func(s *specs.Spec) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	}, Steps: []step{create.fails("net.ipv4.ip_forward"), gone}},
	probeConfig("masked-paths", func(s *specs.Spec) {
		s.Linux.MaskedPaths = []string{"/etc/passwd", "/proc/kcore", "/no/such/path", "/sys/firmware", "/root"}
	}),
	probeConfig("readonly-paths", func(s *specs.Spec) {
		s.Linux.ReadonlyPaths = []string{"/etc", "/proc/sys", "/no/such/path"}
	}),
	// runc 1.1.5's read-only bind of /etc hides the mask on /etc/passwd.
	{Name: "masked-under-readonly", Config: withProbe(func(s *specs.Spec) {
		s.Linux.MaskedPaths = []string{"/etc/passwd"}
		s.Linux.ReadonlyPaths = []string{"/etc"}
	}), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts().deliberate(compatMaskUnderRO),
	}},
	probeConfig("readonly-root", func(s *specs.Spec) { s.Root.Readonly = true }),
	probeConfig("mounts", func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/mnt/etc-ro", Type: "bind", Source: "$BUNDLE/rootfs/etc", Options: []string{"bind", "ro"}},
			specs.Mount{Destination: "/mnt/etc-rw", Type: "none", Source: "$BUNDLE/rootfs/etc", Options: []string{"rbind", "nosuid", "noexec"}},
			specs.Mount{Destination: "/mnt/passwd", Type: "bind", Source: "$BUNDLE/rootfs/etc/passwd", Options: []string{"bind", "ro"}},
			specs.Mount{Destination: "/mnt/tmpfs", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=700", "uid=1000", "nodev", "noatime"}},
			specs.Mount{Destination: "/mnt/tmpfs/inner", Type: "tmpfs", Source: "inner", Options: []string{"ro"}},
			specs.Mount{Destination: "/mnt/mqueue", Type: "mqueue", Source: "mqueue"},
			specs.Mount{Destination: "/mnt/private", Type: "bind", Source: "$BUNDLE/rootfs/tmp", Options: []string{"rbind", "rprivate"}},
			specs.Mount{Destination: "/mnt/slave", Type: "bind", Source: "$BUNDLE/rootfs/tmp", Options: []string{"rbind", "rslave"}},
		)
	}),
	probeConfig("mount-acl-iversion", func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/mnt/acl", Type: "tmpfs", Source: "tmpfs", Options: []string{"acl"}},
			specs.Mount{Destination: "/mnt/iversion", Type: "tmpfs", Source: "tmpfs", Options: []string{"iversion", "noacl"}},
			specs.Mount{Destination: "/mnt/noiversion", Type: "mqueue", Source: "mqueue", Options: []string{"noiversion", "acl", "nodev"}})
	}),
	// MS_POSIXACL leaves the umask to the filesystem's ACLs: on a ramfs,
	// which has none, files keep the mode they are made with.
	{Name: "mount-acl-umask", Config: func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/mnt/acl", Type: "ramfs", Source: "ramfs", Options: []string{"acl", "nosuid"}},
			specs.Mount{Destination: "/mnt/noacl", Type: "ramfs", Source: "ramfs", Options: []string{"acl", "noacl"}})
		for i, m := range s.Mounts {
			if m.Type == "proc" {
				s.Mounts[i].Options = append(m.Options, "acl")
			}
		}
		s.Process.Args = []string{"sh", "-c", "umask 022; for d in /mnt/acl /mnt/noacl; do touch $d/f; mkdir $d/d; stat -c '%a %n' $d/f $d/d; done; read -r init < /proc/1/comm; echo $init"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID")}},
	{Name: "mount-missing-source", Config: func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "$DIR/none", Options: []string{"bind"}})
	}, Steps: []step{create.fails("no such file"), gone}},
	{Name: "mount-relative-destination", Config: withProbe(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "mnt/rel", Type: "tmpfs", Source: "tmpfs"})
	}), Steps: runProbe},
	{Name: "mount-unknown-type", Config: func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "x"})
	}, Steps: []step{create.fails("no such device|nosuchfs"), gone}},
	{Name: "mount-unknown-option", Config: withProbe(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuchoption"}})
	}), Steps: []step{create.fails(), gone}},
	probeConfig("rootfs-propagation-slave", func(s *specs.Spec) { s.Linux.RootfsPropagation = "rslave" }),
	probeConfig("rootfs-propagation-private", func(s *specs.Spec) { s.Linux.RootfsPropagation = "private" }),
	probeConfig("devices", func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{
			{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: fileMode(0o666), UID: u32(0), GID: u32(0)},
			{Path: "/dev/loop-rcd", Type: "b", Major: 7, Minor: 200, FileMode: fileMode(0o600)},
		}
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices,
			specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(229), Access: "rwm"})
	}),
	{Name: "devices-cgroup", Config: func(s *specs.Spec) {
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(136), Access: "rw"},
		}
	}, Steps: []step{create, cgroupFiles("devices.list")}},
	probeConfig("no-network-namespace", func(s *specs.Spec) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
	}),
	probeConfig("no-cgroup-namespace", func(s *specs.Spec) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.CgroupNamespace)
	}),
	probeConfig("no-ipc-namespace", func(s *specs.Spec) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.IPCNamespace)
	}),
	{Name: "namespace-path", Config: func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", os.Getpid())
			}
		}
		host, _ := os.Readlink("/proc/self/ns/net")
		s.Process.Args = []string{"sh", "-c", fmt.Sprintf(`[ "$(readlink /proc/self/ns/net)" = %q ] && echo host network`, host)}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID")}},
	{Name: "namespace-path-wrong-type", Config: func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/uts", os.Getpid())
			}
		}
	}, Steps: []step{create.fails(), gone}},
	{Name: "namespace-unknown", Config: func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "nosuch"})
	}, Steps: []step{create.fails("nosuch"), gone}},
	{Name: "namespace-duplicate", Config: func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}, Steps: []step{create.fails(), gone}},
	{Name: "user-namespace", Config: withProbe(userNamespace), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts(),
	}},
	{Name: "user-namespace-unmapped-user", Config: func(s *specs.Spec) {
		userNamespace(s)
		s.Process.User.UID = 70000
	}, Steps: []step{create.fails(), gone}},
	{Name: "seccomp", Config: func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86_64},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: uintp(1)},
				{Names: []string{"getcwd"}, Action: specs.ActErrno},
			},
		}
		s.Process.Args = []string{"sh", "-c", "grep -E '^Seccomp' /proc/self/status; mkdir /tmp/x; echo mkdir $?; /bin/pwd; echo pwd $?"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID")}},
	{Name: "seccomp-other-archs", Config: func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM, specs.ArchPPC64LE, specs.ArchMIPSEL64},
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdirat", "mkdir"}, Action: specs.ActErrno, ErrnoRet: uintp(1)}},
		}
		s.Process.Args = []string{"sh", "-c", "mkdir /dev/shm/x; echo mkdir $?"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID")}},
	{Name: "seccomp-other-byte-order", Config: func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchS390X}}
	}, Steps: []step{create.fails(), gone}},
	{Name: "seccomp-kill", Config: func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"uname"}, Action: specs.ActKillProcess}},
		}
		s.Process.Args = []string{"uname"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID").fails()}},
	{Name: "seccomp-unknown-syscall", Config: func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"no_such_syscall"}, Action: specs.ActErrno}},
		}
		s.Process.Args = []string{"echo", "ran"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID")}},
	{Name: "hooks", Config: func(s *specs.Spec) {
		// Hooks write to $DIR, which createContainer hooks see too: both
		// runtimes run them before the root switch. startContainer hooks
		// run in the container.
		hook := func(name string) specs.Hook {
			return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > $DIR/hook-" + name + "; echo " + name + " >> $DIR/hooks"}}
		}
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{hook("prestart")},
			CreateRuntime:   []specs.Hook{hook("createRuntime")},
			CreateContainer: []specs.Hook{hook("createContainer")},
			StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
				"cat > /dev/shm/hook-startContainer; echo startContainer >> /dev/shm/hooks"}}},
			Poststart: []specs.Hook{hook("poststart")},
			Poststop:  []specs.Hook{hook("poststop")},
		}
	}, Steps: []step{
		create, hookState("$DIR/hook-prestart"), hookState("$DIR/hook-createRuntime"), hookState("$DIR/hook-createContainer"),
		start, cmd("exec", "$ID", "cat", "/dev/shm/hooks"),
		cmd("exec", "$ID", "cat", "/dev/shm/hook-startContainer").out(stateJSON),
		deleteForce, hookState("$DIR/hook-poststop"), fileContent("$DIR/hooks"),
	}},
	// runc 1.1.5 runs poststart hooks at create.
	{Name: "hooks-poststart-at-start", Config: func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo poststart >> $DIR/hooks"}}}}
	}, Steps: []step{
		create, fileContent("$DIR/hooks").deliberate(compatPoststart), start, fileContent("$DIR/hooks"),
	}},
	{Name: "hook-fails", Config: func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-says-no >&2; exit 3"}}}}
	}, Steps: []step{create.fails(), gone}},
	{Name: "hook-timeout", Config: func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "10"}, Timeout: intp(1)}}}
	}, Steps: []step{create.fails("timed out|timeout"), gone}},
	{Name: "hook-missing", Config: func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/no/such/hook"}}}
	}, Steps: []step{create.fails("no such file"), gone}},
	{Name: "terminal", Config: func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"sh", "-c", "tty; stty size; id"}
	}, Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "--console-socket", "$CONSOLE", "$ID").withConsole(), start, consoleOutput(),
	}},
	{Name: "terminal-run-detached", Config: func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"sh", "-c", "tty; echo hi"}
	}, Steps: []step{
		cmd("run", "-d", "--bundle", "$BUNDLE", "--console-socket", "$CONSOLE", "$ID").withConsole(), consoleOutput(),
	}},
	{Name: "terminal-no-socket", Config: func(s *specs.Spec) { s.Process.Terminal = true }, Steps: []step{
		create.fails("console-socket|console socket"), gone,
	}},
	{Name: "resources", Config: func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(300 << 20), Reservation: i64(100 << 20), Swap: i64(400 << 20), Swappiness: u64(10)}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: u64(300), Quota: i64(30000), Period: u64(60000), Cpus: "0", Mems: "0"}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(40)}
	}, Steps: []step{create, cgroupFiles(resourceFiles...), start, cgroupFiles(resourceFiles...)}},
	{Name: "resources-impossible-cpuset", Config: func(s *specs.Spec) {
		s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "64"}
	}, Steps: []step{create.fails(), gone}},
	{Name: "resources-swap-below-limit", Config: func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(300 << 20), Swap: i64(100 << 20)}
	}, Steps: []step{create.fails(), gone}},
	{Name: "resources-memory-tiny", Config: func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(4096)}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID").fails(), gone}},
	{Name: "resources-pids-unlimited", Config: func(s *specs.Spec) {
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(-1)}
	}, Steps: []step{create, cgroupFiles("pids.max")}},
	{Name: "resources-cpu-quota-unlimited", Config: func(s *specs.Spec) {
		s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: i64(-1)}
	}, Steps: []step{create, cgroupFiles("cpu.cfs_quota_us", "cpu.cfs_period_us")}},
	{Name: "cgroups-path-nested", Config: func(s *specs.Spec) { s.Linux.CgroupsPath = "$ID/nested/deeper" }, Steps: []step{
		create, cmd("exec", "$ID", "sh", "-c", "grep -E ':(pids|memory):' /proc/self/cgroup"),
	}},
}

func intp(v int) *int { return &v }

func uintp(v uint) *uint { return &v }

func fileMode(m os.FileMode) *os.FileMode { return &m }

// hookState compares the state a hook read on its stdin.
func hookState(path string) step {
	return observe("state given to "+path, func(s *side) (string, error) {
		data, err := os.ReadFile(s.expand.Replace(path))
		if err != nil {
			return fmt.Sprintf("unreadable: %v", err), nil
		}
		var st map[string]any
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Sprintf("not JSON: %q", data), nil
		}
		out, err := json.MarshalIndent(normalState(s, st), "", "  ")
		return string(out), err
	})
}
