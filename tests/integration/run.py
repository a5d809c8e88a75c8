#!/usr/bin/env python3
"""Integration tests: the real memtrace binary on fixture programs that know
their own truth (VmRSS read at their peak, thread counts, process shapes).

Needs root and BPF. Prints one line per test and closes with
"N passed, N failed"; exits non-zero when any failed.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import test_core  # noqa: E402,F401
import test_robustness  # noqa: E402,F401
import test_kernel_memory  # noqa: E402,F401
import test_truth  # noqa: E402,F401
import test_options  # noqa: E402,F401
import test_exports  # noqa: E402,F401
import test_lifecycle  # noqa: E402,F401
import test_workloads  # noqa: E402,F401
import test_bench  # noqa: E402,F401
import test_ecosystem  # noqa: E402,F401
import test_terminal  # noqa: E402,F401
import test_lifecycle_user  # noqa: E402,F401
import test_explain  # noqa: E402,F401
import test_limits  # noqa: E402,F401
import test_kernel_variants  # noqa: E402,F401
from common import Ctx, Failure, Skip, TESTS  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this (repeat, or NAME,NAME: any of them)")
    ap.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("integration tests need root (BPF)", file=sys.stderr)
        return 2
    # The tests mean root; under sudo memtrace would run commands as the sudo user.
    for k in ("SUDO_UID", "SUDO_GID", "SUDO_USER"):
        os.environ.pop(k, None)
    # On a kernel memtrace refuses, its one line says why, instead of every test failing.
    pre = subprocess.run([args.memtrace, "--check-kernel"], capture_output=True, text=True)
    if pre.returncode != 0:
        print(pre.stderr.strip() or "memtrace --check-kernel: exit %d" % pre.returncode, file=sys.stderr)
        return pre.returncode
    passed = failed = skipped = xfailed = 0
    with tempfile.TemporaryDirectory(prefix="memtrace-test-") as tmp:
        os.chmod(tmp, 0o755)
        c = Ctx(args.memtrace, args.fixtures, tmp)
        wanted = [k for arg in args.k for k in arg.split(",") if k]
        for fn in TESTS:
            if wanted and not any(k in fn.__name__ for k in wanted):
                continue
            if failed and args.exitfirst:
                break
            t0 = time.monotonic()
            bug = getattr(fn, "known_bug", None)
            try:
                fn(c)
                passed += 1
                if bug:
                    print("XPASS %-39s passed despite the known bug (%s): remove the mark" % (fn.__name__, bug),
                          flush=True)
                else:
                    print("ok   %-40s %6.2f s" % (fn.__name__, time.monotonic() - t0), flush=True)
            except Skip as e:
                skipped += 1
                print("SKIP %-40s %s" % (fn.__name__, e), flush=True)
            except Failure as e:
                if bug:
                    xfailed += 1
                    print("XFAIL %-39s known bug: %s: %s" % (fn.__name__, bug, e), flush=True)
                    continue
                failed += 1
                print("FAIL %-40s %s" % (fn.__name__, e), flush=True)
            except Exception:
                failed += 1
                print("FAIL %-40s %s" % (fn.__name__, traceback.format_exc().strip().splitlines()[-1]),
                      flush=True)
    print("%d passed, %d failed, %d skipped%s" % (passed, failed, skipped,
                                                  ", %d known bugs (XFAIL)" % xfailed if xfailed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
