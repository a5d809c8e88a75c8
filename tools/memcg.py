"""A fresh cgroup v1 memory group to run a command in, for checking memtrace
against the kernel's own count of a command's memory.

    with MemoryCgroup("kmem-bench") as cg:
        subprocess.run(cg.command(["./prog", "arg"]))
        kmem = cg.read("memory.kmem.usage_in_bytes")
    # removed here

The group goes below the memory cgroup this process is in, so whatever
limits the caller has still apply.
"""
import os
import time

CGROUP_V1_MEMORY = "/sys/fs/cgroup/memory"


class NoMemoryCgroup(Exception):
    """This machine has no cgroup v1 memory controller with kmem accounting."""


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
    def __init__(self, name):
        self.path = os.path.join(own_memory_cgroup(), "memtrace-%s-%d" % (name, os.getpid()))
        self.removed = None

    def __enter__(self):
        if not os.path.exists(os.path.join(CGROUP_V1_MEMORY, "memory.kmem.usage_in_bytes")):
            raise NoMemoryCgroup("no cgroup v1 memory controller with kmem accounting at %s"
                                 % CGROUP_V1_MEMORY)
        os.mkdir(self.path)
        return self

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
                if i == 10:
                    try:
                        with open(os.path.join(self.path, "memory.force_empty"), "w") as f:
                            f.write("0")
                    except OSError:
                        pass
                time.sleep(0.1)
        self.removed = False
        return False

    def __exit__(self, *exc):
        self.remove()
        return False
