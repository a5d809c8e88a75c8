/* SPDX-License-Identifier: GPL-2.0 */
/* --push: metrics to a Prometheus Pushgateway over HTTP (libcurl). */
#ifndef MT_PUSH_H
#define MT_PUSH_H

#include "options.h"

/*
 * The URL a push goes to. A URL that names a group (has "/metrics/job/")
 * is taken as it is; otherwise the group is job "memtrace", the command
 * and every --label, values base64url-encoded as the Pushgateway allows
 * ("/command@base64/..."), so that runs of different commands and hosts
 * keep their own metrics. Returns a string to free, or NULL.
 */
char *push_group_url(const struct settings *set, const char *cmdline);
/*
 * Replaces the group's metrics with body (HTTP PUT). Prints one line and
 * returns -1 on failure: no answer, or an answer other than 2xx.
 */
int push_metrics(const char *url, const char *body);

#endif
