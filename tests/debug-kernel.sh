#!/bin/bash
# debug-kernel.sh - build (once) the debug kernel the module tests run on.
#
# Usage: tests/debug-kernel.sh [--print] [--force]
#
# Builds Linux from Debian's linux-source-6.12 tarball with
# tests/debug-kernel.config (KASAN, KFENCE, kmemleak, UBSAN, lockdep with
# PROVE_RCU, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, ... and what the lab VM
# needs, all built in) over allnoconfig, into a cache directory, and keeps
# it there: it is rebuilt only when its key changes, a hash of the source
# tarball, the configuration fragment, this script and the compiler.
#
# On success it prints one line of shell assignments for the callers
# (make check-debug, tests/check-kernels.sh):
#   DEBUG_KERNEL_RELEASE=... DEBUG_KERNEL_BUILD=... (the tree to build
#   modules against) DEBUG_KERNEL_IMAGE=... (what vmprof-lab boots)
#   DEBUG_KERNEL_MODDIR=... (its modules_install root)
# --print only prints them for a kernel already built (exit 1 if none).
# --force rebuilds even when the cache is valid.
#
# Environment: VMPROF_DEBUG_KERNEL_CACHE (default ~/.cache/vmprof/debug-kernel,
# or $XDG_CACHE_HOME/vmprof/debug-kernel), VMPROF_DEBUG_KERNEL_SOURCE (the
# tarball; default the newest /usr/src/linux-source-6.12*.tar.*), JOBS
# (default nproc).  Build log: CACHE/KEY/build.log.
#
# Needs: linux-source-6.12 flex bison bc libelf-dev libssl-dev (bootstrap
# --install-deps --kernels installs them).  About 2.5 GiB of disk.
set -euo pipefail

prog=debug-kernel.sh
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/debug-kernel.config

print_only=0 force=0
for arg; do
	case $arg in
	--print) print_only=1 ;;
	--force) force=1 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "$prog: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

die() { echo "$prog: $*" >&2; exit 1; }

if [[ -n ${VMPROF_DEBUG_KERNEL_CACHE:-} ]]; then
	cache=$VMPROF_DEBUG_KERNEL_CACHE
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
	cache=$XDG_CACHE_HOME/vmprof/debug-kernel
else
	cache=${HOME:?}/.cache/vmprof/debug-kernel
fi

source_tarball=${VMPROF_DEBUG_KERNEL_SOURCE:-$(ls /usr/src/linux-source-6.12*.tar.* 2>/dev/null |
	sort -V | tail -n 1)}
[[ -n $source_tarball && -f $source_tarball ]] ||
	die "no kernel source: apt-get install linux-source-6.12 (or sudo ./bootstrap --install-deps --kernels)"

# The key: what the kernel is built from.  (The tarball by name, size and
# time: hashing 140 MB for every test run would cost seconds.)
key=$({
	stat -c '%n %s %Y' "$source_tarball"
	cat "$fragment" "$0"
	${CC:-gcc} --version | head -n 1
} | sha256sum | cut -c1-16)
dir=$cache/$key

report() {
	local release
	release=$(cat "$dir/build/include/config/kernel.release")
	printf 'DEBUG_KERNEL_RELEASE=%q DEBUG_KERNEL_BUILD=%q DEBUG_KERNEL_IMAGE=%q DEBUG_KERNEL_MODDIR=%q\n' \
		"$release" "$dir/build" "$dir/build/vmlinux" "$dir/root"
}

if ((!force)) && [[ -f $dir/done ]]; then
	report
	exit 0
fi
((!print_only)) || die "no debug kernel built for key $key in $cache (run make debug-kernel)"

for tool in make gcc flex bison bc; do
	command -v "$tool" >/dev/null || die "$tool is missing: apt-get install $tool (or sudo ./bootstrap --install-deps --kernels)"
done
[[ -f /usr/include/libelf.h ]] || die "libelf.h is missing: apt-get install libelf-dev"
[[ -f /usr/include/openssl/opensslv.h ]] || die "openssl headers are missing: apt-get install libssl-dev"

mkdir -p "$cache"
# One build at a time per cache.
exec 8>"$cache/.lock"
flock 8
if ((!force)) && [[ -f $dir/done ]]; then # built while we waited
	report
	exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
log=$dir/build.log
start=$SECONDS
echo "$prog: building the debug kernel from $source_tarball into $dir" \
	"(about 15-25 minutes on 2 cores; log: $log)" >&2
{
	echo "# source: $source_tarball"
	echo "# fragment: $fragment"
	date
} >"$log"

# The sources and the objects in one tree: it is also the tree that
# modules are built against (M=), which needs both.
tar -xf "$source_tarball" -C "$dir" >>"$log" 2>&1 || die "cannot extract $source_tarball (see $log)"
src=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' | head -n 1)
[[ -n $src ]] || die "$source_tarball has no linux-source-* directory"
mv "$src" "$dir/build"
cd "$dir/build"

jobs=${JOBS:-$(nproc)}
kmake() { make -j"$jobs" "$@" >>"$log" 2>&1; }

kmake allnoconfig || die "make allnoconfig failed (see $log)"
scripts/kconfig/merge_config.sh -m .config "$fragment" >>"$log" 2>&1 ||
	die "merge_config.sh failed (see $log)"
kmake olddefconfig || die "make olddefconfig failed (see $log)"
# Kconfig drops an option whose dependencies are not met without a word.
missing=$(grep -E '^(CONFIG_|# CONFIG_)' "$fragment" | while IFS= read -r line; do
	grep -qxF -- "$line" .config || echo "$line"
done)
[[ -z $missing ]] || die "these options of $fragment did not make it into .config:" $'\n'"$missing"

kmake vmlinux bzImage modules || die "the kernel build failed (see $log)"
kmake modules_install INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1 ||
	die "make modules_install failed (see $log)"
release=$(cat include/config/kernel.release)
# vmprof-lab looks for the kernel's modules there, like a distribution's.
mkdir -p "$dir/root/lib/modules/$release/kernel"

echo "# built in $((SECONDS - start)) s" >>"$log"
echo "$((SECONDS - start))" >"$dir/build-seconds"
touch "$dir/done"
echo "$prog: built $release in $((SECONDS - start)) s" >&2

# Older keys are stale.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
report
