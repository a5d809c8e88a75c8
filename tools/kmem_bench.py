#!/usr/bin/env python3
"""Kernel memory of many threads: memtrace's figure against the memory
cgroup's own count (cgroup v1 memory.kmem.usage_in_bytes), at 10,000 and
100,000 sleeping threads. Raises kernel.pid_max and vm.max_map_count for the
runs and restores them. Prints figures; asserts nothing.

usage: tools/kmem_bench.py [--memtrace build/memtrace] [--threads build/fixtures/threads]
                           [--sizes 10000,100000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memcg import MemoryCgroup  # noqa: E402
from sysctl_guard import SysctlGuard, terminate_as_exception, thread_sysctls  # noqa: E402

MIB = 1024 * 1024


def measure(memtrace, threads, n, tmp):
    js = os.path.join(tmp, "k%d.json" % n)
    with MemoryCgroup("kmem-%d" % n) as cg:
        # Hold the threads 3 s: time to read the cgroup while all are alive.
        mt = subprocess.Popen([memtrace, "--as-root", "--json", js, "--"] + cg.command([threads, str(n), "0", "3000"]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in mt.stdout:
            if line.startswith("held="):
                break
        kmem = cg.kernel_bytes()
        _, err = mt.communicate(timeout=600)
        if mt.returncode:
            raise RuntimeError("memtrace exited %d: %s" % (mt.returncode, err.strip()[-300:]))
    with open(js) as f:
        r = json.load(f)
    return r, kmem


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", default="build/memtrace")
    ap.add_argument("--threads", default="build/fixtures/threads")
    ap.add_argument("--sizes", default="10000,100000")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    limits = thread_sysctls(max(sizes))
    print("%9s %14s %14s %8s %12s %12s %12s" % ("threads", "memtrace_kmem", "cgroup_kmem", "ratio",
                                             "pgtables", "kstacks", "task_objs"))
    with terminate_as_exception(), SysctlGuard(limits) as guard, \
            tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            r, kmem = measure(a.memtrace, a.threads, n, tmp)
            k = r["peak_kernel"]
            at = k["at_peak"]
            print("%9d %11.1f MiB %11.1f MiB %8.4f %8.1f MiB %8.1f MiB %8.1f MiB" % (
                n, k["bytes"] / MIB, kmem / MIB, k["bytes"] / kmem, at["pgtables_bytes"] / MIB,
                at["kstack_bytes"] / MIB, at["thread_objects_bytes"] / MIB), flush=True)
            if r["events"]["lost"]:
                print("  (%d events lost)" % r["events"]["lost"])
    print("limits: " + "; ".join(guard.describe()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
