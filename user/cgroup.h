/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --cgroup: a memory cgroup of the run's own, created below the one memtrace
 * is in (cgroup v2 or the v1 memory hierarchy), the command put in it before
 * it execs, its charged peak read at the end, and the group removed.
 */
#ifndef MT_CGROUP_H
#define MT_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#define MT_CGROUP_PATH_MAX 512

struct memcg {
	int version;                      /* 1 or 2; 0: none */
	char path[MT_CGROUP_PATH_MAX];    /* the group's folder */
	char parent[MT_CGROUP_PATH_MAX];  /* the folder it is made in */
	char home[MT_CGROUP_PATH_MAX];    /* memtrace's own group: leftover processes go back there */
	char mount[MT_CGROUP_PATH_MAX];   /* the hierarchy's mount point */
};

/* What the report says of it. */
struct memcg_peak {
	int version;              /* 0: --cgroup was not used */
	int64_t peak_bytes;       /* charged peak: each page once, page cache and kernel memory in */
	int64_t kmem_peak_bytes;  /* v1: memory.kmem.max_usage_in_bytes; v2: -1 (no such peak) */
	int64_t kernel_bytes;     /* v2: memory.stat "kernel" at the end; v1: -1 */
};

/*
 * Finds the memory controller memtrace's own group is under, from the texts
 * of /proc/self/cgroup and /proc/self/mountinfo. Fills version, mount, home
 * (mount point + own group path) and parent (= home). Returns 0, or -1 with
 * a reason in why.
 */
int memcg_locate(const char *proc_cgroup, const char *mountinfo, struct memcg *cg,
		 const char **why);
/*
 * Where a v2 group with a memory controller can be made. v2 hands
 * controllers only to the children of a group with no process of its own
 * (the root excepted), and memtrace's own group holds memtrace: so its own
 * group when it already delegates memory or is the root of the hierarchy,
 * else beside it, in its parent. Returns 0 with the folder in out, or -1.
 */
int memcg_v2_place(const char *home, const char *mount, int home_delegates, char *out, size_t len);
/*
 * Creates the group "memtrace-<pid>" (v1: below memtrace's own group; v2:
 * where memcg_v2_place() says, enabling memory at the root if needed),
 * after removing groups of memtrace processes that no longer run. Prints one
 * line and returns -1 when no memory controller can be used.
 */
int memcg_create(struct memcg *cg);
/* Moves pid into the group. Returns 0 or -errno. */
int memcg_enter(const struct memcg *cg, pid_t pid);
/* Reads the charged peak (and what else the version offers) from folder dir. */
int memcg_read_peak(int version, const char *dir, struct memcg_peak *out);
/*
 * Removes the group: processes still in it go back to the parent, then
 * rmdir, retried while the last exits finish. Returns 0 or -errno.
 */
int memcg_remove(struct memcg *cg);
/*
 * Removes groups "memtrace-<pid>" below parent whose memtrace is gone, their
 * processes moved to home first. Returns how many.
 */
int memcg_remove_stale(const char *parent, const char *home);

#endif
