// SPDX-License-Identifier: GPL-2.0
/* --cgroup: a memory cgroup for the run, its charged peak, and its removal on every path. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

#define GROUP_PREFIX "memtrace-"

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

static int read_int(const char *dir, const char *name, int64_t *out)
{
	char path[MT_CGROUP_PATH_MAX + 64], buf[64], *end;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = read_text(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*out = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

/* Whether the space-separated word list has word. */
static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || isspace((unsigned char)p[-1]) || p[-1] == ',') &&
		    (!p[n] || isspace((unsigned char)p[n]) || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

/* The mount point of the first mount with fstype (and, for v1, the memory super option). */
static int find_mount(const char *mountinfo, const char *fstype, int want_memory, char *root,
		      char *point, size_t len)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		char buf[1024], r[512], m[512], type[64], opts[512];
		size_t n = next ? (size_t)(next - line) : strlen(line);
		const char *dash;

		if (n < sizeof(buf)) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			dash = strstr(buf, " - ");
			if (dash && sscanf(buf, "%*s %*s %*s %511s %511s", r, m) == 2 &&
			    sscanf(dash + 3, "%63s %*s %511s", type, opts) == 2 &&
			    strcmp(type, fstype) == 0 && (!want_memory || has_word(opts, "memory")) &&
			    strlen(m) < len && strlen(r) < len) {
				strcpy(root, r);
				strcpy(point, m);
				return 0;
			}
		}
		line = next ? next + 1 : NULL;
	}
	return -1;
}

/* mount point + the group's path below the mount's root. */
static int join_group(char *out, size_t len, const char *point, const char *root,
		      const char *group)
{
	size_t rl = strlen(root);

	if (strcmp(root, "/") != 0 && strncmp(group, root, rl) == 0)
		group += rl;
	if (strcmp(group, "/") == 0)
		group = "";
	return snprintf(out, len, "%s%s", point, group) >= (int)len ? -1 : 0;
}

int memcg_locate(const char *proc_cgroup, const char *mountinfo, struct memcg *cg,
		 const char **why)
{
	char v1[512] = "", v2[512] = "", root[512], point[512];
	int have_v2 = 0;
	const char *line = proc_cgroup;

	memset(cg, 0, sizeof(*cg));
	while (line && *line) {
		const char *next = strchr(line, '\n');
		size_t n = next ? (size_t)(next - line) : strlen(line);
		char buf[1024], *ctrls, *path;

		if (n < sizeof(buf)) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			ctrls = strchr(buf, ':');
			path = ctrls ? strchr(ctrls + 1, ':') : NULL;
			if (path) {
				*path++ = '\0';
				ctrls++;
				if (*ctrls == '\0' && strlen(path) < sizeof(v2)) {
					strcpy(v2, path);
					have_v2 = 1;
				} else if (has_word(ctrls, "memory") && strlen(path) < sizeof(v1)) {
					strcpy(v1, path);
				}
			}
		}
		line = next ? next + 1 : NULL;
	}
	/* A controller bound to v1 is not available in v2: v1 first. */
	if (*v1) {
		if (find_mount(mountinfo, "cgroup", 1, root, point, sizeof(point))) {
			*why = "the v1 memory hierarchy is not mounted";
			return -1;
		}
		if (join_group(cg->home, sizeof(cg->home), point, root, v1)) {
			*why = "the group's path is too long";
			return -1;
		}
		strcpy(cg->mount, point);
		strcpy(cg->parent, cg->home);
		cg->version = 1;
		return 0;
	}
	if (have_v2 && find_mount(mountinfo, "cgroup2", 0, root, point, sizeof(point)) == 0) {
		if (join_group(cg->home, sizeof(cg->home), point, root, v2)) {
			*why = "the group's path is too long";
			return -1;
		}
		strcpy(cg->mount, point);
		strcpy(cg->parent, cg->home);
		cg->version = 2;
		return 0;
	}
	*why = "no memory cgroup hierarchy is mounted (neither v1 memory nor cgroup2)";
	return -1;
}

static void refuse(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "memtrace: cannot use --cgroup: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
}

int memcg_v2_place(const char *home, const char *mount, int home_delegates, char *out, size_t len)
{
	const char *slash = strrchr(home, '/');
	size_t n;

	if (home_delegates || strcmp(home, mount) == 0) {
		n = strlen(home);
	} else {
		/* The parent, if it is still inside the hierarchy memtrace can see. */
		n = slash ? (size_t)(slash - home) : 0;
		if (n < strlen(mount) || strncmp(home, mount, strlen(mount)) != 0)
			return -1;
	}
	if (n >= len)
		return -1;
	memcpy(out, home, n);
	out[n] = '\0';
	return 0;
}

static int subtree_has_memory(const char *dir)
{
	char path[MT_CGROUP_PATH_MAX + 64], buf[512];

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	return read_text(path, buf, sizeof(buf)) == 0 && has_word(buf, "memory");
}

/* v2: a folder whose children get a memory controller, in cg->parent. */
static int place_v2(struct memcg *cg)
{
	char path[MT_CGROUP_PATH_MAX + 64], buf[512];
	int err;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", cg->home);
	if (read_text(path, buf, sizeof(buf)) || !has_word(buf, "memory")) {
		refuse("the memory controller is not available in %s%s (not enabled or not delegated)",
		       cg->home, "");
		return -1;
	}
	if (memcg_v2_place(cg->home, cg->mount, subtree_has_memory(cg->home), cg->parent,
			   sizeof(cg->parent))) {
		refuse("no group around %s can hold a memory cgroup%s", cg->home, "");
		return -1;
	}
	if (subtree_has_memory(cg->parent))
		return 0;
	/* The root of the hierarchy may hold processes and still hand memory down. */
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg->parent);
	err = write_text(path, "+memory");
	if (err == -EBUSY) {
		refuse("%s holds processes, so it cannot hand the memory controller to groups below it%s",
		       cg->parent, " (cgroup v2: run memtrace in a group whose parent delegates memory)");
		return -1;
	}
	if (err) {
		refuse("cannot enable the memory controller in %s: %s", path, strerror(-err));
		return -1;
	}
	return 0;
}

static int open_files(const struct memcg *cg)
{
	char path[MT_CGROUP_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", cg->path,
		 cg->version == 1 ? "memory.max_usage_in_bytes" : "memory.peak");
	if (access(path, R_OK)) {
		refuse("%s: %s", path,
		       cg->version == 2 ? "missing (memory.peak needs Linux 5.19)" : strerror(errno));
		return -1;
	}
	return 0;
}

int memcg_create(struct memcg *cg)
{
	char cgroup_text[4096], *mountinfo = NULL;
	const char *why = NULL;
	size_t mlen = 0;
	FILE *f;
	int err;

	err = read_text("/proc/self/cgroup", cgroup_text, sizeof(cgroup_text));
	f = fopen("/proc/self/mountinfo", "re");
	if (f) {
		char chunk[4096];
		size_t n;
		FILE *m = open_memstream(&mountinfo, &mlen);

		while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		if (m)
			fclose(m);
		fclose(f);
	}
	if (err || !mountinfo) {
		refuse("cannot read /proc/self/cgroup or /proc/self/mountinfo%s%s", "", "");
		free(mountinfo);
		return -1;
	}
	err = memcg_locate(cgroup_text, mountinfo, cg, &why);
	free(mountinfo);
	if (err) {
		refuse("%s%s", why, "");
		return -1;
	}
	if (cg->version == 2 && place_v2(cg))
		goto none;
	memcg_remove_stale(cg->parent, cg->home);
	if (snprintf(cg->path, sizeof(cg->path), "%s/" GROUP_PREFIX "%d", cg->parent,
		     (int)getpid()) >= (int)sizeof(cg->path)) {
		refuse("the path below %s is too long%s", cg->parent, "");
		goto none;
	}
	err = mkdir(cg->path, 0755) ? errno : 0;
	if (err == EEXIST) {
		/* Left by an earlier run of this same process. */
		memcg_remove(cg);
		err = mkdir(cg->path, 0755) ? errno : 0;
	}
	if (err) {
		refuse("cannot create %s: %s", cg->path,
		       err == EACCES || err == EPERM || err == EROFS
			       ? "no permission (the memory controller is not delegated here)"
			       : strerror(err));
		goto none;
	}
	if (open_files(cg)) {
		rmdir(cg->path);
		goto none;
	}
	return 0;
none:
	cg->version = 0;
	return -1;
}

int memcg_enter(const struct memcg *cg, pid_t pid)
{
	char path[MT_CGROUP_PATH_MAX + 64], num[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path);
	snprintf(num, sizeof(num), "%d\n", (int)pid);
	return write_text(path, num);
}

int memcg_read_peak(int version, const char *dir, struct memcg_peak *out)
{
	char path[MT_CGROUP_PATH_MAX + 64], buf[8192], *p;
	int err;

	out->version = version;
	out->kmem_peak_bytes = -1;
	out->kernel_bytes = -1;
	if (version == 1) {
		err = read_int(dir, "memory.max_usage_in_bytes", &out->peak_bytes);
		if (read_int(dir, "memory.kmem.max_usage_in_bytes", &out->kmem_peak_bytes))
			out->kmem_peak_bytes = -1;
		return err;
	}
	err = read_int(dir, "memory.peak", &out->peak_bytes);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	if (read_text(path, buf, sizeof(buf)) == 0) {
		for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
			if (strncmp(p, "kernel ", 7) == 0) {
				out->kernel_bytes = strtoll(p + 7, NULL, 10);
				break;
			}
		}
	}
	return 0;
}

/* Sends every process still in the group back to memtrace's own group. */
static void empty_group(const struct memcg *cg)
{
	char path[MT_CGROUP_PATH_MAX + 64], to[MT_CGROUP_PATH_MAX + 64], line[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path);
	snprintf(to, sizeof(to), "%s/cgroup.procs", cg->home);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		write_text(to, line);
	fclose(f);
}

int memcg_remove(struct memcg *cg)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i;

	if (!cg->path[0])
		return 0;
	/* A process counts in the group until its exit has finished: retry for 2 s. */
	for (i = 0; i < 200; i++) {
		if (rmdir(cg->path) == 0 || errno == ENOENT) {
			cg->path[0] = '\0';
			return 0;
		}
		if (errno != EBUSY)
			return -errno;
		empty_group(cg);
		nanosleep(&pause, NULL);
	}
	return -EBUSY;
}

/* A group's memtrace still runs when its pid is alive and is a memtrace. */
static int owner_alive(pid_t pid)
{
	char path[64], comm[32];

	if (pid == getpid())
		return 1;
	if (kill(pid, 0) && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_text(path, comm, sizeof(comm)))
		return 0;
	return strncmp(comm, "memtrace", 8) == 0;
}

int memcg_remove_stale(const char *parent, const char *home)
{
	struct dirent *de;
	DIR *d = opendir(parent);
	int removed = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const char *num = de->d_name + strlen(GROUP_PREFIX);
		struct memcg old;
		char *end;
		long pid;

		if (strncmp(de->d_name, GROUP_PREFIX, strlen(GROUP_PREFIX)) || !isdigit((unsigned char)*num))
			continue;
		pid = strtol(num, &end, 10);
		if (*end || pid <= 0 || owner_alive((pid_t)pid))
			continue;
		memset(&old, 0, sizeof(old));
		if (snprintf(old.path, sizeof(old.path), "%s/%s", parent, de->d_name) >= (int)sizeof(old.path))
			continue;
		snprintf(old.parent, sizeof(old.parent), "%s", parent);
		snprintf(old.home, sizeof(old.home), "%s", home);
		if (memcg_remove(&old) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
