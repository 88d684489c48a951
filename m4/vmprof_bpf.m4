dnl vmprof_bpf.m4 - configure checks for libvmprof's BPF backend.
dnl
dnl VMPROF_PROG_BPF_CLANG: set and substitute BPF_CLANG to the first clang
dnl (of clang-19 .. clang-15, then clang; or BPF_CLANG from the
dnl environment) that compiles BPF code whose BTF the kernel reads as
dnl libvmprof's programs need: a pointer to a btf_type_tag("kptr") type,
dnl the referenced task the held map keeps (lib/bpf/sampler.bpf.c), a type
dnl of vmlinux.h and so preserve_access_index.  clang 14 (Debian 12's
dnl clang) leaves the tag out of the BTF of such types: the kernel finds
dnl no kptr there and refuses the program.  Needs BPFTOOL, to read
dnl the BTF.  Decided by compiling, not by clang's version number.
AC_DEFUN([VMPROF_PROG_BPF_CLANG], [
  AC_ARG_VAR([BPF_CLANG], [the clang that compiles the BPF programs])
  AC_MSG_CHECKING([for a clang that writes BPF type tags where the kernel reads them])
  cat > conftest.bpf.c <<_VMPROF_EOF
struct vmprof_probe_t { int x; } __attribute__((preserve_access_index));
struct vmprof_probe_s {
	struct vmprof_probe_t __attribute__((btf_type_tag("kptr"))) *p;
} vmprof_probe_v;
_VMPROF_EOF
  vmprof_bpf_clang=
  for vmprof_cc in ${BPF_CLANG:-clang-19 clang-18 clang-17 clang-16 clang-15 clang}; do
    vmprof_path=`command -v "$vmprof_cc" 2>/dev/null` || continue
    "$vmprof_path" -g -O2 -target bpf -c conftest.bpf.c -o conftest.bpf.o \
      2>&AS_MESSAGE_LOG_FD || continue
    dnl A line "@<:@N@:>@ TYPE_TAG 'kptr' type_id=T", and a PTR to N.
    vmprof_tag=`"$BPFTOOL" btf dump file conftest.bpf.o 2>&AS_MESSAGE_LOG_FD |
      grep " TYPE_TAG 'kptr' " | cut -d' ' -f1 | tr -d '@<:@@:>@'`
    AS_IF([test -n "$vmprof_tag" &&
       "$BPFTOOL" btf dump file conftest.bpf.o 2>&AS_MESSAGE_LOG_FD |
       grep "PTR '(anon)' type_id=$vmprof_tag\$" >/dev/null],
      [vmprof_bpf_clang=$vmprof_path; break])
  done
  rm -f conftest.bpf.c conftest.bpf.o
  BPF_CLANG=$vmprof_bpf_clang
  AC_MSG_RESULT([${BPF_CLANG:-none}])
  AC_SUBST([BPF_CLANG])
])
