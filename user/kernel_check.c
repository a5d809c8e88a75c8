// SPDX-License-Identifier: GPL-2.0
/*
 * Which kernel this is, read from its BTF before anything is loaded. memtrace
 * runs from Linux 6.2, whose per-CPU RSS counters it sums exactly; newer
 * kernels change which variant of the programs loads (bpf/tree_lock.h, the
 * exit tracepoint's arguments), never the figures.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "exitcodes.h"
#include "kernel_check.h"

const char *kernel_btf_path(void)
{
	const char *path = getenv("MEMTRACE_BTF_PATH");

	return path ? path : "/sys/kernel/btf/vmlinux";
}

static const struct btf_type *resolved(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* The type of member name of a struct, looking into its anonymous members too. */
static const struct btf_type *member_type(const struct btf *btf, const struct btf_type *s,
					  const char *name, int depth)
{
	const struct btf_member *m;
	int i;

	if (!s || !btf_is_composite(s) || depth > 4)
		return NULL;
	for (i = 0, m = btf_members(s); i < btf_vlen(s); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *found;

		if (mname && strcmp(mname, name) == 0)
			return resolved(btf, m->type);
		if (mname && *mname)
			continue;
		found = member_type(btf, resolved(btf, m->type), name, depth + 1);
		if (found)
			return found;
	}
	return NULL;
}

static int has_percpu_rss(const struct btf *btf)
{
	int id = btf__find_by_name_kind(btf, "mm_struct", BTF_KIND_STRUCT);
	const struct btf_type *rss, *elem;
	const char *name;

	if (id < 0)
		return 0;
	rss = member_type(btf, btf__type_by_id(btf, id), "rss_stat", 0);
	if (!rss || !btf_is_array(rss))
		return 0; /* before 6.2: struct mm_rss_stat of atomic counts plus per-task caches */
	elem = resolved(btf, btf_array(rss)->type);
	name = elem ? btf__name_by_offset(btf, elem->name_off) : NULL;
	return elem && btf_is_struct(elem) && name && strcmp(name, "percpu_counter") == 0;
}

/* Arguments the tracepoint passes a tp_btf program (its btf_trace_ typedef, less the context). */
static int tracepoint_args(const struct btf *btf, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? btf_vlen(t) - 1 : -1;
}

/*
 * Linux 6.16 and newer have every feature memtrace uses. Their BTF need not
 * be parsed here as well: libbpf parses it again to load the programs, and
 * each parse costs 40 to 120 ms of start-up on these machines.
 */
static int features_from_release(struct kernel_features *kf)
{
	unsigned int major = 0, minor = 0;

	if (sscanf(kf->release, "%u.%u", &major, &minor) != 2 || major < 6 || (major == 6 && minor < 16))
		return 0;
	kf->percpu_rss = kf->rdonly_cast = kf->res_spin_lock = kf->exit_group_dead = 1;
	return 1;
}

int kernel_features_read(const char *btf_path, struct kernel_features *kf)
{
	struct utsname u;
	struct btf *btf;

	memset(kf, 0, sizeof(*kf));
	if (uname(&u) == 0)
		snprintf(kf->release, sizeof(kf->release), "%s", u.release);
	/* The running kernel's own BTF (not a test's) on a recent kernel: known. */
	if (strcmp(btf_path, "/sys/kernel/btf/vmlinux") == 0 && !getenv("MEMTRACE_OLDER_KERNEL_PROGRAMS") &&
	    features_from_release(kf))
		return 0;
	btf = btf__parse(btf_path, NULL);
	if (!btf) {
		fprintf(stderr, "memtrace: cannot read the kernel's BTF %s: %s\n", btf_path, strerror(errno));
		return -1;
	}
	kf->percpu_rss = has_percpu_rss(btf);
	kf->rdonly_cast = btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0;
	kf->res_spin_lock = btf__find_by_name_kind(btf, "bpf_res_spin_lock", BTF_KIND_FUNC) >= 0;
	kf->exit_group_dead = tracepoint_args(btf, "sched_process_exit") >= 2;
	btf__free(btf);
	/* The tests run the programs older kernels get on this one too. */
	if (getenv("MEMTRACE_OLDER_KERNEL_PROGRAMS")) {
		kf->res_spin_lock = 0;
		kf->exit_group_dead = 0;
	}
	return 0;
}

const char *kernel_refusal(const struct kernel_features *kf, char *buf, size_t len)
{
	const char *missing;

	if (!kf->percpu_rss)
		missing = "its RSS counters are not per-CPU counters that can be summed exactly "
			  "(mm_struct.rss_stat; even the kernel's own VmRSS is approximate there)";
	else if (!kf->rdonly_cast)
		missing = "the bpf_rdonly_cast kfunc is missing";
	else
		return NULL;
	snprintf(buf, len, "memtrace needs Linux " KERNEL_NEEDED " or newer (this is %s): %s",
		 kf->release, missing);
	return buf;
}

int kernel_btf_missing(const char *btf_path)
{
	struct utsname u;

	if (access(btf_path, R_OK) == 0)
		return 0;
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	fprintf(stderr,
		"memtrace: cannot trace: kernel BTF not found (CONFIG_DEBUG_INFO_BTF): %s "
		"(memtrace needs Linux " KERNEL_NEEDED " or newer with BTF; this is %s)\n",
		btf_path, u.release);
	return -1;
}

int kernel_check_main(void)
{
	const char *btf = kernel_btf_path();
	struct kernel_features kf;
	char why[256];

	if (kernel_btf_missing(btf))
		return MT_EXIT_FAILURE;
	if (kernel_features_read(btf, &kf))
		return MT_EXIT_FAILURE;
	if (kernel_refusal(&kf, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		return MT_EXIT_FAILURE;
	}
	printf("memtrace can run on Linux %s: tree lock %s, exit tracepoint %s\n", kf.release,
	       kf.res_spin_lock ? "bpf_res_spin_lock" : "bpf_spin_lock",
	       kf.exit_group_dead ? "with group_dead" : "without group_dead (derived from signal->live)");
	return MT_EXIT_OK;
}
