#!/bin/bash
# The packaging test (make check-packaging; .ci/run runs it): make
# distcheck, the Debian packages built from the dist tarball and checked
# with lintian, installed with apt from a local repository the way a user
# would, the module DKMS built for the installed Debian kernel loaded in the
# lab VM with the installed tools and a program built against libvmprof-dev,
# removal, and the rpms.  Prints TAP.
#
# Needs root, and changes the system: installs the packaging tools with
# apt-get, installs and then purges the vmprof packages.  Everything else
# goes to $PKGDIR (default /tmp/vmprof-VERSION-packages).  Nothing is
# skipped: what is missing is installed, or the test fails.
#
# Environment (make check-packaging sets it): top_srcdir, top_builddir,
# MAKE, PKGDIR, VERSION, KERNEL_RELEASE (the kernel to build the module for
# and boot; default the newest with headers and an image).
set -uo pipefail

: "${top_srcdir:?run through make check-packaging}" "${top_builddir:?}"
: "${VERSION:?}" "${MAKE:=make}"
# shellcheck source=tap.sh
. "$top_srcdir/tests/tap.sh"
PKGDIR=${PKGDIR:-/tmp/vmprof-$VERSION-packages}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
unset MAKEFLAGS MFLAGS MAKELEVEL # a sub-make of our own, not of the caller's

PKGS=(vmprof-dkms vmprof-utils libvmprof2 libvmprof-dev)
LIST=/etc/apt/sources.list.d/vmprof-packaging-test.list
LOGS=$PKGDIR/logs
# check DESCRIPTION COMMAND... (tests/tap.sh): one test point; the
# command's output goes to $LOGS/last, and its end to the log on failure.
TAP_CHECK_LOG=$LOGS/last
# step NAME LOG COMMAND...: a long step, its output in $LOGS/NAME.log, its
# time shown; the end of the log when it fails.
step() {
	local name=$1 desc=$2 t0=$SECONDS st
	shift 2
	"$@" >"$LOGS/$name.log" 2>&1
	st=$?
	if [ $st -eq 0 ]; then
		ok "$desc ($((SECONDS - t0)) s)"
	else
		not_ok "$desc ($((SECONDS - t0)) s, exit $st; log: $LOGS/$name.log)"
		# The failed tests of a make check, then the end of the log.
		grep -E '^(FAIL|ERROR|XPASS):' "$LOGS/$name.log" | head -n 20 | diag
		tail -n 40 "$LOGS/$name.log" | diag
	fi
	return $st
}

if [ "$(id -u)" != 0 ]; then
	tap_skip_all "needs root: it installs packages (run as root: make check-packaging)"
fi
command -v apt-get >/dev/null || tap_bail "not a Debian system (no apt-get)"

# The packages, DKMS and apt are the machine's: one run at a time.
exec 9>/run/lock/vmprof-check-packaging.lock ||
	tap_bail "cannot open /run/lock/vmprof-check-packaging.lock"
if ! flock -n 9; then
	diag "another check-packaging is running; waiting for it (at most 30 min)"
	flock -w 1800 9 || tap_bail "another check-packaging is still running"
fi

rm -rf "$PKGDIR"
mkdir -p "$PKGDIR" "$LOGS" || tap_bail "cannot create $PKGDIR"
chmod 755 "$PKGDIR" # apt's _apt user reads the local repository

installed_pkgs() {
	dpkg-query -W -f='${Package} ${Status}\n' "${PKGS[@]}" 2>/dev/null |
		awk '$NF == "installed" || $NF == "unpacked" || $NF == "half-configured" { print $1 }'
}
purge_pkgs() {
	local p
	mapfile -t p < <(installed_pkgs)
	[ ${#p[@]} -eq 0 ] || apt-get purge -y -q "${p[@]}"
}
cleanup() {
	purge_pkgs >/dev/null 2>&1
	remove_fake_kernels
	if [ -f "$LIST" ]; then
		rm -f "$LIST"
		rm -f /var/lib/apt/lists/*"${PKGDIR//\//_}"* 2>/dev/null
	fi
}
trap cleanup EXIT
# A vmprof left installed by an earlier run would hide what this one does.
purge_pkgs >"$LOGS/purge-before.log" 2>&1 ||
	tap_bail "cannot purge earlier vmprof packages (see $LOGS/purge-before.log)"

# ------------------------------------------------------------ the tools --
# The packaging tools, and the build dependencies of debian/control.
install_tools() {
	local try
	for try in 1 2; do
		# The package lists are refreshed only when something is missing.
		[ $try = 1 ] || apt-get update -q || return 1
		apt-get install -y -q --no-install-recommends dpkg-dev fakeroot \
			debhelper dh-dkms dkms lintian rpm &&
			apt-get build-dep -y -q "$top_srcdir" && return 0
	done
	return 1
}
step install-tools "packaging tools and build dependencies installed" install_tools ||
	tap_bail "cannot install the packaging tools"

# The kernel to build for and boot: the configured one, else the newest
# with both headers and image.
KREL=${KERNEL_RELEASE:-}
if [ -z "$KREL" ]; then
	for k in $(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V -r); do
		[ -e "/lib/modules/$k/build/include" ] || continue
		if [ -f "/boot/vmlinuz-$k" ]; then KREL=$k; break; fi
	done
fi
if [ -z "$KREL" ] || [ ! -e "/lib/modules/$KREL/build/include" ]; then
	tap_bail "no kernel with headers installed (apt-get install linux-headers-amd64 linux-image-amd64)"
fi
# Every kernel with headers and an image: DKMS must build for each, and
# each boots with its module (.ci/run installs 6.1 and 6.12, each also
# PREEMPT_RT: bootstrap --install-deps --kernels).
KRELS=$(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V |
	while read -r k; do
		[ -e "/lib/modules/$k/build/include" ] && [ -f "/boot/vmlinuz-$k" ] && echo "$k"
	done | tr '\n' ' ')
KRELS=${KRELS% }
diag "kernels: $KRELS; the configured one: $KREL (running: $(uname -r)); packages in $PKGDIR"

# Two kernels the module cannot be built for, made up for the test: one too
# old for dkms.conf's BUILD_EXCLUSIVE_KERNEL, one whose build fails.  They
# must not stop the installation for the others.
FAKE_OLD=5.10.0-0-vmproftest-old
FAKE_BROKEN=6.99.0-0-vmproftest-broken
fake_kernels() {
	local k
	for k in $FAKE_OLD $FAKE_BROKEN; do
		mkdir -p "/lib/modules/$k/kernel" "/lib/modules/$k/build/include" || return 1
		printf '%s\n' '# A kernel tree that cannot build anything (tests/packaging.sh).' \
			'%:' '	@echo "error: this kernel tree is broken on purpose" >&2; exit 2' \
			>"/lib/modules/$k/build/Makefile" || return 1
	done
}
remove_fake_kernels() {
	rm -rf "/lib/modules/$FAKE_OLD" "/lib/modules/$FAKE_BROKEN"
}

# ---------------------------------------------------------- the version --
changelog_version=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)
dkms_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top_builddir/src/dkms.conf")
spec_version=$(sed -n 's/^Version: *//p' "$top_builddir/rpm/vmprof.spec")
check "version $VERSION (AC_INIT) in debian/changelog ($changelog_version), dkms.conf ($dkms_version), vmprof.spec ($spec_version)" \
	test "${changelog_version%-*}" = "$VERSION" -a "$dkms_version" = "$VERSION" \
	-a "$spec_version" = "$VERSION"

# ------------------------------------------------------------ distcheck --
# make distcheck with the host tests and one VM test (Makefile.am,
# DISTCHECK_TESTS): make check and the kernel matrix have run the whole VM
# suite on these sources, and the check below that every file is in the
# tarball covers the rest of the suite's scripts.
jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086 # $MAKE is a command line
step distcheck "make distcheck -j$jobs (host tests and vm-timing in the dist tree)" \
	$MAKE -C "$top_builddir" -j"$jobs" distcheck-quick

# Every file of the source tree is in the tarball (but .gitignore and
# the placeholder keeping m4/ in git).
in_tarball() {
	local tarball=$top_builddir/vmprof-$VERSION.tar.gz f st=0
	git -C "$top_srcdir" ls-files | grep -vE '(^|/)\.git(ignore|keep)$' >"$LOGS/git-files" &&
		[ -s "$LOGS/git-files" ] && [ -f "$tarball" ] || return 1
	tar -tzf "$tarball" | sed "s|^vmprof-$VERSION/||" >"$LOGS/tar-files" || return 1
	while read -r f; do
		grep -qxF -- "$f" "$LOGS/tar-files" || { echo "not in the tarball: $f"; st=1; }
	done <"$LOGS/git-files"
	return $st
}
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	check "the dist tarball has every file of the source tree (EXTRA_DIST)" in_tarball
fi

# ------------------------------------------------------------- the debs --
deb_dir=$PKGDIR/deb
# shellcheck disable=SC2086
step deb "make deb (dpkg-buildpackage -us -uc -b from the dist tarball)" \
	$MAKE -C "$top_builddir" deb PKGDIR="$PKGDIR"
arch=$(dpkg --print-architecture)
debver=$changelog_version
deb_of() { # deb_of PACKAGE: the file name of its .deb
	case $1 in
	vmprof-dkms) echo "$deb_dir/$1_${debver}_all.deb" ;;
	*) echo "$deb_dir/$1_${debver}_$arch.deb" ;;
	esac
}
have_debs() {
	local p st=0
	for p in "${PKGS[@]}"; do
		[ -f "$(deb_of "$p")" ] || { echo "missing: $(deb_of "$p")"; st=1; }
	done
	ls -l "$deb_dir"
	return $st
}
check "the four .debs are built: ${PKGS[*]}" have_debs

# deb_has PACKAGE PATH...: the .deb contains these files (or links).
deb_has() {
	local p=$1 f st=0
	shift
	dpkg-deb -c "$(deb_of "$p")" | awk '{ print $6 }' | sed 's|^\./|/|' >"$LOGS/contents"
	for f in "$@"; do
		grep -qx -- "$f" "$LOGS/contents" || { echo "$p: no $f"; st=1; }
	done
	return $st
}
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
srcfiles=()
for f in dkms.conf Kbuild main.c ring.c sampler.c registry.c status.c inherit.c compat.h vmprof_mod.h \
	vmprof_abi.h kernel-probes.sh probes/mmdrop_sched.c probes/vm_flags_clear.c; do
	srcfiles+=("/usr/src/vmprof-$VERSION/$f")
done
check "vmprof-dkms has the module's sources and dkms.conf in /usr/src/vmprof-$VERSION, the udev rule, examples and vmprof(4)" \
	deb_has vmprof-dkms "${srcfiles[@]}" /usr/share/man/man4/vmprof.4.gz \
	/lib/udev/rules.d/60-vmprof.rules \
	/usr/share/doc/vmprof-dkms/examples/modules-load.d/vmprof.conf \
	/usr/share/doc/vmprof-dkms/examples/modprobe.d/vmprof.conf
check "libvmprof2 has libvmprof.so.2" \
	deb_has libvmprof2 "/usr/lib/$ma/libvmprof.so.2"
check "libvmprof-dev has vmprof.h, vmprof_abi.h, the .so link, libvmprof.pc, libvmprof.3" \
	deb_has libvmprof-dev /usr/include/vmprof.h /usr/include/vmprof_abi.h \
	"/usr/lib/$ma/libvmprof.so" "/usr/lib/$ma/pkgconfig/libvmprof.pc" \
	/usr/share/man/man3/libvmprof.3.gz
# vmprof-lab's parts, in /usr/share/vmprof/lab.
labfiles=()
for f in init.sh initramfs.sh kernel.sh qemu.sh; do
	labfiles+=("/usr/share/vmprof/lab/$f")
done
check "vmprof-utils has the four tools, their man pages and vmprof-lab's parts" \
	deb_has vmprof-utils /usr/bin/vmprof /usr/bin/vmprof-monitor \
	/usr/bin/vmprof-work /usr/bin/vmprof-lab \
	/usr/share/man/man1/vmprof.1.gz /usr/share/man/man1/vmprof-monitor.1.gz \
	/usr/share/man/man1/vmprof-work.1.gz /usr/share/man/man1/vmprof-lab.1.gz \
	"${labfiles[@]}"

# lintian: no errors; warnings and the rest are shown.
changes=$(find "$deb_dir" -maxdepth 1 -name 'vmprof_*.changes' | head -n 1)
lintian_run() {
	lintian --fail-on error --display-info --show-overrides "$changes"
}
if [ -n "$changes" ] && lintian_run >"$LOGS/lintian.log" 2>&1; then
	ok "lintian: no errors ($(grep -c '^E:' "$LOGS/lintian.log") E, $(grep -c '^W:' "$LOGS/lintian.log") W, $(grep -c '^I:' "$LOGS/lintian.log") I, $(grep -c '^O:' "$LOGS/lintian.log") overridden)"
else
	not_ok "lintian: no errors"
fi
diag <"$LOGS/lintian.log"

# ------------------------------------------- install from a repository --
repo=$PKGDIR/repo
make_repo() {
	mkdir -p "$repo" && cp "$deb_dir"/*.deb "$repo"/ &&
		(cd "$repo" && dpkg-scanpackages --multiversion . /dev/null >Packages) &&
		echo "deb [trusted=yes] file:$repo ./" >"$LIST" &&
		apt-get update -q -o Dir::Etc::sourcelist="$LIST" \
			-o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 &&
		apt-cache policy vmprof-dkms | grep -q "file:$repo"
}
check "a local apt repository of the .debs (dpkg-scanpackages, $LIST)" make_repo

check "two kernels the module cannot be built for: $FAKE_OLD (too old), $FAKE_BROKEN (build error)" \
	fake_kernels
step apt-install "apt-get install vmprof-dkms vmprof-utils (from the local repository) exits 0" \
	apt-get install -y -q vmprof-dkms vmprof-utils
diag <"$LOGS/apt-install.log" | grep -iE 'dkms|vmprof|kernel|headers|building|error' | head -n 40

ko_path() { # ko_path KERNEL: the module DKMS installed for KERNEL
	local f
	for f in /lib/modules/"$1"/updates/dkms/vmprof.ko*; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}
# dkms_has KERNEL: DKMS says the module is installed for KERNEL, it is
# there, and it was built for KERNEL.
dkms_has() {
	local ko
	dkms status -m vmprof -v "$VERSION" -k "$1"
	dkms status -m vmprof -v "$VERSION" -k "$1" | grep -q ': installed' &&
		ko=$(ko_path "$1") && echo "$ko" &&
		modinfo -F vermagic "$ko" | grep -q "^$1 "
}
# said_installed KERNEL: the postinst lists KERNEL among those with the module.
# (apt's log has a carriage return at the end of the maintainer scripts'
# lines.)
said_installed() {
	grep 'vmprof-dkms: the vmprof module is installed for kernel(s):' "$LOGS/apt-install.log" |
		tr -d '\r' | sed 's/.*kernel(s)://' | tr ' ' '\n' | grep -qxF -- "$1"
}
for k in $KRELS; do
	check "the postinst had DKMS build and install the module for $k" dkms_has "$k"
	check "the postinst says $k has the module" said_installed "$k"
done
nothing_for() { # nothing_for KERNEL: no module, and DKMS knows of no build
	! ko_path "$1" && ! dkms status -m vmprof -v "$VERSION" -k "$1" | grep -qE ': (built|installed)'
}
old_skipped() {
	grep "skipped kernel(s):.* $FAKE_OLD" "$LOGS/apt-install.log" | grep -q 'older than Linux 6.1' &&
		nothing_for "$FAKE_OLD"
}
check "no module for $FAKE_OLD, and the postinst says why (older than Linux 6.1)" old_skipped
check "no module for $FAKE_BROKEN, and the postinst says why (its error line and log)" \
	sh -c "grep -q 'failed to build for kernel $FAKE_BROKEN' '$LOGS/apt-install.log' &&
		grep -q 'cannot compile a module against /lib/modules/$FAKE_BROKEN/build' '$LOGS/apt-install.log' &&
		grep -q 'full log: /var/lib/dkms/vmprof/$VERSION/build-failed-$FAKE_BROKEN.log' '$LOGS/apt-install.log'"
check "... and DKMS did not build it either" nothing_for "$FAKE_BROKEN"
check "dpkg has vmprof-dkms installed (configured), not half-configured" \
	sh -c "dpkg-query -W -f='\${Status}' vmprof-dkms | grep -qx 'install ok installed'"
remove_fake_kernels

check "dkms.conf installed with AUTOINSTALL=yes" \
	grep -qx 'AUTOINSTALL="yes"' "/usr/src/vmprof-$VERSION/dkms.conf"
# What happens when a kernel is installed: its postinst.d hook has DKMS
# build the AUTOINSTALL modules for it.  Take the module out of $KREL and
# run that hook.
kernel_hook() {
	dkms uninstall -m vmprof -v "$VERSION" -k "$KREL" &&
		dkms unbuild -m vmprof -v "$VERSION" -k "$KREL" &&
		! dkms status -m vmprof -v "$VERSION" -k "$KREL" | grep -qE ': (built|installed)' &&
		! ko_path "$KREL" &&
		/etc/kernel/postinst.d/dkms "$KREL" &&
		dkms_has "$KREL"
}
check "a new kernel gets the module: /etc/kernel/postinst.d/dkms $KREL rebuilds it" kernel_hook

# ------------------------------------------------------ libvmprof-dev --
step apt-install-dev "apt-get install libvmprof-dev" apt-get install -y -q libvmprof-dev
check "pkg-config --modversion libvmprof is $VERSION" \
	test "$(pkg-config --modversion libvmprof)" = "$VERSION"

vm=$PKGDIR/vm
mkdir -p "$vm"
cat >"$vm/client.c" <<'EOF'
/* A user of libvmprof: registers itself, faults pages in for a few ticks,
 * unregisters, and reads its records from the ring. */
#define _DEFAULT_SOURCE		/* MADV_NOHUGEPAGE */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vmprof.h>

int main(void)
{
	struct vmprof_session *s;
	struct vmprof_record rec;
	unsigned long long nrec = 0, minflt = 0;
	size_t size = 32UL << 20, page = (size_t)sysconf(_SC_PAGESIZE), i;
	int err, t, last = 0;
	pid_t pid = getpid();
	char *mem;

	err = vmprof_session_open(&s, NULL, VMPROF_OPEN_RING);
	if (err) {
		fprintf(stderr, "client: open: %s\n", vmprof_strerror(err));
		return 1;
	}
	err = vmprof_register(s, pid);
	if (err) {
		fprintf(stderr, "client: register: %s\n", vmprof_strerror(err));
		return 1;
	}
	/* 4 KiB pages, so that one first touch is one fault (a kernel
	 * without transparent huge pages, PREEMPT_RT's, says EINVAL). */
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED ||
	    (madvise(mem, size, MADV_NOHUGEPAGE) && errno != EINVAL)) {
		perror("client: mmap");
		return 1;
	}
	for (t = 0; t < 4; t++) {	/* a quarter of the pages per tick */
		for (i = t * size / 4; i < (t + 1) * size / 4; i += page)
			mem[i] = (char)t;
		vmprof_wait(s, 1000);
	}
	err = vmprof_unregister(s, pid);
	if (err) {
		fprintf(stderr, "client: unregister: %s\n", vmprof_strerror(err));
		return 1;
	}
	for (t = 0; t < 40 && !last; t++) {
		while (vmprof_ring_next(vmprof_session_ring(s), &rec) == 0) {
			if (rec.pid != (__u32)pid)
				continue;
			nrec++;
			minflt += rec.min_flt;
			if (rec.flags & VMPROF_REC_UNREGISTERED)
				last = 1;
		}
		if (!last)
			vmprof_wait(s, 100);
	}
	printf("client: %llu records, %llu minor faults, last record %s, %llu lost\n",
	       nrec, minflt, last ? "flagged UNREGISTERED" : "MISSING",
	       (unsigned long long)vmprof_ring_lost(vmprof_session_ring(s)));
	vmprof_session_close(s);
	munmap(mem, size);
	/* Every page was touched once while registered. */
	return nrec >= 2 && last && minflt >= size / page ? 0 : 1;
}
EOF
build_client() {
	# shellcheck disable=SC2046
	cc -std=c11 -Wall -Wextra -Werror -o "$vm/client" "$vm/client.c" \
		$(pkg-config --cflags --libs libvmprof) &&
		ldd "$vm/client" &&
		ldd "$vm/client" | grep -qE "libvmprof\.so\.2 => (/usr)?/lib/$ma/libvmprof\.so\.2"
}
check "a C program builds with pkg-config --cflags --libs libvmprof against the installed -dev" \
	build_client

# ---------------------------------------------------------- in the VM --
# The installed tools (/usr/bin) with the module DKMS built, in the lab VM.
cat >"$vm/guest.sh" <<'EOF'
# Runs in the lab VM: prints "PASS what" or "FAIL what" lines.
t() { if "$@" >/dev/null 2>&1; then echo "PASS $what"; else echo "FAIL $what"; fi; }
what="the loaded module is the one DKMS built (build id $1)"
t test "$(od -An -tx1 -j16 /sys/module/vmprof/notes/.note.gnu.build-id | tr -d ' \n')" = "$1"
what="/dev/vmprof is readable by all (0444), /proc/vmprof/status is 0666"
t test "$(stat -c %a /dev/vmprof) $(stat -L -c %a /proc/vmprof/status)" = "444 666"
/usr/bin/vmprof run -o run.csv -- /usr/bin/vmprof-work -p 0 8 R 2000 2 >run.out 2>&1
st=$?
what="/usr/bin/vmprof run -- /usr/bin/vmprof-work -p 0 8 R 2000 2 exits 0 (exit $st)"
t test $st -eq 0
rows=$(grep -cv '^#' run.csv 2>/dev/null)
what="vmprof run wrote records (run.csv: $((rows - 1)) records after the header)"
t test "$rows" -ge 2
what="/usr/bin/vmprof report run.csv"
t /usr/bin/vmprof report run.csv
what="vmprof list is empty afterwards (deregistered)"
t test -z "$(/usr/bin/vmprof list)"
./client >client.out 2>&1
st=$?
what="the libvmprof-dev program reads its records ($(cat client.out))"
t test $st -eq 0

# -- Without the module: libvmprof's BPF backend (Linux 6.1+ with BTF, root).
# Only when this vmprof is built with it: libvmprof links libbpf (the host
# says so in $2), or vmprof stats --backend=bpf works; else one SKIP line.
bpf_st=0
/usr/bin/vmprof stats --backend=bpf >bpf-stats.out 2>&1 || bpf_st=$?
if [ "$2" != bpf ] && [ $bpf_st -ne 0 ]; then
	echo "SKIP the BPF backend: vmprof is built without it (vmprof stats --backend=bpf: exit $bpf_st)"
else
	what="vmprof stats --backend=bpf exits 0 (exit $bpf_st)"
	t test $bpf_st -eq 0
	what="... and says backend bpf"
	t grep -Eq '^backend[[:space:]]+bpf' bpf-stats.out
	what="the module unloads (rmmod vmprof), so that what follows runs without it"
	t sh -c 'rmmod vmprof && test ! -e /proc/vmprof'
	what="without the module, vmprof stats picks the BPF backend by itself"
	t sh -c '/usr/bin/vmprof stats 2>&1 | grep -Eq "^backend[[:space:]]+bpf"'
	st=0
	/usr/bin/vmprof run --backend=bpf -o - -- true >bpf-true.csv 2>bpf-true.out || st=$?
	rows=$(grep -cv '^#' bpf-true.csv 2>/dev/null)
	what="vmprof run --backend=bpf -o - -- true exits 0 and prints samples (exit $st, $((rows - 1)) records)"
	t test $st -eq 0 -a "$rows" -ge 2
	st=0
	/usr/bin/vmprof run --backend=bpf -o bpf.csv -- /usr/bin/vmprof-work -p 100 8 R 2000 3 \
		>bpf-run.out 2>&1 || st=$?
	rows=$(grep -cv '^#' bpf.csv 2>/dev/null)
	what="vmprof run --backend=bpf -- vmprof-work -p 100 8 R 2000 3 exits 0 (exit $st) and wrote records ($((rows - 1)))"
	t test $st -eq 0 -a "$rows" -ge 3
	what="/usr/bin/vmprof report of the BPF backend's bpf.csv"
	t /usr/bin/vmprof report bpf.csv
fi
EOF
# Whether the installed libvmprof has the BPF backend: then it links libbpf,
# and the guest's BPF checks must pass rather than be skipped.
bpf_built=nobpf
if ldd /usr/bin/vmprof 2>/dev/null | grep -q 'libbpf\.so'; then bpf_built=bpf; fi
diag "the installed vmprof: $bpf_built (built with the BPF backend when it links libbpf)"
# vm_check KERNEL: boot KERNEL with the module DKMS built for it, run
# guest.sh there, one test point per line it prints (SKIP: ok # SKIP).
vm_check() {
	local k=$1 ko dir st t0 build_id res what
	ko=$(ko_path "$k") || ko=''
	dir=$vm/$k
	rm -rf "$dir"
	mkdir -p "$dir" && cp "$vm/guest.sh" "$vm/client" "$dir/"
	case $ko in
	*.xz) xz -dc "$ko" >"$dir/vmprof.ko" ;;
	*.zst) zstd -dcq "$ko" >"$dir/vmprof.ko" ;;
	*.gz) gzip -dc "$ko" >"$dir/vmprof.ko" ;;
	*) cp "$ko" "$dir/vmprof.ko" ;;
	esac 2>/dev/null
	build_id=$(readelf -n "$dir/vmprof.ko" 2>/dev/null | sed -n 's/^ *Build ID: *//p')
	t0=$SECONDS
	(cd "$dir" && /usr/bin/vmprof-lab --kernel-version "$k" --module "$ko" \
		--timeout 600 -- /bin/sh guest.sh "$build_id" "$bpf_built") >"$LOGS/vm-$k.log" 2>&1
	st=$?
	if [ $st -eq 0 ] && grep -q '^PASS' "$LOGS/vm-$k.log"; then
		ok "the installed vmprof-lab boots $k with $ko ($((SECONDS - t0)) s)"
	else
		not_ok "the installed vmprof-lab boots $k with ${ko:-(no module)} (exit $st)"
		tail -n 40 "$LOGS/vm-$k.log" | diag
	fi
	while read -r res what; do
		case $res in
		PASS) ok "$k: in the VM: $what" ;;
		FAIL) not_ok "$k: in the VM: $what" ;;
		SKIP) skip "$k: in the VM: $what" ;;
		esac
	done <"$LOGS/vm-$k.log"
	[ ! -f "$dir/run.out" ] || diag <"$dir/run.out"
	for f in bpf-stats.out bpf-true.out bpf-run.out; do
		[ ! -f "$dir/$f" ] || { diag "$k: $f:"; diag <"$dir/$f"; }
	done
}
for k in $KRELS; do
	vm_check "$k"
done

# ------------------------------------------------------------ removal --
step apt-purge "apt-get purge ${PKGS[*]}" apt-get purge -y -q "${PKGS[@]}"
removed() {
	local st=0
	[ -z "$(installed_pkgs)" ] || { echo "still installed: $(installed_pkgs)"; st=1; }
	[ -z "$(dkms status -m vmprof)" ] || { dkms status -m vmprof; st=1; }
	! ls /lib/modules/*/updates/dkms/vmprof.ko* 2>/dev/null || st=1
	[ ! -e "/usr/src/vmprof-$VERSION" ] || { echo "/usr/src/vmprof-$VERSION is left"; st=1; }
	[ ! -e "/var/lib/dkms/vmprof" ] || { echo "/var/lib/dkms/vmprof is left"; st=1; }
	return $st
}
check "removing the packages removes the module from DKMS and /lib/modules" removed

# The README's way for a user who downloaded the .debs: apt installs them
# from the files (the tools need the library package).
rm -f "$LIST"
step apt-install-files "apt install ./vmprof-dkms_*.deb ./vmprof-utils_*.deb ./libvmprof2_*.deb" \
	sh -c "cd '$deb_dir' && apt-get install -y -q ./vmprof-dkms_*.deb ./vmprof-utils_*.deb ./libvmprof2_*.deb"
check "... and DKMS installed the module for $KREL" dkms_has "$KREL"
step apt-purge-again "apt-get purge, again" apt-get purge -y -q vmprof-dkms vmprof-utils libvmprof2
check "... and it is all gone again" removed

# -------------------------------------------------------------- rpms --
rpm_dir=$PKGDIR/rpm/RPMS
# On Debian the BuildRequires (Fedora's names) are not in rpm's database.
rpm_flags=''
[ -e /etc/debian_version ] && rpm_flags=--nodeps
# shellcheck disable=SC2086
step rpm "make rpm (rpmbuild -bb rpm/vmprof.spec${rpm_flags:+ $rpm_flags})" \
	$MAKE -C "$top_builddir" rpm PKGDIR="$PKGDIR" RPMBUILD_FLAGS="$rpm_flags"
rpm_of() { find "$rpm_dir" -name "$1-$VERSION-1*.rpm" 2>/dev/null | head -n 1; }
rpm_has() { # rpm_has PACKAGE PATH...
	local p=$1 f st=0 file
	shift
	file=$(rpm_of "$p")
	[ -n "$file" ] || { echo "no $p rpm in $rpm_dir"; return 1; }
	# Man pages are compressed on Fedora, not by Debian's rpm.
	rpm -qpl "$file" | sed -E 's/\.(gz|bz2|xz|zst)$//' >"$LOGS/rpm-contents" || return 1
	for f in "$@"; do
		grep -qx -- "$f" "$LOGS/rpm-contents" || { echo "$p: no $f"; st=1; }
	done
	return $st
}
libdir=$(rpm --eval '%{_libdir}')
check "rpm vmprof: the four tools, their man pages and vmprof-lab's parts" \
	rpm_has vmprof /usr/bin/vmprof /usr/bin/vmprof-monitor /usr/bin/vmprof-work \
	/usr/bin/vmprof-lab /usr/share/man/man1/vmprof.1 /usr/share/man/man1/vmprof-lab.1 \
	/usr/share/man/man1/vmprof-monitor.1 /usr/share/man/man1/vmprof-work.1 \
	"${labfiles[@]}"
check "rpm vmprof-libs: libvmprof.so.2" rpm_has vmprof-libs "$libdir/libvmprof.so.2"
check "rpm vmprof-devel: headers, .so link, libvmprof.pc, libvmprof.3" \
	rpm_has vmprof-devel /usr/include/vmprof.h /usr/include/vmprof_abi.h \
	"$libdir/libvmprof.so" "$libdir/pkgconfig/libvmprof.pc" /usr/share/man/man3/libvmprof.3
check "rpm vmprof-dkms (noarch): the module's sources, dkms.conf, the udev rule and vmprof(4)" \
	rpm_has vmprof-dkms "${srcfiles[@]}" /usr/share/man/man4/vmprof.4 \
	/usr/lib/udev/rules.d/60-vmprof.rules
for p in vmprof vmprof-libs vmprof-devel vmprof-dkms; do
	f=$(rpm_of "$p")
	[ -z "$f" ] || diag "${f#"$PKGDIR"/}"
done

done_testing
diag "$tap_failed failed; logs and packages in $PKGDIR"
