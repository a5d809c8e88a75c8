/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel offers memtrace's BPF side, read from its BTF
 * before anything is loaded: whether memtrace can run at all, and which
 * variant of the programs it loads.
 */
#ifndef MT_KERNEL_CHECK_H
#define MT_KERNEL_CHECK_H

#include <stddef.h>

/* The oldest kernel memtrace runs on, and what it brought. */
#define KERNEL_NEEDED "6.2"

struct kernel_features {
	char release[65];    /* uname -r */
	int percpu_rss;      /* mm->rss_stat[] are percpu_counters, summed exactly (6.2) */
	int rdonly_cast;     /* the bpf_rdonly_cast kfunc: inlined per-CPU reads (6.2) */
	int res_spin_lock;   /* the bpf_res_spin_lock kfunc (6.15); else bpf_spin_lock */
	int exit_group_dead; /* sched_process_exit passes group_dead, before exit_mm() (6.16) */
};

/*
 * Reads the features from the kernel BTF at btf_path (the release from
 * uname). Returns 0, or -1 after printing one line when the BTF cannot be
 * read.
 */
int kernel_features_read(const char *btf_path, struct kernel_features *kf);

/*
 * NULL when memtrace can run with kf; else writes the one-line refusal
 * ("memtrace needs Linux 6.2 or newer (this is R): what is missing") into
 * buf and returns it.
 */
const char *kernel_refusal(const struct kernel_features *kf, char *buf, size_t len);

/* --check-kernel: prints what this kernel offers; MT_EXIT_OK or MT_EXIT_FAILURE. */
int kernel_check_main(void);

/* The kernel BTF memtrace reads: MEMTRACE_BTF_PATH (tests) or the kernel's own. */
const char *kernel_btf_path(void);
/* 0 when btf_path is readable; else prints one line naming the kernel needed and found, -1. */
int kernel_btf_missing(const char *btf_path);

#endif
