/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve: the hourly query over HTTP, with libmicrohttpd.
 *
 *   evcount-cli [--db PATH] serve [--listen HOST:PORT] [--threads N]
 *                                 [--token-file FILE] [--quiet]
 *                                 [--ingest FILE...]
 *
 * Endpoints: GET /hourly, /counts and /customers (the JSON of `hourly
 * --format json`, `counts --format json` and `customers --format json`,
 * byte for byte), GET /healthz, GET /metrics (Prometheus text format) and
 * GET /, a page that charts /counts (serve-page.c).
 *
 * This file holds the options, the listening socket, the token and the
 * server's start and stop; the main thread only waits for SIGINT/SIGTERM.
 * Requests are serve-http.c's, see serve.h for the rest.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LISTEN  "127.0.0.1:8000"
#define DEFAULT_THREADS 2
#define MAX_THREADS     256
/* Past this many simultaneous connections new ones are refused at accept
 * rather than starving the workers' memory. */
#define CONNECTION_LIMIT 512
/* Idle connections (keep-alive or not) are closed after this long with
 * nothing received or sent. */
#define CONNECTION_TIMEOUT_S 10
/* Per-connection memory pool: it holds the request line and headers, so it
 * bounds them (see the 414/431 note in serve_start()). */
#define CONNECTION_MEMORY 16384
/* Response bodies being sent may hold this much at once: a 1,000,000-hour
 * /hourly is about 60 MB of JSON, and clients that read slowly keep
 * theirs. */
#define DEFAULT_RESPONSE_BUDGET (256u << 20)
/* The largest POST /ingest body: a few seconds of a busy stream, sent
 * well within the 10 s a request has to arrive whole. */
#define DEFAULT_INGEST_BODY (16u << 20)
/* How long SIGINT/SIGTERM waits for requests in progress to finish. */
#define DRAIN_TIMEOUT_MS 3000
/* ---- start and stop ----------------------------------------------------- */

struct serve_opts {
	const char *listen; /* as given, for messages */
	char host[256];     /* empty: the loopback */
	char port[8];
	unsigned threads;
	const char *token_file;
	bool quiet;
	uint64_t response_budget;
	bool ingest_enabled;
	uint64_t max_ingest_body;
};

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)
		                  ->sin_addr.s_addr) >>
		        24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* HOST:PORT, or [HOST]:PORT for IPv6, into o->host and o->port. Returns
 * EXIT_OK or EXIT_USAGE (reported). */
static int parse_listen(const char *arg, struct serve_opts *o)
{
	const char *colon = strrchr(arg, ':'), *h = arg, *p;
	unsigned long pn;
	size_t hlen;
	char *end;

	if (!colon)
		return cli_usage_error("--listen: expected HOST:PORT, not "
		                       "\"%s\"",
		                       arg);
	hlen = (size_t)(colon - h);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	p = colon + 1;
	errno = 0;
	pn = strtoul(p, &end, 10);
	/* strtoul() would take a sign or leading blanks. */
	if (*p < '0' || *p > '9' || *end || errno || pn > 65535)
		return cli_usage_error("--listen: bad port \"%s\"", p);
	if (hlen >= sizeof(o->host))
		return cli_usage_error("--listen: host name too long");
	memcpy(o->host, h, hlen);
	o->host[hlen] = '\0';
	snprintf(o->port, sizeof(o->port), "%lu", pn);
	o->listen = arg;
	return EXIT_OK;
}

/* Bind the address ourselves rather than through libmicrohttpd: errors get
 * a clear message, names resolve, and the bound port (for port 0) is known
 * before the server starts. Returns the listening socket or -1
 * (reported). */
static int bind_listen(const struct serve_opts *o, bool *loopback)
{
	struct addrinfo hints = {0}, *res, *ai;
	char shown[NI_MAXHOST], sport[NI_MAXSERV];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	const char *listen_arg = o->listen;
	int fd = -1, rc, one = 1, err = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	/* An empty host is the loopback, not every interface: exposing the
	 * counts must be asked for by name (0.0.0.0 or ::). */
	rc = getaddrinfo(*o->host ? o->host : "127.0.0.1", o->port, &hints,
	                 &res);
	if (rc != 0) {
		fprintf(stderr, PROG ": --listen %s: %s\n", listen_arg,
		        gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		            ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		/* A restart must not wait for the old connections'
		 * TIME_WAIT. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, PROG ": --listen %s: %s\n", listen_arg,
		        strerror(err));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, shown, sizeof(shown),
	                sport, sizeof(sport),
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		fprintf(stderr, PROG ": --listen %s: %s\n", listen_arg,
		        strerror(errno));
		close(fd);
		return -1;
	}
	*loopback = is_loopback((struct sockaddr *)&ss);
	/* Always printed, --quiet or not: with port 0 it is the only way to
	 * learn the port. */
	if (ss.ss_family == AF_INET6)
		fprintf(stderr, "listening on http://[%s]:%s\n", shown, sport);
	else
		fprintf(stderr, "listening on http://%s:%s\n", shown, sport);
	return fd;
}

/* The token: --token-file's first line, else $EVCOUNT_TOKEN, else none.
 * Returns EXIT_OK or EXIT_FAIL (reported); *out is malloc'ed. */
static int load_token(const char *file, char **out)
{
	const char *env = getenv("EVCOUNT_TOKEN");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	*out = NULL;
	if (!file) {
		if (!env)
			return EXIT_OK;
		if (!*env) {
			fprintf(stderr, PROG ": EVCOUNT_TOKEN is empty\n");
			return EXIT_FAIL;
		}
		line = strdup(env);
		n = line ? (ssize_t)strlen(line) : -1;
	} else {
		f = fopen(file, "r");
		if (!f) {
			fprintf(stderr, PROG ": --token-file %s: %s\n", file,
			        strerror(errno));
			return EXIT_FAIL;
		}
		n = getline(&line, &cap, f);
		fclose(f);
		if (n < 0)
			n = 0;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
	}
	if (!line) {
		if (file) {
			fprintf(stderr, PROG ": --token-file %s: empty\n",
			        file);
			return EXIT_FAIL;
		}
		perror(PROG);
		return EXIT_FAIL;
	}
	if (n == 0) {
		fprintf(stderr, PROG ": --token-file %s: empty first line\n",
		        file);
		free(line);
		return EXIT_FAIL;
	}
	/* Such a token could not be sent in a header, or would be cut at
	 * the NUL. */
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c <= 0x20 || c == 0x7f) {
			fprintf(stderr,
			        PROG ": the token holds a space or a control "
			             "character\n");
			free(line);
			return EXIT_FAIL;
		}
	}
	*out = line;
	return EXIT_OK;
}

/* libmicrohttpd's own messages (requests it refuses, failures to start),
 * marked as such. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	fprintf(stderr, PROG ": libmicrohttpd: %s\n", msg);
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

static int serve(const char *db, const struct serve_opts *o)
{
	struct server *s;
	struct MHD_Daemon *d;
	sigset_t set, old;
	bool loopback = false;
	char *token;
	int fd, rc, sig;
	unsigned flags;
	evc_store *probe;

	rc = load_token(o->token_file, &token);
	if (rc != EXIT_OK)
		return rc;
	/* Fail now rather than with a 500 on every request. */
	rc = evc_open(&probe, db, EVC_OPEN_READONLY);
	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(NULL, rc));
		free(token);
		return EXIT_FAIL;
	}
	evc_close(probe);

	s = calloc(1, sizeof(*s));
	if (!s) {
		perror(PROG);
		free(token);
		return EXIT_FAIL;
	}
	s->db = db;
	s->token = token;
	s->token_len = token ? strlen(token) : 0;
	s->quiet = o->quiet;
	s->response_budget = (size_t)o->response_budget;
	s->ingest_enabled = o->ingest_enabled;
	s->max_ingest_body = o->max_ingest_body;
	atomic_init(&s->held, 0);
	if (serve_page_init(s) != 0) {
		perror(PROG);
		free(token);
		free(s);
		return EXIT_FAIL;
	}
	pthread_mutex_init(&s->workers_lock, NULL);
	pthread_mutex_init(&s->conns_lock, NULL);
	pthread_mutex_init(&s->health_lock, NULL);
	{
		pthread_condattr_t ca;

		/* The reaper's waits must not stretch or shrink with the
		 * wall clock. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->reaper_wake, &ca);
		pthread_condattr_destroy(&ca);
	}

	fd = bind_listen(o, &loopback);
	if (fd < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	if (!loopback && !token && o->ingest_enabled) {
		fprintf(stderr, PROG
		        ": serve: --ingest-enabled beyond the loopback needs "
		        "a token (--token-file or EVCOUNT_TOKEN): anyone "
		        "who can reach it could add counts\n");
		close(fd);
		rc = EXIT_FAIL;
		goto out;
	}
	if (!loopback && !token)
		fprintf(stderr, PROG ": warning: listening beyond the loopback "
		                     "without a token: anyone who can reach it "
		                     "can read the counts\n");

	/* Blocked before the workers exist, which inherit the mask: only
	 * the main thread, in sigwait(), ever takes these signals. SIGPIPE
	 * is blocked too, for a peer that goes away mid-response. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	/* After the mask, which it inherits; before the server, so that
	 * a failure leaves nothing to stop. */
	rc = serve_reaper_start(s);
	if (rc != 0) {
		fprintf(stderr, PROG ": serve: cannot start a thread: %s\n",
		        strerror(rc));
		close(fd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		rc = EXIT_FAIL;
		goto out;
	}

	/* A pool of 1 is no pool, as libmicrohttpd warns: one polling thread
	 * is what it runs without the option. */
	struct MHD_OptionItem pool[] = {
	    {o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
	     (intptr_t)o->threads, NULL},
	    {MHD_OPTION_END, 0, NULL},
	};

	/* ITC: MHD_quiesce_daemon() needs it with a thread pool. TURBO: read
	 * and write before asking epoll, which on keep-alive connections
	 * mostly succeeds; it raised requests/s by about half here. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
	        MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
	             ? MHD_USE_EPOLL
	             : MHD_USE_POLL;
	/* 414 and 431: libmicrohttpd 0.9.75 keeps the request line and
	 * headers in the connection's memory pool (CONNECTION_MEMORY): a
	 * request line that does not fit is answered 414 URI Too Long, and
	 * headers that do not fit 431 Request Header Fields Too Large, both
	 * by libmicrohttpd itself before the handler is called, with a small
	 * HTML body (not our JSON: 0.9.75 has no hook for it), then the
	 * connection is closed. With 16 KiB, measured: a URL up to about
	 * 15.8 KB is served; from about 16.3 KB it gets 414 (431 when the
	 * request line fits but the headers after it do not); in between
	 * the request fits but leaves no room for the response headers, and
	 * libmicrohttpd closes the connection without a response. The logger
	 * comes first so that it also sees the messages about the options that
	 * follow it. */
	d = MHD_start_daemon(
	    flags, 0, NULL, NULL, serve_handle, s, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, serve_request_begin, s,
	    MHD_OPTION_NOTIFY_COMPLETED, serve_request_end, s,
	    MHD_OPTION_NOTIFY_CONNECTION, serve_conn_notify, s, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, PROG ": serve: cannot start the HTTP server\n");
		serve_reaper_stop(s);
		close(fd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		rc = EXIT_FAIL;
		goto out;
	}

	sig = wait_for_signal();
	if (!s->quiet)
		fprintf(stderr, PROG ": serve: %s, shutting down\n",
		        strsignal(sig));
	/* No new connections; those open go on until their requests are
	 * answered, then MHD_stop_daemon() closes what is left (idle
	 * keep-alive connections). */
	fd = MHD_quiesce_daemon(d);
	for (int ms = 0;
	     ms < DRAIN_TIMEOUT_MS && atomic_load(&s->m.in_flight) > 0;
	     ms += 10)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	MHD_stop_daemon(d);
	/* After it: every connection has been unlisted. */
	serve_reaper_stop(s);
	/* Only now: a worker thread may use the socket until it stopped. */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	rc = EXIT_OK;

out:
	/* The workers are gone: their stores can be closed from here. */
	while (s->workers) {
		struct worker *w = s->workers;

		s->workers = w->next;
		evc_close(w->store);
		evc_close(w->writer);
		free(w);
	}
	pthread_mutex_destroy(&s->workers_lock);
	pthread_cond_destroy(&s->reaper_wake);
	pthread_mutex_destroy(&s->conns_lock);
	pthread_mutex_destroy(&s->health_lock);
	serve_page_free(s);
	free(token);
	free(s);
	return rc;
}
/* ---- command line ------------------------------------------------------- */

static void print_serve_help(void)
{
	puts("Usage: " PROG " [--db PATH] serve [--listen HOST:PORT] "
	     "[--threads N]\n"
	     "                   [--token-file FILE] [--quiet] "
	     "[--ingest FILE...]\n"
	     "                   [--ingest-enabled [--max-ingest-body SIZE]]\n"
	     "\n"
	     "Answer queries over HTTP until SIGINT or SIGTERM.\n"
	     "\n"
	     "Endpoints (GET or HEAD):\n"
	     "  /hourly?customer_id=ID&start=TS&end=TS[&sparse=1]\n"
	     "           the JSON of 'hourly --format json' for the same "
	     "query\n"
	     "  /counts?customer_id=ID[&customer_id=ID...]|all_customers"
	     "[&top=N]\n"
	     "          &start=TS&end=TS[&bucket=WIDTH][&tz=ZONE][&sparse=1]\n"
	     "           the JSON of 'counts --format json' for the same "
	     "query\n"
	     "  /ingest?stream=NAME\n"
	     "           {\"stream\":...,\"committed_offset\":N}: where the "
	     "stream's next piece\n"
	     "           starts\n"
	     "  /customers\n"
	     "           the JSON of 'customers --format json'\n"
	     "  /healthz {\"status\":\"ok\"} if the store is readable, else "
	     "503\n"
	     "  /metrics request counts, latencies and store facts, in the "
	     "Prometheus text\n"
	     "           format\n"
	     "POST /ingest?stream=NAME&offset=N with --ingest-enabled, a "
	     "text/csv body: the\n"
	     "body is bytes N.. of the tracked stream NAME, counted as "
	     "'ingest --stream'\n"
	     "does (sent again, they count nothing); the answer gives what "
	     "was counted,\n"
	     "the first rejected rows and the committed offset; 409 on a gap "
	     "(with the\n"
	     "committed offset), 413 past --max-ingest-body, 415 for another "
	     "type, 403\n"
	     "without --ingest-enabled.\n"
	     "  /        a page for a browser that charts /counts, with the "
	     "table beside it\n"
	     "           (built in: it loads nothing from elsewhere)\n"
	     "Query values are URL-encoded: send a '+' in a timestamp as "
	     "%2B. A query spans\n"
	     "at most 1,000,000 buckets per customer, as on the command line. "
	     "Errors are\n"
	     "{\"error\":\"...\"} with 400 (bad, missing or repeated "
	     "parameter, range too wide,\n"
	     "result larger than --max-response-memory), 401, 404, "
	     "405, 500 or\n"
	     "503 (store damaged or unreadable; or busy: responses being sent "
	     "hold\n"
	     "--max-response-memory). libmicrohttpd answers some malformed "
	     "requests itself,\n"
	     "with an HTML body: 400, 413 (Content-Length too large), 414 "
	     "(URL too long),\n"
	     "431 (headers too large), 505 (HTTP version). With a token every "
	     "endpoint but\n"
	     "/healthz and the page needs the header 'Authorization: Bearer "
	     "TOKEN'; the page\n"
	     "asks for it, and keeps it for the browser tab.\n"
	     "\n"
	     "Options:\n"
	     "      --listen HOST:PORT   address to listen on (default "
	     "127.0.0.1:8000; port 0:\n"
	     "                           any free port; the address is "
	     "printed on stderr)\n"
	     "      --threads N          worker threads (default 2)\n"
	     "      --token-file FILE    require the bearer token on FILE's "
	     "first line\n"
	     "                           (default: $EVCOUNT_TOKEN, else no "
	     "token)\n"
	     "      --quiet              no line per request on stderr\n"
	     "      --max-response-memory SIZE\n"
	     "                           bytes the responses being sent may "
	     "hold at once\n"
	     "                           (suffix K, M or G; default 256M)\n"
	     "      --ingest FILE...     first ingest FILE and every operand, "
	     "as ingest does\n"
	     "      --ingest-enabled     take POST /ingest (beyond the "
	     "loopback only with a\n"
	     "                           token)\n"
	     "      --max-ingest-body SIZE\n"
	     "                           the largest POST /ingest body "
	     "(default 16M)\n"
	     "      --db PATH            the store (default: $EVCOUNT_DB, "
	     "else ./evcount.db)\n"
	     "  -h, --help               print this help and exit");
}

enum serve_opt_id {
	SO_LISTEN = 256,
	SO_THREADS,
	SO_TOKEN_FILE,
	SO_QUIET,
	SO_INGEST,
	SO_DB,
	SO_RESPONSE_MEMORY,
	SO_INGEST_ENABLED,
	SO_MAX_INGEST_BODY,
};

/* Ingest the files (lenient, as `ingest` does) with a store of our own,
 * closed before the server opens its read-only ones. */
static int ingest_first(const char *db, const struct ingest_args *in)
{
	evc_store *store;
	int rc = evc_open(&store, db, EVC_OPEN_READWRITE | EVC_OPEN_CREATE);

	if (rc != EVC_OK) {
		fprintf(stderr, PROG ": %s\n", cli_errmsg(NULL, rc));
		return EXIT_FAIL;
	}
	rc = cli_ingest(store, in);
	evc_close(store);
	return rc;
}

int cli_serve_main(const char *db, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, SO_LISTEN},
	    {"threads", required_argument, NULL, SO_THREADS},
	    {"token-file", required_argument, NULL, SO_TOKEN_FILE},
	    {"quiet", no_argument, NULL, SO_QUIET},
	    {"ingest", required_argument, NULL, SO_INGEST},
	    {"db", required_argument, NULL, SO_DB},
	    {"max-response-memory", required_argument, NULL,
	     SO_RESPONSE_MEMORY},
	    {"ingest-enabled", no_argument, NULL, SO_INGEST_ENABLED},
	    {"max-ingest-body", required_argument, NULL, SO_MAX_INGEST_BODY},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct serve_opts o = {.threads = DEFAULT_THREADS,
	                       .response_budget = DEFAULT_RESPONSE_BUDGET,
	                       .max_ingest_body = DEFAULT_INGEST_BODY};
	struct ingest_args in = {0};
	unsigned long n;
	char *end;
	int ret, rc;

	parse_listen(DEFAULT_LISTEN, &o);
	/* Room for every argument: the --ingest values and the operands. */
	in.files = calloc((size_t)argc + 1, sizeof(*in.files));
	if (!in.files) {
		perror(PROG);
		return EXIT_FAIL;
	}
	optind = 0;
	opterr = 0;
	while ((ret = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ret) {
		case SO_LISTEN:
			if (parse_listen(optarg, &o) != EXIT_OK) {
				free(in.files);
				return EXIT_USAGE;
			}
			break;
		case SO_THREADS:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			/* strtoul() would take a sign or blanks. */
			if (*optarg < '0' || *optarg > '9' || *end || errno ||
			    n < 1 || n > MAX_THREADS) {
				free(in.files);
				return cli_usage_error(
				    "--threads: expected 1 to %d, not \"%s\"",
				    MAX_THREADS, optarg);
			}
			o.threads = (unsigned)n;
			break;
		case SO_TOKEN_FILE:
			o.token_file = optarg;
			break;
		case SO_QUIET:
			o.quiet = true;
			break;
		case SO_INGEST:
			in.files[in.n_files++] = optarg;
			break;
		case SO_RESPONSE_MEMORY:
			if (cli_parse_size("max-response-memory", optarg,
			                   &o.response_budget) != EXIT_OK ||
			    o.response_budget > SIZE_MAX / 2) {
				free(in.files);
				return EXIT_USAGE;
			}
			break;
		case SO_INGEST_ENABLED:
			o.ingest_enabled = true;
			break;
		case SO_MAX_INGEST_BODY:
			if (cli_parse_size("max-ingest-body", optarg,
			                   &o.max_ingest_body) != EXIT_OK) {
				free(in.files);
				return EXIT_USAGE;
			}
			break;
		case SO_DB:
			if (!*optarg) {
				free(in.files);
				return cli_usage_error("--db: empty path");
			}
			db = optarg;
			break;
		case 'h':
			print_serve_help();
			free(in.files);
			return EXIT_OK;
		case ':':
			free(in.files);
			return cli_usage_error("option '%s' needs a value",
			                       argv[optind - 1]);
		default:
			free(in.files);
			return cli_usage_error("serve: unknown option '%s'",
			                       argv[optind - 1]);
		}
	}
	if (optind < argc && in.n_files == 0) {
		free(in.files);
		return cli_usage_error("serve: unexpected argument '%s'",
		                       argv[optind]);
	}
	while (optind < argc)
		in.files[in.n_files++] = argv[optind++];
	rc = in.n_files ? ingest_first(db, &in) : EXIT_OK;
	free(in.files);
	if (rc != EXIT_OK)
		return rc;
	return serve(db, &o);
}

int cli_serve_oneshot(const char *db, const struct ingest_args *in)
{
	struct serve_opts o = {.threads = DEFAULT_THREADS,
	                       .response_budget = DEFAULT_RESPONSE_BUDGET,
	                       .max_ingest_body = DEFAULT_INGEST_BODY};
	int rc;

	parse_listen(DEFAULT_LISTEN, &o);
	rc = ingest_first(db, in);
	return rc != EXIT_OK ? rc : serve(db, &o);
}
