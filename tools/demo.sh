#!/bin/sh
# A short demonstration of memtrace on the test fixtures, then the overhead
# benchmark. Usage: tools/demo.sh BUILD_DIR
set -eu
build=${1:-build}
mt=$build/memtrace
fx=$build/fixtures

echo "== a tree of 8 processes holding 32 MiB each at the same time"
"$mt" -- "$fx/tree_hold" 8 32
echo
echo "== a 64 MiB spike held 5 ms between two quiet seconds"
"$mt" --top 1 -- "$fx/spike" 64 5 1000
echo
echo "== 1000 threads: what RSS hides"
"$mt" --top 1 -- "$fx/threads" 1000
echo
python3 tools/overhead.py --memtrace "$mt" --touch "$build/tools/touch" --runs 5
