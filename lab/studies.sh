#!/bin/bash
# make demo: run both case studies in the lab VM, then plot and analyse.
# Every parameter can be overridden from the environment; the defaults are
# scaled so that the whole demo runs in under 10 minutes on 2 cores with
# TCG.  CASE2_NS_<MiB> overrides CASE2_NS for one memory size.  The
# original study's sizes, for a bigger machine (with KVM):
#   CASE1_SIZE_MB=1024 CASE1_ITER=20 CASE1_PAUSE_MS=1000 CASE1_MEMORY_MB=1536 \
#   CASE2_SIZE_MB=200 CASE2_NS="1 5 11 16 20 22" CASE2_MEMORY_MB="2048 3072" \
#   CASE2_SWAP_MB=8192 CASE2_SWAP_IOPS=0 LAB_OPTS=--accel=kvm make demo
# Usage: studies.sh BUILDDIR OUTDIR
set -euo pipefail
B=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)

# Case 1: two 112 MiB processes in a VM with about 170 MiB free: two random
# ones (experiment 1) do not fit together, random and locality (2) do.
: "${CASE1_SIZE_MB:=112}" "${CASE1_HI:=20000}" "${CASE1_LO:=10000}"
: "${CASE1_ITER:=10}" "${CASE1_PAUSE_MS:=300}" "${CASE1_MEMORY_MB:=256}"
: "${CASE1_SWAP_MB:=1024}" "${CASE1_SWAP_IOPS:=0}"
# Case 2: N copies of 32 MiB, at two memory sizes, each N three times.
: "${CASE2_SIZE_MB:=32}" "${CASE2_ACCESSES:=10000}" "${CASE2_PAUSE_MS:=40}"
: "${CASE2_NS:=1 3 5 7 9 11 13}" "${CASE2_NS_256:=1 3 5 7 9}"
: "${CASE2_SECONDS:=4}" "${CASE2_REPEAT:=3}"
: "${CASE2_MEMORY_MB:=256 384}" "${CASE2_SWAP_MB:=1024}" "${CASE2_SWAP_IOPS:=200}"
: "${LAB_OPTS:=}" "${CASE_STUDIES:=1 2}"

mkdir -p "$OUT/data"
OUT=$(cd "$OUT" && pwd)
t0=$(date +%s)
lab() {	# lab VMPROF-LAB-OPTIONS... -- COMMAND...
	# shellcheck disable=SC2086
	"$B/utils/vmprof-lab" --module "$B/src/vmprof.ko" --rw "$OUT" $LAB_OPTS "$@"
}
machine="$(uname -n), $(nproc) cores, TCG unless LAB_OPTS says otherwise, $(uname -m)"
ns_for() {	# ns_for MEM: the N list for that memory size
	local v=CASE2_NS_$1
	echo "${!v:-$CASE2_NS}"
}

# The steps and what each costs, in seconds on a 2-core TCG host, for the
# estimate of the time left (scaled by how the finished steps went).
steps=() cost=()
for c in $CASE_STUDIES; do
	case $c in
	1) steps+=(1); cost+=(70) ;;
	2)
		for m in $CASE2_MEMORY_MB; do
			steps+=("2:$m")
			# about 4 s per run plus the filling of the memory asked
			c2=0
			for n in $(ns_for "$m"); do
				c2=$((c2 + CASE2_SECONDS + 2 + (n * CASE2_SIZE_MB > m * 2 / 3 ? n * CASE2_SIZE_MB / 16 : 0)))
			done
			cost+=($((c2 * CASE2_REPEAT + 15)))
		done
		;;
	*)
		echo "studies.sh: no case study '$c'" >&2
		exit 2
		;;
	esac
done
planned=0
for c in "${cost[@]}"; do planned=$((planned + c)); done
done_cost=0
progress() {	# progress K TEXT: the line of step K
	local el=$(( $(date +%s) - t0 )) left=$planned
	[ $done_cost -gt 0 ] && left=$(( (planned - done_cost) * el / done_cost ))
	echo "[demo] step $(( $1 + 1 ))/${#steps[@]}: $2 (elapsed $el s, about $left s left)" >&2
}

for k in "${!steps[@]}"; do
	case ${steps[$k]} in
	1)
		progress "$k" "case study 1 in a VM of $CASE1_MEMORY_MB MiB"
		lab --memory "$CASE1_MEMORY_MB" --swap "$CASE1_SWAP_MB" \
			--swap-iops "$CASE1_SWAP_IOPS" -- /bin/bash "$HERE/case1.sh" "$B" "$OUT/data" \
			"$CASE1_SIZE_MB" "$CASE1_HI" "$CASE1_LO" "$CASE1_ITER" "$CASE1_PAUSE_MS"
		{ echo "date=$(date -u +%Y-%m-%d)"; echo "machine=$machine"
		  echo "swap_iops=$CASE1_SWAP_IOPS"; } >> "$OUT/data/case_1.meta"
		;;
	2:*)
		m=${steps[$k]#2:}
		progress "$k" "case study 2 in a VM of $m MiB with $CASE2_SWAP_MB MiB of swap, N = $(ns_for "$m"), $CASE2_REPEAT rounds"
		lab --memory "$m" --swap "$CASE2_SWAP_MB" \
			--swap-iops "$CASE2_SWAP_IOPS" -- /bin/bash "$HERE/case2.sh" \
			"$B" "$OUT/data" "$m" "$(ns_for "$m")" "$CASE2_SIZE_MB" "$CASE2_ACCESSES" \
			"$CASE2_PAUSE_MS" "$CASE2_SECONDS" "$CASE2_REPEAT"
		{ echo "swap_iops=$CASE2_SWAP_IOPS"; echo "date=$(date -u +%Y-%m-%d)"
		  echo "machine=$machine"; } >> "$OUT/data/case_2_m$m.meta"
		;;
	esac
	done_cost=$((done_cost + cost[k]))
done
echo "[demo] analysis (elapsed $(( $(date +%s) - t0 )) s)" >&2
"$HERE/analyze.sh" "$B" "$OUT"
echo "[demo] done in $(( $(date +%s) - t0 )) s: $OUT/report.md" >&2
