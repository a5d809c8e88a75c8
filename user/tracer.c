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

#include "capacity.h"
#include "kernel_check.h"
#include "memtrace.skel.h"
#include "memtrace_spin.skel.h"
#include "tracer.h"

/* One skeleton type serves both objects: they differ only in the lock's code. */
_Static_assert(sizeof(struct memtrace_bpf__bss) == sizeof(struct memtrace_spin_bpf__bss), "bss");
_Static_assert(sizeof(struct memtrace_bpf__rodata) == sizeof(struct memtrace_spin_bpf__rodata), "rodata");
_Static_assert(sizeof(((struct memtrace_bpf *)0)->maps) == sizeof(((struct memtrace_spin_bpf *)0)->maps),
	       "maps");
_Static_assert(sizeof(((struct memtrace_bpf *)0)->progs) == sizeof(((struct memtrace_spin_bpf *)0)->progs),
	       "programs");

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

		if (records_exited_rows(t->rec) >= RECORDS_MAX_PROCS) {
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

/* Why a load or attach failed, naming the kernel needed and the one found. */
static void print_load_error(const char *what, int err, const struct kernel_features *kf)
{
	const char *why;

	if (err == -EPERM) {
		fprintf(stderr, "memtrace: cannot %s BPF programs: needs root (or CAP_BPF and CAP_PERFMON)\n",
			what);
		return;
	}
	if (err == -EACCES)
		why = "the kernel's verifier refused a program";
	else if (err == -ENOENT || err == -ESRCH)
		why = "a tracepoint or kernel function this kernel lacks";
	else
		why = strerror(-err);
	fprintf(stderr,
		"memtrace: cannot %s BPF programs: %s on Linux %s (memtrace needs " KERNEL_NEEDED
		" or newer, tested on 6.12 and 6.18; memtrace -vv shows the kernel's log)\n",
		what, why, kf->release);
}

/*
 * The skeleton of the object this kernel can load: the bpf_spin_lock one
 * before bpf_res_spin_lock (6.15). Both have the same maps, programs and
 * globals, so the spin object fills the same skeleton.
 */
static struct memtrace_bpf *open_skeleton(const struct kernel_features *kf)
{
	struct memtrace_bpf *skel;
	int err;

	if (kf->res_spin_lock)
		return memtrace_bpf__open();
	skel = calloc(1, sizeof(*skel));
	if (!skel)
		return NULL;
	err = memtrace_bpf__create_skeleton(skel);
	if (!err) {
		skel->skeleton->data = memtrace_spin_bpf__elf_bytes(&skel->skeleton->data_sz);
		err = bpf_object__open_skeleton(skel->skeleton, NULL);
	}
	if (err) {
		memtrace_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
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
	struct kernel_features kf;
	const char *btf;
	char refusal[256];
	int err, ncpu;

	memset(t, 0, sizeof(*t));
	t->rec = rec;
	libbpf_verbosity = s->verbose;
	libbpf_set_print(print_libbpf);
	sysinfo_read(&t->si);
	t->thread_bytes = sysinfo_thread_bytes(&t->si);

	/* MEMTRACE_BTF_PATH lets the tests play a kernel without BTF. */
	btf = kernel_btf_path();
	if (kernel_btf_missing(btf))
		return -1;
	/* Nothing is loaded on a kernel memtrace cannot measure exactly. */
	if (kernel_features_read(btf, &kf))
		return -1;
	if (kernel_refusal(&kf, refusal, sizeof(refusal))) {
		fprintf(stderr, "%s\n", refusal);
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
	skel = open_skeleton(&kf);
	if (!skel) {
		fprintf(stderr, "memtrace: cannot open BPF object: %s\n", strerror(errno));
		return -1;
	}
	t->skel = skel;
	skel->rodata->page_shift = t->si.page_shift;
	skel->rodata->nr_cpus = (unsigned int)ncpu;
	skel->rodata->thread_bytes = t->thread_bytes;
	skel->rodata->task_records = rec->keep_tasks;
	bpf_map__set_max_entries(skel->maps.tasks, task_slots(t->si.pid_max, t->si.threads_max, s->max_tasks));
	t->proc_slots = proc_slots(t->si.pid_max, s->max_procs);
	skel->rodata->max_procs = t->proc_slots;
	/* Command lines travel only where they are shown: -v and the JSON. */
	skel->rodata->exec_args = s->verbose > 0 || s->json;
	skel->rodata->limit_bytes = (__s64)s->limit_bytes;
	skel->rodata->limit_kind = (__u32)s->limit_kind;
	skel->rodata->limit_signal = (__u32)s->limit_signal;
	bpf_map__set_max_entries(skel->maps.procs, t->proc_slots);
	bpf_map__set_max_entries(skel->maps.proc_slots, t->proc_slots);
	bpf_map__set_max_entries(skel->maps.free_slots, t->proc_slots);
	bpf_map__set_max_entries(skel->maps.mm_shares, t->proc_slots);
	bpf_map__set_max_entries(skel->maps.pending_exits, t->proc_slots);
	/* A bit per possible tgid (bpf/followed_bits.h). */
	bpf_map__set_max_entries(skel->maps.followed_bits, (unsigned int)((t->si.pid_max + 63) / 64));
	skel->rodata->test_fail_lock = test_fail_lock_mask();
	if (getenv("MEMTRACE_TEST_EXIT_SPIN_NS"))
		skel->rodata->test_exit_spin_ns = strtoull(getenv("MEMTRACE_TEST_EXIT_SPIN_NS"), NULL, 10);
	bpf_map__set_max_entries(skel->maps.events, (unsigned int)s->ringbuf_bytes);
	bpf_program__set_autoload(skel->progs.on_exit, kf.exit_group_dead);
	bpf_program__set_autoload(skel->progs.on_exit_task_only, !kf.exit_group_dead);
	/*
	 * Its only use is hugetlb pages, and it runs at every mmap lock of the
	 * machine (77 ns each, 14 per thread's life in rust-threads): only
	 * where a pool can give out such pages.
	 */
	bpf_program__set_autoload(skel->progs.on_mmap_write_lock, t->si.hugetlb_pool);

	err = memtrace_bpf__load(skel);
	if (err) {
		print_load_error("load", err, &kf);
		goto fail;
	}
	err = memtrace_bpf__attach(skel);
	if (err) {
		print_load_error("attach", err, &kf);
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
	t->skel->bss->iter_adopt = 1;
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
	t->skel->bss->iter_adopt = 0;
	for (i = 0; i < n; i++) {
		key = (__u32)pids[i];
		bpf_map_delete_elem(roots_fd, &key);
	}
	return added;
}

int tracer_live_faults(struct tracer *t, uint64_t *faults, int all_threads)
{
	int err;

	t->skel->bss->iter_faults = 0;
	t->skel->bss->iter_threads = all_threads != 0;
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

/* Slots read per bpf() call: 100,000 processes are 400 calls, not 100,000 (112 KiB of buffer). */
#define SLOT_BATCH 256

static int is_live(const struct mt_proc *p)
{
	/* A free slot has tgid 0. */
	return p->tgid && !(p->flags & MT_PROC_DEAD);
}

int tracer_for_each_proc(const struct tracer *t, void (*fn)(void *ctx, const struct mt_proc *p),
			 void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct mt_proc *batch = malloc(SLOT_BATCH * sizeof(*batch));
	int pfd = bpf_map__fd(t->skel->maps.procs), n = 0, end = 0, failed = !batch;
	__u64 slots = t->skel->bss->slots_used;
	__u32 keys[SLOT_BATCH], at, count, i, slot = 0, *from = NULL;
	struct mt_proc p;

	if (slots > bpf_map__max_entries(t->skel->maps.procs))
		slots = bpf_map__max_entries(t->skel->maps.procs);
	for (at = 0; !failed && !end && at < slots; at += count) {
		count = slots - at < SLOT_BATCH ? (__u32)(slots - at) : SLOT_BATCH;
		/* The last slot read comes back in slot, where the next call starts after it. */
		if (bpf_map_lookup_batch(pfd, from, &slot, keys, batch, &count, &opts)) {
			failed = errno != ENOENT;
			end = 1; /* ENOENT: the map's last slot was read */
			if (failed)
				break;
		}
		for (i = 0; i < count; i++) {
			if (is_live(&batch[i])) {
				fn(ctx, &batch[i]);
				n++;
			}
		}
		from = &slot;
	}
	free(batch);
	if (!failed)
		return n;
	/* No memory, or a kernel without batched reads: slot by slot, from the first not read. */
	for (slot = at; slot < slots; slot++) {
		if (bpf_map_lookup_elem(pfd, &slot, &p) == 0 && is_live(&p)) {
			fn(ctx, &p);
			n++;
		}
	}
	return n;
}

int tracer_refresh_tasks(struct tracer *t)
{
	uint64_t faults;
	/* The report reads every live task's faults. */
	int err = tracer_live_faults(t, &faults, 1);

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
	struct mt_tree tree;

	records_stage_clear(t->rec);
	/* The live rows' room at once, rather than grown row by row at the end. */
	if (tracer_read_tree(t, &tree) == 0 && tree.procs_live > 0 &&
	    records_reserve(t->rec, (size_t)tree.procs_live))
		t->record_failures++;
	/* A dead process sends its exit record: only live ones are staged. */
	tracer_for_each_proc(t, stage_live_proc, t);
	records_stage_seal(t->rec);
	return 0;
}

/* One live thread: its row, and its faults added to its live process's row. */
static void collect_live_task(struct tracer *t, const struct mt_task *task, size_t first_live)
{
	struct proc_row want, *row;

	if (records_add_task(t->rec, task, 1))
		t->record_failures++;
	/* A live process's faults: its exited threads' plus these. */
	want.p.tgid = task->ns_tgid ? task->ns_tgid : task->tgid;
	row = bsearch(&want, t->rec->procs + first_live, t->rec->nprocs - first_live,
		      sizeof(struct proc_row), by_tgid);
	if (row)
		row->p.faults += task->faults;
}

/* Threads read per bpf() call (22 KiB of buffer); a hash bucket larger than that fails the call. */
#define TASK_BATCH 256

int tracer_collect_live_tasks(struct tracer *t)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct mt_task *batch = malloc(TASK_BATCH * sizeof(*batch));
	int tfd = bpf_map__fd(t->skel->maps.tasks), end = 0, failed = !batch;
	size_t first_live = t->rec->nprocs - t->rec->live_procs;
	__u32 keys[TASK_BATCH], count, i, pos = 0, *from = NULL;
	__u32 key, next, *prev = NULL;
	struct mt_task task;

	/* The live rows are the last ones added. */
	qsort(t->rec->procs + first_live, t->rec->nprocs - first_live, sizeof(struct proc_row),
	      by_tgid);
	while (!failed && !end) {
		count = TASK_BATCH;
		if (bpf_map_lookup_batch(tfd, from, &pos, keys, batch, &count, &opts)) {
			/* ENOENT: the last bucket was read. Anything else: key by key if nothing was read yet. */
			if (errno != ENOENT && !from) {
				failed = 1;
				break;
			}
			if (errno != ENOENT) {
				t->record_failures++; /* the rest not read: counted, never silent */
				count = 0;
			}
			end = 1;
		}
		for (i = 0; i < count; i++)
			collect_live_task(t, &batch[i], first_live);
		from = &pos;
	}
	free(batch);
	if (!failed)
		return 0;
	while (bpf_map_get_next_key(tfd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(tfd, &next, &task) == 0)
			collect_live_task(t, &task, first_live);
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

void tracer_arm_limit(struct tracer *t)
{
	t->skel->bss->limit_armed = 1;
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
