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

#include "exitcodes.h"
#include "kernel_check.h"
#include "launch.h"
#include "options.h"
#include "outputs.h"
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
	int rc, run, total, status = MT_EXIT_OK;

	settings_init(&set);
	rc = parse_options(argc, argv, &set);
	if (!rc && set.check_kernel)
		return kernel_check_main();
	if (rc || set.exit_now)
		return rc;
	if (set.user && run_as_lookup(set.user, &as))
		return MT_EXIT_USAGE;

	memset(&ss, 0, sizeof(ss));
	ss.set = &set;
	ss.as = set.user ? &as : NULL;
	ss.pidfd = ss.epfd = ss.sigfd = -1;

	/* Output files fail before anything runs. */
	if (outputs_open(&out, &set)) {
		outputs_close(&out);
		return MT_EXIT_FAILURE;
	}
	ss.ts = out.have_ts ? &out.ts : NULL;

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGQUIT);
	sigprocmask(SIG_BLOCK, &blocked, &ss.child_mask);
	ss.sigfd = signalfd(-1, &blocked, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ss.sigfd < 0) {
		fprintf(stderr, "memtrace: cannot set up signal handling: %s\n", strerror(errno));
		outputs_close(&out);
		return MT_EXIT_FAILURE;
	}

	total = set.warmup + set.runs;
	for (run = 1; run <= total && !ss.stop; run++) {
		int measured = run > set.warmup;
		struct timeseries *ts = ss.ts;

		if (!measured)
			ss.ts = NULL; /* warm-up runs are not exported */
		rc = session_run(&ss, measured ? run - set.warmup : 0);
		ss.ts = ts;
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
		}
		session_end(&ss);
	}
	outputs_close(&out);
	close(ss.sigfd);
	return status;
}
