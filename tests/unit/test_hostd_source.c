#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "hostd/source.h"

/* source_key of an address given as text, through a socket address as
 * the transport has it */
static int key_of(const char *addr, unsigned char key[SOURCE_KEY_SIZE])
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		return source_key((struct sockaddr *)&s4, sizeof(s4), key);
	assert_int_equal(inet_pton(AF_INET6, addr, &s6.sin6_addr), 1);
	return source_key((struct sockaddr *)&s6, sizeof(s6), key);
}

static void assert_name(const char *addr, const char *want)
{
	char name[SOURCE_NAME_MAX];
	assert_int_equal(source_name(addr, name, sizeof(name)), 0);
	assert_string_equal(name, want);
}

static void assert_same_source(const char *a, const char *b, int same)
{
	unsigned char ka[SOURCE_KEY_SIZE], kb[SOURCE_KEY_SIZE];
	assert_int_equal(key_of(a, ka), 0);
	assert_int_equal(key_of(b, kb), 0);
	assert_int_equal(memcmp(ka, kb, SOURCE_KEY_SIZE) == 0, same);
	char na[SOURCE_NAME_MAX], nb[SOURCE_NAME_MAX];
	assert_int_equal(source_name(a, na, sizeof(na)), 0);
	assert_int_equal(source_name(b, nb, sizeof(nb)), 0);
	assert_int_equal(strcmp(na, nb) == 0, same);
}

static void test_ipv4(void **state)
{
	(void)state;
	assert_name("192.0.2.7", "192.0.2.7");
	assert_same_source("192.0.2.7", "192.0.2.7", 1);
	assert_same_source("192.0.2.7", "192.0.2.8", 0);
}

/* every address of one /64 is one source; another /64 is another */
static void test_ipv6_per_64(void **state)
{
	(void)state;
	assert_name("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64");
	assert_name("2001:DB8:1:2::1", "2001:db8:1:2::/64");
	assert_name("fd00:7:1::5", "fd00:7:1::/64");
	assert_same_source("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 1);
	assert_same_source("2001:db8:1:2::1", "2001:db8:1:3::1", 0);
	assert_same_source("2001:db8:1:2::1", "2001:db9:1:2::1", 0);
	/* an IPv6 /64 whose first bytes spell an IPv4 address is not it */
	assert_same_source("::c000:207", "192.0.2.7", 0);
	assert_same_source("c000:207::", "192.0.2.7", 0);
}

/* an IPv4 client on the dual-stack socket counts as its IPv4 address */
static void test_ipv4_mapped(void **state)
{
	(void)state;
	assert_name("::ffff:192.0.2.7", "192.0.2.7");
	assert_same_source("::ffff:192.0.2.7", "192.0.2.7", 1);
	assert_same_source("::ffff:192.0.2.7", "::ffff:192.0.2.8", 0);
}

static void test_garbage_refused(void **state)
{
	(void)state;
	const char *bad[] = {
	    "",		  "unknown",	    "192.0.2",	     "192.0.2.256",  "192.0.2.7/24",
	    " 192.0.2.7", "2001:db8::1::2", "2001:db8::/64", "fe80::1%eth0", "::ffff:192.0.2.7x",
	    "localhost"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[SOURCE_NAME_MAX] = "x";
		assert_int_equal(source_name(bad[i], name, sizeof(name)), -EINVAL);
		assert_string_equal(name, bad[i]); /* a source of its own, as it is */
	}
	unsigned char key[SOURCE_KEY_SIZE];
	struct sockaddr_un {
		sa_family_t family;
		char path[20];
	} un = {.family = AF_UNIX};
	assert_int_equal(source_key((struct sockaddr *)&un, sizeof(un), key), -EAFNOSUPPORT);
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	assert_int_equal(source_key((struct sockaddr *)&s6, sizeof(struct sockaddr_in), key),
			 -EAFNOSUPPORT);
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	assert_int_equal(source_key((struct sockaddr *)&s4, 4, key), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4),
	    cmocka_unit_test(test_ipv6_per_64),
	    cmocka_unit_test(test_ipv4_mapped),
	    cmocka_unit_test(test_garbage_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
