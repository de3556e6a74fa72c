#!/bin/sh
# Installs what building and testing berth needs, from Debian's packages.
# Idempotent: installs only what is missing. Usage: install-deps.sh [bench|engines|runc]
set -eu

packages="libseccomp-dev busybox-static pkg-config file gcc make git jq tmux qemu-system-x86 procps checkpolicy"
# berth links musl and a libseccomp built for it (hack/build-libseccomp-musl.sh);
# unit tests build with gcc and the libseccomp-dev above.
packages="$packages musl-tools linux-libc-dev curl gperf patch xz-utils"
# `install-deps.sh bench` adds the runtimes make bench compares berth with.
if [ "${1:-}" = bench ]; then
	packages="$packages runc crun"
fi
# `install-deps.sh runc` adds runc, the oracle integration/runcdiff
# compares berth with.
if [ "${1:-}" = runc ]; then
	packages="$packages runc"
fi
# `install-deps.sh engines` adds the engines integration/engines drives berth
# under, and runc, the control those tests can be run against.
if [ "${1:-}" = engines ]; then
	packages="$packages podman conmon slirp4netns containernetworking-plugins containerd docker.io runc"
fi

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi

if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: Go 1.26 is needed (expected at /usr/local/go/bin)" >&2
	exit 1
fi
