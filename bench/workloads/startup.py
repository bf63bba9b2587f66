# SPDX-License-Identifier: MIT
"""Start-up harness: runs the command after "--" N times and prints the
median wall time of one run, in ms. Run inside the environment being
measured (a private /run/lttng for "no daemon"), so that what sets that
environment up is not counted.
Usage: startup.py N -- CMD [ARG...]"""

import statistics
import subprocess
import sys
import time

n = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
times = []
for _ in range(n):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(statistics.median(times) * 1000)
