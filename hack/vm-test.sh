#!/bin/bash
# vm-test.sh [-lsm selinux] [-run REGEX] [-shell]: runs berth's integration
# tests on a pure cgroup v2 system, which this hybrid host is not. It boots
# Debian's cloud kernel under qemu (TCG: KVM is not available here) from an
# initramfs holding ./berth, a static build of the integration tests and
# busybox, prints the tests' output and exits with their status. -shell
# boots the same system to an interactive shell instead (quit qemu with
# Ctrl-A x). -lsm selinux boots with SELinux instead of AppArmor, the
# kernel's default (the two exclude each other), permissive, with the small
# policy in hack/vm-selinux-policy.conf, and runs TestSELinux.
# VM_TIMEOUT (seconds, default 1800) bounds the whole boot and run.
# See docs/vm.md.
set -euo pipefail

usage() {
	echo "usage: $0 [-lsm selinux] [-run REGEX] [-shell]" >&2
	exit 2
}

# The cgroup suite, the binary overwrite attack (on this kernel berth seals
# itself in a memfd), the AppArmor test (the cloud kernel has AppArmor as its
# default LSM; this host has none), and one plain container run so that a
# run always proves the VM can run containers at all.
run='^(TestCgroup.*|TestAppArmor|TestRunPrintsFromInside|TestRuntimeBinaryOverwriteAttack)$'
mode=run
lsm=apparmor
while [ $# -gt 0 ]; do
	case $1 in
	-lsm)
		[ $# -ge 2 ] && [ "$2" = selinux ] || usage
		lsm=selinux
		[ "$run" != '^(TestCgroup.*|TestAppArmor|TestRunPrintsFromInside|TestRuntimeBinaryOverwriteAttack)$' ] || run='^TestSELinux$'
		shift 2
		;;
	-run)
		[ $# -ge 2 ] || usage
		run=$2
		shift 2
		;;
	-shell)
		mode=shell
		shift
		;;
	*) usage ;;
	esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
cache=$here/.cache/vm
timeout_s=${VM_TIMEOUT:-1800}
export PATH=/usr/local/go/bin:$PATH
# Kernel modules to load, dependencies first. null_blk gives the VM a block
# device (/dev/nullb0) for io controller tests; it needs configfs. fuse backs
# /dev/fuse, which a host loads on first open but the VM cannot (it has no
# modprobe setup).
modules="kernel/fs/configfs/configfs.ko kernel/drivers/block/null_blk/null_blk.ko kernel/fs/fuse/fuse.ko"

die() {
	echo "vm-test: $*" >&2
	exit 1
}

case $timeout_s in
'' | *[!0-9]* | 0) die "VM_TIMEOUT=$timeout_s is not a positive number of seconds" ;;
esac
# The tests' own timeout comes first where it can, for its goroutine dump.
test_timeout=$((timeout_s > 300 ? timeout_s - 120 : timeout_s))
[ "$(id -u)" = 0 ] || die "must run as root (apt-get download, and the initramfs holds root-owned files)"
for tool in qemu-system-x86_64 apt-get apt-cache dpkg file timeout go make; do
	command -v "$tool" >/dev/null || die "$tool is missing: run hack/install-deps.sh"
done
[ -x /bin/busybox ] || die "/bin/busybox is missing: run hack/install-deps.sh"
file -L /bin/busybox | grep -q 'statically linked' || die "/bin/busybox is not static: install busybox-static"
mkdir -p "$cache"

# kernel_package prints the package linux-image-cloud-amd64 depends on:
# the current cloud kernel.
kernel_package() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

# fetch_kernel prints the directory holding the unpacked current cloud
# kernel, downloading it only when that version is not cached yet.
fetch_kernel() {
	local pkg ver dir tmp
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then
		apt-get update -qq >&2 || die "apt-get update failed"
		pkg=$(kernel_package)
	fi
	[ -n "$pkg" ] || die "apt-cache finds no kernel package that linux-image-cloud-amd64 depends on"
	ver=$(apt-cache show --no-all-versions "$pkg" | awk '$1 == "Version:" { print $2; exit }')
	dir=$cache/$pkg-$ver
	if [ ! -d "$dir" ]; then
		echo "vm-test: downloading $pkg $ver" >&2
		tmp=$(mktemp -d "$cache/download.XXXXXX")
		# The sandbox user _apt could not write to the private temp dir.
		(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver" >&2) ||
			{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
		dpkg -x "$tmp"/*.deb "$tmp/unpacked" || { rm -rf "$tmp"; die "dpkg -x of $pkg failed"; }
		# Older kernels are of no further use; keep the cache to one.
		rm -rf "$cache"/linux-image-*
		mv "$tmp/unpacked" "$dir"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

# fetch_apparmor_parser prints the path of apparmor_parser from Debian's
# apparmor package, unpacked into the cache on first use: the AppArmor test
# loads its profile with it. It needs only libc.
fetch_apparmor_parser() {
	local ver dir tmp
	ver=$(apt-cache show --no-all-versions apparmor 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
	[ -n "$ver" ] || die "apt-cache knows no apparmor package (run apt-get update)"
	dir=$cache/apparmor-$ver
	if [ ! -x "$dir/sbin/apparmor_parser" ]; then
		tmp=$(mktemp -d "$cache/download.XXXXXX")
		(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "apparmor=$ver" >&2) ||
			{ rm -rf "$tmp"; die "apt-get download apparmor=$ver failed"; }
		rm -rf "$cache"/apparmor-*
		dpkg -x "$tmp"/*.deb "$dir" || { rm -rf "$tmp"; die "dpkg -x of apparmor failed"; }
		rm -rf "$tmp"
	fi
	echo "$dir/sbin/apparmor_parser"
}

kernel_dir=$(fetch_kernel)
apparmor_parser=$(fetch_apparmor_parser)
vmlinuz=$(echo "$kernel_dir"/boot/vmlinuz-*)
[ -f "$vmlinuz" ] || die "no vmlinuz in $kernel_dir/boot"
moddir=$(echo "$kernel_dir"/lib/modules/*)

make -s -C "$here" berth >&2 || die "make berth failed"
file "$here/berth" | grep -q 'statically linked' || die "$here/berth is not statically linked"
(cd "$here" && CGO_ENABLED=0 go test -c -o "$cache/integration.test" ./integration/) ||
	die "building the integration tests failed"
file "$cache/integration.test" | grep -q 'statically linked' || die "$cache/integration.test is not statically linked"
# The VM has no Go: the tools the tests run are built here ($BERTH_TOOLS).
(cd "$here" && CGO_ENABLED=0 go build -o "$cache/tools/" ./integration/hostile) ||
	die "building the integration tests' tools failed"

stage=$(mktemp -d "$cache/run.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root"/{bin,etc,lib/modules,newroot,proc,sys,dev,tmp,run,root}
# Every host names its root user: berth reports the owner by name.
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
cp /bin/busybox "$root/bin/"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$here/berth" "$root/berth"
cp "$apparmor_parser" "$root/bin/"
for lib in $(ldd "$apparmor_parser" | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp "$cache/integration.test" "$root/integration.test"
cp -r "$cache/tools" "$root/tools"
for m in $modules; do
	cp "$moddir/$m" "$root/lib/modules/" || die "kernel module $m is missing from $kernel_dir"
	basename "$m" >>"$root/lib/modules/order"
done
printf '%s\n' "$mode" "$run" "${test_timeout}s" "$lsm" >"$root/vm-args"
append="console=ttyS0 quiet panic=-1 cgroup_no_v1=all"
if [ "$lsm" = selinux ]; then
	checkpolicy -U allow -c 33 -o "$root/selinux-policy" "$here/hack/vm-selinux-policy.conf" >&2 ||
		die "compiling hack/vm-selinux-policy.conf failed"
	append="$append security=selinux selinux=1 enforcing=0"
fi

# Stage one, on the initramfs: pivot_root(2) refuses a root that is the
# initramfs itself, and berth pivots into every container, so the system
# moves to a tmpfs first.
cat >"$root/init" <<'EOF'
#!/bin/sh
mount -t tmpfs -o mode=0755 tmpfs /newroot || { echo "vm-init: mount tmpfs on /newroot failed"; exit 1; }
for f in /*; do
	[ "$f" = /newroot ] || cp -a "$f" /newroot/ || { echo "vm-init: copy $f to the tmpfs failed"; exit 1; }
done
exec switch_root /newroot /vm-init
EOF

# Stage two, PID 1 on the tmpfs: a host as systemd sets one up, then the
# tests, then the marker line that carries their status out to the script.
cat >"$root/vm-init" <<'EOF'
#!/bin/sh
export PATH=/bin HOME=/root TMPDIR=/tmp
fail() {
	echo "vm-init: $*"
	poweroff -f
}
mount -t proc proc /proc || fail "mount /proc failed"
mount -t sysfs sysfs /sys || fail "mount /sys failed"
mount -t securityfs securityfs /sys/kernel/security || fail "mount securityfs failed"
if [ -f /selinux-policy ]; then
	# What load_policy does: until a policy is loaded, SELinux has no
	# contexts to give.
	mount -t selinuxfs selinuxfs /sys/fs/selinux || fail "mount selinuxfs failed"
	cat /selinux-policy >/sys/fs/selinux/load || fail "loading the SELinux policy failed"
fi
mount -t devtmpfs devtmpfs /dev || fail "mount /dev failed"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o ptmxmode=0666 devpts /dev/pts || fail "mount /dev/pts failed"
for d in /dev/shm /tmp /run; do
	mount -t tmpfs tmpfs "$d" || fail "mount tmpfs on $d failed"
done
chmod 1777 /tmp /dev/shm
# systemd makes every mount shared; berth must cope with that.
mount --make-rshared / || fail "make / shared failed"
# The options systemd mounts cgroup2 with.
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup || fail "mount cgroup2 failed"

cg=/sys/fs/cgroup
awk -v cg=$cg '$2 == cg && $3 == "cgroup2" { found = 1 } END { exit !found }' /proc/mounts ||
	fail "$cg is not cgroup2"
awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/mounts && fail "a cgroup v1 hierarchy is mounted"
read -r controllers <$cg/cgroup.controllers
for c in cpu io memory pids; do
	case " $controllers " in
	*" $c "*) ;;
	*) fail "cgroup2 lacks the $c controller (cgroup.controllers: $controllers)" ;;
	esac
done
# Like systemd: every controller passed down to a slice, and the tests in a
# leaf service cgroup under it. The root cgroup may hold processes and still
# pass controllers down; no other cgroup may pass down a domain controller
# (memory, io…) while it holds processes, so running the tests in the root
# would hide exactly what a runtime started from a service or a login shell
# runs into.
enable_all() {
	for c in $controllers; do
		echo "+$c" >"$1/cgroup.subtree_control" || fail "enable $c in $1 failed"
	done
}
enable_all $cg
mkdir -p $cg/system.slice/vm-test.service || fail "mkdir $cg/system.slice/vm-test.service failed"
enable_all $cg/system.slice

while read -r m; do
	insmod "/lib/modules/$m" || fail "insmod $m failed"
done </lib/modules/order

{
	IFS= read -r mode
	IFS= read -r run
	IFS= read -r test_timeout
	IFS= read -r lsm
} </vm-args
read -r uptime _ </proc/uptime
echo "vm-init: kernel $(uname -r) up in ${uptime}s; LSM $lsm; cgroup2 controllers: $controllers; tests in /system.slice/vm-test.service"
cd /tmp || fail "cd /tmp failed"
if [ "$mode" = shell ]; then
	setsid cttyhack sh -c "echo 0 >$cg/system.slice/vm-test.service/cgroup.procs && BERTH_BINARY=/berth BERTH_TOOLS=/tools BERTH_IN_VM=1 BERTH_VM_LSM=$lsm exec sh -l"
else
	sh -c "echo 0 >$cg/system.slice/vm-test.service/cgroup.procs &&
		BERTH_BINARY=/berth BERTH_TOOLS=/tools BERTH_IN_VM=1 BERTH_VM_LSM=$lsm exec /integration.test -test.v -test.timeout \"\$1\" -test.run \"\$2\"" sh "$test_timeout" "$run"
fi
echo "BERTH-VM-EXIT=$?"
sync
poweroff -f
EOF
chmod 755 "$root/init" "$root/vm-init"
(cd "$root" && find . | busybox cpio -o -H newc -R 0:0 --quiet) >"$stage/initrd" ||
	die "building the initramfs failed"

qemu=(qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nodefaults -no-reboot
	-display none -serial mon:stdio -kernel "$vmlinuz" -initrd "$stage/initrd"
	-append "$append")

if [ "$mode" = shell ]; then
	"${qemu[@]}"
	exit
fi

log=$stage/console.log
echo "vm-test: booting $(basename "$vmlinuz") with $lsm to run -test.run '$run'"
set +e
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | sed -u 's/\r$//' | tee "$log"
qemu_status=${PIPESTATUS[0]}
set -e

status=$(sed -n 's/^BERTH-VM-EXIT=\([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
	die "the VM did not finish within ${timeout_s}s (set VM_TIMEOUT to allow more)"
fi
if grep -q 'Kernel panic' "$log"; then
	die "the VM's kernel panicked: $(grep -m 1 'Kernel panic' "$log")"
fi
if [ -z "$status" ]; then
	die "the VM stopped without reporting the tests' status (no BERTH-VM-EXIT line; qemu exited $qemu_status)"
fi
if grep -q '^testing: warning: no tests to run' "$log"; then
	die "no test matches -run '$run'"
fi
exit "$status"
