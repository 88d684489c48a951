# shellcheck shell=bash
# qemu.sh - vmprof-lab's virtual machine: qemu's command line, the run
# (the command's output streamed out while the VM runs), the clean-up, and
# the end: what the guest reported, as vmprof-lab's exit status.
#
# Sourced by vmprof-lab, which installs it with its other parts in
# PKGDATADIR/lab/ (utils/lab/ in the sources), once it has checked its
# options; uses its messages (warn, die, verbose), exit statuses (EX_*) and
# is_uint.
#
# How the pieces talk to each other (see also the man page, vmprof-lab(1)):
#   ttyS0 (16550 UART)      kernel console; the shell with --shell.  Goes to
#                           TMP/console.log (and to stderr with --verbose).
#   virtio-serial "out"     the command's stdout -> TMP/out -> our stdout
#   virtio-serial "err"     the command's stderr -> TMP/err -> our stderr
#   virtio-serial "ctl"     one line from the guest's /init: "STATUS n",
#                           "MODFAIL lines-of-dmesg-before message" or
#                           "VMFAIL message"
#   virtio-serial "dmesg"   the guest's dmesg (--dmesg, or after a failed insmod)
#   9p "hostroot"           / of the host, read-only
#   9p "rwN"                the current directory and the --rw directories
#   9p "labshare"           a scratch directory, for setting the guest's clock
# qemu writes the virtio-serial streams to regular files in the temp dir
# (a write to a regular file never blocks or fails part-way, so nothing can be
# left behind in a virtqueue when the guest powers off), and "tail -f"
# processes stream them live to our stdout and stderr until qemu has exited.
# In the guest, the command writes into pipes that busybox cat copies to the
# ports (a port can be opened only once, but programs reopen /dev/stdout).

# The settings of vmprof-lab that these functions read.  (Declaring them
# here keeps the values that vmprof-lab gave them.)
declare -g tmp qemu kver module boot_kernel opt_memory opt_cpus opt_accel \
	opt_append opt_shell opt_verbose opt_swap opt_swap_iops opt_timeout \
	opt_dmesg opt_module_args
declare -g -a rw_dirs

# The state of the run: what cleanup stops, what run_vm found.
vm_pid='' stream_pids=() stty_saved='' vm_status=0 elapsed=0
qemu_args=() timeout_cmd=()

# qemu_path PATH: PATH escaped for a qemu -option value (commas doubled).
qemu_path() {
	printf '%s' "${1//,/,,}"
}

# cleanup: vmprof-lab's EXIT trap: stop the VM and the streams, restore the
# terminal, remove the temporary directory; exit with the status it had.
cleanup() {
	local status=$? p
	trap - EXIT HUP INT TERM
	if [[ -n $vm_pid ]] && kill -0 "$vm_pid" 2>/dev/null; then
		# qemu (or timeout(1), which passes the signal on to qemu and
		# SIGKILLs it 5 s later) shuts the VM down on SIGTERM.
		kill -TERM "$vm_pid" 2>/dev/null || true
		wait "$vm_pid" 2>/dev/null || true
	fi
	for p in "${stream_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [[ -n $stty_saved ]]; then stty "$stty_saved" 2>/dev/null || true; fi
	if [[ -n $tmp ]]; then rm -rf -- "$tmp"; fi
	exit "$status"
}

# qemu_command: set qemu_args (and timeout_cmd): the VM of this run, which
# boots boot_kernel with the initramfs TMP/initrd.cpio.
qemu_command() {
	local append port i throttle
	append="console=ttyS0 rdinit=/init panic=-1 oops=panic"
	if ((opt_verbose)); then
		append+=" loglevel=7"
	else
		append+=" quiet loglevel=3"
	fi
	append+=$opt_append

	qemu_args=(-machine q35 -nodefaults -no-user-config -display none -no-reboot
		-m "$opt_memory" -smp "$opt_cpus"
		-kernel "$(qemu_path "$boot_kernel")" -initrd "$(qemu_path "$tmp/initrd.cpio")"
		-append "$append")
	if [[ $opt_accel == kvm ]]; then
		qemu_args+=(-accel kvm -cpu host)
	elif ((opt_cpus > 1)); then
		qemu_args+=(-accel "tcg,thread=multi" -cpu max)
	else
		qemu_args+=(-accel tcg -cpu max)
	fi

	# The console: to a file (streamed to stderr with --verbose), or with
	# --shell to the terminal (raw: ^C goes to the guest; qemu's escape ^A x
	# stops the VM) and a copy to a file.
	if ((opt_shell)); then
		qemu_args+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$(qemu_path "$tmp/console.log")")
	else
		qemu_args+=(-chardev "file,id=con,path=$(qemu_path "$tmp/console.log")")
	fi
	qemu_args+=(-serial chardev:con -device "virtio-serial-pci,id=vser")
	for port in out err ctl dmesg; do
		: >"$tmp/$port"
		qemu_args+=(-chardev "file,id=$port,append=on,path=$(qemu_path "$tmp/$port")"
			-device "virtserialport,bus=vser.0,chardev=$port,name=$port")
	done

	# The host's file system read-only, and the writable shares.
	qemu_args+=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
		-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot")
	mkdir -p "$tmp/share"
	qemu_args+=(-fsdev "local,id=labshare,path=$(qemu_path "$tmp/share"),security_model=none"
		-device "virtio-9p-pci,fsdev=labshare,mount_tag=labshare")
	for i in "${!rw_dirs[@]}"; do
		qemu_args+=(-fsdev "local,id=rw$i,path=$(qemu_path "${rw_dirs[$i]}"),security_model=none,multidevs=remap"
			-device "virtio-9p-pci,fsdev=rw$i,mount_tag=rw$i")
	done

	if ((opt_swap > 0)); then
		truncate -s "${opt_swap}M" "$tmp/swap.img"
		throttle=
		((opt_swap_iops == 0)) || throttle=",throttling.iops-total=$opt_swap_iops"
		qemu_args+=(-drive "file=$(qemu_path "$tmp/swap.img"),if=virtio,format=raw,cache=unsafe$throttle")
	fi

	verbose "$qemu ${qemu_args[*]}"

	timeout_cmd=()
	if ((opt_timeout > 0)); then
		timeout_cmd=(timeout -k 5)
		((opt_shell)) && timeout_cmd+=(--foreground)
		timeout_cmd+=("$opt_timeout")
	fi
}

# run_vm: boot the VM and wait for it to end (sets vm_status, elapsed).
run_vm() {
	local start=$SECONDS p
	: >"$tmp/console.log"
	if ((opt_shell)); then
		[[ -t 0 ]] && stty_saved=$(stty -g 2>/dev/null || true)
		warn "booting the guest (kernel $kver); exit the shell to power it off" \
			"(or type Ctrl-A x to stop the VM)."
		"${timeout_cmd[@]}" "$qemu" "${qemu_args[@]}" <&0 2>"$tmp/qemu.log" &
		vm_pid=$!
	else
		"${timeout_cmd[@]}" "$qemu" "${qemu_args[@]}" </dev/null >/dev/null 2>"$tmp/qemu.log" &
		vm_pid=$!
		# Stream the command's output while the VM runs; each tail ends after
		# qemu has exited and it has copied the rest.  (Their own complaints,
		# such as "inotify resources exhausted", must not mix with the output.)
		tail -c +1 -s 0.1 --pid="$vm_pid" -f "$tmp/out" 2>/dev/null &
		stream_pids+=($!)
		tail -c +1 -s 0.1 --pid="$vm_pid" -f "$tmp/err" >&2 2>/dev/null &
		stream_pids+=($!)
		if ((opt_verbose)); then
			tail -c +1 -s 0.1 --pid="$vm_pid" -f "$tmp/console.log" >&2 2>/dev/null &
			stream_pids+=($!)
		fi
	fi

	vm_status=0
	wait "$vm_pid" || vm_status=$?
	vm_pid=''
	for p in "${stream_pids[@]}"; do
		wait "$p" || true
	done
	stream_pids=()
	elapsed=$((SECONDS - start))
}

# run_guest: run the VM; once more if its kernel crashed while booting.
run_guest() {
	local port
	run_vm
	# A crash of the guest kernel while it boots, before /init reached the
	# module, cannot come from vmprof: under TCG it happens now and then (an
	# int3 oops in sched_clock_cpu while the kernel patches its own text was
	# seen).  Boot once more, and say so.
	if ((!opt_shell)) && [[ ! -e $tmp/share/module-step ]] &&
		grep -qs 'Kernel panic - not syncing' "$tmp/console.log"; then
		warn "the guest kernel crashed while booting, before /init loaded" \
			"the module; booting it once more (the first console is in" \
			"$tmp/console-1.log while this runs)."
		mv "$tmp/console.log" "$tmp/console-1.log"
		for port in out err ctl dmesg; do
			: >"$tmp/$port"
		done
		run_vm
	fi
	if [[ -n $stty_saved ]]; then
		stty "$stty_saved" 2>/dev/null || true
		stty_saved=''
	fi
}

# show_console: the end of the guest console, to tell what went wrong.
show_console() {
	if [[ -s $tmp/qemu.log ]]; then
		warn "qemu said:"
		sed 's/^/  | /' "$tmp/qemu.log" >&2
	fi
	if [[ -s $tmp/console.log ]]; then
		local lines first
		tr -d '\r' <"$tmp/console.log" >"$tmp/console.txt"
		lines=$(wc -l <"$tmp/console.txt")
		# The start of the first oops may have scrolled out of the last
		# 50 lines: it says most about what happened, so show it too.
		first=$(grep -n -m1 -E 'BUG:|Oops|general protection fault|Kernel panic|Unable to handle' \
			"$tmp/console.txt" | cut -d: -f1 || true)
		if [[ -n $first ]] && ((first < lines - 50)); then
			warn "guest console, from the first error on:"
			sed -n "${first},$((first + 9))p" "$tmp/console.txt"
			((first + 10 >= lines - 49)) || echo "..."
			tail -n +$((first + 10 > lines - 49 ? first + 10 : lines - 49)) "$tmp/console.txt"
		else
			warn "last lines of the guest console:"
			tail -n 50 "$tmp/console.txt"
		fi | sed 's/^/  | /' >&2
	fi
}

# exit_with_result: exit as the guest reported, or say what went wrong.
exit_with_result() {
	local report status before why
	report=$(tail -n 1 "$tmp/ctl" 2>/dev/null || true)
	if [[ -n $opt_dmesg ]]; then
		if [[ -s $tmp/dmesg ]]; then
			cp -- "$tmp/dmesg" "$opt_dmesg"
		elif [[ $report != STATUS* ]]; then
			# The guest died before it could save dmesg: the console is all
			# there is (a panic or oops is always on it).
			tr -d '\r' <"$tmp/console.log" >"$opt_dmesg"
		fi
	fi

	case $report in
	"STATUS "*)
		status=${report#STATUS }
		verbose "the command exited with status $status after ${elapsed}s"
		is_uint "$status" || die "$EX_VMFAIL" "the guest reported a bad status '$status'."
		exit "$status"
		;;
	"MODFAIL "*)
		# "MODFAIL N insmod's message", N = lines in dmesg before the insmod.
		report=${report#MODFAIL }
		before=${report%% *}
		is_uint "$before" || before=0
		printf '%s: error: cannot load %s into the kernel %s of the guest:\n  %s\n' \
			"$PROG" "$module${opt_module_args:+ ($opt_module_args)}" "$kver" "${report#* }" >&2
		if [[ -s $tmp/dmesg ]]; then
			printf '  kernel messages since the insmod:\n' >&2
			{ tail -n +$((before + 1)) "$tmp/dmesg" | grep . || tail -n 10 "$tmp/dmesg"; } |
				tail -n 40 | sed 's/^/  | /' >&2
		fi
		exit "$EX_MODFAIL"
		;;
	"VMFAIL "*)
		show_console
		die "$EX_VMFAIL" "the guest could not be set up: ${report#VMFAIL }"
		;;
	esac

	if ((opt_timeout > 0)) && ((vm_status == 124 || vm_status == 137)) &&
		((elapsed >= opt_timeout)); then
		: >"$tmp/qemu.log" # only "terminating on signal 15"
		show_console
		die "$EX_TIMEOUT" "timed out after ${opt_timeout}s; the VM was killed." \
			"Give it more time with --timeout SEC (0 = no limit)."
	fi
	# With --shell, the console was on the terminal anyway.
	if ((!opt_shell)) || grep -qs 'Kernel panic - not syncing' "$tmp/console.log"; then
		show_console
	fi
	if grep -qs 'Kernel panic - not syncing' "$tmp/console.log"; then
		why="the guest kernel panicked (see above)."
	elif ((vm_status != 0)); then
		why="qemu failed (exit status $vm_status; see above)."
	elif ((opt_shell)); then
		die "$EX_VMFAIL" "the VM was stopped before the shell exited."
	else
		why="the VM stopped without reporting the command's exit status."
	fi
	die "$EX_VMFAIL" "$why" "More detail: run again with --verbose (kernel console on stderr)."
}
