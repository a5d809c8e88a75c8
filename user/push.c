// SPDX-License-Identifier: GPL-2.0
#include <curl/curl.h>
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

int push_metrics(const char *url, const char *body)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	struct answer a = { "", 0 };
	long status = 0;
	CURLcode rc;
	CURL *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c = curl_easy_init())) {
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: libcurl did not start\n", url);
		return -1;
	}
	headers = curl_slist_append(headers, "Content-Type: text/plain; version=0.0.4");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, PUSH_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, PUSH_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	if (rc != CURLE_OK) {
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: %s\n", url,
			*errbuf ? errbuf : curl_easy_strerror(rc));
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
