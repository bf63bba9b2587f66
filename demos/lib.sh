# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# What the demos share; sourced, not run. Each demo:
#   . "$(dirname "$0")/../lib.sh"; demo_init NAME
# then records with `lttng` commands (shown as they run, with `say`) and
# looks at the traces with `show`, the one place that runs a viewer.
#
# Environment:
#   PYUST_PREFIX       where pyust is installed (default /usr/local), e.g. an
#                      in-tree build's build/prefix-0
#   PYUST_PLUGIN_PATH  the Babeltrace 2 plugin's directory (default
#                      PYUST_PREFIX/lib/babeltrace2/plugins)
#   PYTHON             the interpreter (default /usr/bin/python3, which the
#                      quick start builds for)
#   OUT                where traces and views go (default a new /tmp directory)

set -euo pipefail

demo_init() { # NAME
	prefix=${PYUST_PREFIX:-/usr/local}
	plugins=${PYUST_PLUGIN_PATH:-$prefix/lib/babeltrace2/plugins}
	python=${PYTHON:-/usr/bin/python3}
	libpyust="$prefix/lib/libpyust.so"
	out=${OUT:-$(mktemp -d "/tmp/pyust-$1.XXXXXX")}
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	local f
	for f in "$libpyust" "$plugins/babeltrace-plugin-pyust.so"; do
		if [ ! -e "$f" ]; then
			echo "$1: $f is missing: install pyust (demos/quickstart), or set" \
				"PYUST_PREFIX to where it is installed" >&2
			exit 1
		fi
	done
	for f in lttng lttng-sessiond babeltrace2 "$python"; do
		if ! command -v "$f" >/dev/null; then
			echo "$1: $f is not installed (demos/quickstart installs what is missing)" >&2
			exit 1
		fi
	done
	_cleanups=()
	trap _demo_exit EXIT
	sessiond_ensure
}

# Run at exit, last registered first.
at_exit() {
	_cleanups+=("$*")
}

_demo_exit() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[i]}" || true
	done
}

# Print a command, then run it with its output out of the way (kept in
# $out/lttng.log); its errors are shown when it fails.
say() {
	local a line="  \$"
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
			line+=" $a"
		else
			line+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	echo "$line"
	if ! "$@" >>"$out/lttng.log" 2>&1; then
		echo "failed: $*" >&2
		tail -n 5 "$out/lttng.log" >&2
		return 1
	fi
}

# A session daemon: the one that runs (the user's, the system's, a test's),
# else one started here and stopped at exit.
sessiond_ensure() {
	if lttng list >/dev/null 2>&1; then
		return
	fi
	local rundir pid
	if [ "$(id -u)" = 0 ]; then
		rundir=/run/lttng
	else
		rundir=${LTTNG_HOME:-$HOME}/.lttng
	fi
	echo "== no session daemon runs: starting one (lttng-sessiond --daemonize), stopped at the end"
	lttng-sessiond --daemonize
	pid=$(cat "$rundir/lttng-sessiond.pid")
	at_exit "sessiond_stop $pid"
}

sessiond_stop() { # PID
	kill "$1" 2>/dev/null || return 0
	local _
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
}

# Succeeds when the session daemon can record kernel events; otherwise sets
# kernel_why to the reason.
kernel_tracer() {
	kernel_why=""
	if lttng list -k >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" != 0 ] && ! id -nG | grep -qw tracing; then
		kernel_why="recording kernel events takes root or the tracing group"
	elif [ ! -d /sys/module/lttng_tracer ] &&
		! find "/lib/modules/$(uname -r)" -name 'lttng-tracer.ko*' 2>/dev/null | grep -q .; then
		kernel_why="the LTTng kernel modules (lttng-modules-dkms) are not installed for Linux $(uname -r)"
	else
		kernel_why="the session daemon runs without its kernel tracer (started with --no-kernel, or not as root)"
	fi
	return 1
}

# The one way the demos look at a trace: the pyust plugin's sink VIEW
# (stack, flow, calltime, calldist, folded, flamegraph, speedscope) over
# TRACE, on standard output. --debug-info names native functions (from the
# ip and vpid contexts and the statedump); PARAMS are the sink's, as in
# 'name="new_cat_video",top=5'.
show() { # [--debug-info] TRACE VIEW [PARAMS]
	local debug_info=""
	if [ "$1" = --debug-info ]; then
		debug_info=--debug-info
		shift
	fi
	babeltrace2 --plugin-path "$plugins" "$1" $debug_info -c "sink.pyust.$2" ${3:+-p "$3"}
}

# Print the first N lines of FILE, then where the rest is.
excerpt() { # FILE N
	sed -n "1,$2p" "$1"
	local total
	total=$(wc -l <"$1")
	if [ "$total" -gt "$2" ]; then
		echo "   ... $((total - $2)) more lines in $1"
	fi
}
