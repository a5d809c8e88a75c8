// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

static int fail(const char *path, int err)
{
	fprintf(stderr, "memtrace: cannot write '%s': %s\n", path, strerror(err));
	return -1;
}

/* "dir/.name.XXXXXX": same file system, so the final rename is atomic. */
static char *temp_name_for(const char *path)
{
	char *copy = strdup(path), *dcopy = strdup(path), *out = NULL;

	if (copy && dcopy && asprintf(&out, "%s/.%s.XXXXXX", dirname(dcopy), basename(copy)) < 0)
		out = NULL;
	free(copy);
	free(dcopy);
	return out;
}

static int open_temp(struct outfile *o)
{
	mode_t mask = umask(0);
	int fd;

	umask(mask);
	o->tmp = temp_name_for(o->path);
	if (!o->tmp)
		return fail(o->path, ENOMEM);
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		free(o->tmp);
		o->tmp = NULL;
		return fail(o->path, err);
	}
	/* mkstemp makes 0600; the result should look like any file the user creates. */
	fchmod(fd, 0666 & ~mask);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		close(fd);
		unlink(o->tmp);
		return fail(o->path, errno);
	}
	return 0;
}

int outfile_open(struct outfile *o, const char *path, enum outfile_mode mode)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->mode = mode;
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	o->path = strdup(path);
	if (!o->path)
		return fail(path, ENOMEM);
	/* A directory or a missing folder fails here, before anything runs. */
	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return fail(path, EISDIR);
		o->in_place = !S_ISREG(st.st_mode);
		o->old_size = st.st_size;
	} else {
		o->created = 1;
	}
	if (mode == OUTFILE_REPLACE && !o->in_place)
		return open_temp(o);
	o->f = fopen(path, mode == OUTFILE_APPEND ? "ae" : "we"); /* "e": not for the command */
	if (!o->f)
		return fail(path, errno);
	return 0;
}

int outfile_is_stdout(const struct outfile *o)
{
	return o->f == stdout;
}

int outfile_commit(struct outfile *o)
{
	int err = 0;

	if (!o->f)
		return 0;
	if (outfile_is_stdout(o)) {
		err = fflush(stdout) ? errno : 0;
		o->f = NULL;
		return err ? fail("-", err) : 0;
	}
	if (fflush(o->f) || ferror(o->f) || (!o->in_place && fsync(fileno(o->f))))
		err = errno ? errno : EIO;
	if (fclose(o->f) && !err)
		err = errno;
	o->f = NULL;
	if (!err && o->tmp && rename(o->tmp, o->path))
		err = errno;
	if (err) {
		if (o->tmp)
			unlink(o->tmp);
		fail(o->path, err);
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return err ? -1 : 0;
}

void outfile_abort(struct outfile *o)
{
	if (!o->f)
		return;
	if (outfile_is_stdout(o)) {
		fflush(stdout);
	} else {
		if (o->mode == OUTFILE_APPEND && !o->created && !o->in_place &&
		    ftruncate(fileno(o->f), o->old_size)) {
			/* the header stays: nothing better to do */
		}
		fclose(o->f);
		if (o->tmp)
			unlink(o->tmp);
		else if (!o->in_place && (o->mode == OUTFILE_LIVE || o->created))
			unlink(o->path);
	}
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}
