// SPDX-License-Identifier: GPL-2.0
/* The BPF side's lifecycle: open, configure, load, attach, read, close. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrace.skel.h"
#include "tracer.h"

static int libbpf_verbosity;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (libbpf_verbosity < 2 && level != LIBBPF_WARN)
		return 0;
	if (libbpf_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	__u32 kind;

	if (size < sizeof(kind))
		return 0;
	memcpy(&kind, data, sizeof(kind));
	/* Never return an error here: libbpf would stop consuming the buffer. */
	if (kind == MT_EV_TASK_EXIT && size >= sizeof(struct mt_task_event)) {
		const struct mt_task_event *e = data;

		if (records_add_task(t->rec, &e->task, 0))
			t->record_failures++;
	} else if (kind == MT_EV_PROC_EXIT && size >= sizeof(struct mt_proc_event)) {
		const struct mt_proc_event *e = data;

		if (t->rec->nprocs >= RECORDS_MAX_PROCS) {
			struct mt_tree tree;

			if (tracer_read_tree(t, &tree) == 0)
				records_prune(t->rec, &tree, RECORDS_KEEP_TOP);
		}
		if (records_add_proc(t->rec, &e->proc, 0))
			t->record_failures++;
	} else if (kind == MT_EV_EXEC_ARGS && size >= sizeof(struct mt_args_event)) {
		const struct mt_args_event *e = data;

		if (records_set_args(t->rec, e->tgid, e->args, e->len < MT_ARGS_LEN ? e->len : 0))
			t->record_failures++;
	}
	return 0;
}

static const char *load_error(int err)
{
	if (err == -EPERM)
		return "needs root (or CAP_BPF and CAP_PERFMON)";
	if (err == -EACCES)
		return "the kernel's verifier refused a program (memtrace -vv shows why)";
	if (err == -ENOENT || err == -ESRCH)
		return "a tracepoint or kernel function this kernel lacks (see memtrace -vv)";
	return strerror(-err);
}

/*
 * MEMTRACE_TEST_FAIL_LOCK=exec,exit,rss,fork makes the first tree lock of
 * each named kind fail, for the tests of how lost changes heal. Unknown
 * words are ignored: this is no user interface.
 */
static unsigned int test_fail_lock_mask(void)
{
	static const struct {
		const char *word;
		unsigned int bit;
	} kinds[] = { { "exec", 1 }, { "exit", 2 }, { "rss", 4 }, { "fork", 8 } };
	const char *v = getenv("MEMTRACE_TEST_FAIL_LOCK");
	unsigned int mask = 0;
	size_t i;

	if (!v)
		return 0;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strstr(v, kinds[i].word))
			mask |= kinds[i].bit;
	return mask;
}

int tracer_open(struct tracer *t, const struct settings *s, struct records *rec)
{
	struct memtrace_bpf *skel;
	const char *btf;
	int err, ncpu;

	memset(t, 0, sizeof(*t));
	t->rec = rec;
	libbpf_verbosity = s->verbose;
	libbpf_set_print(print_libbpf);
	sysinfo_read(&t->si);
	t->thread_bytes = sysinfo_thread_bytes(&t->si);

	/* MEMTRACE_BTF_PATH lets the tests play a kernel without BTF. */
	btf = getenv("MEMTRACE_BTF_PATH");
	if (!btf)
		btf = "/sys/kernel/btf/vmlinux";
	if (access(btf, R_OK)) {
		fprintf(stderr, "memtrace: cannot trace: kernel BTF not found (CONFIG_DEBUG_INFO_BTF): %s\n", btf);
		return -1;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "memtrace: cannot count CPUs: %s\n", strerror(-ncpu));
		return -1;
	}
	/* The BPF side sums per-CPU counters over at most MT_MAX_CPUS. */
	if (ncpu > MT_MAX_CPUS) {
		fprintf(stderr, "memtrace: cannot trace exactly on %d possible CPUs: at most %d\n", ncpu,
			MT_MAX_CPUS);
		return -1;
	}
	skel = memtrace_bpf__open();
	if (!skel) {
		fprintf(stderr, "memtrace: cannot open BPF object: %s\n", strerror(errno));
		return -1;
	}
	t->skel = skel;
	skel->rodata->page_shift = t->si.page_shift;
	skel->rodata->nr_cpus = (unsigned int)ncpu;
	skel->rodata->thread_bytes = t->thread_bytes;
	skel->rodata->task_records = rec->keep_tasks;
	bpf_map__set_max_entries(skel->maps.tasks, (unsigned int)s->max_tasks);
	skel->rodata->max_procs = (unsigned int)s->max_procs;
	/* Command lines travel only where they are shown: -v and the JSON. */
	skel->rodata->exec_args = s->verbose > 0 || s->json;
	bpf_map__set_max_entries(skel->maps.procs, (unsigned int)s->max_procs);
	bpf_map__set_max_entries(skel->maps.proc_slots, (unsigned int)s->max_procs);
	bpf_map__set_max_entries(skel->maps.free_slots, (unsigned int)s->max_procs);
	bpf_map__set_max_entries(skel->maps.mm_shares, (unsigned int)s->max_procs);
	bpf_map__set_max_entries(skel->maps.pending_exits, (unsigned int)s->max_procs);
	/* A bit per possible tgid (bpf/followed_bits.h). */
	bpf_map__set_max_entries(skel->maps.followed_bits, (unsigned int)((t->si.pid_max + 63) / 64));
	skel->rodata->test_fail_lock = test_fail_lock_mask();
	bpf_map__set_max_entries(skel->maps.events, (unsigned int)s->ringbuf_bytes);

	err = memtrace_bpf__load(skel);
	if (err) {
		fprintf(stderr, "memtrace: cannot load BPF programs: %s\n", load_error(err));
		goto fail;
	}
	err = memtrace_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "memtrace: cannot attach BPF programs: %s\n", load_error(err));
		goto fail;
	}
	/* libbpf has freed the kernel's BTF it parsed: give that memory back. */
	malloc_trim(0);
	t->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, t, NULL);
	if (!t->rb) {
		fprintf(stderr, "memtrace: cannot open the ring buffer: %s\n", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	tracer_close(t);
	return -1;
}

static int run_iterator_pass(struct tracer *t)
{
	char buf[64];
	struct bpf_link *link;
	int fd, n;

	link = bpf_program__attach_iter(t->skel->progs.track_existing, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		n = -errno;
		bpf_link__destroy(link);
		return n;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		n = -errno;
	close(fd);
	bpf_link__destroy(link);
	return n;
}

int tracer_add_roots(struct tracer *t, const pid_t *pids, int n, unsigned int flags)
{
	int roots_fd = bpf_map__fd(t->skel->maps.roots);
	int i, err, added = 0, passes;
	__u32 key, val = flags;

	for (i = 0; i < n; i++) {
		key = (__u32)pids[i];
		if (bpf_map_update_elem(roots_fd, &key, &val, BPF_ANY)) {
			fprintf(stderr, "memtrace: cannot register process %d: %s\n", pids[i], strerror(errno));
			return -1;
		}
	}
	/* A pass may find a child before its parent is followed: repeat until quiet. */
	for (passes = 0; passes < 1000; passes++) {
		t->skel->bss->iter_added = 0;
		err = run_iterator_pass(t);
		if (err < 0) {
			fprintf(stderr, "memtrace: cannot walk the task list: %s\n", strerror(-err));
			return -1;
		}
		if (!t->skel->bss->iter_added)
			break;
		added += (int)t->skel->bss->iter_added;
	}
	for (i = 0; i < n; i++) {
		key = (__u32)pids[i];
		bpf_map_delete_elem(roots_fd, &key);
	}
	return added;
}

int tracer_live_faults(struct tracer *t, uint64_t *faults)
{
	int err;

	t->skel->bss->iter_faults = 0;
	err = run_iterator_pass(t);
	if (err < 0)
		return err;
	*faults = t->skel->bss->iter_faults;
	return 0;
}

int tracer_epoll_fd(const struct tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

int tracer_consume(struct tracer *t)
{
	return ring_buffer__consume(t->rb);
}

int tracer_read_tree(const struct tracer *t, struct mt_tree *out)
{
	struct mt_tree_slot slot;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.tree_map), &zero, &slot))
		return -1;
	*out = slot.tree;
	return 0;
}

static int by_tgid(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	return x->p.tgid < y->p.tgid ? -1 : x->p.tgid > y->p.tgid;
}

int tracer_for_each_proc(const struct tracer *t, void (*fn)(void *ctx, const struct mt_proc *p),
			 void *ctx)
{
	int pfd = bpf_map__fd(t->skel->maps.procs), n = 0;
	__u64 slots = t->skel->bss->slots_used;
	struct mt_proc p;
	__u32 slot;

	if (slots > bpf_map__max_entries(t->skel->maps.procs))
		slots = bpf_map__max_entries(t->skel->maps.procs);
	for (slot = 0; slot < slots; slot++) {
		/* A free slot has tgid 0. */
		if (bpf_map_lookup_elem(pfd, &slot, &p) == 0 && p.tgid && !(p.flags & MT_PROC_DEAD)) {
			fn(ctx, &p);
			n++;
		}
	}
	return n;
}

int tracer_refresh_tasks(struct tracer *t)
{
	int err = run_iterator_pass(t);

	if (err < 0)
		t->record_failures++;
	return err < 0 ? err : 0;
}

static void stage_live_proc(void *ctx, const struct mt_proc *p)
{
	struct tracer *t = ctx;

	if (records_stage_live(t->rec, p))
		t->record_failures++;
}

int tracer_stage_live_procs(struct tracer *t)
{
	records_stage_clear(t->rec);
	/* A dead process sends its exit record: only live ones are staged. */
	tracer_for_each_proc(t, stage_live_proc, t);
	records_stage_seal(t->rec);
	return 0;
}

int tracer_collect_live_tasks(struct tracer *t)
{
	int tfd = bpf_map__fd(t->skel->maps.tasks);
	size_t first_live = t->rec->nprocs - t->rec->live_procs;
	__u32 key, next, *prev = NULL;
	struct mt_task task;

	/* The live rows are the last ones added. */
	qsort(t->rec->procs + first_live, t->rec->nprocs - first_live, sizeof(struct proc_row),
	      by_tgid);
	while (bpf_map_get_next_key(tfd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(tfd, &next, &task) == 0) {
			struct proc_row want, *row;

			if (records_add_task(t->rec, &task, 1))
				t->record_failures++;
			/* A live process's faults: its exited threads' plus these. */
			want.p.tgid = task.ns_tgid ? task.ns_tgid : task.tgid;
			row = bsearch(&want, t->rec->procs + first_live, t->rec->nprocs - first_live,
				      sizeof(struct proc_row), by_tgid);
			if (row)
				row->p.faults += task.faults;
		}
		key = next;
		prev = &key;
	}
	return 0;
}

struct pid_list {
	pid_t *pids;
	int n, max;
};

/* The pid /proc shows here: memtrace's own namespace's. */
static void add_live_pid(void *ctx, const struct mt_proc *p)
{
	struct pid_list *l = ctx;

	if (l->n < l->max)
		l->pids[l->n++] = (pid_t)(p->ns_tgid ? p->ns_tgid : p->tgid);
}

int tracer_live_pids(const struct tracer *t, pid_t *pids, int max)
{
	struct pid_list l = { pids, 0, max };

	tracer_for_each_proc(t, add_live_pid, &l);
	return l.n;
}

uint64_t tracer_recursion_misses(const struct tracer *t)
{
	struct bpf_program *prog;
	uint64_t misses = 0;

	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		memset(&info, 0, sizeof(info));
		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			misses += info.recursion_misses;
	}
	return misses;
}

void tracer_close(struct tracer *t)
{
	ring_buffer__free(t->rb);
	t->rb = NULL;
	memtrace_bpf__destroy(t->skel);
	t->skel = NULL;
}
