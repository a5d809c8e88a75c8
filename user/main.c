// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace: run a command (or attach to processes) and measure, from the
 * kernel, how much memory its whole process tree needs.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
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
#include "exitcodes.h"
#include "launch.h"
#include "options.h"
#include "records.h"
#include "report.h"
#include "summary.h"
#include "tracer.h"

#define POLL_MS 100

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static FILE *open_output(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fprintf(stderr, "memtrace: cannot write '%s': %s\n", path, strerror(errno));
	return f;
}

struct session {
	struct settings set;
	struct tracer tracer;
	struct records rec;
	struct summary sum;
	struct child child;
	FILE *out;
	FILE *json;
	int sigfd;
	int pidfd;
	int epfd;
	sigset_t blocked, old_mask;
};

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
		if (ss->set.command)
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

/* Waits for the end: the command's exit, or (attached) every process gone or a signal. */
static int wait_for_end(struct session *ss)
{
	struct epoll_event evs[4];
	uint64_t deadline = 0, kill_at = 0;
	int i, n, timeout;

	if (ss->set.duration_s > 0)
		deadline = ss->sum.start_ns + (uint64_t)(ss->set.duration_s * 1e9);
	for (;;) {
		uint64_t now = now_ns();

		timeout = POLL_MS;
		if (deadline && now >= deadline) {
			deadline = 0;
			ss->sum.timed_out = 1;
			if (!ss->set.command)
				return 0;
			/* As timeout(1) does: TERM, and KILL if it lingers. */
			kill(ss->child.pid, SIGTERM);
			kill_at = now + 5000000000ULL;
		} else if (deadline && (deadline - now) / 1000000 < (uint64_t)timeout) {
			timeout = (int)((deadline - now) / 1000000) + 1;
		}
		if (kill_at && now >= kill_at) {
			kill(ss->child.pid, SIGKILL);
			kill_at = 0;
		}
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
		if (ss->set.command) {
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
	struct run_as as;
	int err;

	if (ss->set.user && run_as_lookup(ss->set.user, &as))
		return MT_EXIT_USAGE;
	if (launch_prepare(&ss->child, ss->set.command, &ss->old_mask, ss->set.user ? &as : NULL)) {
		fprintf(stderr, "memtrace: cannot start '%s': %s\n", ss->set.command[0], strerror(errno));
		return MT_EXIT_FAILURE;
	}
	if (tracer_open(&ss->tracer, &ss->set, &ss->rec)) {
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
			fprintf(stderr, "memtrace: cannot run '%s' as user '%s': %s\n",
				ss->set.command[0], ss->set.user, strerror(err));
		else
			fprintf(stderr, "memtrace: cannot run '%s': %s\n", ss->set.command[0], strerror(err));
		while (waitpid(ss->child.pid, NULL, 0) < 0 && errno == EINTR)
			;
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
	int added;

	if (attach_check_pids(ss->set.pids, ss->set.npids))
		return MT_EXIT_FAILURE;
	if (tracer_open(&ss->tracer, &ss->set, &ss->rec))
		return MT_EXIT_FAILURE;
	ss->sum.start_ns = now_ns();
	added = tracer_add_roots(&ss->tracer, ss->set.pids, ss->set.npids, MT_PROC_ATTACHED);
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

	if (ss->set.strict && summary_lost(&ss->sum))
		return MT_EXIT_LOST;
	if (!ss->set.command)
		return MT_EXIT_OK;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return MT_EXIT_FAILURE;
}

static void finish(struct session *ss)
{
	struct summary *s = &ss->sum;
	uint64_t lost;

	tracer_consume(&ss->tracer);
	s->end_ns = now_ns();
	tracer_read_tree(&ss->tracer, &s->tree);
	tracer_collect_live(&ss->tracer);
	s->recursion_misses = tracer_recursion_misses(&ss->tracer);
	s->record_failures = ss->tracer.record_failures;
	s->si = &ss->tracer.si;
	s->thread_bytes = ss->tracer.thread_bytes;
	sysinfo_self_memory(&s->self_hwm_bytes, &s->self_rss_bytes);
	s->faults = s->tree.faults + ss->rec.live_faults;
	records_finish(&ss->rec, &s->tree);
	records_sort_by_peak(&ss->rec);
	s->exit_code = exit_code_of(ss);

	report_text(ss->out, s, ss->set.top, ss->set.verbose > 0);
	fflush(ss->out);
	if (ss->json) {
		report_json(ss->json, s);
		fflush(ss->json);
	}
	lost = summary_lost(s);
	if (lost)
		fprintf(stderr, "memtrace: %" PRIu64 " events lost: the figures above are incomplete%s\n",
			lost, ss->set.strict ? "" : " (--strict makes this an error)");
}

int main(int argc, char **argv)
{
	struct session ss;
	int rc;

	memset(&ss, 0, sizeof(ss));
	ss.sigfd = ss.pidfd = ss.epfd = -1;
	ss.child.pid = -1;
	ss.child.go_fd = ss.child.err_fd = -1;
	settings_init(&ss.set);
	rc = parse_options(argc, argv, &ss.set);
	if (rc || ss.set.exit_now)
		return rc;
	ss.sum.startup_ns = now_ns();
	ss.sum.command = ss.set.command;
	ss.sum.command_argc = ss.set.command_argc;
	ss.sum.pids = ss.set.pids;
	ss.sum.npids = ss.set.npids;
	ss.sum.rec = &ss.rec;

	/* Output files fail before anything runs. */
	ss.out = ss.set.output ? open_output(ss.set.output) : stderr;
	if (!ss.out)
		return MT_EXIT_FAILURE;
	if (ss.set.json && !(ss.json = open_output(ss.set.json))) {
		rc = MT_EXIT_FAILURE;
		goto cleanup;
	}
	records_init(&ss.rec, 0);

	sigemptyset(&ss.blocked);
	sigaddset(&ss.blocked, SIGINT);
	sigaddset(&ss.blocked, SIGTERM);
	sigaddset(&ss.blocked, SIGHUP);
	sigaddset(&ss.blocked, SIGQUIT);
	sigprocmask(SIG_BLOCK, &ss.blocked, &ss.old_mask);
	ss.sigfd = signalfd(-1, &ss.blocked, SFD_NONBLOCK | SFD_CLOEXEC);
	ss.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ss.sigfd < 0 || ss.epfd < 0) {
		fprintf(stderr, "memtrace: cannot set up signal handling: %s\n", strerror(errno));
		rc = MT_EXIT_FAILURE;
		goto cleanup;
	}
	add_fd(ss.epfd, ss.sigfd);

	rc = ss.set.command ? start_command(&ss) : start_attach(&ss);
	if (rc)
		goto cleanup;
	add_fd(ss.epfd, tracer_epoll_fd(&ss.tracer));
	if (wait_for_end(&ss)) {
		rc = MT_EXIT_FAILURE;
		if (ss.set.command)
			launch_abort(&ss.child);
		goto cleanup;
	}
	finish(&ss);
	rc = ss.sum.exit_code;
cleanup:
	tracer_close(&ss.tracer);
	records_free(&ss.rec);
	if (ss.json)
		fclose(ss.json);
	if (ss.out && ss.out != stderr)
		fclose(ss.out);
	if (ss.pidfd >= 0)
		close(ss.pidfd);
	if (ss.sigfd >= 0)
		close(ss.sigfd);
	if (ss.epfd >= 0)
		close(ss.epfd);
	return rc;
}
