"""Peak resident memory of this process, as the benchmarks report it."""

from __future__ import annotations

import resource
from pathlib import Path


def own_peak_rss_mb() -> float:
    """This process's peak RSS in MB: the kernel's VmHWM, which starts afresh when a program is
    exec'd. (`ru_maxrss` does not: a child started from a parent holding 3 GB of models reports
    at least the parent's 3 GB.)"""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
