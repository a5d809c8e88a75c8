#!/usr/bin/env python3
"""Integration tests: the real memtrace binary on fixture programs that know
their own truth (VmRSS read at their peak, thread counts, process shapes).

Needs root and BPF. Prints one line per test and closes with
"N passed, N failed"; exits non-zero when any failed.
"""
import argparse
import os
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import test_core  # noqa: E402,F401
import test_robustness  # noqa: E402,F401
import test_kernel_memory  # noqa: E402,F401
import test_exports  # noqa: E402,F401
import test_workloads  # noqa: E402,F401
import test_bench  # noqa: E402,F401
import test_explain  # noqa: E402,F401
from common import Ctx, Failure, Skip, TESTS  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("-k", help="run only tests whose name contains this")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("integration tests need root (BPF)", file=sys.stderr)
        return 2
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="memtrace-test-") as tmp:
        os.chmod(tmp, 0o755)
        c = Ctx(args.memtrace, args.fixtures, tmp)
        for fn in TESTS:
            if args.k and args.k not in fn.__name__:
                continue
            t0 = time.monotonic()
            try:
                fn(c)
                passed += 1
                print("ok   %-40s %6.2f s" % (fn.__name__, time.monotonic() - t0), flush=True)
            except Skip as e:
                skipped += 1
                print("SKIP %-40s %s" % (fn.__name__, e), flush=True)
            except Failure as e:
                failed += 1
                print("FAIL %-40s %s" % (fn.__name__, e), flush=True)
            except Exception:
                failed += 1
                print("FAIL %-40s %s" % (fn.__name__, traceback.format_exc().strip().splitlines()[-1]),
                      flush=True)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
