// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "collect.h"
#include "exitcodes.h"
#include "format.h"
#include "limit.h"
#include "session.h"

#define POLL_MS 100
/*
 * The iterator pass brings up to date what no event tells (live threads'
 * fault counts, page tables that changed without an RSS change, parents)
 * and applies exits whose lock had failed. It walks every task: once a
 * second, whatever the exports.
 */
#define REFRESH_NS 1000000000ULL

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int add_fd(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * The terminal sends ^C, ^\ and a hang-up to its whole foreground process
 * group (si_code SI_KERNEL): when the command is in memtrace's group it has
 * its own copy already, and a second one would read as "pressed twice".
 */
static int command_got_it_too(const struct session *ss, const struct signalfd_siginfo *si)
{
	return si->ssi_code == SI_KERNEL && getpgid(ss->child.pid) == getpgrp();
}

/*
 * SIGUSR1 asks for an interim report, as dd does. The others end the run:
 * they go on to the command, as a shell would, unless it got them already.
 */
static void handle_signal(struct session *ss)
{
	struct signalfd_siginfo si;

	while (read(ss->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			ss->interim_due = 1;
			continue;
		}
		ss->stop = 1;
		ss->sum.interrupted = 1;
		/* Once reaped (--wait), its pid may be another process's. */
		if (ss->set->command && !ss->sum.exited && !command_got_it_too(ss, &si))
			kill(ss->child.pid, (int)si.ssi_signo);
	}
}

/* The run so far, for SIGUSR1: the tree's state now and its peaks until now. */
static void report_interim(struct session *ss, uint64_t now)
{
	struct summary snap = ss->sum;

	ss->interim_due = 0;
	status_line_erase(&ss->status);
	if (!ss->on_interim || tracer_read_tree(&ss->tracer, &snap.tree))
		return;
	snap.end_ns = now;
	snap.si = &ss->tracer.si;
	snap.thread_bytes = ss->tracer.thread_bytes;
	snap.faults = snap.tree.faults;
	ss->on_interim(ss->interim_arg, &snap);
}

static int reap_child(struct session *ss)
{
	struct rusage ru;
	pid_t r;

	do {
		r = wait4(ss->child.pid, &ss->sum.wait_status, WNOHANG, &ru);
	} while (r < 0 && errno == EINTR);
	if (r != ss->child.pid)
		return 0;
	ss->sum.exited = 1;
	/* An exited process's pidfd stays readable: it would wake every wait (--wait). */
	if (ss->pidfd >= 0)
		epoll_ctl(ss->epfd, EPOLL_CTL_DEL, ss->pidfd, NULL);
	ss->sum.user_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	ss->sum.sys_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return 1;
}

struct sampler {
	uint64_t next_ns;
	uint64_t faults_at_ns;
	uint64_t live_faults;
};

struct proc_list {
	struct session *ss;
	size_t n;
	int failed;
};

static void keep_proc(void *ctx, const struct mt_proc *p)
{
	struct proc_list *l = ctx;
	struct session *ss = l->ss;

	if (l->n == ss->procs_cap) {
		size_t cap = ss->procs_cap ? ss->procs_cap * 2 : 256;
		struct mt_proc *n = realloc(ss->procs, cap * sizeof(*n));

		if (!n) {
			l->failed = 1;
			return;
		}
		ss->procs = n;
		ss->procs_cap = cap;
	}
	ss->procs[l->n] = *p;
	records_use_ns_pids(&ss->procs[l->n++]);
}

static void tell_live(struct session *ss, uint64_t now, const struct mt_tree *t)
{
	struct live_sample ls = { &ss->sum, now, t, NULL, 0 };
	struct proc_list l = { ss, 0, 0 };

	if (ss->live.want_procs) {
		tracer_for_each_proc(&ss->tracer, keep_proc, &l);
		/* Processes missing from a sample are counted as lost, never left out silently. */
		if (l.failed)
			ss->tracer.record_failures++;
		ls.procs = ss->procs;
		ls.nprocs = l.n;
	}
	ss->live.fn(ss->live.ctx, &ls);
}

static void sample(struct session *ss, struct sampler *sm, uint64_t now)
{
	struct mt_tree t;

	if (tracer_read_tree(&ss->tracer, &t))
		return;
	if (ss->ts)
		ts_sample(ss->ts, now - ss->sum.start_ns, &t, t.faults + sm->live_faults);
	if (ss->live.fn)
		tell_live(ss, now, &t);
}

/* RSS and PSS of the live processes: how much of the RSS sum is shared pages. */
static void sample_sharing(struct session *ss, uint64_t now)
{
	pid_t pids[SHARING_MAX_PROCS];
	int n = tracer_live_pids(&ss->tracer, pids, SHARING_MAX_PROCS);

	sharing_sample(&ss->sum.sharing, pids, n, now);
}

/*
 * Once the kernel side has seen the tree cross --limit, the rest of the tree
 * is ended: every process still in it, at every pass until none is left.
 */
static void enforce_limit(struct session *ss, const struct mt_tree *t)
{
	int n;

	if (!t->limit_ns)
		return;
	n = limit_end_tree(&ss->tracer);
	/* The report counts those alive at the first pass; later passes catch late forks. */
	if (!ss->limit_seen_ns) {
		ss->limit_seen_ns = now_ns();
		ss->sum.limit_ended = n;
	}
}

/* The run is over: the command exited (or, with --wait or after --limit, its whole tree). */
static int run_ended(struct session *ss)
{
	struct mt_tree t;
	int whole_tree;

	if (tracer_read_tree(&ss->tracer, &t))
		return 0;
	if (ss->set->limit_bytes)
		enforce_limit(ss, &t);
	whole_tree = ss->set->wait || ss->limit_seen_ns;
	if (ss->set->command) {
		if (!ss->sum.exited && !reap_child(ss))
			return 0;
		/* A signal to memtrace (passed to the command, or after its exit) ends a --wait. */
		if (!whole_tree || (ss->stop && !ss->limit_seen_ns))
			return 1;
	} else if (ss->sum.interrupted) {
		return 1;
	}
	/* Processes that do not die within 5 s of SIGKILL (uninterruptible sleep) are left. */
	if (ss->limit_seen_ns && now_ns() > ss->limit_seen_ns + 5000000000ULL)
		return 1;
	return t.procs_live <= 0;
}

/* Waits for the end: the command's exit, or (attached) every process gone, a signal, --duration. */
static int wait_for_end(struct session *ss)
{
	struct epoll_event evs[4];
	struct sampler sm = { 0, 0, 0 };
	uint64_t deadline = 0, kill_at = 0, interval = (uint64_t)ss->set->interval_ms * 1000000ULL;
	int i, n, timeout, sampling = ss->ts || ss->live.fn;

	if (ss->set->duration_s > 0)
		deadline = ss->sum.start_ns + (uint64_t)(ss->set->duration_s * 1e9);
	sm.next_ns = ss->sum.start_ns;
	for (;;) {
		uint64_t now = now_ns(), wake;

		if (now >= sm.faults_at_ns + REFRESH_NS || !sm.faults_at_ns) {
			/* Every thread's faults only when the time series shows them. */
			tracer_live_faults(&ss->tracer, &sm.live_faults, ss->ts != NULL);
			sm.faults_at_ns = now;
		}
		if (sampling && now >= sm.next_ns) {
			sample(ss, &sm, now);
			while (sm.next_ns <= now)
				sm.next_ns += interval;
		}
		if (now >= ss->sum.sharing.next_ns)
			sample_sharing(ss, now);
		if (status_line_due(&ss->status, now)) {
			struct mt_tree t;

			if (tracer_read_tree(&ss->tracer, &t) == 0)
				status_line_show(&ss->status, now, now - ss->sum.start_ns, &t,
						 ss->tracer.si.page_size, ss->tracer.thread_bytes);
		}
		if (deadline && now >= deadline) {
			deadline = 0;
			ss->sum.timed_out = 1;
			if (!ss->set->command || ss->sum.exited)
				return 0;
			/* As timeout(1) does: TERM, and KILL if it lingers. */
			kill(ss->child.pid, SIGTERM);
			kill_at = now + 5000000000ULL;
		}
		if (kill_at && now >= kill_at && !ss->sum.exited) {
			kill(ss->child.pid, SIGKILL);
			kill_at = 0;
		}
		wake = now + POLL_MS * 1000000ULL;
		if (sampling && sm.next_ns < wake)
			wake = sm.next_ns;
		if (deadline && deadline < wake)
			wake = deadline;
		if (ss->status.fd >= 0 && ss->status.next_ns < wake)
			wake = ss->status.next_ns;
		if (ss->sum.sharing.next_ns < wake)
			wake = ss->sum.sharing.next_ns;
		timeout = (int)((wake - now + 999999) / 1000000);
		n = epoll_wait(ss->epfd, evs, 4, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "memtrace: cannot wait for events: %s\n", strerror(errno));
			return -1;
		}
		tracer_consume(&ss->tracer);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == ss->sigfd)
				handle_signal(ss);
		}
		if (ss->interim_due)
			report_interim(ss, now_ns());
		if (run_ended(ss))
			return 0;
	}
}

static int start_command(struct session *ss)
{
	enum launch_stage stage = LAUNCH_EXEC;
	const struct settings *set = ss->set;
	int err;

	if (set->cgroup && memcg_create(&ss->memcg))
		return MT_EXIT_FAILURE;
	if (launch_prepare(&ss->child, set->command, &ss->child_mask, ss->as)) {
		fprintf(stderr, "memtrace: cannot start '%s': %s\n", set->command[0], strerror(errno));
		return MT_EXIT_FAILURE;
	}
	if (guard_start(&ss->guard, ss->child.pid)) {
		fprintf(stderr, "memtrace: cannot guard '%s': %s\n", set->command[0], strerror(errno));
		launch_abort(&ss->child);
		return MT_EXIT_FAILURE;
	}
	/* In its group before it execs: everything the command charges is counted there. */
	if (set->cgroup && (err = memcg_enter(&ss->memcg, ss->child.pid))) {
		fprintf(stderr, "memtrace: cannot put the command in %s: %s\n", ss->memcg.path,
			strerror(-err));
		launch_abort(&ss->child);
		return MT_EXIT_FAILURE;
	}
	if (tracer_open(&ss->tracer, set, &ss->rec)) {
		launch_abort(&ss->child);
		return MT_EXIT_FAILURE;
	}
	if (tracer_add_roots(&ss->tracer, &ss->child.pid, 1, MT_PROC_AWAIT_EXEC) < 1) {
		fprintf(stderr, "memtrace: cannot follow the command's process %d\n", ss->child.pid);
		launch_abort(&ss->child);
		return MT_EXIT_FAILURE;
	}
	if (set->limit_bytes)
		tracer_arm_limit(&ss->tracer);
	ss->sum.start_ns = now_ns();
	err = launch_release(&ss->child, &stage);
	ss->sum.startup_ns = now_ns() - ss->sum.startup_ns;
	if (err) {
		if (stage == LAUNCH_SET_USER)
			fprintf(stderr, "memtrace: cannot run '%s' as user %u: %s\n", set->command[0],
				(unsigned)ss->as->uid, strerror(err));
		else
			fprintf(stderr, "memtrace: cannot run '%s': %s\n", set->command[0], strerror(err));
		while (waitpid(ss->child.pid, NULL, 0) < 0 && errno == EINTR)
			;
		ss->child.pid = -1;
		if (stage == LAUNCH_SET_USER)
			return MT_EXIT_FAILURE;
		return err == ENOENT ? MT_EXIT_NOTFOUND : MT_EXIT_NOEXEC;
	}
	ss->pidfd = (int)syscall(SYS_pidfd_open, ss->child.pid, 0);
	if (ss->pidfd >= 0)
		add_fd(ss->epfd, ss->pidfd);
	return 0;
}

/* At once, so that one knows what is followed and how to stop. */
static void say_attached(struct session *ss)
{
	struct mt_tree t;
	char p[32], th[32];

	if (tracer_read_tree(&ss->tracer, &t))
		return;
	fprintf(stderr, "memtrace: attached to %s process%s, %s thread%s; Ctrl-C to stop\n",
		format_count(p, sizeof(p), t.procs_live), t.procs_live == 1 ? "" : "es",
		format_count(th, sizeof(th), t.cur.threads), t.cur.threads == 1 ? "" : "s");
}

static int start_attach(struct session *ss)
{
	const struct settings *set = ss->set;
	int added;

	if (attach_check_pids(set->pids, set->npids))
		return MT_EXIT_FAILURE;
	if (tracer_open(&ss->tracer, set, &ss->rec))
		return MT_EXIT_FAILURE;
	ss->sum.start_ns = now_ns();
	added = tracer_add_roots(&ss->tracer, set->pids, set->npids, MT_PROC_ATTACHED);
	if (added < 0)
		return MT_EXIT_FAILURE;
	if (added == 0) {
		fprintf(stderr, "memtrace: cannot attach: the processes exited before they could be followed\n");
		return MT_EXIT_FAILURE;
	}
	if (set->limit_bytes && limit_check_attach(&ss->tracer, set))
		return MT_EXIT_FAILURE;
	if (!set->quiet)
		say_attached(ss);
	ss->sum.startup_ns = now_ns() - ss->sum.startup_ns;
	return 0;
}

static int exit_code_of(const struct session *ss)
{
	int st = ss->sum.wait_status;

	if (ss->set->strict && summary_lost(&ss->sum))
		return MT_EXIT_LOST;
	if (ss->sum.tree.limit_ns)
		return MT_EXIT_LIMIT;
	if (!ss->set->command)
		return MT_EXIT_OK;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return MT_EXIT_FAILURE;
}

/*
 * The command's end is its own exit, the time in its exit record, not when
 * memtrace reaped it: memtrace may have been stopped (SIGSTOP) or busy in
 * between. Without the record (dropped), the reaping time.
 */
static uint64_t command_end_ns(const struct session *ss, uint64_t reaped_ns)
{
	const struct proc_row *root = records_find_exited(&ss->rec, (uint32_t)ss->child.pid);

	if (root && root->p.exit_ns > ss->sum.start_ns && root->p.exit_ns <= reaped_ns)
		return root->p.exit_ns;
	return reaped_ns;
}

static void collect(struct session *ss)
{
	struct summary *s = &ss->sum;
	uint64_t reaped_ns = now_ns();

	sample_sharing(ss, reaped_ns);
	collect_rows(&ss->tracer, &s->tree);
	s->end_ns = ss->set->command ? command_end_ns(ss, reaped_ns) : reaped_ns;
	s->recursion_misses = tracer_recursion_misses(&ss->tracer);
	s->record_failures = ss->tracer.record_failures;
	s->si = &ss->tracer.si;
	s->thread_bytes = ss->tracer.thread_bytes;
	s->faults = s->tree.faults + ss->rec.live_faults;
	sysinfo_self_memory(&s->self_hwm_bytes, &s->self_rss_bytes);
	records_finish(&ss->rec, &s->tree);
	records_sort_by_peak(&ss->rec);
	s->exit_code = exit_code_of(ss);
	if (ss->memcg.version && memcg_read_peak(ss->memcg.version, ss->memcg.path, &s->cg))
		s->cg.version = 0;
	/* The final state as collected, after the command's end: the last row. */
	if (ss->ts)
		ts_end_run(ss->ts, now_ns(), &s->tree, s->faults);
}

int session_run(struct session *ss, int run)
{
	const struct settings *set = ss->set;
	int rc;

	memset(&ss->tracer, 0, sizeof(ss->tracer));
	memset(&ss->sum, 0, sizeof(ss->sum));
	ss->child.pid = -1;
	ss->child.go_fd = ss->child.err_fd = -1;
	ss->guard.pid = ss->guard.wr = -1;
	ss->pidfd = -1;
	ss->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ss->epfd < 0) {
		fprintf(stderr, "memtrace: cannot wait for events: %s\n", strerror(errno));
		return MT_EXIT_FAILURE;
	}
	add_fd(ss->epfd, ss->sigfd);
	records_init(&ss->rec, set->tasks || set->tasks_csv);
	ss->sum.run = run;
	ss->sum.command = set->command;
	ss->sum.command_argc = set->command_argc;
	ss->sum.pids = set->pids;
	ss->sum.npids = set->npids;
	ss->sum.rec = &ss->rec;
	ss->sum.startup_ns = now_ns();
	ss->sum.limit_bytes = set->limit_bytes;
	ss->sum.limit_kind = set->limit_kind;
	ss->sum.limit_signal = set->limit_signal;
	ss->sum.waited = set->wait;
	ss->limit_seen_ns = 0;
	memset(&ss->memcg, 0, sizeof(ss->memcg));

	rc = set->command ? start_command(ss) : start_attach(ss);
	if (rc)
		return rc;
	add_fd(ss->epfd, tracer_epoll_fd(&ss->tracer));
	/* Live outputs turn pages and threads into bytes before the run ends. */
	ss->sum.si = &ss->tracer.si;
	ss->sum.thread_bytes = ss->tracer.thread_bytes;
	/* The first look at shared pages once the command is under way. */
	ss->sum.sharing.next_ns = ss->sum.start_ns + SHARING_EVERY_NS / 5;
	/* A command that ends at once does not flash a line. */
	ss->status.next_ns = ss->sum.start_ns + STATUS_LINE_EVERY_NS;
	if (ss->ts && ts_begin_run(ss->ts, run, ss->sum.start_ns, ss->tracer.si.page_size,
				  ss->tracer.thread_bytes))
		ss->ts = NULL;
	rc = wait_for_end(ss);
	status_line_erase(&ss->status);
	if (rc) {
		if (set->command)
			launch_abort(&ss->child);
		return MT_EXIT_FAILURE;
	}
	collect(ss);
	return 0;
}

void session_end(struct session *ss)
{
	int err;

	if (ss->memcg.version && (err = memcg_remove(&ss->memcg)))
		fprintf(stderr, "memtrace: cannot remove %s: %s\n", ss->memcg.path, strerror(-err));
	ss->memcg.version = 0;
	free(ss->procs);
	ss->procs = NULL;
	ss->procs_cap = 0;
	guard_stop(&ss->guard);
	tracer_close(&ss->tracer);
	records_free(&ss->rec);
	if (ss->pidfd >= 0)
		close(ss->pidfd);
	if (ss->epfd >= 0)
		close(ss->epfd);
	ss->pidfd = ss->epfd = -1;
}
