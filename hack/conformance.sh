#!/bin/bash
# conformance.sh: runs the OCI validation suite (runtime-tools' validation
# programs) against ./berth and checks the result against the list of known
# failures.
#
#   hack/conformance.sh [--compare RUNTIME] [TEST...]
#
# TEST               validation program names (default: all of them)
# --compare RUNTIME  also run every test against RUNTIME (e.g. /usr/sbin/runc)
#                    and show its results beside berth's, for writing
#                    docs/conformance.md
#
# Exit status is 1 when berth fails a test that
# hack/conformance-known-failures.txt does not list (leaving a container,
# cgroup or mount behind fails a test), or when processes or cgroups outlive
# the run; a listed test that now passes is reported so the list stays true.
#
# runtime-tools is fetched through the Go module proxy at one pinned version
# and built once into .cache/conformance; a second run builds nothing.
#
# The suite puts containers in the absolute cgroup /cgrouptest, which on this
# host would be outside the cgroups we run in. So every test runs in a private
# cgroup and mount namespace rooted at a fresh cgroup below our own, with the
# host's cgroup hierarchies mounted again on a tmpfs at /sys/fs/cgroup (no
# hierarchy is unmounted or remounted): "/" there is that cgroup, and all
# cgroups the tests make stay under it. Containers use a temporary --root and
# TMPDIR, and everything is checked for leftovers afterwards.
set -euo pipefail

rt_module=github.com/opencontainers/runtime-tools
rt_version=v0.9.1-0.20251114084447-edf4cb3d2116
rt_sum=h1:tAKu3NkKWZYpqBSOJKwTxT1wIGueiF7gcmcNgr5pNTY=

here=$(cd "$(dirname "$0")/.." && pwd)
cache=$here/.cache/conformance
suite=$cache/suite-$rt_version
known_file=$here/hack/conformance-known-failures.txt
berth=${BERTH:-$here/berth}
export PATH=/usr/local/go/bin:$PATH

die() { echo "conformance: $*" >&2; exit 1; }

# build_suite fetches runtime-tools and builds runtimetest (static: it runs
# inside the busybox root) and every validation program into $suite.
build_suite() {
	[ -e "$suite/.built" ] && return
	command -v go >/dev/null || die "go is missing (expected in /usr/local/go/bin)"
	echo "conformance: building runtime-tools $rt_version"
	export GOMODCACHE=$cache/gomod GOCACHE=$cache/gocache GOWORK=off GOTOOLCHAIN=local
	export GOFLAGS="-mod=mod -buildvcs=false"
	# go mod download needs a module to stand in; this one keeps berth's
	# go.mod out of it.
	mkdir -p "$cache/fetch"
	echo "module berth.conformance/fetch" > "$cache/fetch/go.mod"
	local info dir sum
	info=$(cd "$cache/fetch" && go mod download -json "$rt_module@$rt_version") ||
		die "fetch $rt_module@$rt_version: $info"
	dir=$(jq -r .Dir <<<"$info")
	sum=$(jq -r .Sum <<<"$info")
	[ "$sum" = "$rt_sum" ] || die "$rt_module@$rt_version has checksum $sum, want $rt_sum"

	# The module's vendor/ is a stub that breaks module-mode builds.
	local src=$cache/src-$rt_version
	rm -rf "$src" "$suite"
	cp -r "$dir" "$src"
	chmod -R u+w "$src"
	rm -rf "$src/vendor"
	mkdir -p "$suite/validation"
	(
		cd "$src"
		CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -tags 'netgo osusergo' \
			-o "$suite/runtimetest" ./cmd/runtimetest
		go build -trimpath -ldflags '-s -w' -o "$suite/validation/" ./validation/...
	) || die "building runtime-tools failed"
	# Nothing is built again until the pinned version changes.
	rm -rf "$src" "$GOCACHE"
	touch "$suite/.built"
}

# build_rootfs makes the root filesystem the tests unpack for every bundle
# (they look for rootfs-amd64.tar.gz in their working directory): the
# busybox-static root hack/mkbundle.sh makes for berth's own tests.
build_rootfs() {
	local tarball=$cache/rootfs-amd64.tar.gz busybox=${BUSYBOX:-/bin/busybox}
	if [ -e "$tarball" ] && [ "$tarball" -nt "$here/hack/mkbundle.sh" ] && [ "$tarball" -nt "$busybox" ]; then
		return
	fi
	local tmp
	tmp=$(mktemp -d)
	BERTH=$berth "$here/hack/mkbundle.sh" "$tmp/bundle" >/dev/null
	tar -czf "$tarball.tmp" -C "$tmp/bundle/rootfs" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$tmp"
}

# cgroup_mounts prints "MOUNTPOINT FSTYPE OPTIONS" for each cgroup hierarchy
# mounted at or below /sys/fs/cgroup, OPTIONS being what selects the
# hierarchy again (its controllers or name=, without rw).
cgroup_mounts() {
	awk '{
		split($0, halves, " - "); split(halves[2], post, " ")
		if ((post[1] == "cgroup" || post[1] == "cgroup2") && $5 ~ "^/sys/fs/cgroup(/|$)") {
			opts = post[3]; sub("^r[wo],?", "", opts)
			print $5, post[1], (opts == "" ? "-" : opts)
		}
	}' /proc/self/mountinfo
}

# own_cgroup MOUNTPOINT FSTYPE OPTIONS prints this process's cgroup in that
# hierarchy, from /proc/self/cgroup.
own_cgroup() {
	local fstype=$2 opts=$3
	awk -F: -v fstype="$fstype" -v opts="$opts" '
		fstype == "cgroup2" && $1 == "0" && $2 == "" { print $3; exit }
		fstype == "cgroup" && $2 != "" {
			n = split($2, want, ","); found = 0
			m = split(opts, have, ",")
			for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (want[i] == have[j]) found++
			if (found == n) { print $3; exit }
		}' /proc/self/cgroup
}

# make_sandbox_cgroups creates the sandbox cgroup below our own in every
# hierarchy and lists their directories in $run/cgroups.
make_sandbox_cgroups() {
	local mp fstype opts own dir
	: > "$run/cgroups"
	while read -r mp fstype opts; do
		own=$(own_cgroup "$mp" "$fstype" "$opts")
		[ -n "$own" ] || die "cannot find our own cgroup in $mp"
		dir=$mp${own%/}/berth-conformance-$$
		mkdir "$dir"
		echo "$dir" >> "$run/cgroups"
		# A v1 cpuset cgroup starts with no CPUs or memory nodes.
		if [ -e "$dir/cpuset.cpus" ]; then
			cat "$dir/../cpuset.cpus" > "$dir/cpuset.cpus"
			cat "$dir/../cpuset.mems" > "$dir/cpuset.mems"
		fi
	done < "$run/mounts"
}

# remove_sandbox_cgroups kills what is left in the sandbox cgroups (only the
# suite's processes can be there), reports it and removes the cgroups.
remove_sandbox_cgroups() {
	local dir pids sub
	[ -e "$run/cgroups" ] || return 0
	while read -r dir; do
		[ -d "$dir" ] || continue
		pids=$(find "$dir" -name cgroup.procs -exec cat {} + | sort -un)
		if [ -n "$pids" ]; then
			echo "conformance: leftover processes in $dir: ${pids//$'\n'/ }" >&2
			leftovers=1
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null || true
		fi
		sub=$(find "$dir" -mindepth 1 -type d | sed "s|^$dir||")
		if [ -n "$sub" ]; then
			echo "conformance: leftover cgroups in $dir: ${sub//$'\n'/ }" >&2
			leftovers=1
		fi
		# Killed processes leave their cgroups a moment later.
		for _ in $(seq 50); do
			find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[ -d "$dir" ] || break
			sleep 0.1
		done
		[ -d "$dir" ] && echo "conformance: could not remove $dir" >&2 && leftovers=1
	done < "$run/cgroups"
	return 0
}

# in_sandbox runs as the first process of the private namespaces: it builds
# the cgroup view and runs the tests.
in_sandbox() {
	if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
		# Keep the host's symlinks (cpu -> cpu,cpuacct on some hosts).
		local links
		links=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 1 -type l -printf '%f %l\n')
		mount -t tmpfs -o mode=755 berth-conformance /sys/fs/cgroup
		while read -r name target; do
			[ -n "$name" ] && ln -s "$target" "/sys/fs/cgroup/$name"
		done <<<"$links"
	fi
	local mp fstype opts
	while read -r mp fstype opts; do
		mkdir -p "$mp"
		if [ "$opts" = - ]; then
			mount -t "$fstype" "$fstype" "$mp"
		else
			mount -t "$fstype" -o "$opts" "$fstype" "$mp"
		fi
	done < "$run/mounts"

	local labels label
	mapfile -t labels < "$run/runtimes"
	for label in "${labels[@]}"; do
		run_tests "$label"
	done
}

# run_tests LABEL runs every selected test against the runtime $run/LABEL.sh
# and writes one "TEST RESULT DETAIL" line per test to $run/LABEL.results.
# Each test gets a mount namespace of its own: a runtime that mounts or
# pivots outside its container (a config without a mount namespace) then
# spoils only that test, and its mounts go with the namespace. What a test
# leaves is written to its .leftovers and removed, so the next starts clean.
run_tests() {
	local label=$1 out=$run/results/$1 tests t rc ids id
	mkdir -p "$out" "$run/$label-root" "$run/tmp"
	: > "$run/$label.results"
	mapfile -t tests < "$run/tests"
	for t in "${tests[@]}"; do
		printf 'conformance: %s %s\n' "$label" "$t" >&2
		rc=0
		unshare --mount --propagation private -- "$0" --run-one "$run" "$label" "$t" \
			> "$out/$t.tap" 2> "$out/$t.stderr" 3> "$out/$t.leftovers" || rc=$?
		ids=$("$run/$label.sh" list -q 2>/dev/null || true)
		for id in $ids; do
			echo "container: $id" >> "$out/$t.leftovers"
			"$run/$label.sh" delete -f "$id" >/dev/null 2>&1 || true
		done
		# The parents of the suite's relative cgroupsPath, testdir/
		# cgrouptest/container, are left by runtimes as runc leaves them:
		# other containers may share them. Any other cgroup left is a leak.
		find /sys/fs/cgroup -mindepth 2 -type d -printf 'cgroup: %p\n' |
			grep -v -E '^cgroup: /sys/fs/cgroup/[^/]+/testdir(/cgrouptest)?$' >> "$out/$t.leftovers" || true
		find /sys/fs/cgroup -mindepth 2 -depth -type d -exec rmdir {} + 2>/dev/null || true
		find "$run/tmp" -mindepth 1 -maxdepth 1 -printf 'file: %p\n' >> "$out/$t.leftovers"
		# Outside the test's namespace no mounts remain under the bundles.
		rm -rf --one-file-system "${run:?}/tmp/"*
		echo "$t $(tap_result "$out/$t.tap" "$rc" "$out/$t.leftovers")" >> "$run/$label.results"
	done
}

# run_one LABEL TEST runs one validation program in its own mount namespace
# and reports to fd 3 the mounts it left under $run, or that the runtime
# changed the root of the namespace.
run_one() {
	local label=$1 t=$2 rc=0
	(cd "$run/work" && RUNTIME=$run/$label.sh TMPDIR=$run/tmp \
		exec timeout -k 10 300 "$suite/validation/$t" 3>&-) || rc=$?
	if [ ! -d "$run/work" ]; then
		echo "root: the runtime changed the root of the test's mount namespace" >&3
		return "$rc"
	fi
	local _id _parent _dev _root mp _rest
	while read -r _id _parent _dev _root mp _rest; do
		case $mp in "$run"/*) echo "mount: $mp" >&3 ;; esac
	done < /proc/self/mountinfo
	return "$rc"
}

# tap_result TAPFILE EXITSTATUS LEFTOVERS prints "RESULT DETAIL" for one
# program: RESULT is ok, not-ok or skip. Some programs print several TAP
# documents, each with its plan; some make no assertions and report a
# failure only as an "error" in a YAML diagnostic or by exiting non-zero
# (the *_fail programs print nothing at all when the runtime rightly
# refuses the config). Leaving a container, cgroup or mount behind fails a
# test; files in TMPDIR are the suite's own, which some programs never
# remove, and are only noted.
tap_result() {
	local left
	left=$(sed 's/:.*//' "$3" | sort -u | paste -sd, -)
	awk -v rc="$2" -v left="$left" '
		/^1\.\.[0-9]+/ { plan += substr($1, 4); planned = 1 }
		/^ok / && toupper($0) ~ /# *SKIP/ { skip++; next }
		/^ok / { ok++ }
		/^not ok / { bad++ }
		/^ +"error": / { diagerr = 1 }
		END {
			total = ok + bad + skip
			why = ""
			if (rc != 0) why = why ", exit " rc
			if (total > 0 && !planned) why = why ", no plan"
			else if (total != plan) why = why ", planned " plan
			if (total == 0 && diagerr) why = why ", error diagnostic"
			if (left ~ /root|container|cgroup|mount/) why = why ", left " left
			else if (left != "") note = ", left " left
			if (why != "" || bad > 0)
				printf "not-ok %d of %d failed%s%s\n", bad, total, why, note
			else if (total == 0)
				printf "ok no assertions%s\n", note
			else if (ok == 0)
				printf "skip %d skipped%s\n", skip, note
			else
				printf "ok %d passed%s%s\n", ok, (skip > 0 ? ", " skip " skipped" : ""), note
		}' "$1"
}

# report prints the table, the counts and the check against the known
# failures, and sets $status.
report() {
	local labels tests t line label result detail
	mapfile -t labels < "$run/runtimes"
	mapfile -t tests < "$run/tests"
	printf '\n%-32s' TEST
	for label in "${labels[@]}"; do printf ' %-44s' "$label"; done
	printf '\n'
	for t in "${tests[@]}"; do
		printf '%-32s' "$t"
		for label in "${labels[@]}"; do
			line=$(grep "^$t " "$run/$label.results" || echo "$t not-ok not run")
			read -r _ result detail <<<"$line"
			printf ' %-6s %-37s' "${result/not-ok/not ok}" "$detail"
		done
		printf '\n'
	done
	printf '\n'
	for label in "${labels[@]}"; do
		awk -v label="$label" '{ n[$2]++ }
			END { printf "%s: ok %d / not ok %d / skip %d\n", label, n["ok"], n["not-ok"], n["skip"] }' \
			"$run/$label.results"
	done

	local known racy unexpected="" fixed=""
	known=$(sed 's/#.*//' "$known_file" | awk 'NF {print $1}')
	racy=$(awk '$3 == "racy:" {print $1}' "$known_file")
	while read -r t result _; do
		if [ "$result" = not-ok ]; then
			grep -qx "$t" <<<"$known" || unexpected="$unexpected $t"
		elif grep -qx "$t" <<<"$known" && ! grep -qx "$t" <<<"$racy"; then
			fixed="$fixed $t"
		fi
	done < "$run/berth.results"
	[ -z "$fixed" ] || echo "conformance: berth now passes, remove from ${known_file#"$here"/}:$fixed"
	if [ -n "$unexpected" ]; then
		echo "conformance: FAIL: berth fails tests not in ${known_file#"$here"/}:$unexpected"
		status=1
	fi
	if [ "$leftovers" != 0 ]; then
		echo "conformance: FAIL: processes or cgroups were left behind (see above)"
		status=1
	fi
	echo "conformance: TAP output and leftovers per test in ${cache#"$here"/}/results/"
}

case ${1:-} in
--in-sandbox) run=$2; in_sandbox; exit 0 ;;
--run-one) run=$2; run_one "$3" "$4"; exit ;;
esac

compare=""
while [ $# -gt 0 ]; do
	case $1 in
	--compare) [ $# -ge 2 ] || die "--compare needs a runtime"; compare=$2; shift 2 ;;
	--help|-h) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown flag $1" ;;
	*) break ;;
	esac
done
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$berth" ] || die "$berth is missing; run make first"
[ -e "$known_file" ] || die "$known_file is missing"
if [ -n "$compare" ]; then
	compare=$(command -v "$compare") || die "--compare: runtime not found"
fi

# Runs that share this checkout build the suite once, one at a time.
mkdir -p "$cache"
exec 9> "$cache/.lock"
flock 9
build_suite
build_rootfs
exec 9>&-

run=$(mktemp -d "${TMPDIR:-/tmp}/berth-conformance.XXXXXX")
# A container's root user, mapped to another uid, must reach its bundle.
chmod 755 "$run"
leftovers=0
status=0
trap 'remove_sandbox_cgroups; rm -rf --one-file-system "$run"' EXIT
trap 'exit 130' INT TERM

if [ $# -gt 0 ]; then
	for t in "$@"; do
		[ -x "$suite/validation/$t" ] || die "no validation program $t (see $suite/validation)"
		echo "$t"
	done | awk '!seen[$0]++' > "$run/tests"
else
	ls "$suite/validation" > "$run/tests"
fi
mkdir "$run/work"
cp "$suite/runtimetest" "$cache/rootfs-amd64.tar.gz" "$run/work/"

# Each runtime gets its own --root, so nothing touches the host's containers.
write_wrapper() {
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$2" "$run/$1-root" > "$run/$1.sh"
	chmod +x "$run/$1.sh"
}
write_wrapper berth "$berth"
echo berth > "$run/runtimes"
if [ -n "$compare" ]; then
	label=$(basename "$compare")
	[ "$label" != berth ] || label=compare
	write_wrapper "$label" "$compare"
	echo "$label" >> "$run/runtimes"
fi

cgroup_mounts > "$run/mounts"
[ -s "$run/mounts" ] || die "no cgroup hierarchies under /sys/fs/cgroup"
make_sandbox_cgroups
# In the background, so that a signal reaches our traps at once (bash runs
# them only after a foreground command ends); the EXIT trap then kills
# whatever runs in the sandbox cgroups.
(
	while read -r dir; do echo "$BASHPID" > "$dir/cgroup.procs"; done < "$run/cgroups"
	exec unshare --mount --cgroup --propagation private -- "$0" --in-sandbox "$run"
) &
wait $!
remove_sandbox_cgroups
report
# The last run's output stays for reading; runs at the same time each
# wrote their own until now.
rm -rf "$cache/results"
cp -r "$run/results" "$cache/results"
exit "$status"
