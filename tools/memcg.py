"""A fresh memory cgroup to run a command in, for checking memtrace against
the kernel's own count of a command's memory.

    with MemoryCgroup("kmem-bench") as cg:
        subprocess.run(cg.command(["./prog", "arg"]))
        kmem = cg.kernel_bytes()
    # removed here

cgroup v1 (a memory hierarchy with kmem accounting, as on the machines this
was first measured on) is used when present: the group goes below the memory
cgroup this process is in, so whatever limits the caller has still apply,
and its kernel memory is memory.kmem.usage_in_bytes. Otherwise cgroup v2 (the
default on current distributions): a cgroup2 mount whose root offers the
memory controller; the group goes right below that root (the one cgroup
exempt from "no processes in inner groups"), the controller is enabled in
the root's subtree_control for the while and put back as it was, and kernel
memory is memory.stat's "kernel" (since 5.18), else its kernel_stack +
pagetables + slab + percpu.
"""
import os
import time

CGROUP_V1_MEMORY = "/sys/fs/cgroup/memory"


class NoMemoryCgroup(Exception):
    """This machine has no memory cgroup that memtrace can be checked against."""


def parse_memory_stat(text):
    """A memory.stat file (v1 or v2) as {name: int}."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


V2_KERNEL_PARTS = ("kernel_stack", "pagetables", "slab", "percpu")


def v2_kernel_bytes(stat):
    """Kernel memory of a v2 group from its parsed memory.stat."""
    if "kernel" in stat:
        return stat["kernel"]
    missing = [k for k in V2_KERNEL_PARTS if k not in stat]
    if missing:
        raise NoMemoryCgroup("memory.stat has no 'kernel' and lacks %s" % ", ".join(missing))
    return sum(stat[k] for k in V2_KERNEL_PARTS)


def cgroup2_mounts(mountinfo="/proc/self/mountinfo"):
    """Mount points of cgroup2 file systems."""
    out = []
    with open(mountinfo) as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                out.append(left.split()[4])
    return out


def v2_root_with_memory():
    """(root, None) for a cgroup2 mount offering the memory controller, else (None, why)."""
    mounts = cgroup2_mounts()
    if not mounts:
        return None, "no cgroup2 file system is mounted"
    for m in mounts:
        try:
            with open(os.path.join(m, "cgroup.controllers")) as f:
                if "memory" in f.read().split():
                    return m, None
        except OSError:
            pass
    return None, ("cgroup2 at %s offers no memory controller (it is bound to the v1 hierarchy "
                  "at %s: a controller serves one hierarchy at a time)" % (", ".join(mounts), CGROUP_V1_MEMORY))


def own_memory_cgroup():
    """The v1 memory cgroup folder this process is in."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if "memory" in ctrls.split(","):
                    d = CGROUP_V1_MEMORY + path
                    if os.path.isdir(d):
                        return d
    except OSError:
        pass
    return CGROUP_V1_MEMORY


class MemoryCgroup:
    def __init__(self, name, version=None):
        """version: 1 or 2 to insist on one; None takes v1 if present, else v2."""
        self.name = "memtrace-%s-%d" % (name, os.getpid())
        self.want = version
        self.version = None
        self.path = None
        self.removed = None
        self.enabled_memory = None  # the v2 root's subtree_control we changed

    def __enter__(self):
        v1 = os.path.exists(os.path.join(CGROUP_V1_MEMORY, "memory.kmem.usage_in_bytes"))
        if self.want == 1 or (self.want is None and v1):
            if not v1:
                raise NoMemoryCgroup("no cgroup v1 memory controller with kmem accounting at %s"
                                     % CGROUP_V1_MEMORY)
            self.version = 1
            self.path = os.path.join(own_memory_cgroup(), self.name)
            os.mkdir(self.path)
            return self
        root, why = v2_root_with_memory()
        if not root:
            raise NoMemoryCgroup(why if v1 or self.want == 2 else
                                 "no cgroup v1 memory controller at %s, and %s" % (CGROUP_V1_MEMORY, why))
        self.version = 2
        control = os.path.join(root, "cgroup.subtree_control")
        with open(control) as f:
            if "memory" not in f.read().split():
                with open(control, "w") as w:
                    w.write("+memory")
                self.enabled_memory = control
        self.path = os.path.join(root, self.name)
        os.mkdir(self.path)
        return self

    def kernel_bytes(self):
        """The group's kernel memory now, as its cgroup version counts it."""
        if self.version == 1:
            return self.read("memory.kmem.usage_in_bytes")
        with open(os.path.join(self.path, "memory.stat")) as f:
            return v2_kernel_bytes(parse_memory_stat(f.read()))

    def command(self, argv):
        """argv run inside the group: a shell moves itself in, then becomes the command."""
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path] + list(argv)

    def read(self, name):
        """An integer file of the group, e.g. memory.kmem.usage_in_bytes."""
        with open(os.path.join(self.path, name)) as f:
            return int(f.read())

    def remove(self):
        """rmdir fails while the last task is still leaving or pages are charged: retry."""
        for i in range(50):
            try:
                os.rmdir(self.path)
                self.removed = True
                return True
            except FileNotFoundError:
                self.removed = True
                return True
            except OSError:
                if i == 10 and self.version == 1:
                    try:
                        with open(os.path.join(self.path, "memory.force_empty"), "w") as f:
                            f.write("0")
                    except OSError:
                        pass
                time.sleep(0.1)
        self.removed = False
        return False

    def __exit__(self, *exc):
        if self.path:
            self.remove()
        if self.enabled_memory:
            try:
                with open(self.enabled_memory, "w") as f:
                    f.write("-memory")
            except OSError:
                pass  # another group enabled it meanwhile: leave it on
        return False
