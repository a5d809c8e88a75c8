// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "format.h"
#include "records.h"
#include "status_line.h"

void status_line_init(struct status_line *sl, int fd, int wanted)
{
	sl->fd = wanted && isatty(fd) ? fd : -1;
	sl->shown = 0;
	sl->next_ns = 0;
}

int status_line_due(const struct status_line *sl, uint64_t now)
{
	return sl->fd >= 0 && now >= sl->next_ns;
}

char *status_line_format(char *buf, size_t len, int cols, uint64_t elapsed_ns,
			 const struct mt_tree *t, uint64_t page_size, uint64_t thread_bytes)
{
	char rss[32], kern[32], peak[32], procs[32], threads[32];
	size_t max = cols > 1 ? (size_t)cols - 1 : 0;

	snprintf(buf, len, "memtrace %.1f s  rss %s  kernel %s  peak %s  %s proc%s  %s thread%s",
		 (double)elapsed_ns / 1e9, format_bytes(rss, sizeof(rss), mem_rss_bytes(&t->cur, page_size)),
		 format_bytes(kern, sizeof(kern), mem_kernel_bytes(&t->cur, thread_bytes)),
		 format_bytes(peak, sizeof(peak), t->peak_bytes[MT_PEAK_TOTAL]),
		 format_count(procs, sizeof(procs), t->procs_live), t->procs_live == 1 ? "" : "s",
		 format_count(threads, sizeof(threads), t->cur.threads), t->cur.threads == 1 ? "" : "s");
	/* A line that wraps could not be redrawn in place: cut it to the width. */
	if (strlen(buf) > max)
		buf[max] = '\0';
	return buf;
}

static int columns(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

const char *status_line_show(struct status_line *sl, uint64_t now, uint64_t elapsed_ns,
			     const struct mt_tree *t, uint64_t page_size, uint64_t thread_bytes)
{
	static char line[256];
	char out[300];
	int n;

	if (sl->fd < 0)
		return NULL;
	sl->next_ns = now + STATUS_LINE_EVERY_NS;
	status_line_format(line, sizeof(line), columns(sl->fd), elapsed_ns, t, page_size, thread_bytes);
	/* Back to the start of the line, the new text, then erase what the old one left. */
	n = snprintf(out, sizeof(out), "\r%s\033[K", line);
	if (write(sl->fd, out, (size_t)n) == n)
		sl->shown = 1;
	return line;
}

void status_line_erase(struct status_line *sl)
{
	static const char erase[] = "\r\033[K";

	if (sl->fd < 0 || !sl->shown)
		return;
	if (write(sl->fd, erase, sizeof(erase) - 1) < 0) {
		/* the terminal is gone: nothing to erase */
	}
	sl->shown = 0;
}
