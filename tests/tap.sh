# shellcheck shell=sh
# shellcheck disable=SC3043 # local: dash, bash and busybox sh all have it
# The TAP helpers of every shell test, the one copy (modelled on kselftest's
# ktap_helpers.sh).  Sourced by the host tests (tests/*.test, through
# tests/vm-lib.sh for the VM tests, and tests/packaging.sh) and by the guest
# scripts through tests/guest/lib.sh: the lab VM sees the host's file
# system, read-only, at the same paths.  POSIX sh, for dash (/bin/sh, the
# host tests) and bash (the guest scripts, under set -u).
#
# What Automake's tap-driver (build-aux/tap-driver.sh) reads:
#   ok N - DESCRIPTION       a test point that passed
#   not ok N - DESCRIPTION   one that failed: the test FAILs
#   ok N # SKIP REASON       one that cannot run here (.ci/run fails on it)
#   1..N                     the plan, before the first test point or after
#                            the last one; missing, the test is an ERROR
#   1..0 # SKIP REASON       the whole test skipped
#   Bail out! REASON         the test cannot go on: an ERROR
#   # TEXT                   a diagnostic, for the log only
#
# The helpers:
#   tap_plan N                 the plan, first (when the count is known)
#   ok DESCRIPTION             a test point that passed
#   not_ok DESCRIPTION         a test point that failed
#   skip REASON                a test point skipped
#   check DESCRIPTION COMMAND...   ok when COMMAND exits 0, else not ok;
#                              with TAP_CHECK_LOG=FILE the command's output
#                              goes to FILE, and its end to the log on failure
#   is DESCRIPTION GOT WANT    ok when the two strings are equal; else not
#                              ok, both shown
#   in_range DESCRIPTION VALUE MIN MAX   ok when MIN <= VALUE <= MAX (awk
#                              numbers); the figures are in the description
#   diag TEXT...               TEXT as diagnostics, a "# " before each line;
#                              without arguments, its standard input
#   section NAME               a diagnostic that marks a part of a test,
#                              with the time so far ($SECONDS, in bash)
#   done_testing               the plan, last (unless tap_plan gave it)
#   tap_skip_all REASON        the whole test skipped; exits 0
#   tap_bail REASON            Bail out!; exits 1
# The counts so far: tap_n test points, tap_failed of them failed,
# tap_skipped skipped.

tap_n=0
tap_failed=0
tap_skipped=0
tap_planned=

tap_plan() {
	tap_planned=$1
	printf '1..%s\n' "$1"
}

ok() {
	tap_n=$((tap_n + 1))
	printf 'ok %d - %s\n' "$tap_n" "$*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	printf 'not ok %d - %s\n' "$tap_n" "$*"
}

skip() {
	tap_n=$((tap_n + 1))
	tap_skipped=$((tap_skipped + 1))
	printf 'ok %d # SKIP %s\n' "$tap_n" "$*"
}

check() {
	local _tap_desc="$1"
	shift
	if [ -n "${TAP_CHECK_LOG:-}" ]; then
		if "$@" > "$TAP_CHECK_LOG" 2>&1; then
			ok "$_tap_desc"
		else
			not_ok "$_tap_desc"
			tail -n 40 "$TAP_CHECK_LOG" | diag
		fi
	elif "$@"; then
		ok "$_tap_desc"
	else
		not_ok "$_tap_desc"
	fi
}

is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "  got:  '$2'"
		diag "  want: '$3'"
	fi
}

in_range() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v + 0 >= lo + 0 && v + 0 <= hi + 0) }'; then
		ok "$1 ($2 in [$3, $4])"
	else
		not_ok "$1 ($2 not in [$3, $4])"
	fi
}

# Every line of a diagnostic starts with "#": a line of a command's
# output that read "ok" or "not ok" would count as a test point.
diag() {
	if [ $# -eq 0 ]; then
		sed 's/^/# /'
		return
	fi
	case $* in
	*'
'*) printf '%s\n' "$*" | sed 's/^/# /' ;;
	*) printf '# %s\n' "$*" ;;
	esac
}

# shellcheck disable=SC3028 # (SECONDS is bash's, and so are the scripts that mark sections)
section() { diag "-- $* (at ${SECONDS:-?} s)"; }

done_testing() {
	[ -n "$tap_planned" ] || printf '1..%d\n' "$tap_n"
}

tap_skip_all() {
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

tap_bail() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}
