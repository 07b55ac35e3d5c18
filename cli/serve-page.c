/* SPDX-License-Identifier: MIT */
/*
 * evcount-cli serve's page: GET / and the files it loads,
 * /assets/page.js and /assets/page.css, built into the binary from
 * cli/page/ (page-assets.c, written by cli/page/embed.c at build time).
 *
 * They hold no counts, so they need no token: the page asks for it before
 * it fetches any (/customers, /counts). Whether to ask is written into the
 * page once, at start-up, so that the page never has to provoke a 401 to
 * find out. Their Content-Security-Policy lets the page load and fetch
 * from this server only: it works without internet, and nothing it
 * displays can make it load from elsewhere.
 */
#include "page-assets.h"
#include "serve.h"

#include <stdlib.h>
#include <string.h>

static const char policy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

/* Where index.html wants "bearer" or "none" written. */
static const char auth_mark[] = "@AUTH@";

struct page_file {
	const char *path;
	const char *type;
	enum endpoint endpoint;
	const unsigned char *data;
	const size_t *len;
};

static const struct page_file files[] = {
    {"/", "text/html; charset=utf-8", EP_PAGE, page_index_html,
     &page_index_html_len},
    {"/assets/page.js", "text/javascript; charset=utf-8", EP_ASSETS, page_js,
     &page_js_len},
    {"/assets/page.css", "text/css; charset=utf-8", EP_ASSETS, page_css,
     &page_css_len},
};
#define N_FILES (sizeof(files) / sizeof(files[0]))

int serve_page_init(struct server *s)
{
	const char *html = (const char *)page_index_html;
	const char *mode = s->token ? "bearer" : "none";
	/* embed.c ends every file with a NUL it does not count. */
	const char *mark = strstr(html, auth_mark);
	const size_t mark_len = strlen(auth_mark), mode_len = strlen(mode);

	/* Without the mark the page is as built: it asks for a token when
	 * a request is refused. */
	if (!mark) {
		s->page = NULL;
		return 0;
	}
	const size_t head = (size_t)(mark - html);
	s->page_len = page_index_html_len - mark_len + mode_len;
	s->page = malloc(s->page_len);
	if (!s->page)
		return -1;
	memcpy(s->page, html, head);
	memcpy(s->page + head, mode, mode_len);
	memcpy(s->page + head + mode_len, mark + mark_len,
	       page_index_html_len - head - mark_len);
	return 0;
}

void serve_page_free(struct server *s)
{
	free(s->page);
	s->page = NULL;
}

static const struct page_file *find_file(const char *url)
{
	for (size_t i = 0; i < N_FILES; i++)
		if (strcmp(files[i].path, url) == 0)
			return &files[i];
	return NULL;
}

enum endpoint serve_page_endpoint(const char *url)
{
	const struct page_file *file = find_file(url);

	return file ? file->endpoint : EP_OTHER;
}

enum MHD_Result serve_get_page(struct server *s, struct MHD_Connection *conn,
                               struct reply *rp, const char *url)
{
	const struct page_file *file = find_file(url);
	const void *data = file->data;
	size_t len = *file->len;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (file->endpoint == EP_PAGE && s->page) {
		data = s->page;
		len = s->page_len;
	}
	/* Persistent: the bytes outlive every response, none is copied or
	 * held against --max-response-memory. */
	resp = MHD_create_response_from_buffer(len, (void *)data,
	                                       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, file->type);
	MHD_add_response_header(resp, "Content-Security-Policy", policy);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* The page's URL holds its query: a customer id goes nowhere else. */
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	/* A newer binary serves a newer page: always ask. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-cache");
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	rp->status = 200;
	return ret;
}
