dnl vmprof_kernel.m4 - configure checks for the kernel module: the kernel
dnl it is built against and what that kernel offers.
dnl
dnl configure.ac calls these in this order; each decides one thing:
dnl   VMPROF_ARG_MODULE         the options (--disable-module,
dnl                             --with-kernel-build=DIR, --disable-werror)
dnl   VMPROF_KERNELS_INSTALLED  the installed kernels (make check-kernels)
dnl   VMPROF_KERNEL_BUILD_TREE  the build tree and its release
dnl   VMPROF_KERNEL_IMAGE       whether the lab VM can boot that release
dnl   VMPROF_KERNEL_PROBES      the kernel APIs the tree has
dnl The last three do nothing under --disable-module.

dnl _VMPROF_KERNEL_RELEASE(DIR): a shell command that prints the release
dnl the kernel build tree DIR is for, as uname -r and /boot/vmlinuz-* spell
dnl it (Debian's include/config/kernel.release holds the upstream version).
m4_define([_VMPROF_KERNEL_RELEASE],
  [sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h" 2>/dev/null])

dnl VMPROF_ARG_MODULE: the module's options.  Sets enable_module (yes
dnl unless --disable-module), with_kernel_build (DIR, else empty: search)
dnl and enable_werror (yes unless --disable-werror).
AC_DEFUN([VMPROF_ARG_MODULE], [
  AC_ARG_ENABLE([module],
    [AS_HELP_STRING([--disable-module], [do not build the kernel module (user space only)])],
    [], [enable_module=yes])
  AC_ARG_WITH([kernel-build],
    [AS_HELP_STRING([--with-kernel-build=DIR],
      [kernel build tree to build the module against (default: that of the running kernel, else of the newest installed kernel, PREEMPT_RT ones last)])],
    [], [with_kernel_build=])
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--disable-werror], [do not turn module warnings into errors])],
    [], [enable_werror=yes])
])

dnl VMPROF_KERNELS_INSTALLED: the installed kernels, those with a build
dnl tree (/lib/modules/REL/build, the headers) and with /boot/vmlinuz-REL
dnl (the lab VM boots it), newest first, PREEMPT_RT ones last: substitutes
dnl KERNELS_FOUND, which make check-kernels tests and VMPROF_KERNEL_BUILD_TREE
dnl picks from.  KERNELS_HEADERS_ONLY: the releases with headers but no
dnl image, which cannot be tested (for the summary).  Run with or without
dnl the module.
AC_DEFUN([VMPROF_KERNELS_INSTALLED], [
  KERNELS_FOUND=
  vmprof_kernels_rt=
  KERNELS_HEADERS_ONLY=
  for vmprof_dir in `ls -d /lib/modules/*/build 2>/dev/null | sort -V -r`; do
    test -f "$vmprof_dir/Makefile" || continue
    vmprof_rel=`echo "$vmprof_dir" | sed 's|^/lib/modules/||; s|/build$||'`
    if test -f "/boot/vmlinuz-$vmprof_rel"; then
      case $vmprof_rel in
      *-rt|*-rt-*) vmprof_kernels_rt="$vmprof_kernels_rt $vmprof_rel" ;;
      *) KERNELS_FOUND="$KERNELS_FOUND $vmprof_rel" ;;
      esac
    else
      KERNELS_HEADERS_ONLY="$KERNELS_HEADERS_ONLY $vmprof_rel"
    fi
  done
  KERNELS_FOUND=`echo $KERNELS_FOUND $vmprof_kernels_rt`
  KERNELS_HEADERS_ONLY=`echo $KERNELS_HEADERS_ONLY`
  AC_SUBST([KERNELS_FOUND])
])

dnl VMPROF_KERNEL_BUILD_TREE: the kernel build tree the module is built
dnl against: --with-kernel-build's DIR, else the running kernel's, else
dnl the first of KERNELS_FOUND; a tree is a directory with a Makefile.
dnl Substitutes KERNEL_BUILD (its physical path) and KERNEL_RELEASE (its
dnl UTS_RELEASE), both empty under --disable-module.  No tree is an error.
AC_DEFUN([VMPROF_KERNEL_BUILD_TREE], [
  AC_REQUIRE([VMPROF_ARG_MODULE])
  AC_REQUIRE([VMPROF_KERNELS_INSTALLED])
  KERNEL_BUILD=
  KERNEL_RELEASE=
  AS_IF([test "x$enable_module" = xyes], [
    AC_MSG_CHECKING([for a kernel build tree])
    AS_IF([test -n "$with_kernel_build"], [
      KERNEL_BUILD=$with_kernel_build
    ], [test -f "/lib/modules/`uname -r`/build/Makefile"], [
      KERNEL_BUILD=/lib/modules/`uname -r`/build
    ], [test -n "$KERNELS_FOUND"], [
      KERNEL_BUILD=/lib/modules/`echo $KERNELS_FOUND | cut -d' ' -f1`/build
    ])
    AS_IF([test -n "$KERNEL_BUILD" && test -f "$KERNEL_BUILD/Makefile"], [
      KERNEL_BUILD=`cd "$KERNEL_BUILD" && pwd -P`
      KERNEL_RELEASE=`_VMPROF_KERNEL_RELEASE([$KERNEL_BUILD])`
      AC_MSG_RESULT([$KERNEL_BUILD ($KERNEL_RELEASE)])
    ], [test -n "$with_kernel_build"], [
      AC_MSG_RESULT([no])
      dnl The user named a tree: say what is wrong with it.
      AS_CASE([$with_kernel_build],
        [yes|no], [AC_MSG_ERROR([--with-kernel-build needs a directory: --with-kernel-build=DIR,
  or build only the library and tools with --disable-module.])])
      AC_MSG_ERROR([$with_kernel_build (--with-kernel-build) is not a kernel build tree: it has no Makefile.
  Name the build tree of a kernel (e.g. /lib/modules/RELEASE/build),
  or build only the library and tools with --disable-module.])
    ], [
      AC_MSG_RESULT([no])
      AC_MSG_ERROR([no kernel build tree found.
  On Debian install the headers and the matching kernel image:
      sudo apt-get install linux-headers-amd64 linux-image-amd64
  (or run: sudo ./bootstrap --install-deps)
  or name a tree with --with-kernel-build=DIR,
  or build only the library and tools with --disable-module.])
    ])
  ])
  AC_SUBST([KERNEL_BUILD])
  AC_SUBST([KERNEL_RELEASE])
])

dnl VMPROF_KERNEL_IMAGE: the lab VM and the module tests boot
dnl /boot/vmlinuz-KERNEL_RELEASE; without it, a warning (the module still
dnl builds).
AC_DEFUN([VMPROF_KERNEL_IMAGE], [
  AC_REQUIRE([VMPROF_KERNEL_BUILD_TREE])
  AS_IF([test "x$enable_module" = xyes && test ! -f "/boot/vmlinuz-$KERNEL_RELEASE"],
    [AC_MSG_WARN([no /boot/vmlinuz-$KERNEL_RELEASE: the lab VM and the module tests need the kernel image the module is built for (apt-get install linux-image-$KERNEL_RELEASE)])])
])

dnl VMPROF_KERNEL_PROBES: the kernel APIs that differ between kernels,
dnl decided by compiling src/probes/*.c against KERNEL_BUILD
dnl (src/kernel-probes.sh): writes src/vmprof_config.h, HAVE_NAME for each
dnl probe that compiled.  A tree that cannot compile a module is an error.
AC_DEFUN([VMPROF_KERNEL_PROBES], [
  AC_REQUIRE([VMPROF_KERNEL_BUILD_TREE])
  AS_IF([test "x$enable_module" = xyes], [
    AC_MSG_NOTICE([probing the kernel APIs of $KERNEL_RELEASE (src/probes/*.c):])
    AS_MKDIR_P([src])
    $SHELL "$srcdir/src/kernel-probes.sh" "$KERNEL_BUILD" src/vmprof_config.h ||
      AC_MSG_ERROR([cannot compile a module against $KERNEL_BUILD; see src/vmprof_config.log])
  ])
])
