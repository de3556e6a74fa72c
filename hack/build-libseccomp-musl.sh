#!/bin/sh
# Builds libseccomp for musl into PREFIX (static only: lib/libseccomp.a,
# include/, lib/pkgconfig/libseccomp.pc), and makes PREFIX/kernel-headers,
# the kernel's headers for musl-gcc, which does not look in /usr/include.
# The source is Debian's libseccomp 2.5.4-1+deb12u1, the version
# libseccomp-dev installs for the glibc build: the upstream tarball and
# Debian's patches (the syscall table up to Linux 6.7), each checked
# against a pinned sha256. About 10 seconds. Usage: build-libseccomp-musl.sh PREFIX
set -eu

version=2.5.4
debian_version=2.5.4-1+deb12u1
pool=http://deb.debian.org/debian/pool/main/libs/libseccomp
orig=libseccomp_$version.orig.tar.gz
orig_sha256=d82902400405cf0068574ef3dc1fe5f5926207543ba1ae6f8e7a1576351dcbdb
debian=libseccomp_$debian_version.debian.tar.xz
debian_sha256=665fc6ad1b9887207b0af1a293a2d7975e2df503a2618d1808b970081f9672f6

die() {
	echo "build-libseccomp-musl: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: build-libseccomp-musl.sh PREFIX"
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
if [ -f "$prefix/lib/libseccomp.a" ] && [ "$(cat "$prefix/version" 2>/dev/null)" = "$debian_version" ]; then
	exit 0
fi
command -v musl-gcc >/dev/null || die "musl-gcc is missing: run hack/install-deps.sh"

# The kernel's uapi headers, as linux-libc-dev installs them for glibc.
headers=$prefix/kernel-headers
rm -rf "$headers"
mkdir -p "$headers"
for dir in /usr/include/linux /usr/include/asm-generic /usr/include/x86_64-linux-gnu/asm; do
	[ -d "$dir" ] || die "$dir is missing: install linux-libc-dev"
	ln -s "$dir" "$headers/"
done

tmp=$(mktemp -d "$prefix/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fetch() { # FILE SHA256
	curl -fsS -o "$tmp/$1" "$pool/$1" || die "download of $pool/$1 failed"
	echo "$2  $tmp/$1" | sha256sum -c --quiet - || die "$1 does not have the pinned sha256"
}
fetch "$orig" "$orig_sha256"
fetch "$debian" "$debian_sha256"

src=$tmp/libseccomp-$version
stage=$tmp/stage
tar -xzf "$tmp/$orig" -C "$tmp"
tar -xJf "$tmp/$debian" -C "$src"
while read -r p; do
	case $p in '' | '#'*) continue ;; esac
	patch -s -d "$src" -p1 <"$src/debian/patches/$p" || die "patch $p failed"
done <"$src/debian/patches/series"
log=$tmp/build.log
if ! (cd "$src" &&
	./configure CC=musl-gcc CFLAGS="-O2 -isystem $headers" --prefix="$stage" \
		--enable-static --disable-shared &&
	make -j"$(nproc)" -C src install-libLTLIBRARIES &&
	make -C include install &&
	make install-pkgconfDATA) >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "building libseccomp $version with musl-gcc failed"
fi
# The .pc file names its own directory, so that PREFIX may move.
# shellcheck disable=SC2016 # ${pcfiledir} is pkg-config's
sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$stage/lib/pkgconfig/libseccomp.pc"

# The library goes in last: the Makefile takes it for the whole.
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
cp "$stage"/include/seccomp*.h "$prefix/include/"
cp "$stage/lib/pkgconfig/libseccomp.pc" "$prefix/lib/pkgconfig/"
cp "$stage/lib/libseccomp.a" "$prefix/lib/libseccomp.a.new"
mv -f "$prefix/lib/libseccomp.a.new" "$prefix/lib/libseccomp.a"
echo "$debian_version" >"$prefix/version"
