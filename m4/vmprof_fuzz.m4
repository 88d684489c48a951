dnl vmprof_fuzz.m4 - configure check for the fuzzers (tests/fuzz.test).

dnl VMPROF_PROG_FUZZ_CC: a C compiler that builds libFuzzer harnesses with
dnl AddressSanitizer and UndefinedBehaviorSanitizer (clang's
dnl -fsanitize=fuzzer, which GCC has not): the first of FUZZ_CC (from the
dnl environment), clang-16, clang, clang-15, clang-14 that links a harness
dnl (Debian's clang-16 needs libclang-rt-16-dev, which bootstrap installs).  Substitutes FUZZ_CC (empty when none
dnl does) and the conditional BUILD_FUZZ.  Without one, tests/fuzz.test
dnl reports SKIP, which CI fails: bootstrap --install-deps installs clang.
AC_DEFUN([VMPROF_PROG_FUZZ_CC], [
  AC_ARG_VAR([FUZZ_CC], [C compiler for the libFuzzer harnesses (clang)])
  AC_MSG_CHECKING([for a C compiler that builds libFuzzer harnesses])
  vmprof_fuzz_found=
  cat > conftest-fuzz.c <<_VMPROF_EOF
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return data && size > 1 ? 0 : 0;
}
_VMPROF_EOF
  for vmprof_cc in $FUZZ_CC clang-16 clang clang-15 clang-14; do
    if $vmprof_cc -fsanitize=fuzzer,address,undefined conftest-fuzz.c \
         -o conftest-fuzz >&AS_MESSAGE_LOG_FD 2>&1; then
      vmprof_fuzz_found=$vmprof_cc
      break
    fi
  done
  rm -f conftest-fuzz.c conftest-fuzz
  FUZZ_CC=$vmprof_fuzz_found
  AC_MSG_RESULT([${FUZZ_CC:-no}])
  AM_CONDITIONAL([BUILD_FUZZ], [test -n "$FUZZ_CC"])
])
