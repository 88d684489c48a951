#!/bin/bash
# check-kernels.sh - the kernel matrix: build the module against every
# installed kernel and run the VM module suite on each (make check-kernels),
# or on the debug kernel (make check-debug: --debug).
#
# Usage: tests/check-kernels.sh [--debug] [-j N] [--reuse-check RELEASE]
#                               [RELEASE...]
#
# The kernels: the RELEASEs named, else every /lib/modules/REL with a build
# tree (the headers) and /boot/vmlinuz-REL.  For each, in its own build
# directory tests/kernels/REL/ of the build tree:
#   build      the probes (src/kernel-probes.sh) and the module, W=1 -Werror
#   lint       tests/kernel-lint.test against that tree: W=1, sparse, checkpatch
#   VM tests   tests/vm-{module,exact,timing,cycles,tools,stress,bpf}.test in the lab VM
#              booting that kernel, N at a time (-j, default 3), the
#              longest (vm-module) first
# Each test's TAP goes through Automake's tap-driver into
# tests/kernels/REL/NAME.log and .trs (.ci/run counts them), and the guest's
# kernel log into NAME.dmesg.  At the end a table: kernel, build, lint,
# tests passed/failed, time; also in tests/kernels/matrix.txt.  Exit status
# 0 when every row passed.
#
# --reuse-check RELEASE: RELEASE is the kernel make check has just tested
# with the same suite (the one configure chose): its row is taken from
# make check's results (tests/*.trs) rather than run again.  .ci/run uses it.
#
# --debug: the kernel of tests/debug-kernel.sh (built first if its cache
# is empty: KASAN, lockdep, kmemleak, UBSAN, ...), booted with
# panic_on_warn=1; the guest scripts check that its checkers are on and
# end with a kmemleak scan.
#
# Environment (make sets it): top_srcdir, top_builddir, MAKE, SPARSE, AWK.
set -uo pipefail

: "${top_srcdir:?run through make check-kernels}" "${top_builddir:?}"
MAKE=${MAKE:-make}
AWK=${AWK:-awk}
export top_srcdir top_builddir SPARSE
unset MAKEFLAGS MFLAGS MAKELEVEL # our own sub-makes, not the caller's

debug=0 jobs=3 kernels=() reuse=''
while (($#)); do
	case $1 in
	--debug) debug=1; shift ;;
	--reuse-check) reuse=$2; shift 2 ;;
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "check-kernels.sh: unknown option $1" >&2; exit 2 ;;
	*) kernels+=("$1"); shift ;;
	esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "check-kernels.sh: -j wants a number" >&2; exit 2; }

# Longest first: vm-module takes about as long as the others together.
# CHECK_KERNELS_TESTS="vm-bpf ...": a part of the suite (by hand only).
read -r -a suite <<<"${CHECK_KERNELS_TESTS:-vm-module vm-exact vm-stress vm-tools vm-cycles vm-bpf vm-timing}"
out=$top_builddir/tests/kernels
mkdir -p "$out"

# kernel_tree REL: the build tree of an installed kernel.
kernel_tree() { readlink -f "/lib/modules/$1/build"; }

lab_opts=() image_of=()
if ((debug)); then
	settings=$("$top_srcdir/tests/debug-kernel.sh") ||
		{ echo "check-kernels.sh: no debug kernel (see above)" >&2; exit 1; }
	eval "$settings"
	kernels=("$DEBUG_KERNEL_RELEASE")
	debug_build=$DEBUG_KERNEL_BUILD
	# One vmprof-lab option per word (VMPROF_LAB_OPTS is split at blanks).
	lab_opts=(--kernel="$DEBUG_KERNEL_IMAGE" --moddir="$DEBUG_KERNEL_MODDIR"
		--append=panic_on_warn=1 --timeout=2400 -e VMPROF_DEBUG_KERNEL=1)
	image_of=("$DEBUG_KERNEL_IMAGE")
elif ((${#kernels[@]} == 0)); then
	while IFS= read -r d; do
		rel=${d#/lib/modules/}
		rel=${rel%/build}
		[[ -f $d/Makefile && -f /boot/vmlinuz-$rel ]] && kernels+=("$rel")
	done < <(printf '%s\n' /lib/modules/*/build | sort -V)
fi
if ((${#kernels[@]} == 0)); then
	echo "check-kernels.sh: no kernel with headers and an image installed" \
		"(sudo ./bootstrap --install-deps --kernels)" >&2
	exit 1
fi

# run_tap NAME LOGDIR COMMAND...: one test through Automake's TAP driver.
run_tap() {
	local name=$1 dir=$2 t0=$SECONDS
	shift 2
	env AM_TAP_AWK="$AWK" "${SHELL:-/bin/sh}" "$top_srcdir/build-aux/tap-driver.sh" \
		--test-name "$name" --log-file "$dir/$name.log" --trs-file "$dir/$name.trs" \
		--color-tests no --enable-hard-errors yes --expect-failure no -- "$@" \
		> "$dir/$name.out" 2>&1
	echo "     $name: $((SECONDS - t0)) s"
}

# count DIR RESULT...: test points of the .trs files in DIR with a result.
count() {
	local dir=$1 pat
	shift
	pat=$(IFS='|'; echo "$*")
	cat "$dir"/*.trs 2>/dev/null | grep -cE "^:test-result: ($pat)"
}

# build_module REL TREE DIR: the probes and the module, in DIR.
build_module() {
	local tree=$2 dir=$3 f
	for f in "$top_srcdir"/src/*.c "$top_srcdir"/src/*.h "$top_srcdir"/src/Kbuild; do
		cp -f "$f" "$dir/"
	done
	{
		echo "== kernel-probes.sh $tree"
		sh "$top_srcdir/src/kernel-probes.sh" "$tree" "$dir/vmprof_config.h" &&
			echo "== make W=1 KCFLAGS=-Werror" &&
			$MAKE -C "$tree" M="$dir" W=1 KCFLAGS=-Werror modules
	} > "$dir/build.log" 2>&1 || return 1
	# A warning is a failure too, -Werror or not (modpost's, say).
	! grep -iE '(^|[^a-z])(warning|error):' "$dir/build.log"
}

rows=()
status=0
for rel in "${kernels[@]}"; do
	start=$SECONDS
	dir=$out/$rel
	rm -rf "$dir"
	mkdir -p "$dir/module"
	if [[ $rel == "$reuse" ]]; then
		# make check ran this suite on this kernel: count its results.
		# (Copies, since .ci/run counts tests/*.trs already.)
		echo "==== $rel: make check's results (tests/*.trs)"
		for t in kernel-lint "${suite[@]}"; do
			[[ -f $top_builddir/tests/$t.trs ]] &&
				cp "$top_builddir/tests/$t.trs" "$dir/$t.trs.check"
		done
		pass=$(cat "$dir"/*.trs.check 2>/dev/null | grep -cE '^:test-result: (PASS|XFAIL)')
		fail=$(cat "$dir"/*.trs.check 2>/dev/null | grep -cE '^:test-result: (FAIL|ERROR|XPASS)')
		skip=$(cat "$dir"/*.trs.check 2>/dev/null | grep -cE '^:test-result: SKIP')
		n=$(find "$dir" -name '*.trs.check' | wc -l)
		if ((n == ${#suite[@]} + 1 && fail == 0 && skip == 0 && pass > 0)); then
			verdict=PASS
		else
			verdict=FAIL
			status=1
		fi
		rows+=("$(printf '%-28s %-7s %-7s %5s %6s %5s %7s  %s' "$rel" "(make" "check)" \
			"$pass" "$fail" "$skip" "-" "$verdict")")
		continue
	fi
	if ((debug)); then tree=$debug_build; else tree=$(kernel_tree "$rel"); fi
	echo "==== $rel ($tree)"

	if build_module "$rel" "$tree" "$dir/module"; then
		build=ok
		sed -n '/^  [a-z_]* *\(yes\|no\)$/p' "$dir/module/build.log" | sed 's/^/     probe/'
	else
		build=FAILED
		tail -n 30 "$dir/module/build.log" | sed 's/^/     | /'
	fi

	KERNEL_BUILD=$tree run_tap kernel-lint "$dir" "$top_srcdir/tests/kernel-lint.test"
	if (($(count "$dir" 'FAIL|ERROR|XPASS|SKIP') == 0)) && [[ -s $dir/kernel-lint.trs ]]; then
		lint=ok
	else
		lint=FAILED
	fi

	if [[ $build == ok ]]; then
		export KERNEL_RELEASE=$rel VMPROF_TEST_KO=$dir/module/vmprof.ko \
			VMPROF_TEST_LOGDIR=$dir VMPROF_LAB_OPTS="${lab_opts[*]}"
		if ((debug)); then
			export VMPROF_LAB_KERNEL_IMAGE=${image_of[0]}
		else
			unset VMPROF_LAB_KERNEL_IMAGE
		fi
		for t in "${suite[@]}"; do
			# Count the jobs running (wait -n may also return for
			# a process substitution of this script's).
			while (($(jobs -rp | wc -l) >= jobs)); do
				wait -n
			done
			echo "     $t ..."
			run_tap "$t" "$dir" "$top_srcdir/tests/$t.test" &
		done
		wait
	fi
	pass=$(count "$dir" PASS XFAIL)
	fail=$(count "$dir" FAIL ERROR XPASS)
	skip=$(count "$dir" SKIP)
	for trs in "$dir"/vm-*.trs; do
		[[ -f $trs ]] || continue
		n=$(basename "$trs" .trs)
		r=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS|SKIP)' "$trs")
		((r == 0)) || { echo "     $n: $r failed or skipped (see $dir/$n.log)"; grep -E '^(not ok|.*# SKIP)' "$dir/$n.log" | head -n 10 | sed 's/^/       /'; }
	done
	if [[ $build == ok && $lint == ok ]] && ((fail == 0 && skip == 0 && pass > 0)); then
		verdict=PASS
	else
		verdict=FAIL
		status=1
	fi
	rows+=("$(printf '%-28s %-7s %-7s %5s %6s %5s %6ss  %s' "$rel" "$build" "$lint" \
		"$pass" "$fail" "$skip" "$((SECONDS - start))" "$verdict")")
	echo "     $rel: build $build, lint $lint, $pass passed, $fail failed, $skip skipped, $((SECONDS - start)) s"
done

{
	echo
	echo "Kernel matrix$( ((debug)) && echo " (debug kernel: KASAN, lockdep, kmemleak, UBSAN; panic_on_warn=1)"):"
	printf '%-28s %-7s %-7s %5s %6s %5s %7s  %s\n' kernel build lint pass fail skip time result
	printf '%s\n' "${rows[@]}"
} | tee "$out/matrix$( ((debug)) && echo -debug).txt"
exit $status
