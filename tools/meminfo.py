#!/usr/bin/env python3
"""One field of the host's /proc/meminfo, for the benchmark tools that size
their runs by the memory the machine has."""


def meminfo_bytes(key):
    """The field key ("MemTotal", "MemAvailable") in bytes, or None if absent or unreadable."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
