// SPDX-License-Identifier: GPL-2.0
/*
 * memtrace: run a command (or attach to processes) and measure, from the
 * kernel, how much memory its whole process tree needs.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "compare.h"
#include "exitcodes.h"
#include "kernel_check.h"
#include "launch.h"
#include "options.h"
#include "outputs.h"
#include "report_format.h"
#include "session.h"

static void warn_lost(const struct settings *set, const struct summary *s)
{
	uint64_t lost = summary_lost(s);

	if (lost)
		fprintf(stderr, "memtrace: %" PRIu64 " events lost%s: the figures are incomplete%s\n",
			lost, set->runs > 1 ? " in this run" : "",
			set->strict ? "" : " (--strict makes this an error)");
}

int main(int argc, char **argv)
{
	struct settings set;
	struct session ss;
	struct outputs out;
	struct run_as as;
	sigset_t blocked;
	int rc, run, total, status = MT_EXIT_OK, sudo_user = 0;

	settings_init(&set);
	rc = parse_options(argc, argv, &set);
	if (!rc && set.check_kernel)
		return kernel_check_main();
	if (rc || set.exit_now)
		return rc;
	if (set.user && run_as_lookup(set.user, &as))
		return MT_EXIT_USAGE;
	/* sudo memtrace CMD: CMD as the one who typed it, as they meant (--as-root keeps root). */
	if (!set.user && !set.as_root && !set.npids) {
		rc = run_as_sudo_user(&as);
		if (rc < 0)
			return MT_EXIT_USAGE;
		sudo_user = rc == 1;
	}
	if (set.format && report_format_check(set.format))
		return MT_EXIT_USAGE;

	memset(&ss, 0, sizeof(ss));
	ss.set = &set;
	ss.as = set.user || sudo_user ? &as : NULL;
	ss.pidfd = ss.epfd = ss.sigfd = -1;

	/* Output files fail before anything runs (a comparison opens its own). */
	memset(&out, 0, sizeof(out));
	if (!set.ncompare && outputs_open(&out, &set)) {
		outputs_close(&out);
		return MT_EXIT_FAILURE;
	}
	ss.ts = out.have_ts ? &out.ts : NULL;
	ss.live = out.live;
	status_line_init(&ss.status, STDERR_FILENO, !set.quiet);
	ss.on_interim = outputs_interim;
	ss.interim_arg = &out;

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGQUIT);
	sigaddset(&blocked, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blocked, &ss.child_mask);
	ss.sigfd = signalfd(-1, &blocked, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ss.sigfd < 0) {
		fprintf(stderr, "memtrace: cannot set up signal handling: %s\n", strerror(errno));
		outputs_close(&out);
		return MT_EXIT_FAILURE;
	}

	if (set.ncompare) {
		status = compare_commands(&ss);
		close(ss.sigfd);
		return status;
	}
	total = set.warmup + set.runs;
	for (run = 1; run <= total && !ss.stop; run++) {
		int measured = run > set.warmup;
		struct timeseries *ts = ss.ts;
		struct live_hook live = ss.live;

		if (!measured) {
			ss.ts = NULL; /* warm-up runs are not exported */
			ss.live.fn = NULL;
		}
		rc = session_run(&ss, measured ? run - set.warmup : 0);
		ss.ts = ts;
		ss.live = live;
		if (rc) {
			session_end(&ss);
			status = rc;
			break;
		}
		if (measured) {
			outputs_run(&out, &ss.sum);
			warn_lost(&set, &ss.sum);
			/* The first run that fails gives the status, as a shell's && would. */
			if (status == MT_EXIT_OK)
				status = ss.sum.exit_code;
		} else if (ss.sum.interrupted) {
			fprintf(stderr, "memtrace: interrupted in warm-up run %d: nothing was measured\n", run);
			status = ss.sum.exit_code;
		}
		session_end(&ss);
	}
	/* An export that failed (a push refused) fails a run that succeeded. */
	if (outputs_close(&out) && status == MT_EXIT_OK)
		status = MT_EXIT_FAILURE;
	close(ss.sigfd);
	return status;
}
