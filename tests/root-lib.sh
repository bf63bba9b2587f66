# SPDX-License-Identifier: MIT
#
# What tests/in-root and tests/quickstart-check share: making a Debian root
# with debootstrap and mounting what a chroot needs to run lttng-sessiond and
# the test suite. Sourced, not run.

# root_make RELEASE ROOT LOG [PACKAGES]: debootstrap minbase plus PACKAGES
# (comma-separated) from MIRROR, then what the Debian installer writes and
# debootstrap does not.
root_make() {
	local release=$1 root=$2 log=$3 include=ca-certificates${4:+,$4}

	if ! command -v debootstrap >/dev/null; then
		echo "== installing debootstrap" >&2
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
	fi
	debootstrap --variant=minbase --include="$include" "$release" "$root" \
		"${MIRROR:-http://deb.debian.org/debian}" >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; return 1; }
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# Without it "localhost" does not resolve, and CPython's test_logging hangs.
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
		"$(hostname)" >"$root/etc/hosts"
	# A mirror's Release files carry an end of validity that a copy of the
	# archive kept for a while outlives; the signatures are still checked.
	echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99pyust"
}

# root_mount ROOT: in a private mount namespace (unshare --mount
# --propagation private), so that nothing stays mounted whatever happens.
# lttng-sessiond needs /run/lttng for its sockets, /dev/shm for the buffers it
# shares with the traced programs and /proc for itself and the statedump.
root_mount() {
	local root=$1

	# A mount point, as / is on a machine: tests/isolate's unshare needs one.
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --bind /dev "$root/dev"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null ||
		mount --bind /dev/pts "$root/dev/pts"
	mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
	mount -t tmpfs -o mode=755 run "$root/run"
}

# The environment a command starts with in the root: nothing of the caller's.
root_env=(HOME=/root LANG=C.UTF-8 TERM=dumb
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
