// SPDX-License-Identifier: GPL-2.0
/*
 * The overhead benchmark's floor (tools/overhead.py): attaches one program of
 * floor.bpf.c to rss_stat, says "attached" on stdout, and holds it until
 * stdin closes. Then prints the program's run_cnt and run_time_ns, which the
 * kernel counts while kernel.bpf_stats_enabled is 1.
 *
 * usage: floor empty|reject
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "floor.skel.h"

static unsigned int bitmap_words(void)
{
	unsigned long long pid_max = 4194304; /* PID_MAX_LIMIT, if unreadable */
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");

	if (f) {
		if (fscanf(f, "%llu", &pid_max) != 1 || pid_max == 0)
			pid_max = 4194304;
		fclose(f);
	}
	return (unsigned int)((pid_max + 63) / 64);
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct bpf_program *prog;
	struct floor_bpf *skel;
	struct bpf_link *link;
	char buf[64];
	int err = 1;
	ssize_t n;

	if (argc != 2 || (strcmp(argv[1], "empty") && strcmp(argv[1], "reject"))) {
		fprintf(stderr, "usage: floor empty|reject\n");
		return 64;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open BPF object: %s\n", strerror(errno));
		return 1;
	}
	prog = argv[1][0] == 'e' ? skel->progs.floor_empty : skel->progs.floor_reject;
	bpf_program__set_autoload(argv[1][0] == 'e' ? skel->progs.floor_reject : skel->progs.floor_empty,
				  false);
	bpf_map__set_max_entries(skel->maps.followed_bits, bitmap_words());
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "floor: cannot load BPF program: %s\n", strerror(errno));
		goto cleanup;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		fprintf(stderr, "floor: cannot attach to rss_stat: %s\n", strerror(errno));
		goto cleanup;
	}
	printf("attached\n");
	fflush(stdout);
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
		fprintf(stderr, "floor: cannot read program stats: %s\n", strerror(errno));
	} else {
		printf("run_cnt=%llu run_time_ns=%llu\n", (unsigned long long)info.run_cnt,
		       (unsigned long long)info.run_time_ns);
		err = 0;
	}
	bpf_link__destroy(link);
cleanup:
	floor_bpf__destroy(skel);
	return err;
}
