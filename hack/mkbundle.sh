#!/bin/sh
# mkbundle.sh DIR [ARG...]: makes an OCI bundle in DIR with a busybox-static
# root filesystem and the config `berth spec` writes, adjusted to run ARGs
# (default: sh) without a terminal.
set -eu

usage() { echo "usage: $0 DIR [ARG...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dir=$1; shift
here=$(cd "$(dirname "$0")/.." && pwd)
berth=${BERTH:-$here/berth}
busybox=${BUSYBOX:-/bin/busybox}

[ -x "$berth" ] || { echo "mkbundle: $berth is missing; run make first" >&2; exit 1; }
[ -x "$busybox" ] || { echo "mkbundle: $busybox is missing; run hack/install-deps.sh" >&2; exit 1; }
if [ -e "$dir/config.json" ]; then
	echo "mkbundle: $dir/config.json exists; remove it first" >&2
	exit 1
fi

mkdir -p "$dir/rootfs"
root=$dir/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/home"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
GROUP
echo "127.0.0.1 localhost" > "$root/etc/hosts"

"$berth" spec --bundle "$dir"
if [ $# -eq 0 ]; then set -- sh; fi
args=$(jq -cn '$ARGS.positional' --args -- "$@")
jq --argjson args "$args" '.process.terminal = false | .process.args = $args' \
	"$dir/config.json" > "$dir/config.json.tmp"
mv "$dir/config.json.tmp" "$dir/config.json"
