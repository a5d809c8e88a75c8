/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memtrace's exit statuses. Otherwise memtrace exits with the command's
 * status, or 128 + the signal that killed it, as time(1) and shells do.
 */
#ifndef MT_EXITCODES_H
#define MT_EXITCODES_H

enum mt_exit {
	MT_EXIT_OK = 0,
	MT_EXIT_USAGE = 64,      /* bad command line (EX_USAGE) */
	MT_EXIT_LOST = 122,      /* --strict and events were lost */
	MT_EXIT_FAILURE = 125,   /* memtrace could not trace or write its output */
	MT_EXIT_NOEXEC = 126,    /* the command was found but could not be run */
	MT_EXIT_NOTFOUND = 127,  /* the command was not found */
};

#endif
