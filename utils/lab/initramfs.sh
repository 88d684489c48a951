# shellcheck shell=bash
# initramfs.sh - vmprof-lab's initramfs: a static busybox, the guest's /init
# (init.sh), the kernel modules the guest needs, the module to load, and
# the settings of the run in /lab/conf, which /init sources.
#
# Sourced by vmprof-lab, which installs it with its other parts in
# PKGDATADIR/lab/ (utils/lab/ in the sources), once it has checked its
# options; uses its messages (die, missing, verbose), exit statuses (EX_*)
# and kernel.sh.

# The settings of vmprof-lab that make_initramfs and guest_conf read.
# (Declaring them here keeps the values that vmprof-lab gave them.)
declare -g lab_dir busybox kernel kver module cwd opt_moddir opt_module_args \
	opt_shell opt_verbose opt_swap opt_dmesg
declare -g -a rw_dirs guest_env command_argv

# find_busybox: print the static busybox for the initramfs:
# $VMPROF_LAB_BUSYBOX, else the first of /bin, /usr/bin and PATH.  None, or
# a dynamically linked one: exit 77.
find_busybox() {
	local b bb=${VMPROF_LAB_BUSYBOX:-}
	if [[ -z $bb ]]; then
		for b in /bin/busybox /usr/bin/busybox "$(command -v busybox || true)"; do
			if [[ -n $b && -x $b ]]; then
				bb=$b
				break
			fi
		done
	fi
	[[ -n $bb && -x $bb ]] ||
		missing "busybox not found: a static busybox runs the guest's initramfs." \
			busybox-static
	if LC_ALL=C ldd "$bb" >/dev/null 2>&1; then
		missing "$bb is dynamically linked; the initramfs needs a static one." \
			busybox-static
	fi
	printf '%s\n' "$bb"
}

# sq STRING: STRING quoted for a POSIX shell.
sq() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

# make_initramfs DIR OUT: build the guest's initramfs in the directory DIR
# (removed afterwards) and write it, as a cpio archive, to OUT.  The kernel
# runs its /init, init.sh, with /bin/sh: busybox (ash).
make_initramfs() {
	local dir=$1 out=$2 module_name=''
	mkdir -p "$dir"/{bin,dev,proc,sys,newroot,ovl,lab/modules}
	copy_drivers "$dir/lab/modules" "$kver" "$opt_moddir" "$opt_swap" "$module"
	verbose "kernel $kver ($kernel)"
	if [[ -n $module ]]; then
		module_name=${module##*/}
		module_name=${module_name%%.ko*}.ko
		mkdir -p "$dir/lab/module"
		copy_module "$module" "$dir/lab/module/$module_name"
		verbose "module $module${opt_module_args:+ $opt_module_args}"
	fi
	cp -- "$busybox" "$dir/bin/busybox"
	ln -s busybox "$dir/bin/sh"
	cp -- "$lab_dir/init.sh" "$dir/init"
	chmod 755 "$dir/init"
	guest_conf "$module_name" >"$dir/lab/conf"
	# An uncompressed newc cpio: quick to make and quick for the kernel to
	# unpack.
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		"$busybox" cpio -o -H newc -R 0:0 2>/dev/null) >"$out" ||
		die "$EX_VMFAIL" "cannot create the initramfs with '$busybox cpio'."
	rm -rf -- "$dir"
}

# guest_conf MODULE_NAME: print /lab/conf, the settings of this run for the
# guest's /init; MODULE_NAME is the module's file in /lab/module, or empty.
guest_conf() {
	local i a rows cols size shell
	local -a run
	echo "# vmprof-lab guest configuration"
	echo "LAB_MSIZE=262144"
	echo "LAB_SHELL=$opt_shell"
	echo "LAB_VERBOSE=$opt_verbose"
	echo "LAB_SWAP=$((opt_swap > 0 ? 1 : 0))"
	echo "LAB_DMESG=$([[ -n $opt_dmesg ]] && echo 1 || echo 0)"
	echo "LAB_MODULE=$(sq "$1")"
	echo "LAB_MODULE_ARGS=$(sq "$opt_module_args")"
	echo "LAB_NRW=${#rw_dirs[@]}"
	for i in "${!rw_dirs[@]}"; do
		echo "LAB_RW_$i=$(sq "${rw_dirs[$i]}")"
	done

	# lab_run: the command, chrooted into the host's file system, in the
	# host's current directory, with a clean environment.
	run=(env -i "HOME=/tmp" "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		"TERM=${TERM:-dumb}" "LANG=C" "USER=root" "LOGNAME=root")
	if ((opt_shell)); then
		rows=24 cols=80
		if [[ -t 0 ]] && size=$(stty size 2>/dev/null) && [[ $size =~ ^([0-9]+)\ ([0-9]+)$ ]]; then
			rows=${BASH_REMATCH[1]} cols=${BASH_REMATCH[2]}
		fi
		echo "LAB_ROWS=$rows LAB_COLS=$cols"
		shell=/bin/sh
		[[ -x /bin/bash ]] && shell=/bin/bash
		# setsid -c: a new session with the console as controlling tty,
		# so that job control and ^C work.
		# shellcheck disable=SC2016 # (expanded in the guest)
		run=(setsid -c "${run[@]}" "${guest_env[@]}"
			/bin/chroot /newroot /bin/sh -c 'cd -- "$1" 2>/dev/null || cd /; exec "$2" -i'
			vmprof-lab "$cwd" "$shell")
	else
		# shellcheck disable=SC2016 # (expanded in the guest)
		run+=("${guest_env[@]}" /bin/chroot /newroot /bin/sh -c
			'cd -- "$1" || exit 125; unset OLDPWD; shift; exec "$@"'
			vmprof-lab "$cwd" "${command_argv[@]}")
	fi
	printf 'lab_run() {\n\t'
	for a in "${run[@]}"; do printf '%s ' "$(sq "$a")"; done
	printf '\n}\n'
}
