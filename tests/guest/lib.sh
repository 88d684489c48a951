# shellcheck shell=bash
# TAP helpers for the guest side of the module tests.  Sourced by the
# scripts in tests/guest/, which run as root inside the lab VM.

tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); echo "not ok $tap_n - $*"; tap_failed=$((tap_failed + 1)); }
diag() { echo "# $*"; }

# check DESCRIPTION COMMAND...: one test point from a command's status.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# is DESCRIPTION GOT WANT: one test point comparing two strings.
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "  got:  '$2'"
		diag "  want: '$3'"
	fi
}

# in_range DESCRIPTION VALUE MIN MAX (numbers, awk arithmetic)
in_range() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v + 0 >= lo + 0 && v + 0 <= hi + 0) }'; then
		ok "$1 ($2 in [$3, $4])"
	else
		not_ok "$1 ($2 not in [$3, $4])"
	fi
}

done_testing() { echo "1..$tap_n"; }

STATUS=/proc/vmprof/status
STATS=/proc/vmprof/stats
PARAMS=/sys/module/vmprof/parameters

# stat_value KEY: one figure from /proc/vmprof/stats
stat_value() { awk -v k="$1" '$1 == k { print $2 }' "$STATS"; }

# registered: the status file on one line
registered() { tr '\n' ' ' < "$STATUS" | sed 's/ $//'; }

# The kernel log must be free of warnings and oopses.
check_dmesg() {
	local bad
	bad=$(dmesg | grep -E 'WARNING:|BUG:|BUG |Call Trace|general protection|Oops|kernel BUG' || true)
	if [ -z "$bad" ]; then
		ok "kernel log has no WARN, BUG or Call Trace"
	else
		not_ok "kernel log has no WARN, BUG or Call Trace"
		printf '%s\n' "$bad" | head -n 40 | sed 's/^/#   /'
	fi
}

# Background processes the tests start; all are killed at exit.
bg_pids=()
spawn_sleeper() {
	sleep 600 &
	bg_pids+=("$!")
	sleeper=$!
}
cleanup_bg() {
	if [ ${#bg_pids[@]} -gt 0 ]; then
		kill "${bg_pids[@]}" 2>/dev/null || true
		wait 2>/dev/null || true
	fi
	bg_pids=()
}
trap cleanup_bg EXIT

# reload_module ARGS...: rmmod and insmod the module with new parameters.
reload_module() {
	rmmod vmprof && insmod "$VMPROF_KO" "$@"
}
