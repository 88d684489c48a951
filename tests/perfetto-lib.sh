# shellcheck shell=sh
# Checks of a Perfetto trace of `vmprof report --format perfetto`, for the
# tests that make one (perfetto.test, study-golden.test, vm-study.test):
# TAP points through tap.sh's is and check.  Needs $top_srcdir and
# $top_builddir.
: "${top_srcdir:?}" "${top_builddir:?}"

# pf_decode NAME TRACE DIR: protoc's decoding of TRACE, against
# tests/perfetto.proto (Perfetto's field numbers), in DIR/NAME.txt.
pf_decode() {
	protoc --proto_path="$top_srcdir/tests" --decode=perfetto.protos.Trace \
		perfetto.proto < "$2" > "$3/$1.txt" 2> "$3/$1.err"
	is "$1: protoc decodes it as a perfetto.protos.Trace" "$?" 0
	diag < "$3/$1.err"
	# A field the subset does not name is printed as its number.
	check "$1: every field in it is one the subset names" \
		sh -c "! grep -qE '^ *[0-9]+ *[:{]' '$3/$1.txt'"
}

# pf_verify NAME DATA DIR [REPORT-OPTIONS]: DIR/NAME.txt, decoded, against
# vmprof report of DATA by tests/perfetto-check.awk: every event on a
# declared track, time stamps rising along each, and per process the
# integrals of the rates equal to the report's counts and CPU time.
pf_verify() {
	_pf_name=$1 _pf_data=$2 _pf_dir=$3
	shift 3
	"$top_builddir/utils/vmprof" report --format tsv "$@" "$_pf_data" > "$_pf_dir/$_pf_name.tsv"
	_pf_rc=$?
	awk -f "$top_srcdir/tests/perfetto-check.awk" "$_pf_dir/$_pf_name.tsv" \
		"$_pf_dir/$_pf_name.txt" > "$_pf_dir/$_pf_name.check"
	_pf_rc="$_pf_rc/$?"
	diag < "$_pf_dir/$_pf_name.check"
	check "$_pf_name: every event on a declared track, time rising, rates end at 0, the integrals are the report's counts and CPU times (exit $_pf_rc)" \
		test "$_pf_rc" = 0/0 -a "$(grep -c '^error' "$_pf_dir/$_pf_name.check")" -eq 0
}
