#!/bin/sh
# Install, with apt-get and only when missing, what memtrace's build, tests and
# benchmarks need. Safe to run again: it does nothing once everything is there.
# Usage: tools/deps.sh [build|bench|kernels]   (default: build)
set -eu

want="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev pkg-config make gcc procps util-linux"
if [ "${1:-build}" = bench ]; then
	want="$want gnuplot-nox time elixir mono-mcs mono-runtime"
fi
# make test-kernels: boot Debian's kernel packages in QEMU with a busybox initramfs.
if [ "${1:-build}" = kernels ]; then
	want="$want qemu-system-x86 busybox-static cpio kmod zstd xz-utils"
fi

missing=""
for pkg in $want; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "memtrace: cannot install packages:$missing: run as root, or install them yourself" >&2
	exit 1
fi
echo "  APT     $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
