#!/bin/sh
# init.sh - the /init of a vmprof-lab guest: its PID 1, run by busybox ash.
#
# vmprof-lab copies this file into the guest's initramfs as /init, beside a
# static busybox that /bin/sh links to, and the settings of the run in
# /lab/conf (see initramfs.sh).  It sets up the mounts, loads the module,
# runs the command chrooted into the host's file system, reports its exit
# status on the "ctl" port and powers off.  If it ever exits, the kernel
# panics, and panic=-1 -no-reboot ends qemu.  Installed with vmprof-lab's
# other parts in PKGDATADIR/lab/ (utils/lab/ in the sources).
# shellcheck disable=SC2015 # (A && B || fail: fail when any step fails)
if [ $$ != 1 ]; then
	echo "$0: the /init of a vmprof-lab guest, not a command" >&2
	exit 1
fi
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname vmprof-lab
# shellcheck source=/dev/null
. /lab/conf

CTL=''
say() { echo "vmprof-lab guest: $*" >/dev/console; }
# fail MESSAGE: the guest could not be set up; tell the host, power off.
fail() {
	say "$*"
	if [ -n "$CTL" ]; then echo "VMFAIL $*" >"$CTL"; fi
	poweroff -f
}
# step WHAT: with --verbose, log the progress of the set-up with the uptime.
step() {
	if [ "$LAB_VERBOSE" = 1 ]; then
		read -r up _ </proc/uptime
		say "[$up] $*"
	fi
}
# wait_for TEST...: poll (10 ms) for up to 10 s until TEST succeeds.
wait_for() {
	n=0
	until "$@"; do
		n=$((n + 1))
		[ $n -lt 1000 ] || return 1
		usleep 10000
	done
}

step "loading drivers"
# Drivers, in dependency order.  "File exists" (already loaded) is fine.
for m in /lab/modules/*.ko; do
	[ -e "$m" ] || continue
	if ! out=$(insmod "$m" 2>&1); then
		case $out in *'File exists'*) ;; *) say "insmod $m: $out" ;; esac
	fi
done

# The virtio-serial ports show up asynchronously; find them by name.
OUT='' ERR='' DMESGP=''
find_ports() {
	for p in /sys/class/virtio-ports/*; do
		[ -r "$p/name" ] && [ -c "/dev/${p##*/}" ] || continue
		case $(cat "$p/name") in
		out) OUT=/dev/${p##*/} ;;
		err) ERR=/dev/${p##*/} ;;
		ctl) CTL=/dev/${p##*/} ;;
		dmesg) DMESGP=/dev/${p##*/} ;;
		esac
	done
	[ -n "$OUT" ] && [ -n "$ERR" ] && [ -n "$CTL" ] && [ -n "$DMESGP" ]
}
wait_for find_ports || fail "the virtio-serial ports did not show up"
step "mounting file systems"

# The host's root file system, read-only; the guest's own /proc, /sys, /dev.
R=/newroot
NINEP=trans=virtio,version=9p2000.L,msize=$LAB_MSIZE
mount -t 9p -o "$NINEP,ro,cache=loose" hostroot $R ||
	fail "cannot mount the host file system over 9p"
mount -t proc proc $R/proc &&
	mount -t sysfs sysfs $R/sys &&
	mount -t devtmpfs devtmpfs $R/dev ||
	fail "cannot mount /proc, /sys and /dev"
mkdir -p $R/dev/pts $R/dev/shm
# What udev would add: bash's process substitution needs /dev/fd.
ln -sf /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin
ln -sf /proc/self/fd/1 $R/dev/stdout
ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
[ -d $R/sys/kernel/debug ] && mount -t debugfs debugfs $R/sys/kernel/debug
# The cgroup v2 hierarchy, as systemd mounts it: vmprof run gives the
# command a cgroup of its own there (its memory.pressure).
[ -d $R/sys/fs/cgroup ] && mount -t cgroup2 cgroup2 $R/sys/fs/cgroup
mount -t tmpfs -o mode=755 tmpfs $R/run || fail "cannot mount /run"
# /tmp and /var/tmp show the host's files under a private writable layer
# (an empty tmpfs when overlayfs does not work).
mount -t tmpfs -o mode=755 tmpfs /ovl
for d in tmp var/tmp; do
	[ -d "$R/$d" ] || continue
	u=/ovl/$d/upper w=/ovl/$d/work
	mkdir -p "$u" "$w" && chmod 1777 "$u"
	mount -t overlay -o "lowerdir=$R/$d,upperdir=$u,workdir=$w" overlay "$R/$d" 2>/dev/null ||
		mount -t tmpfs -o mode=1777 tmpfs "$R/$d" ||
		fail "cannot mount /$d"
done
# The writable shares: the current directory and the --rw directories.
i=0
while [ $i -lt "$LAB_NRW" ]; do
	eval "d=\$LAB_RW_$i"
	mkdir -p "$R$d" 2>/dev/null
	mount -t 9p -o "$NINEP,cache=mmap" "rw$i" "$R$d" ||
		fail "cannot mount $d read-write over 9p"
	i=$((i + 1))
done

# The guest's clock comes from the RTC, in whole seconds, and lags the host
# by up to a second: files the guest writes on a share (their times are the
# host's) would seem to come from the future (make: "Clock skew detected").
# So set it from the modification time of a file touched on the host, with
# the host's date(1).  That first setting lags by the time it took to load
# date; the second one makes up for that (up to 0.25 s), so that the clock
# ends up a few hundredths of a second ahead rather than behind.
no0() { # a decimal number without leading zeros (ash reads 010 as octal)
	set -- "${1#"${1%%[!0]*}"}"
	echo "${1:-0}"
}
centisecs() { # the uptime, in centiseconds
	read -r up _ </proc/uptime
	no0 "${up%.*}${up#*.}"
}
host_ns() { # the host's time, in nanoseconds
	touch /lab/share/clock || return 1
	# shellcheck disable=SC2046
	set -- $(stat -c '%Y %y' /lab/share/clock)
	echo $(($1 * 1000000000 + $(no0 "${3#*.}")))
}
set_clock() { # set_clock NANOSECONDS
	chroot $R /bin/date -s "@$(($1 / 1000000000)).$(printf %09d $(($1 % 1000000000)))" \
		>/dev/null 2>&1
}
step "setting the clock"
mkdir -p /lab/share
ns=''
if mount -t 9p -o "$NINEP,cache=none" labshare /lab/share && ns=$(host_ns) &&
	t0=$(centisecs) && set_clock "$ns"; then
	delay=$(($(centisecs) - t0))
	[ $delay -le 25 ] || delay=25
	ns=$(host_ns) && set_clock $((ns + delay * 10000000))
elif [ -n "$ns" ]; then
	date -s "@$((ns / 1000000000))" >/dev/null # no GNU date: to the second
fi

if [ "$LAB_SWAP" = 1 ]; then
	step "enabling swap"
	wait_for [ -b /dev/vda ] && mkswap /dev/vda >/dev/null && swapon /dev/vda ||
		fail "cannot set up swap on /dev/vda"
fi

# The host's sign that the guest got this far: a kernel crash before this
# point has nothing to do with the module.
: >/lab/share/module-step 2>/dev/null || true
# The module: a copy in /run/vmprof-lab of the guest, loaded with the host's
# insmod (kmod) when there is one.  (busybox insmod retries a module whose
# init fails with init_module(), running its init function twice.)
if [ -n "$LAB_MODULE" ]; then
	step "loading the module"
	mkdir -p $R/run/vmprof-lab
	cp "/lab/module/$LAB_MODULE" $R/run/vmprof-lab/
	before=$(dmesg | wc -l)
	set -f # the parameters are split at blanks, but not globbed
	# shellcheck disable=SC2086
	out=$(chroot $R /sbin/insmod "/run/vmprof-lab/$LAB_MODULE" $LAB_MODULE_ARGS 2>&1)
	st=$?
	if [ $st = 126 ] || [ $st = 127 ]; then # no kmod on the host
		# shellcheck disable=SC2086
		out=$(insmod "$R/run/vmprof-lab/$LAB_MODULE" $LAB_MODULE_ARGS 2>&1)
		st=$?
	fi
	set +f
	if [ $st != 0 ]; then
		dmesg >"$DMESGP"
		# shellcheck disable=SC2086
		echo "MODFAIL $before" $out >"$CTL"
		poweroff -f
	fi
fi

step "running the command"
if [ "$LAB_SHELL" = 1 ]; then
	stty -F /dev/ttyS0 rows "$LAB_ROWS" cols "$LAB_COLS" 2>/dev/null
	lab_run </dev/ttyS0 >/dev/ttyS0 2>&1
	rc=$?
else
	# The command writes into pipes, not into the ports: a port can be
	# opened only once, but a program may well reopen /dev/stdout.
	mkfifo /lab/out.fifo /lab/err.fifo
	cat /lab/out.fifo >"$OUT" &
	out_pid=$!
	cat /lab/err.fifo >"$ERR" &
	err_pid=$!
	lab_run </dev/null >/lab/out.fifo 2>/lab/err.fifo
	rc=$?
	# Whatever the command left running dies now, as it would when the VM
	# powers off; then the pipes reach EOF and the copies finish.
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		case $p in 1 | "$out_pid" | "$err_pid") ;; *) kill -9 "$p" 2>/dev/null ;; esac
	done
	wait "$out_pid" "$err_pid"
fi

step "the command exited with status $rc"
if [ "$LAB_DMESG" = 1 ]; then dmesg >"$DMESGP"; fi
sync
echo "STATUS $rc" >"$CTL"
poweroff -f
