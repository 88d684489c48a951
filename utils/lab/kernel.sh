# shellcheck shell=bash
# kernel.sh - vmprof-lab's kernel helpers: the kernel to boot and its
# release, the module to load, the kernel modules the guest needs.
#
# Sourced by vmprof-lab, which installs it with its other parts in
# PKGDATADIR/lab/ (utils/lab/ in the sources).  Functions only, working on
# their arguments; they use vmprof-lab's messages (warn, die, missing,
# verbose), exit statuses (EX_*) and helpers (is_uint, find_tool).

# kernel_image_version FILE: the release string embedded in a bzImage.
kernel_image_version() {
	local f=$1 magic off
	magic=$(dd if="$f" bs=1 skip=514 count=4 2>/dev/null) || return 1
	[[ $magic == HdrS ]] || return 1
	off=$(od -An -tu2 -j526 -N2 "$f" 2>/dev/null | tr -d ' ') || return 1
	is_uint "$off" || return 1
	((off > 0)) || return 1
	dd if="$f" bs=1 skip=$((off + 512)) count=128 2>/dev/null |
		tr '\0' '\n' | head -n1 | cut -d' ' -f1
}

# extract_vmlinux BZIMAGE OUT: decompress the kernel inside a bzImage into
# the ELF file OUT.  Decompressing xz in the guest costs about 3 s under TCG;
# an uncompressed vmlinux with a PVH entry point (CONFIG_PVH) boots directly.
extract_vmlinux() {
	local img=$1 out=$2 setup_sects payload_offset payload_length magic tool
	setup_sects=$(od -An -tu1 -j$((0x1f1)) -N1 "$img" | tr -d ' ')
	payload_offset=$(od -An -tu4 -j$((0x248)) -N4 "$img" | tr -d ' ')
	payload_length=$(od -An -tu4 -j$((0x24c)) -N4 "$img" | tr -d ' ')
	if ! is_uint "$setup_sects" || ! is_uint "$payload_offset" ||
		! is_uint "$payload_length"; then
		return 1
	fi
	((setup_sects > 0)) || setup_sects=4
	payload() {
		tail -c +$(((setup_sects + 1) * 512 + payload_offset + 1)) -- "$img" |
			head -c "$payload_length"
	}
	magic=$(payload 2>/dev/null | od -An -tx1 -N6 | tr -d ' \n' || true)
	case $magic in
	fd377a585a00) tool=(xz -dc --single-stream) ;;
	1f8b*) tool=(gzip -dc) ;;
	28b52ffd*) tool=(zstd -dcq) ;;
	02214c18*) tool=(lz4 -dc) ;;
	5d00*) tool=(xz -dc --format=lzma) ;;
	425a68*) tool=(bzip2 -dc) ;;
	*) return 1 ;;
	esac
	command -v "${tool[0]}" >/dev/null || return 1
	# The payload carries its length at the end; decompressors may complain
	# about that "trailing garbage": judge by the result instead.
	payload | "${tool[@]}" >"$out" 2>/dev/null || true
	[[ $(od -An -c -N4 "$out" 2>/dev/null | tr -d ' ') == '177ELF' ]]
}

# module_field PATH FIELD: a field of a module's .modinfo (vermagic, depends).
module_field() {
	local modinfo
	modinfo=$(find_tool modinfo) || return 1
	"$modinfo" -F "$2" "$1" 2>/dev/null
}

# copy_module SRC DEST: copy a .ko, decompressing .ko.xz/.ko.zst/.ko.gz.
copy_module() {
	local src=$1 dest=$2 tool
	case $src in
	*.ko.xz) tool=xz ;;
	*.ko.zst) tool=zstd ;;
	*.ko.gz) tool=gzip ;;
	*)
		cp -- "$src" "$dest"
		return
		;;
	esac
	command -v "$tool" >/dev/null ||
		missing "$src is compressed, but '$tool' is not installed." \
			"$([[ $tool == zstd ]] && echo zstd || echo "$tool-utils")"
	"$tool" -dc -- "$src" >"$dest"
}

# newest_kver: the release of the newest /boot/vmlinuz-*.
newest_kver() {
	local f
	f=$(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -V | tail -n1)
	[[ -n $f ]] && printf '%s\n' "${f#/boot/vmlinuz-}"
}

# module_to_load PATH KVER DIR: print the absolute path of the module to
# load: PATH (from --module) if not empty, else $VMPROF_MODULE, else
# DIR/../src/vmprof.ko (DIR is vmprof-lab's own: in the build tree, the
# freshly built module), else the one that dkms built for the kernel KVER
# (if empty, the newest).  None, or not readable: exit 2.
module_to_load() {
	local module=$1 dir=$3 dkms_dir c
	if [[ -n $module ]]; then
		[[ -f $module && -r $module ]] ||
			die "$EX_USAGE" "--module: cannot read '$module'."
	elif [[ -n ${VMPROF_MODULE:-} ]]; then
		[[ -f $VMPROF_MODULE && -r $VMPROF_MODULE ]] ||
			die "$EX_USAGE" "VMPROF_MODULE: cannot read '$VMPROF_MODULE'."
		module=$VMPROF_MODULE
	else
		dkms_dir=/lib/modules/${2:-$(newest_kver || true)}/updates/dkms
		for c in "$dir/../src/vmprof.ko" "$dkms_dir/vmprof.ko" \
			"$dkms_dir/vmprof.ko.xz" "$dkms_dir/vmprof.ko.zst" "$dkms_dir/vmprof.ko.gz"; do
			if [[ -f $c ]]; then
				module=$c
				break
			fi
		done
		[[ -n $module ]] ||
			die "$EX_USAGE" "vmprof.ko not found; looked for:" \
				"$dir/../src/vmprof.ko" "$dkms_dir/vmprof.ko" \
				"Build it first (make), name one with --module PATH or" \
				"VMPROF_MODULE=PATH, or run without a module: --no-module."
	fi
	printf '%s\n' "$(cd -- "$(dirname -- "$module")" && pwd -P)/$(basename -- "$module")"
}

# boot_release MODULE: print the release to boot: the one MODULE (if not
# empty) was built for, else that of the newest kernel.  None: exit 77.
boot_release() {
	local module=$1 vermagic kver=''
	if [[ -n $module ]]; then
		vermagic=$(module_field "$module" vermagic || true)
		kver=${vermagic%% *}
		[[ -n $kver ]] ||
			warn "cannot read the vermagic of $module; booting the newest kernel."
	fi
	if [[ -z $kver ]]; then
		kver=$(newest_kver || true)
		[[ -n $kver ]] || missing "no kernel found in /boot (vmlinuz-*)." linux-image-amd64
	fi
	printf '%s\n' "$kver"
}

# check_kernel KERNEL KVER MODDIR: the kernel image KERNEL and the modules
# of release KVER, in MODDIR/lib/modules/KVER, are there, or exit.
check_kernel() {
	local kernel=$1 kver=$2 moddir=$3
	[[ -e $kernel ]] ||
		missing "kernel image $kernel not found (kernel $kver is not installed)." \
			"linux-image-$kver"
	[[ -r $kernel ]] ||
		die "$EX_SKIP" "cannot read the kernel image $kernel (permission denied)." \
			"Make it readable (chmod 0644 $kernel as root), or run as root."
	if [[ -n $moddir && ! -d $moddir/lib/modules/$kver ]]; then
		die "$EX_USAGE" "--moddir: no $moddir/lib/modules/$kver (the modules of kernel $kver)."
	fi
	[[ -d ${moddir}/lib/modules/$kver/kernel ]] ||
		missing "the modules of kernel $kver are missing (${moddir}/lib/modules/$kver)." \
			"linux-image-$kver"
}

# copy_drivers DIR KVER MODDIR SWAP MODULE: copy into DIR, as NN-NAME.ko
# in load order, the kernel modules of release KVER (in
# MODDIR/lib/modules/KVER) that the guest needs, with those they depend on:
# virtio-pci, 9p over virtio (the host's files), virtio-serial (the I/O
# streams), overlayfs (/tmp), if SWAP is not 0 virtio-blk, and those that
# MODULE (vmprof.ko, or empty) depends on (normally none).  modprobe lists
# each one's dependencies in load order; those built into the kernel are
# listed as "builtin" and skipped.
copy_drivers() {
	local dir=$1 kver=$2 moddir=$3 swap=$4 module=$5 modprobe m out kind path name n=0
	local -a want=(virtio_pci 9pnet_virtio 9p virtio_console overlay) deps root=()
	local -A seen=()
	modprobe=$(find_tool modprobe) || return 1
	[[ -z $moddir ]] || root=(-d "$moddir")
	((swap == 0)) || want+=(virtio_blk)
	if [[ -n $module ]]; then
		IFS=, read -r -a deps <<<"$(module_field "$module" depends || true)"
		want+=("${deps[@]}")
	fi
	for m in "${want[@]}"; do
		[[ -n $m ]] || continue
		if ! out=$("$modprobe" "${root[@]}" -S "$kver" --show-depends "$m" 2>&1); then
			# Without overlayfs, /tmp in the guest is an empty tmpfs.
			[[ $m == overlay ]] && continue
			die "$EX_SKIP" "kernel $kver has no module '$m':" "$out" \
				"vmprof-lab needs a kernel with virtio and 9p support (Debian's has)."
		fi
		while read -r kind path _; do
			[[ $kind == insmod && -n $path && -z ${seen[$path]:-} ]] || continue
			seen[$path]=1
			name=${path##*/}
			name=${name%%.ko*}
			copy_module "$path" "$(printf '%s/%02d-%s.ko' "$dir" "$n" "$name")"
			n=$((n + 1))
		done <<<"$out"
	done
}

# boot_image KERNEL KVER TMP: print the image to boot for the bzImage
# KERNEL of release KVER: an uncompressed kernel when we can make one (in
# the directory TMP), else KERNEL.  Decompressing the distribution's
# xz-compressed bzImage takes the guest about 3 s under TCG, while an ELF
# vmlinux with a PVH entry point (CONFIG_PVH) boots directly.  The
# decompressed kernel is kept in a cache (one per kernel release).
boot_image() {
	local kernel=$1 kver=$2 tmp=$3 cache_dir cached
	if [[ -v VMPROF_LAB_CACHE ]]; then
		cache_dir=$VMPROF_LAB_CACHE
	elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
		cache_dir=$XDG_CACHE_HOME/vmprof-lab
	elif [[ -n ${HOME:-} && $HOME != / ]]; then
		cache_dir=$HOME/.cache/vmprof-lab
	else
		cache_dir=''
	fi
	cached=$cache_dir/vmlinux-$kver-$(stat -c '%s-%Y' -- "$kernel")
	if [[ -n $cache_dir && -f $cached && -r $cached ]]; then
		printf '%s\n' "$cached"
	elif extract_vmlinux "$kernel" "$tmp/vmlinux"; then
		printf '%s\n' "$tmp/vmlinux"
		if [[ -n $cache_dir ]] && mkdir -p -- "$cache_dir" 2>/dev/null &&
			cp -- "$tmp/vmlinux" "$cached.$$" 2>/dev/null &&
			mv -f -- "$cached.$$" "$cached"; then
			# Forget older images of the same release.
			find "$cache_dir" -maxdepth 1 -name "vmlinux-$kver-*" \
				! -name "${cached##*/}" -delete 2>/dev/null || true
		else
			rm -f -- "$cached.$$"
		fi
	else
		rm -f -- "$tmp/vmlinux"
		verbose "cannot decompress $kernel; booting it as it is (slower)"
		printf '%s\n' "$kernel"
	fi
}
