/* SPDX-License-Identifier: MIT */
/*
 * Follow a growing CSV log and post its new bytes to `evcount-cli serve
 * --ingest-enabled` as pieces of a tracked stream, exactly once: the
 * server keeps the stream's committed offset with the counts, so this
 * client remembers nothing. On start, and after any failure, it asks the
 * server where the stream stands (GET /ingest?stream=NAME) and sends from
 * there; a piece that was committed but whose answer was lost is sent
 * again and counts nothing. It survives restarts of itself and of the
 * server without losing or doubling a row.
 *
 * Usage: example-follow-post URL STREAM FILE [IDLE_SECONDS]
 *
 *   URL           the server, http://HOST:PORT (no TLS: put a proxy in
 *                 front for that)
 *   STREAM        the stream's name
 *   FILE          the log to follow (appended to by someone else)
 *   IDLE_SECONDS  exit 0 once everything in FILE is committed and it has
 *                 not grown for that long (default: follow forever)
 *
 * $EVCOUNT_TOKEN, when set, is sent as the bearer token.
 *
 * Plain POSIX sockets and HTTP/1.1 with one request per connection: the
 * point is the protocol, not a client library.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The most sent at once: well within the server's default body limit. */
#define PIECE_MAX (1u << 20)

struct server {
	char host[256];
	char port[8];
	const char *token;
};

static void nap(unsigned ms)
{
	const struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static int parse_url(const char *url, struct server *s)
{
	const char *p = url, *colon;

	if (strncmp(p, "http://", 7) != 0)
		return -1;
	p += 7;
	colon = strchr(p, ':');
	if (!colon || (size_t)(colon - p) >= sizeof(s->host))
		return -1;
	memcpy(s->host, p, (size_t)(colon - p));
	s->host[colon - p] = '\0';
	snprintf(s->port, sizeof(s->port), "%.*s", (int)strcspn(colon + 1, "/"),
	         colon + 1);
	return *s->port ? 0 : -1;
}

static int connect_to(const struct server *s)
{
	struct addrinfo hints = {0}, *res, *ai;
	int fd = -1;

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(s->host, s->port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		const ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One request; the status, or -1 when the server could not be reached or
 * answered nothing. The body's committed_offset goes to *committed. */
static int request(const struct server *s, const char *method,
                   const char *target, const char *body, size_t len,
                   uint64_t *committed)
{
	char head[1024], resp[4096];
	size_t got = 0;
	int fd = connect_to(s), status = -1;

	if (fd < 0)
		return -1;
	int n = snprintf(head, sizeof(head),
	                 "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
	                 "Connection: close\r\n",
	                 method, target, s->host, s->port);
	if (s->token)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		              "Authorization: Bearer %s\r\n", s->token);
	if (body)
		n += snprintf(
		    head + n, sizeof(head) - (size_t)n,
		    "Content-Type: text/csv\r\nContent-Length: %zu\r\n", len);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (write_all(fd, head, (size_t)n) == 0 &&
	    (!body || write_all(fd, body, len) == 0)) {
		/* The answer is small: status line, headers, a JSON object. */
		for (;;) {
			const ssize_t r =
			    read(fd, resp + got, sizeof(resp) - 1 - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
			if (got == sizeof(resp) - 1)
				break;
		}
		resp[got] = '\0';
		const char *at = strstr(resp, "\"committed_offset\":");
		if (sscanf(resp, "HTTP/1.%*d %d", &status) == 1 && at)
			*committed = strtoull(at + 19, NULL, 10);
	}
	close(fd);
	return status;
}

/* Where the stream stands, asking until the server answers. */
static uint64_t committed_offset(const struct server *s, const char *target)
{
	uint64_t at = 0;
	unsigned wait = 100;

	while (request(s, "GET", target, NULL, 0, &at) != 200) {
		nap(wait);
		wait = wait < 2000 ? wait * 2 : 2000;
	}
	return at;
}

int main(int argc, char **argv)
{
	struct server s = {.token = getenv("EVCOUNT_TOKEN")};
	char status_target[512], post_target[600];
	static char piece[PIECE_MAX];

	if (argc < 4 || argc > 5 || parse_url(argv[1], &s) != 0) {
		fprintf(stderr, "usage: example-follow-post http://HOST:PORT "
		                "STREAM FILE [IDLE_SECONDS]\n");
		return 2;
	}
	const char *stream = argv[2], *path = argv[3];
	const long idle_s = argc == 5 ? atol(argv[4]) : -1;
	/* A name needing no %-escapes keeps the example short. */
	if (strspn(stream, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
	                   "XYZ0123456789-_.") != strlen(stream)) {
		fprintf(stderr, "example-follow-post: use a stream name of "
		                "letters, digits, '-', '_' and '.'\n");
		return 2;
	}
	snprintf(status_target, sizeof(status_target), "/ingest?stream=%s",
	         stream);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "example-follow-post: %s: %s\n", path,
		        strerror(errno));
		return 1;
	}
	uint64_t at = committed_offset(&s, status_target);
	time_t quiet_since = time(NULL);
	for (;;) {
		struct stat st;
		if (fstat(fileno(f), &st) != 0)
			return 1;
		if ((uint64_t)st.st_size <= at) {
			/* All in: wait for the file to grow. */
			if (idle_s >= 0 && time(NULL) - quiet_since >= idle_s)
				break;
			nap(100);
			continue;
		}
		const size_t want = (uint64_t)st.st_size - at < PIECE_MAX
		                        ? (size_t)((uint64_t)st.st_size - at)
		                        : PIECE_MAX;
		if (fseeko(f, (off_t)at, SEEK_SET) != 0)
			return 1;
		const size_t len = fread(piece, 1, want, f);
		clearerr(f);
		snprintf(post_target, sizeof(post_target), "%s&offset=%" PRIu64,
		         status_target, at);
		uint64_t next = at;
		const int status =
		    request(&s, "POST", post_target, piece, len, &next);
		if (status == 200 || status == 409) {
			/* 409: the server is behind or ahead of what this
			 * client thought; either way it says where to go on. */
			if (next != at) {
				quiet_since = time(NULL);
			} else {
				/* A line still being written. */
				if (idle_s >= 0 &&
				    time(NULL) - quiet_since >= idle_s)
					break;
				nap(100);
			}
			at = next;
			continue;
		}
		/* Unreachable, busy or failed: ask again where the stream
		 * stands once it answers, and send from there. */
		nap(200);
		at = committed_offset(&s, status_target);
	}
	fclose(f);
	printf("%s: committed up to byte %" PRIu64 "\n", stream, at);
	return 0;
}
