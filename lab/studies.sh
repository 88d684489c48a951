#!/bin/bash
# make demo: run both case studies in the lab VM, then plot and analyse.
# Every parameter can be overridden from the environment; the defaults are
# scaled so that the whole demo runs in under 10 minutes on 2 cores with
# TCG.  The original study's sizes, for a bigger machine (with KVM):
#   CASE1_SIZE_MB=1024 CASE1_ITER=20 CASE1_PAUSE_MS=1000 CASE1_MEMORY_MB=4096 \
#   CASE2_SIZE_MB=200 CASE2_NS="1 5 11 16 20 22" CASE2_MEMORY_MB=2048 \
#   CASE2_SWAP_MB=8192 CASE2_SWAP_IOPS=0 LAB_OPTS=--accel=kvm make demo
# Usage: studies.sh BUILDDIR OUTDIR
set -euo pipefail
B=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)

: "${CASE1_SIZE_MB:=128}" "${CASE1_HI:=50000}" "${CASE1_LO:=10000}"
: "${CASE1_ITER:=10}" "${CASE1_PAUSE_MS:=500}" "${CASE1_MEMORY_MB:=1024}"
: "${CASE2_SIZE_MB:=24}" "${CASE2_ACCESSES:=10000}" "${CASE2_PAUSE_MS:=40}"
: "${CASE2_NS:=1 2 4 6 7 8 9 10}" "${CASE2_SECONDS:=8}" "${CASE2_WARMUP_S:=3}"
: "${CASE2_MEMORY_MB:=256}" "${CASE2_SWAP_MB:=1024}" "${CASE2_SWAP_IOPS:=200}"
: "${LAB_OPTS:=}" "${CASE_STUDIES:=1 2}"

mkdir -p "$OUT/data"
OUT=$(cd "$OUT" && pwd)
t0=$(date +%s)
lab() {	# lab VMPROF-LAB-OPTIONS... -- COMMAND...
	# shellcheck disable=SC2086
	"$B/utils/vmprof-lab" --module "$B/src/vmprof.ko" --rw "$OUT" $LAB_OPTS "$@"
}
machine="$(uname -n), $(nproc) cores, TCG unless LAB_OPTS says otherwise, $(uname -m)"

for c in $CASE_STUDIES; do
	case $c in
	1)
		echo "[demo] case study 1 in a VM of $CASE1_MEMORY_MB MiB ($(( $(date +%s) - t0 )) s)" >&2
		lab --memory "$CASE1_MEMORY_MB" -- /bin/bash "$HERE/case1.sh" "$B" "$OUT/data" \
			"$CASE1_SIZE_MB" "$CASE1_HI" "$CASE1_LO" "$CASE1_ITER" "$CASE1_PAUSE_MS"
		{ echo "date=$(date -u +%Y-%m-%d)"; echo "machine=$machine"; } >> "$OUT/data/case_1.meta"
		;;
	2)
		echo "[demo] case study 2 in a VM of $CASE2_MEMORY_MB MiB with $CASE2_SWAP_MB MiB of swap ($(( $(date +%s) - t0 )) s)" >&2
		lab --memory "$CASE2_MEMORY_MB" --swap "$CASE2_SWAP_MB" \
			--swap-iops "$CASE2_SWAP_IOPS" -- /bin/bash "$HERE/case2.sh" \
			"$B" "$OUT/data" "$CASE2_NS" "$CASE2_SIZE_MB" "$CASE2_ACCESSES" \
			"$CASE2_PAUSE_MS" "$CASE2_SECONDS"
		{ echo "warmup_s=$CASE2_WARMUP_S"; echo "swap_iops=$CASE2_SWAP_IOPS"; } \
			>> "$OUT/data/case_2.meta"
		;;
	*)
		echo "studies.sh: no case study '$c'" >&2
		exit 2
		;;
	esac
done
echo "[demo] analysis ($(( $(date +%s) - t0 )) s)" >&2
"$HERE/analyze.sh" "$OUT"
echo "[demo] done in $(( $(date +%s) - t0 )) s: $OUT/report.md" >&2
