# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# What the four steps of the HTTP server demo share; sourced by each.
# REQUESTS (default 24) is the size of the load.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib.sh"

# httpserver_init STEP: checks, a session daemon, and the session's name.
httpserver_init() {
	demo_init "httpserver-$1"
	requests=${REQUESTS:-24}
	session="httpserver-$1-$$"
	trace="$out/trace"
	rm -rf "${trace:?}"
	at_exit "lttng destroy $session >/dev/null 2>&1"
}

# Start the server, preloaded, with ENV... added to its environment; it
# idles until a session wants its events. Sets server_pid and port.
start_server() { # [ENV...]
	rm -f "$out/port"
	echo "== the server: LD_PRELOAD=$libpyust $python server.py (logs in $out/server.log)"
	env "$@" LD_PRELOAD="$libpyust" "$python" "$here/server.py" "$here/site" "$out/port" 120 \
		2>"$out/server.log" &
	server_pid=$!
	at_exit "stop_server"
	local _
	for _ in $(seq 100); do
		[ -s "$out/port" ] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$out/port" ]; then
		echo "the server did not start:" >&2
		cat "$out/server.log" >&2
		exit 1
	fi
	port=$(cat "$out/port")
	echo "   pid $server_pid, listening on http://127.0.0.1:$port"
}

stop_server() {
	[ -n "${server_pid:-}" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	wait "$server_pid" || true
	server_pid=""
}

# N requests (default REQUESTS), from a client that is not traced.
load() { # [N]
	"$python" "$here/load.py" "$port" "${1:-$requests}"
}

# Kernel system calls of the server into the session, when the kernel
# tracer can record them; otherwise one line saying why not.
enable_syscalls() {
	if kernel_tracer; then
		say lttng enable-event -k -s "$session" --syscall --all
		say lttng add-context -k -s "$session" -t pid -t tid
		say lttng track -k -s "$session" --pid "$server_pid"
	else
		echo "  (no kernel system calls: $kernel_why)"
	fi
}

# The Python logging records, with the thread of each (the contexts must be
# on the channel the agent's events go to before they are enabled).
enable_logging() {
	say lttng enable-channel -u -s "$session" lttng_python_channel
	say lttng add-context -u -s "$session" -c lttng_python_channel -t vpid -t vtid
	say lttng enable-event --python -s "$session" --all
}

# Start the session (only the server's process is tracked) and stop it.
start_recording() {
	say lttng track -u -s "$session" --vpid "$server_pid"
	say lttng start "$session"
	# The server follows the session within ~20 ms (pyust looks every 20 ms).
	sleep 0.5
}

stop_recording() {
	say lttng stop "$session"
	say lttng destroy "$session"
}

# The lines of one request's do_GET in a stack view, its thread's lines
# only: the first whose lines match PATTERN after SKIP such requests. At
# most 300 lines (an instrumented CPython makes ~100000 a request).
one_request() { # FILE PATTERN [SKIP]
	# Requests in the order they started, each followed on its own thread:
	# the next one may start on another thread before this do_GET returns.
	awk -v pat="$2" -v skip="${3:-0}" -v max=300 -v file="$1" '
		function thread() { return match($0, /[0-9]+\/[0-9]+/) ? substr($0, RSTART, RLENGTH) : "" }
		{ t = thread() }
		t != "" && !(t in seq) && / -> do_GET / { seq[t] = ++started; n[started] = 0 }
		t != "" && (t in seq) {
			r = seq[t]
			if (++n[r] <= max) line[r, n[r]] = $0
			if ($0 ~ pat) hit[r] = 1
			if (/ <- do_GET /) { done[r] = 1; delete seq[t] }
		}
		END {
			for (r = 1; r <= started; r++) {
				if (!done[r] || !hit[r] || skip-- > 0)
					continue
				for (i = 1; i <= n[r] && i <= max; i++) print line[r, i]
				if (n[r] > max) printf "   ... %d more lines of this request in %s\n", n[r] - max, file
				exit
			}
		}' "$1"
}
