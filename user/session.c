// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "exitcodes.h"
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

/* Passes a terminal or kill signal to the command, as a shell would. */
static void handle_signal(struct session *ss)
{
	struct signalfd_siginfo si;

	while (read(ss->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		ss->stop = 1;
		if (ss->set->command)
			kill(ss->child.pid, (int)si.ssi_signo);
		else
			ss->sum.interrupted = 1;
	}
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
	ss->sum.user_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	ss->sum.sys_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return 1;
}

struct sampler {
	uint64_t next_ns;
	uint64_t faults_at_ns;
	uint64_t live_faults;
};

static void sample(struct session *ss, struct sampler *sm, uint64_t now)
{
	struct mt_tree t;

	if (tracer_read_tree(&ss->tracer, &t))
		return;
	ts_sample(ss->ts, now - ss->sum.start_ns, &t, t.faults + sm->live_faults);
}

/* Waits for the end: the command's exit, or (attached) every process gone, a signal, --duration. */
static int wait_for_end(struct session *ss)
{
	struct epoll_event evs[4];
	struct sampler sm = { 0, 0, 0 };
	uint64_t deadline = 0, kill_at = 0, interval = (uint64_t)ss->set->interval_ms * 1000000ULL;
	int i, n, timeout;

	if (ss->set->duration_s > 0)
		deadline = ss->sum.start_ns + (uint64_t)(ss->set->duration_s * 1e9);
	sm.next_ns = ss->sum.start_ns;
	for (;;) {
		uint64_t now = now_ns(), wake;

		if (now >= sm.faults_at_ns + REFRESH_NS || !sm.faults_at_ns) {
			tracer_live_faults(&ss->tracer, &sm.live_faults);
			sm.faults_at_ns = now;
		}
		if (ss->ts && now >= sm.next_ns) {
			sample(ss, &sm, now);
			while (sm.next_ns <= now)
				sm.next_ns += interval;
		}
		if (deadline && now >= deadline) {
			deadline = 0;
			ss->sum.timed_out = 1;
			if (!ss->set->command)
				return 0;
			/* As timeout(1) does: TERM, and KILL if it lingers. */
			kill(ss->child.pid, SIGTERM);
			kill_at = now + 5000000000ULL;
		}
		if (kill_at && now >= kill_at) {
			kill(ss->child.pid, SIGKILL);
			kill_at = 0;
		}
		wake = now + POLL_MS * 1000000ULL;
		if (ss->ts && sm.next_ns < wake)
			wake = sm.next_ns;
		if (deadline && deadline < wake)
			wake = deadline;
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
		if (ss->set->command) {
			if (reap_child(ss))
				return 0;
		} else {
			struct mt_tree t;

			if (ss->sum.interrupted)
				return 0;
			if (tracer_read_tree(&ss->tracer, &t) == 0 && t.procs_live <= 0)
				return 0;
		}
	}
}

static int start_command(struct session *ss)
{
	enum launch_stage stage = LAUNCH_EXEC;
	const struct settings *set = ss->set;
	int err;

	if (launch_prepare(&ss->child, set->command, &ss->child_mask, ss->as)) {
		fprintf(stderr, "memtrace: cannot start '%s': %s\n", set->command[0], strerror(errno));
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
	ss->sum.start_ns = now_ns();
	err = launch_release(&ss->child, &stage);
	ss->sum.startup_ns = now_ns() - ss->sum.startup_ns;
	if (err) {
		if (stage == LAUNCH_SET_USER)
			fprintf(stderr, "memtrace: cannot run '%s' as user '%s': %s\n", set->command[0],
				set->user, strerror(err));
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
	ss->sum.startup_ns = now_ns() - ss->sum.startup_ns;
	return 0;
}

static int exit_code_of(const struct session *ss)
{
	int st = ss->sum.wait_status;

	if (ss->set->strict && summary_lost(&ss->sum))
		return MT_EXIT_LOST;
	if (!ss->set->command)
		return MT_EXIT_OK;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return MT_EXIT_FAILURE;
}

static void collect(struct session *ss)
{
	struct summary *s = &ss->sum;

	tracer_consume(&ss->tracer);
	s->end_ns = now_ns();
	tracer_read_tree(&ss->tracer, &s->tree);
	tracer_collect_live(&ss->tracer);
	s->recursion_misses = tracer_recursion_misses(&ss->tracer);
	s->record_failures = ss->tracer.record_failures;
	s->si = &ss->tracer.si;
	s->thread_bytes = ss->tracer.thread_bytes;
	s->faults = s->tree.faults + ss->rec.live_faults;
	sysinfo_self_memory(&s->self_hwm_bytes, &s->self_rss_bytes);
	records_finish(&ss->rec, &s->tree);
	records_sort_by_peak(&ss->rec);
	s->exit_code = exit_code_of(ss);
	if (ss->ts)
		ts_end_run(ss->ts, s->end_ns, &s->tree, s->faults, s->start_ns);
}

int session_run(struct session *ss, int run)
{
	const struct settings *set = ss->set;
	int rc;

	memset(&ss->tracer, 0, sizeof(ss->tracer));
	memset(&ss->sum, 0, sizeof(ss->sum));
	ss->child.pid = -1;
	ss->child.go_fd = ss->child.err_fd = -1;
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

	rc = set->command ? start_command(ss) : start_attach(ss);
	if (rc)
		return rc;
	add_fd(ss->epfd, tracer_epoll_fd(&ss->tracer));
	if (ss->ts && ts_begin_run(ss->ts, run, ss->tracer.si.page_size, ss->tracer.thread_bytes))
		ss->ts = NULL;
	if (wait_for_end(ss)) {
		if (set->command)
			launch_abort(&ss->child);
		return MT_EXIT_FAILURE;
	}
	collect(ss);
	return 0;
}

void session_end(struct session *ss)
{
	tracer_close(&ss->tracer);
	records_free(&ss->rec);
	if (ss->pidfd >= 0)
		close(ss->pidfd);
	if (ss->epfd >= 0)
		close(ss->epfd);
	ss->pidfd = ss->epfd = -1;
}
