// SPDX-License-Identifier: GPL-2.0
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push.h"

#define PUSH_CONNECT_TIMEOUT_S 5L
#define PUSH_TIMEOUT_S 15L

/* RFC 4648 section 5 (URL-safe), with padding: what the Pushgateway decodes. */
static void base64url(FILE *m, const char *s)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i;

	/* An empty value is a lone "=", as the Pushgateway documents. */
	if (!n) {
		fputc('=', m);
		return;
	}
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		fprintf(m, "%c%c%c%c", abc[v >> 18], abc[v >> 12 & 63], abc[v >> 6 & 63], abc[v & 63]);
	}
	if (n - i == 1) {
		unsigned v = p[i] << 16;

		fprintf(m, "%c%c==", abc[v >> 18], abc[v >> 12 & 63]);
	} else if (n - i == 2) {
		unsigned v = p[i] << 16 | p[i + 1] << 8;

		fprintf(m, "%c%c%c=", abc[v >> 18], abc[v >> 12 & 63], abc[v >> 6 & 63]);
	}
}

char *push_group_url(const struct settings *set, const char *cmdline)
{
	const char *url = set->push_url;
	size_t n = strlen(url);
	char *out = NULL;
	size_t len = 0;
	FILE *m;
	int i;

	if (strstr(url, "/metrics/job/"))
		return strdup(url);
	m = open_memstream(&out, &len);
	if (!m)
		return NULL;
	while (n && url[n - 1] == '/')
		n--;
	fprintf(m, "%.*s/metrics/job/memtrace/command@base64/", (int)n, url);
	base64url(m, cmdline);
	for (i = 0; i < set->nlabels; i++) {
		const char *eq = strchr(set->labels[i], '=');

		fprintf(m, "/%.*s@base64/", (int)(eq - set->labels[i]), set->labels[i]);
		base64url(m, eq + 1);
	}
	if (fclose(m)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The start of the answer's body: the Pushgateway says there why it refused. */
struct answer {
	char text[256];
	size_t len;
};

static size_t keep_answer(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct answer *a = ctx;
	size_t n = size * nmemb, room = sizeof(a->text) - 1 - a->len;

	memcpy(a->text + a->len, data, n < room ? n : room);
	a->len += n < room ? n : room;
	a->text[a->len] = '\0';
	return n;
}

/*
 * libcurl is opened only when a run pushes: linked in, it and the TLS,
 * Kerberos and LDAP libraries it pulls in put 4.5 MiB in memtrace's own RSS
 * on every run (README "Scale").
 */
struct curl_api {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

static int open_curl(struct curl_api *api)
{
	static const char *const names[] = {
		"curl_global_init", "curl_global_cleanup", "curl_easy_init", "curl_easy_setopt",
		"curl_easy_perform", "curl_easy_getinfo", "curl_easy_cleanup", "curl_easy_strerror",
		"curl_slist_append", "curl_slist_free_all",
	};
	void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL), **fn = (void **)api;
	size_t i;

	_Static_assert(sizeof(*api) == sizeof(names) / sizeof(names[0]) * sizeof(void *), "curl_api");
	if (!lib)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fn[i] = dlsym(lib, names[i]);
		if (!fn[i])
			return -1;
	}
	return 0;
}

int push_metrics(const char *url, const char *body)
{
	struct curl_api api;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	struct answer a = { "", 0 };
	long status = 0;
	CURLcode rc;
	CURL *c;

	if (open_curl(&api)) {
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: cannot load libcurl: %s\n", url,
			dlerror());
		return -1;
	}
	if (api.global_init(CURL_GLOBAL_DEFAULT) || !(c = api.easy_init())) {
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: libcurl did not start\n", url);
		return -1;
	}
	headers = api.slist_append(headers, "Content-Type: text/plain; version=0.0.4");
	api.easy_setopt(c, CURLOPT_URL, url);
	api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	api.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	api.easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	api.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, PUSH_CONNECT_TIMEOUT_S);
	api.easy_setopt(c, CURLOPT_TIMEOUT, PUSH_TIMEOUT_S);
	api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	api.easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
	api.easy_setopt(c, CURLOPT_WRITEDATA, &a);
	rc = api.easy_perform(c);
	if (rc == CURLE_OK)
		api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	api.slist_free_all(headers);
	api.easy_cleanup(c);
	api.global_cleanup();
	if (rc != CURLE_OK) {
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: %s\n", url,
			*errbuf ? errbuf : api.easy_strerror(rc));
		return -1;
	}
	if (status < 200 || status > 299) {
		a.text[strcspn(a.text, "\r\n")] = '\0';
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: HTTP %ld%s%s\n", url, status,
			*a.text ? ": " : "", a.text);
		return -1;
	}
	return 0;
}
