# shellcheck shell=sh
# Host side of the VM tests: run one guest script in the lab VM and pass
# its TAP through.  When what the VM needs is missing the test reports
# SKIP with the reason (.ci/run treats any SKIP as a failure).  The TAP
# helpers (tests/tap.sh) come with it.
#
# Environment (make check sets the first four; tests/check-kernels.sh
# sets them for each kernel of the matrix, and the rest):
#   top_srcdir, top_builddir
#   KERNEL_RELEASE   the kernel the module is built for, booted in the VM
#   VMPROF_TEST_KO   the module to test (default: src/vmprof.ko)
#   VMPROF_LAB_OPTS  more vmprof-lab options (the debug kernel's image,
#                    modules and command line), split at blanks
#   VMPROF_LAB_KERNEL_IMAGE  the image those options boot, instead of
#                    /boot/vmlinuz-$KERNEL_RELEASE

: "${top_srcdir:?run through make check}" "${top_builddir:?}"
# shellcheck source=tap.sh
. "$top_srcdir/tests/tap.sh"

# vm_require: SKIP (with the reason) unless the VM can run here
vm_require() {
	ko=${VMPROF_TEST_KO:-$top_builddir/src/vmprof.ko}
	image=${VMPROF_LAB_KERNEL_IMAGE:-/boot/vmlinuz-$KERNEL_RELEASE}
	[ -f "$ko" ] || tap_skip_all "module not built (configured with --disable-module?)"
	command -v qemu-system-x86_64 >/dev/null ||
		tap_skip_all "qemu-system-x86_64 missing: apt-get install qemu-system-x86"
	[ -f "$image" ] ||
		tap_skip_all "$image missing: apt-get install linux-image-$KERNEL_RELEASE"
	for b in /bin/busybox /usr/bin/busybox; do
		[ -x "$b" ] && return 0
	done
	tap_skip_all "busybox missing: apt-get install busybox-static"
}

# vm_run GUEST_SCRIPT [ARGS for the script after VMPROF_T and VMPROF_KO]
vm_run() {
	script=$top_srcdir/tests/guest/$1
	shift
	t=$top_builddir/tests/vmprof-t
	vm_require
	log=${script##*/}
	log=${VMPROF_TEST_LOGDIR:-$top_builddir/tests}/${log%.sh}.dmesg
	# shellcheck disable=SC2086 # VMPROF_LAB_OPTS is a list of options
	"$top_builddir/utils/vmprof-lab" --module "$ko" --dmesg "$log" \
		--kernel-version "$KERNEL_RELEASE" ${VMPROF_LAB_OPTS:-} \
		-- /bin/bash "$script" "$t" "$ko" "$@"
}
