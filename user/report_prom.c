// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report_prom.h"

/* Length of the valid UTF-8 sequence at p, or 0. */
static int utf8_len(const unsigned char *p)
{
	int n, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void prom_write_label_value(FILE *f, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	int n;

	fputc('"', f);
	while (*p) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		n = utf8_len(p);
		if (*p == '\\' || *p == '"' || *p == '\n') {
			p++;
		} else if (n) {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		} else {
			/* A byte that is not UTF-8 (argv is bytes): U+FFFD, as decoders do. */
			fputs("\xef\xbf\xbd", f);
			p++;
		}
	}
	fputc('"', f);
}

static char *label_set(const struct settings *set, const char *cmdline)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int i;

	if (!m)
		return NULL;
	fputs("command=", m);
	prom_write_label_value(m, cmdline);
	for (i = 0; i < set->nlabels; i++) {
		const char *eq = strchr(set->labels[i], '=');

		fprintf(m, ",%.*s=", (int)(eq - set->labels[i]), set->labels[i]);
		prom_write_label_value(m, eq + 1);
	}
	if (fclose(m)) {
		free(out);
		return NULL;
	}
	return out;
}

int prom_open(struct prom *pr, const struct settings *set, const char *cmdline)
{
	char *d = NULL, *b = NULL;
	struct stat st;
	int fd;

	memset(pr, 0, sizeof(*pr));
	pr->labels = label_set(set, cmdline);
	if (!pr->labels) {
		fprintf(stderr, "memtrace: cannot prepare the Prometheus labels: out of memory\n");
		return -1;
	}
	if (!set->prom)
		return 0;
	pr->path = set->prom;
	if (stat(pr->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "memtrace: cannot write '%s' for --prom: it is a directory\n", pr->path);
		return -1;
	}
	d = strdup(pr->path);
	b = strdup(pr->path);
	if (!d || !b || asprintf(&pr->tmp_template, "%s/.%s.XXXXXX", dirname(d), basename(b)) < 0) {
		pr->tmp_template = NULL;
		free(d);
		free(b);
		fprintf(stderr, "memtrace: cannot write '%s' for --prom: out of memory\n", pr->path);
		return -1;
	}
	free(d);
	free(b);
	/* The directory must take a new file now, not after the command ran. */
	{
		char probe[strlen(pr->tmp_template) + 1];

		strcpy(probe, pr->tmp_template);
		fd = mkstemp(probe);
		if (fd < 0) {
			fprintf(stderr, "memtrace: cannot write '%s' for --prom: %s\n", pr->path,
				strerror(errno));
			return -1;
		}
		close(fd);
		unlink(probe);
	}
	return 0;
}

static void metric(FILE *f, const struct prom *pr, const char *name, const char *type,
		   const char *help, const char *fmt, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s{%s} ", name, help, name, type, name, pr->labels);
	fprintf(f, fmt, v);
	fputc('\n', f);
}

static void metric_int(FILE *f, const struct prom *pr, const char *name, const char *type,
		       const char *help, int64_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s{%s} %lld\n", name, help, name, type, name,
		pr->labels, (long long)v);
}

void prom_write_text(FILE *f, const struct prom *pr, const struct summary *s,
		     const struct mt_tree *t, uint64_t now_ns, int final)
{
	uint64_t ps = s->si->page_size, tb = s->thread_bytes;
	int64_t rss = mem_rss_bytes(&t->cur, ps), kern = mem_kernel_bytes(&t->cur, tb);
	uint64_t lost = t->ringbuf_drops + t->map_full + t->lock_fails;
	struct timespec now;

	if (final)
		lost = summary_lost(s);
	metric_int(f, pr, "memtrace_peak_rss_bytes", "gauge",
		   "Peak RSS (file + anon + shmem) of the process tree, exact, bytes.",
		   t->peak_bytes[MT_PEAK_RSS]);
	metric_int(f, pr, "memtrace_peak_total_bytes", "gauge",
		   "Peak of RSS + kernel memory (page tables, kernel stacks, thread objects) of the tree, bytes.",
		   t->peak_bytes[MT_PEAK_TOTAL]);
	metric_int(f, pr, "memtrace_peak_kernel_bytes", "gauge",
		   "Peak kernel memory of the tree, bytes.", t->kernel_peak_bytes);
	metric_int(f, pr, "memtrace_rss_bytes", "gauge",
		   "RSS of the tree now (at the end when the run is over), bytes.", rss);
	metric_int(f, pr, "memtrace_kernel_bytes", "gauge",
		   "Kernel memory of the tree now, bytes.", kern);
	metric_int(f, pr, "memtrace_total_bytes", "gauge",
		   "RSS + kernel memory of the tree now, bytes.", rss + kern);
	metric_int(f, pr, "memtrace_processes", "gauge", "Processes of the tree alive now.",
		   t->procs_live);
	metric_int(f, pr, "memtrace_threads", "gauge", "Threads of the tree alive now.",
		   t->cur.threads);
	metric(f, pr, "memtrace_wall_seconds", "gauge",
	       "Wall time since the command's exec (or attach), seconds.", "%.6f",
	       (double)(now_ns - s->start_ns) / 1e9);
	metric_int(f, pr, "memtrace_events_lost_total", "counter",
		   "Events memtrace could not apply: the figures are incomplete when not 0.",
		   (int64_t)lost);
	metric_int(f, pr, "memtrace_running", "gauge",
		   "1 while the run goes on (a live rewrite), 0 once it has ended.", !final);
	if (!final)
		return;
	metric_int(f, pr, "memtrace_exit_status", "gauge",
		   "memtrace's exit status for the run: the command's, 128 + signal, 122 for --strict.",
		   s->exit_code);
	clock_gettime(CLOCK_REALTIME, &now);
	metric(f, pr, "memtrace_run_end_timestamp_seconds", "gauge",
	       "When the run ended, seconds since the Unix epoch.", "%.3f",
	       (double)now.tv_sec + now.tv_nsec / 1e9);
}

int prom_write_file(struct prom *pr, const struct summary *s, const struct mt_tree *t,
		    uint64_t now_ns, int final)
{
	char tmp[strlen(pr->tmp_template) + 1];
	mode_t mask;
	FILE *f;
	int fd, err = 0;

	strcpy(tmp, pr->tmp_template);
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = errno;
		goto fail;
	}
	/* mkstemp makes it 0600: node_exporter reads it as another user. */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	f = fdopen(fd, "w");
	if (!f) {
		err = errno;
		close(fd);
		unlink(tmp);
		goto fail;
	}
	prom_write_text(f, pr, s, t, now_ns, final);
	if (ferror(f))
		err = EIO;
	if (fclose(f) && !err)
		err = errno;
	if (!err && rename(tmp, pr->path))
		err = errno;
	if (err) {
		unlink(tmp);
		goto fail;
	}
	return 0;
fail:
	if (!pr->reported)
		fprintf(stderr, "memtrace: cannot write '%s' for --prom: %s\n", pr->path, strerror(err));
	pr->reported = 1;
	return -1;
}

void prom_close(struct prom *pr)
{
	free(pr->tmp_template);
	free(pr->labels);
	memset(pr, 0, sizeof(*pr));
}
