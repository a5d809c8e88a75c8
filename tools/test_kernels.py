#!/usr/bin/env python3
"""Runs memtrace's core integration tests on other Linux kernels, booted in
QEMU (TCG: no KVM needed), and on the running kernel, and prints a matrix
kernel x test -> pass/fail/skip.

Each kernel is a Debian kernel package fetched with `apt-get download` and
cached, unpacked, under build/kernels/. The guest boots from a small busybox
initramfs that loads the package's 9p modules, mounts the host's root
read-only over 9p, mounts proc, sys, devtmpfs, bpffs and a tmpfs /tmp over
it, and runs the host's own build/memtrace and fixtures there. Results come
back on the serial console between marker lines.

    tools/test_kernels.py --memtrace build/memtrace --fixtures build/fixtures
    tools/test_kernels.py ... --kernels 6.12 --shell 'build/memtrace -vv -- true'
"""
import argparse
import glob
import lzma
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The core integration tests: exact peak of a known fixture, a tree, threads,
# attach, exit status, kernel memory against the memory cgroup.
CORE_TESTS = [
    "peak_equals_vmrss_at_peak",
    "tree_of_eight_at_once",
    "thousand_threads",
    "thread_that_execs",
    "attach_follows_existing_and_new",
    "exit_status_is_the_commands",
    "group_exit_ends_each_process_once",
    "kernel_memory_matches_the_cgroup",
    "kernel_memory_matches_the_v2_cgroup",
]
KMEM_TEST = "kernel_memory_matches_the_cgroup"

# Debian kernel series to boot by default: Debian 13's (and 12's security
# archive's) 6.12, and Debian 12's 6.1, which memtrace must refuse.
DEFAULT_KERNELS = "6.12,6.1"
MODULES = ["virtio_pci", "9pnet_virtio", "9p"]
BOOT_TIMEOUT_S = 900

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /bin /proc /sys /dev /mnt
/bin/busybox --install -s /bin
echo "MT-INIT $(uname -r): loading the 9p modules, mounting the host's root"
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/mt-modules/$m 2>/dev/null; done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /mnt; then
	echo "MT-ERROR cannot mount the host root over 9p"
	poweroff -f
fi
mount -t proc proc /mnt/proc
mount -t sysfs sys /mnt/sys
mount -t devtmpfs dev /mnt/dev
# The repository may live under the host's /tmp or /run (a CI clone): keep it
# visible above the guest's own tmpfs there.
KEEP=@KEEP@
case $KEEP in /tmp/*|/run/*) mkdir -p /keep && mount --bind "/mnt$KEEP" /keep ;; esac
mount -t tmpfs tmp /mnt/tmp
mount -t tmpfs run /mnt/run
case $KEEP in /tmp/*|/run/*) mkdir -p "/mnt$KEEP" && mount --bind /keep "/mnt$KEEP" ;; esac
mount -t bpf bpf /mnt/sys/fs/bpf
mount -t tmpfs cgroup /mnt/sys/fs/cgroup
mkdir /mnt/sys/fs/cgroup/memory
if ! mount -t cgroup -o memory memory /mnt/sys/fs/cgroup/memory 2>/dev/null; then
	# No cgroup v1 memory controller (CONFIG_MEMCG_V1 off): v2 has it.
	rmdir /mnt/sys/fs/cgroup/memory
	umount /mnt/sys/fs/cgroup
	mount -t cgroup2 cgroup2 /mnt/sys/fs/cgroup
fi
cp /mt-cmd.sh /mnt/run/mt-cmd.sh
echo "MT-BEGIN"
chroot /mnt /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/tmp PYTHONDONTWRITEBYTECODE=1 /bin/sh /run/mt-cmd.sh 2>&1
echo "MT-EXIT $?"
poweroff -f
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def version_key(name):
    return [int(x) for x in re.findall(r"\d+", name)]


def find_package(series):
    """The newest linux-image-SERIES...-amd64-unsigned package apt knows, or None."""
    pat = re.compile(r"^linux-image-%s[.-][0-9][^ ]*-amd64-unsigned$" % re.escape(series))
    for attempt in range(2):
        out = subprocess.run(["apt-cache", "search", "--names-only",
                              "^linux-image-%s.*-amd64-unsigned$" % re.escape(series)],
                             capture_output=True, text=True).stdout
        names = [line.split(" - ")[0] for line in out.splitlines()]
        names = [n for n in names if pat.match(n) and "-cloud-" not in n and "-rt-" not in n]
        if names:
            return max(names, key=version_key)
        if attempt == 0:
            log("  APT     update (no %s kernel package in apt's lists)" % series)
            subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
    return None


def fetch_kernel(cache, series):
    """Downloads and unpacks the kernel package; returns (release, tree) or raises."""
    pkg = find_package(series)
    if not pkg:
        raise RuntimeError("no package linux-image-%s*-amd64-unsigned in apt's lists" % series)
    debs = os.path.join(cache, "debs")
    os.makedirs(debs, exist_ok=True)
    found = glob.glob(os.path.join(debs, pkg + "_*.deb"))
    if not found:
        log("  APT     download %s" % pkg)
        # _apt cannot write into build/: download as root, quietly. A stale
        # list may name a package the archive has replaced: update, retry.
        get = ["apt-get", "download", "-qq", "-o", "APT::Sandbox::User=root", pkg]
        if subprocess.run(get, cwd=debs, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
            pkg = find_package(series) or pkg
            get[-1] = pkg
            run(get, cwd=debs, stdout=subprocess.DEVNULL)
        found = glob.glob(os.path.join(debs, pkg + "_*.deb"))
    deb = found[0]
    tree = os.path.join(cache, pkg)
    if not os.path.isdir(os.path.join(tree, "boot")):
        log("  UNPACK  %s" % os.path.basename(deb))
        shutil.rmtree(tree, ignore_errors=True)
        run(["dpkg-deb", "-x", deb, tree + ".tmp"])
        release = os.listdir(os.path.join(tree + ".tmp", "lib", "modules"))[0]
        run(["depmod", "-b", tree + ".tmp", release])
        os.rename(tree + ".tmp", tree)
    release = os.listdir(os.path.join(tree, "lib", "modules"))[0]
    return release, tree


def module_files(tree, release):
    """The .ko files the 9p mount needs, dependencies first; built-in ones are skipped."""
    files = []
    for m in MODULES:
        out = subprocess.run(["modprobe", "-d", tree, "-S", release, "--show-depends", m],
                             capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError("cannot find module %s in %s: %s" % (m, release, out.stderr.strip()))
        for line in out.stdout.splitlines():
            w = line.split()
            if w and w[0] == "insmod" and w[1] not in files:
                files.append(w[1])
    return files


def decompressed(path):
    """busybox insmod wants plain .ko files."""
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read()


def build_initramfs(tree, release, command, out):
    staging = out + ".d"
    shutil.rmtree(staging, ignore_errors=True)
    for d in ("bin", "lib/mt-modules", "run"):
        os.makedirs(os.path.join(staging, d))
    shutil.copy("/bin/busybox", os.path.join(staging, "bin", "busybox"))
    order = []
    for path in module_files(tree, release):
        name = re.sub(r"\.(xz|zst|gz)$", "", os.path.basename(path))
        with open(os.path.join(staging, "lib", "mt-modules", name), "wb") as f:
            f.write(decompressed(path))
        order.append(name)
    with open(os.path.join(staging, "modules.order"), "w") as f:
        f.write("\n".join(order) + "\n")
    with open(os.path.join(staging, "init"), "w") as f:
        f.write(INIT.replace("@KEEP@", shlex.quote(ROOT)))
    os.chmod(os.path.join(staging, "init"), 0o755)
    # The command goes in through the initramfs; init copies it to the
    # guest's fresh /run before it enters the host's root.
    with open(os.path.join(staging, "mt-cmd.sh"), "w") as f:
        f.write("cd %s || exit 125\n%s\n" % (shlex.quote(ROOT), command))
    files = subprocess.run(["find", "."], cwd=staging, check=True, capture_output=True).stdout
    with open(out, "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=staging, input=files, stdout=f,
                       check=True)
    shutil.rmtree(staging)


def boot(tree, release, command, logpath):
    """Boots the kernel with command; returns (exit status or None, the command's output)."""
    initrd = os.path.join(os.path.dirname(logpath), "initramfs-%s.cpio" % release)
    build_initramfs(tree, release, command, initrd)
    qemu = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "2G",
            "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", os.path.join(tree, "boot", "vmlinuz-" + release), "-initrd", initrd,
            "-virtfs", "local,path=/,mount_tag=hostroot,readonly=on,security_model=none,multidevs=remap",
            "-append", "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init"]
    t0 = time.monotonic()
    with open(logpath, "w") as logf:
        try:
            subprocess.run(qemu, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                           timeout=BOOT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
    os.unlink(initrd)
    with open(logpath, errors="replace") as f:
        text = f.read().replace("\r", "")
    # The firmware's screen escapes may share a line with the first marker.
    text = re.sub(r"\x1b(\[[0-9;?]*[A-Za-z]|c)", "", text)
    m = re.search(r"MT-BEGIN\n(.*?)^MT-EXIT (\d+)$", text, re.M | re.S)
    log("  QEMU    %s: %.0f s (console log %s)" % (release, time.monotonic() - t0,
                                                  os.path.relpath(logpath, ROOT)))
    if not m:
        err = re.search(r"^MT-ERROR (.*)$", text, re.M)
        stage = "its kernel started init" if "MT-INIT" in text else "no sign of its init (a slow host?)"
        raise RuntimeError(err.group(1) if err else "the guest did not finish in %d s, %s (see %s)"
                           % (BOOT_TIMEOUT_S, stage, logpath))
    return int(m.group(2)), m.group(1)


def suite_command(args, tests):
    # One at a time, as they were measured there: under TCG the tests are
    # bound by the emulated CPUs, and overlapping them gains nothing.
    ks = " ".join("-k %s" % t for t in tests)
    return ("python3 tests/integration/run.py -j 1 --memtrace %s --fixtures %s %s"
            % (shlex.quote(os.path.abspath(args.memtrace)), shlex.quote(os.path.abspath(args.fixtures)), ks))


def parse_results(out, tests):
    """{test: (status, reason)} from run.py's lines; a pre-check refusal fails or skips all."""
    res = {}
    for line in out.splitlines():
        m = re.match(r"^(ok|FAIL|SKIP)\s+(\S+)\s*(.*)$", line)
        if m and m.group(2) in tests:
            res[m.group(2)] = ({"ok": "pass", "FAIL": "fail", "SKIP": "skip"}[m.group(1)],
                               m.group(3).strip())
    return res


def run_column(args, name, runner):
    """One kernel's column: {test: (status, reason)} plus the kernel check's verdict."""
    # The kernel-memory test's truth is the cgroup v1 memory controller,
    # which kernels built without CONFIG_MEMCG_V1 (Debian's 6.12) lack.
    mt = shlex.quote(os.path.abspath(args.memtrace))
    code, out = runner(
        "%s --check-kernel; echo MT-CHECK $?; " % mt
        # A refused kernel: running a command must stop in the same one line.
        + "err=$(%s -- true 2>&1 >/dev/null); " % mt
        + "echo \"MT-RUN $? $(printf '%s\\n' \"$err\" | wc -l) $(printf '%s\\n' \"$err\" | head -n 1)\"; "
        + "if [ -e /sys/fs/cgroup/memory/memory.kmem.usage_in_bytes ]; then echo MT-KMEM yes; %s; else %s; fi"
        % (suite_command(args, CORE_TESTS), suite_command(args, [t for t in CORE_TESTS if t != KMEM_TEST])))
    check = re.search(r"^MT-CHECK (\d+)$", out, re.M)
    check_code = int(check.group(1)) if check else None
    check_line = out[:check.start()].strip().splitlines()[-1:] if check else []
    res = parse_results(out, CORE_TESTS)
    col = {}
    if check_code == 125:
        # memtrace refuses this kernel: every core test is a skip, and
        # the refusal itself is checked against the promised form.
        line = check_line[0] if check_line else ""
        good = re.match(r"^memtrace needs Linux 6\.2 or newer \(this is \S+\): \S.*$", line)
        ran = re.search(r"^MT-RUN (\d+) (\d+) (.*)$", out, re.M)
        if good and not (ran and ran.group(1) == "125" and ran.group(2) == "1" and ran.group(3) == line):
            good = None
            line += " -- but 'memtrace -- true' said: %s" % (ran.group(0) if ran else "nothing")
        col["kernel_check"] = ("pass" if good else "fail", "refused: " + line)
        for t in CORE_TESTS:
            col[t] = res.get(t, ("skip", "memtrace refuses this kernel"))
            if col[t][0] != "skip":
                col[t] = ("fail", "ran although memtrace refused the kernel")
    else:
        col["kernel_check"] = ("pass" if check_code == 0 else "fail",
                               (check_line[0] if check_line else "no kernel check output"))
        for t in CORE_TESTS:
            col[t] = res.get(t, ("fail", "no result (run.py exit %d)" % code))
        if not re.search(r"^MT-KMEM yes$", out, re.M) and KMEM_TEST not in res:
            col[KMEM_TEST] = ("skip", "no cgroup v1 memory controller with kmem accounting in this kernel "
                              "(CONFIG_MEMCG_V1 off): the test's truth is missing")
    return col, out


def boot_column(args, guest):
    """One guest's column, into guest["col"] (run in a thread of its own)."""
    release, tree = guest["release"], guest["tree"]
    logpath = os.path.join(args.cache, release + ".log")
    try:
        guest["col"], _ = run_column(args, release, lambda cmd: boot(tree, release, cmd, logpath))
    except Exception as e:  # a thread's exception would be lost: it fails the column
        guest["col"] = {t: ("fail", str(e)) for t in ["kernel_check"] + CORE_TESTS}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--memtrace", default="build/memtrace")
    ap.add_argument("--fixtures", default="build/fixtures")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build", "kernels"))
    ap.add_argument("--kernels", default=DEFAULT_KERNELS,
                    help="Debian kernel series to boot, comma-separated (default %s)" % DEFAULT_KERNELS)
    ap.add_argument("--no-host", action="store_true", help="leave out the running kernel")
    ap.add_argument("--shell", help="run this shell command in each guest instead of the tests")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    series = [s for s in args.kernels.split(",") if s]

    if args.shell:
        status = 0
        for s in series:
            release, tree = fetch_kernel(args.cache, s)
            code, out = boot(tree, release, args.shell, os.path.join(args.cache, release + ".log"))
            print("== %s: exit %d\n%s" % (release, code, out), end="")
            status = status or code
        return status

    columns = []  # (kernel name, {test: (status, reason)})
    if not args.no_host:
        def host_runner(cmd):
            p = subprocess.run(["sh", "-c", cmd], cwd=ROOT, capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr
        name = os.uname().release + " (host)"
        log("  HOST    %s" % name)
        col, _ = run_column(args, name, host_runner)
        columns.append((name, col))
    # Fetched one after the other (apt and dpkg take locks), then booted all at
    # once: a guest spends most of its time booting, and each emulated CPU is
    # a host thread that the other guests need not wait for.
    guests = []
    for s in series:
        try:
            release, tree = fetch_kernel(args.cache, s)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            columns.append((s, {t: ("skip", "no kernel: %s" % e) for t in ["kernel_check"] + CORE_TESTS}))
            continue
        guest = {"release": release, "tree": tree, "col": None}
        guest["thread"] = threading.Thread(target=boot_column, args=(args, guest))
        guest["thread"].start()
        guests.append((len(columns), guest))
        columns.append((release, None))  # filled in when its guest is done
    for i, guest in guests:
        guest["thread"].join()
        columns[i] = (guest["release"], guest["col"])

    rows = ["kernel_check"] + CORE_TESTS
    width = max(len(r) for r in rows)
    cw = [max(len(n), 5) for n, _ in columns]
    print("%-*s  %s" % (width, "test", "  ".join("%-*s" % (w, n) for w, (n, _) in zip(cw, columns))))
    for r in rows:
        print("%-*s  %s" % (width, r, "  ".join("%-*s" % (w, c[r][0]) for w, (_, c) in zip(cw, columns))))
    failed = passed = skipped = 0
    for n, c in columns:
        for r in rows:
            st, why = c[r]
            if st != "pass" or r == "kernel_check":
                print("  %s %s on %s: %s" % (st, r, n, why))
            failed += st == "fail"
            passed += st == "pass"
            skipped += st == "skip"
    print("kernels: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
