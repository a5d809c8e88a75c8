#!/bin/sh
# Install, with apt-get and only when missing, what memtrace's build, tests and
# benchmarks need. Safe to run again: it does nothing once everything is there.
# Usage: tools/deps.sh [build|bench|kernels]   (default: build)
set -eu

want="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev libcurl4-openssl-dev pkg-config make gcc procps util-linux libcap2-bin"
if [ "${1:-build}" = bench ]; then
	# The servers are for the ecosystem tests, which start and stop them themselves;
	# mount has swapon and swapoff, for the swap test's own swap file.
	want="$want gnuplot-nox time elixir mono-mcs mono-runtime bash-completion tmux mount prometheus prometheus-pushgateway prometheus-node-exporter"
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
# Debian's prometheus packages start their services on install; the tests run
# their own servers on free ports, so nothing may start (policy-rc.d: 101).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
