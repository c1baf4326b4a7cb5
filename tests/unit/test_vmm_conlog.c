/* keel-vmm's capped console log (src/vmm/conlog.c): past its cap the file
 * keeps its newest half, in order, while a vCPU thread goes on writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/conlog.h"

/* the byte number i of what the guest prints */
static uint8_t nth(uint64_t i)
{
	return (uint8_t)(i % 251);
}

static int temp_file(void)
{
	char path[] = "/tmp/keel-conlog-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static uint64_t file_size(int fd)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_size;
}

/* The file holds bytes first..first+size-1 of the sequence. */
static void assert_holds(int fd, uint64_t first)
{
	uint64_t n = file_size(fd);
	uint8_t *buf = malloc(n + 1);
	assert_int_equal(pread(fd, buf, n, 0), (ssize_t)n);
	for (uint64_t i = 0; i < n; i++)
		if (buf[i] != nth(first + i))
			fail_msg("byte %llu of the file is not byte %llu of the output",
				 (unsigned long long)i, (unsigned long long)(first + i));
	free(buf);
}

static bool wake_due(const struct conlog *l)
{
	struct pollfd p = {.fd = l->wake, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

static void test_trim_keeps_the_newest_half(void **state)
{
	(void)state;
	struct conlog l;
	int fd = temp_file();
	assert_int_equal(conlog_init(&l, fd, 64), 0);
	for (uint64_t i = 0; i < 64; i++)
		conlog_put(&l, nth(i));
	assert_false(wake_due(&l)); /* at the cap, not past it */
	for (uint64_t i = 64; i < 100; i++)
		conlog_put(&l, nth(i));
	assert_true(wake_due(&l));
	assert_int_equal(conlog_trim(&l), 0);
	assert_false(wake_due(&l));
	assert_int_equal(file_size(fd), 32);
	assert_holds(fd, 68);
	/* writing goes on after the kept half */
	for (uint64_t i = 100; i < 110; i++)
		conlog_put(&l, nth(i));
	assert_int_equal(file_size(fd), 42);
	assert_holds(fd, 68);
	close(l.wake);
	close(fd);
}

static void test_a_large_file_from_before_is_trimmed(void **state)
{
	(void)state;
	int fd = temp_file();
	uint8_t old[1000];
	for (int i = 0; i < 1000; i++)
		old[i] = nth((uint64_t)i);
	assert_int_equal(write(fd, old, sizeof(old)), 1000);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	struct conlog l;
	assert_int_equal(conlog_init(&l, fd, 100), 0);
	assert_true(wake_due(&l));
	conlog_put(&l, nth(1000)); /* appended, not written at the start */
	assert_int_equal(conlog_trim(&l), 0);
	assert_int_equal(file_size(fd), 50);
	assert_holds(fd, 951);
	close(l.wake);
	close(fd);
}

#define WRITES 300000

static void *guest(void *arg)
{
	struct conlog *l = arg;
	for (uint64_t i = 0; i < WRITES; i++)
		conlog_put(l, nth(i));
	return NULL;
}

/* A vCPU thread prints while the main thread trims: the file is always a
 * run of the output, in order, and within the cap plus what came while a
 * trim was being asked for. */
static void test_trims_while_a_thread_writes(void **state)
{
	(void)state;
	int fd = temp_file();
	struct conlog l;
	assert_int_equal(conlog_init(&l, fd, 4096), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, guest, &l), 0);
	int trims = 0;
	for (;;) {
		struct pollfd p = {.fd = l.wake, .events = POLLIN};
		if (poll(&p, 1, 1) == 1) {
			assert_int_equal(conlog_trim(&l), 0);
			trims++;
		}
		if (pthread_tryjoin_np(t, NULL) == 0)
			break;
	}
	if (wake_due(&l))
		assert_int_equal(conlog_trim(&l), 0);
	assert_true(trims > 0);
	uint64_t n = file_size(fd);
	assert_true(n <= 4096);
	assert_holds(fd, WRITES - n);
	close(l.wake);
	close(fd);
}

static void test_bad_cap(void **state)
{
	(void)state;
	struct conlog l;
	int fd = temp_file();
	assert_int_equal(conlog_init(&l, fd, 1), -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim_keeps_the_newest_half),
	    cmocka_unit_test(test_a_large_file_from_before_is_trimmed),
	    cmocka_unit_test(test_trims_while_a_thread_writes),
	    cmocka_unit_test(test_bad_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
