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
	char parent[MT_CGROUP_PATH_MAX];  /* where leftover processes go back to */
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
 * of /proc/self/cgroup and /proc/self/mountinfo. Fills version and parent
 * (mount point + own group path). Returns 0, or -1 with a reason in why.
 */
int memcg_locate(const char *proc_cgroup, const char *mountinfo, struct memcg *cg,
		 const char **why);
/*
 * Creates the group "memtrace-<pid>" below cg->parent (enabling the memory
 * controller for children there on v2 if needed), after removing groups of
 * memtrace processes that no longer run. Prints one line and returns -1 when
 * no memory controller can be used.
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
/* Removes groups "memtrace-<pid>" below parent whose memtrace is gone. Returns how many. */
int memcg_remove_stale(const char *parent);

#endif
