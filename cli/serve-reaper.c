/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve's reaper: a thread that drops the connections that
 * have not sent a complete request in time (see "slow senders" below).
 */
#include "serve.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* How often the reaper looks for connections past the deadline: it is
 * enforced this much late at most. */
#define REAP_INTERVAL_MS 250

/* ---- slow senders ------------------------------------------------------- */

/*
 * libmicrohttpd's CONNECTION_TIMEOUT is an idle timeout: every byte resets
 * it, so a client that sends its request a byte a second holds its
 * connection for ever, and CONNECTION_LIMIT such clients take the server
 * (slowloris). 0.9.75 has no request deadline, so one is kept here: a
 * connection has REQUEST_DEADLINE_S, from its start or from the end of its
 * previous response, until the handler answers its request (headers and
 * any body in). A reaper thread shuts down those past the deadline that
 * sent something meanwhile. Those that sent nothing are idle, not slow:
 * they are left to the idle timeout, which closes them at about the same
 * point, and are neither counted nor logged.
 *
 * The reaper shuts the socket down rather than closing it: the descriptor
 * stays libmicrohttpd's, which sees the end of the stream and closes and
 * frees the connection as if the client had gone. libmicrohttpd 0.9.75
 * calls the CLOSED notification before it closes the descriptor (daemon.c:
 * MHD_cleanup_connections() and the failure path of
 * new_connection_process_(); connections that fail before that were never
 * STARTED), and serve_conn_notify() takes conns_lock to unlink the connection:
 * under conns_lock a listed descriptor is still its connection's, never a
 * number since reused by another.
 *
 * On the request path this costs an atomic store when the handler answers
 * and a clock read when a request completes.
 */

struct conn {
	struct conn *prev, *next; /* on server.conns, under conns_lock */
	int fd;
	/* CLOCK_MONOTONIC ns since the connection has been waiting for a
	 * complete request; 0 while one is being answered. Written by the
	 * connection's worker, read by the reaper. */
	atomic_int_fast64_t waiting_since;
	/* A request was answered: waiting_since is the end of the last
	 * response, not the start of the connection. */
	atomic_bool reused;
	bool dropped; /* under conns_lock: shut down, not yet closed */
};

/* Kernel timestamps are in jiffies (1 to 10 ms): data within this much of
 * the end of a response may have come before it. */
#define SENT_SLACK_NS 50000000

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Whether the peer of `fd` sent anything since `since`, as the kernel's
 * TCP statistics tell: libmicrohttpd reads whatever arrives, so nothing is
 * left to peek at. When they cannot tell, yes: the deadline then holds
 * for idle connections too. */
static bool sent_since(int fd, bool reused, int64_t since, int64_t now)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return true;
	/* Before the first request any byte counts (the time of the last
	 * data starts at the handshake, a little before `since`). */
	if (!reused)
		return len < offsetof(struct tcp_info, tcpi_bytes_received) +
		                 sizeof(ti.tcpi_bytes_received) ||
		       ti.tcpi_bytes_received > 0;
	return (int64_t)ti.tcpi_last_data_recv * 1000000 + SENT_SLACK_NS <
	       now - since;
}

/* Shuts down the connections past the deadline (under conns_lock) and
 * returns how many, with the address of the first in *first. */
static unsigned reap(struct server *s, struct sockaddr_storage *first,
                     socklen_t *first_len)
{
	int64_t now = now_ns(), since;
	unsigned n = 0;

	for (struct conn *c = s->conns; c; c = c->next) {
		/* Acquire: pairs with the release in serve_conn_waiting(), so
		 * that `reused` is at least as new as `since`. */
		since = atomic_load_explicit(&c->waiting_since,
		                             memory_order_acquire);
		if (c->dropped || since == 0 ||
		    now - since < (int64_t)REQUEST_DEADLINE_S * 1000000000)
			continue;
		if (!sent_since(
		        c->fd,
		        atomic_load_explicit(&c->reused, memory_order_relaxed),
		        since, now))
			continue;
		if (n == 0) {
			*first_len = sizeof(*first);
			if (getpeername(c->fd, (struct sockaddr *)first,
			                first_len) != 0)
				*first_len = 0;
		}
		shutdown(c->fd, SHUT_RDWR);
		c->dropped = true;
		n++;
	}
	atomic_fetch_add_explicit(&s->m.slow_dropped, n, memory_order_relaxed);
	return n;
}

/* One line per pass, not per connection: a flood of slow clients logs at
 * most 1000 / REAP_INTERVAL_MS lines a second. */
static void log_drops(unsigned n, const struct sockaddr_storage *first,
                      socklen_t first_len)
{
	char host[NI_MAXHOST];

	if (n > 1)
		fprintf(stderr,
		        PROG ": serve: dropped %u connections: no complete "
		             "request within %d s\n",
		        n, REQUEST_DEADLINE_S);
	else if (first_len > 0 &&
	         getnameinfo((const struct sockaddr *)first, first_len, host,
	                     sizeof(host), NULL, 0, NI_NUMERICHOST) == 0)
		fprintf(stderr,
		        PROG ": serve: dropped a connection from %s: no "
		             "complete request within %d s\n",
		        host, REQUEST_DEADLINE_S);
	else
		fprintf(stderr,
		        PROG ": serve: dropped a connection: no complete "
		             "request within %d s\n",
		        REQUEST_DEADLINE_S);
}

static void *reaper_main(void *arg)
{
	struct server *s = arg;
	struct sockaddr_storage first;
	socklen_t first_len = 0;
	struct timespec wake;
	unsigned n;

	pthread_mutex_lock(&s->conns_lock);
	while (!s->reaper_stop) {
		clock_gettime(CLOCK_MONOTONIC, &wake);
		wake.tv_nsec += REAP_INTERVAL_MS * 1000000L;
		if (wake.tv_nsec >= 1000000000L) {
			wake.tv_sec++;
			wake.tv_nsec -= 1000000000L;
		}
		while (!s->reaper_stop &&
		       pthread_cond_timedwait(&s->reaper_wake, &s->conns_lock,
		                              &wake) != ETIMEDOUT)
			;
		if (s->reaper_stop)
			break;
		n = reap(s, &first, &first_len);
		if (n) {
			/* Not under the lock: stderr may block, and every
			 * connection's start and end takes it. */
			pthread_mutex_unlock(&s->conns_lock);
			log_drops(n, &first, first_len);
			pthread_mutex_lock(&s->conns_lock);
		}
	}
	pthread_mutex_unlock(&s->conns_lock);
	return NULL;
}

/* Returns 0 or an errno value. */
int serve_reaper_start(struct server *s)
{
	return pthread_create(&s->reaper, NULL, reaper_main, s);
}

void serve_reaper_stop(struct server *s)
{
	pthread_mutex_lock(&s->conns_lock);
	s->reaper_stop = true;
	pthread_cond_signal(&s->reaper_wake);
	pthread_mutex_unlock(&s->conns_lock);
	pthread_join(s->reaper, NULL);
}

/* MHD_OPTION_NOTIFY_CONNECTION: lists a connection from its start to its
 * end. One that cannot be listed (no memory) has the idle timeout only. */
void serve_conn_notify(void *cls, struct MHD_Connection *mc,
                       void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(mc,
		                             MHD_CONNECTION_INFO_CONNECTION_FD);
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return;
		c->fd = ci->connect_fd;
		atomic_init(&c->waiting_since, now_ns());
		atomic_init(&c->reused, false);
		pthread_mutex_lock(&s->conns_lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->conns_lock);
		*socket_context = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		c = *socket_context;
		pthread_mutex_lock(&s->conns_lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			s->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&s->conns_lock);
		free(c);
		*socket_context = NULL;
	}
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The request is in: no deadline while it is answered. */
void serve_conn_answering(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);

	if (c)
		atomic_store_explicit(&c->waiting_since, 0,
		                      memory_order_relaxed);
}

/* A response is out: the deadline for the next request starts. */
void serve_conn_waiting(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);

	if (c) {
		atomic_store_explicit(&c->reused, true, memory_order_relaxed);
		atomic_store_explicit(&c->waiting_since, now_ns(),
		                      memory_order_release);
	}
}
