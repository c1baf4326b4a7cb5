/* common/localclient.c against a fake server on a unix socket: the
 * request it writes, and the answers it takes (Content-Length, chunked,
 * to the end of the stream, streamed to a sink) and refuses (not HTTP, too
 * large, cut short, bad chunk sizes, silence past the time-out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/localclient.h"

static char path[108];
static int listener = -1;

struct serve {
	const char *answer; /* written after the request was read */
	size_t answer_len;
	int stall_ms;	    /* then silent that long before closing */
	char request[8192]; /* what came */
	size_t request_len;
};

/* Reads the request: its head, then Content-Length bytes. */
static void read_request(int fd, struct serve *s)
{
	size_t want = SIZE_MAX;
	while (s->request_len < sizeof(s->request) - 1 && s->request_len < want) {
		ssize_t n =
		    read(fd, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len);
		if (n <= 0)
			break;
		s->request_len += (size_t)n;
		s->request[s->request_len] = '\0';
		char *end = strstr(s->request, "\r\n\r\n");
		char *cl = strstr(s->request, "Content-Length: ");
		if (end && cl)
			want = (size_t)(end + 4 - s->request) + strtoul(cl + 16, NULL, 10);
	}
}

static void *server(void *arg)
{
	struct serve *s = arg;
	int fd = accept(listener, NULL, NULL);
	if (fd < 0)
		return NULL;
	read_request(fd, s);
	if (s->answer_len && write(fd, s->answer, s->answer_len) < 0)
		s->answer_len = 0;
	if (s->stall_ms)
		usleep((useconds_t)s->stall_ms * 1000);
	close(fd);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN); /* the client may hang up on the fake server */
	snprintf(path, sizeof(path), "/tmp/keel-localclient-%d.sock", (int)getpid());
	unlink(path);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listener, 4) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(listener);
	unlink(path);
	return 0;
}

/* One exchange: the client's request r against the canned answer. */
static int exchange(struct serve *s, struct local_request *r, char *err, size_t errlen)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, server, s), 0);
	int rc = local_request(path, r, err, errlen);
	pthread_join(t, NULL);
	return rc;
}

static struct serve canned(const char *answer)
{
	return (struct serve){.answer = answer, .answer_len = strlen(answer)};
}

static void test_request_and_length_answer(void **state)
{
	(void)state;
	struct serve s = canned("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
				"Retry-After: 7\r\nContent-Length: 13\r\n\r\n{\"token\":\"t\"}");
	struct local_request r = {.method = "POST",
				  .path = "/api/v1/session",
				  .token = "abc",
				  .body = "{\"user\":\"root\"}",
				  .len = 15,
				  .upload_fd = -1,
				  .want = {"retry-after", NULL}};
	char err[256];
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.answer, "{\"token\":\"t\"}");
	assert_int_equal(r.answer_len, 13);
	assert_string_equal(r.got[0], "7");
	assert_string_equal(r.content_type_got, "application/json");
	assert_non_null(strstr(s.request, "POST /api/v1/session HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "Authorization: Bearer abc\r\n"));
	assert_non_null(strstr(s.request, "Content-Length: 15\r\n"));
	assert_non_null(strstr(s.request, "\r\n\r\n{\"user\":\"root\"}"));
	free(r.answer);
}

static void test_chunked_and_to_the_end(void **state)
{
	(void)state;
	char err[256];
	struct serve s = canned("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				"5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n");
	struct local_request r = {.method = "GET", .path = "/x", .upload_fd = -1};
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), 0);
	assert_string_equal(r.answer, "hello, world");
	free(r.answer);
	s = canned("HTTP/1.0 404 Not Found\r\n\r\nno such thing");
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.answer, "no such thing");
	free(r.answer);
	s = canned("HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), 0);
	assert_string_equal(r.answer, "");
	free(r.answer);
}

static int count_sink(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(size_t *)ctx += len;
	return 0;
}

/* A 2xx body streams to the sink (past `max`); an error's is kept. */
static void test_sink(void **state)
{
	(void)state;
	char err[256];
	size_t n = 100000;
	char *big = malloc(n + 100);
	int k = snprintf(big, 100, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
	memset(big + k, 'x', n);
	struct serve s = {.answer = big, .answer_len = (size_t)k + n};
	size_t got = 0;
	struct local_request r = {.method = "GET",
				  .path = "/f",
				  .upload_fd = -1,
				  .sink = count_sink,
				  .sink_ctx = &got,
				  .max = 10};
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), 0);
	assert_int_equal(got, n);
	assert_null(r.answer);
	/* the same body kept, over max: refused */
	r.sink = NULL;
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 10 bytes"));
	assert_null(r.answer);
	free(big);
}

static void test_refusals(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "SSH-2.0-dropbear\r\n",
	    "HTTP/1.1 99 Low\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	    "",
	};
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct serve s = canned(bad[i]);
		struct local_request r = {.method = "GET", .path = "/x", .upload_fd = -1};
		if (exchange(&s, &r, err, sizeof(err)) != -1)
			fail_msg("answer %zu taken: %s", i, bad[i]);
		assert_null(r.answer);
	}
	/* a head that never ends: refused at LOCAL_HEAD_MAX */
	char *flood = malloc(LOCAL_HEAD_MAX + 64);
	int k = snprintf(flood, 64, "HTTP/1.1 200 OK\r\nX: ");
	memset(flood + k, 'a', LOCAL_HEAD_MAX);
	struct serve s = {.answer = flood, .answer_len = (size_t)k + LOCAL_HEAD_MAX};
	struct local_request r = {.method = "GET", .path = "/x", .upload_fd = -1};
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), -1);
	free(flood);
	/* silence: the time-out ends the wait */
	s = (struct serve){.stall_ms = 600};
	r.timeout_ms = 100;
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), -1);
	/* nobody there */
	char gone[] = "/tmp/keel-localclient-nobody.sock";
	assert_int_equal(local_request(gone, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not answer"));
}

/* A file's bytes as the body. */
static void test_upload(void **state)
{
	(void)state;
	char tmp[] = "/tmp/keel-localclient-upXXXXXX", err[256];
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	unlink(tmp);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	lseek(fd, 2, SEEK_SET);
	struct serve s = canned("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	struct local_request r = {.method = "PUT",
				  .path = "/f",
				  .content_type = "application/octet-stream",
				  .upload_fd = fd,
				  .upload_size = 5};
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), 0);
	assert_non_null(strstr(s.request, "Content-Length: 5\r\n"));
	assert_non_null(strstr(s.request, "Content-Type: application/octet-stream\r\n"));
	assert_non_null(strstr(s.request, "\r\n\r\n23456"));
	free(r.answer);
	/* the file shorter than said: refused */
	lseek(fd, 8, SEEK_SET);
	assert_int_equal(exchange(&s, &r, err, sizeof(err)), -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_and_length_answer),
	    cmocka_unit_test(test_chunked_and_to_the_end),
	    cmocka_unit_test(test_sink),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_upload),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
