"""Peak memory of a benchmark's measuring process."""

from __future__ import annotations

import resource


def peak_rss_mb() -> int:
    """This process's peak resident memory in MB: Linux's VmHWM, which starts afresh at exec. Not ru_maxrss: Linux
    carries that over from the process that started this one (a --measure child started by a bench that had just
    built a 15 M-row store reported the parent's 2,780 MB instead of its own 1,694 MB)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    # not Linux: no VmHWM, and no parent's share in ru_maxrss there
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
