# shellcheck shell=sh
# Host side of the VM tests: run one guest script in the lab VM and pass
# its TAP through.  When what the VM needs is missing the test reports
# SKIP with the reason (.ci/run treats any SKIP as a failure).

: "${top_srcdir:?run through make check}" "${top_builddir:?}"

vm_skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

# vm_require: SKIP (with the reason) unless the VM can run here
vm_require() {
	ko=$top_builddir/src/vmprof.ko
	[ -f "$ko" ] || vm_skip "module not built (configured with --disable-module?)"
	command -v qemu-system-x86_64 >/dev/null ||
		vm_skip "qemu-system-x86_64 missing: apt-get install qemu-system-x86"
	[ -f "/boot/vmlinuz-$KERNEL_RELEASE" ] ||
		vm_skip "/boot/vmlinuz-$KERNEL_RELEASE missing: apt-get install linux-image-$KERNEL_RELEASE"
	[ -x /bin/busybox ] || vm_skip "busybox missing: apt-get install busybox-static"
}

# vm_run GUEST_SCRIPT [ARGS for the script after VMPROF_T and VMPROF_KO]
vm_run() {
	script=$top_srcdir/tests/guest/$1
	shift
	t=$top_builddir/tests/vmprof-t
	vm_require
	log=${script##*/}
	log=$top_builddir/tests/${log%.sh}.dmesg
	"$top_builddir/utils/vmprof-lab" --module "$ko" --dmesg "$log" \
		-- /bin/bash "$script" "$t" "$ko" "$@"
}
