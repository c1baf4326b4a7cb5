#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/modlist.h"

static void test_parse_basic(void **state)
{
	(void)state;
	struct modlist ml;
	int bad = -1;
	const char *text = "# curated list\n"
			   "\n"
			   "kvm-amd   # AMD-V\n"
			   "  \t \n"
			   "virtio_net\n"
			   "\tnvme-core\t# storage\r\n"
			   "#only-a-comment\n"
			   "e1000e";
	assert_int_equal(modlist_parse(&ml, text, &bad), 0);
	assert_int_equal(ml.n, 4);
	assert_string_equal(ml.names[0], "kvm_amd");
	assert_string_equal(ml.names[1], "virtio_net");
	assert_string_equal(ml.names[2], "nvme_core");
	assert_string_equal(ml.names[3], "e1000e");
	modlist_free(&ml);
	assert_int_equal(ml.n, 0);
}

static void test_parse_empty(void **state)
{
	(void)state;
	struct modlist ml;
	int bad = -1;
	assert_int_equal(modlist_parse(&ml, "", &bad), 0);
	assert_int_equal(ml.n, 0);
	assert_int_equal(modlist_parse(&ml, "# nothing\n\n\n", &bad), 0);
	assert_int_equal(ml.n, 0);
	modlist_free(&ml);
}

static void test_parse_two_words(void **state)
{
	(void)state;
	struct modlist ml;
	int bad = 0;
	const char *text = "kvm\n"
			   "# comment\n"
			   "\n"
			   "kvm_amd ccp\n"
			   "virtio_net\n";
	assert_int_equal(modlist_parse(&ml, text, &bad), -1);
	assert_int_equal(bad, 4);
	assert_int_equal(ml.n, 0);

	/* a second word after a comment marker is fine */
	assert_int_equal(modlist_parse(&ml, "kvm # kvm_amd ccp\n", &bad), 0);
	assert_int_equal(ml.n, 1);
	modlist_free(&ml);

	/* bad_line may be NULL */
	assert_int_equal(modlist_parse(&ml, "a b\n", NULL), -1);
}

static void test_parse_too_many(void **state)
{
	(void)state;
	size_t cap = (MODLIST_MAX + 1) * 8 + 1;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t used = 0;
	for (int i = 0; i < MODLIST_MAX + 1; i++)
		used += (size_t)snprintf(text + used, cap - used, "m%d\n", i);
	struct modlist ml;
	int bad = 0;
	assert_int_equal(modlist_parse(&ml, text, &bad), -1);
	assert_int_equal(bad, MODLIST_MAX + 1);
	free(text);
}

static void test_modname_from_path(void **state)
{
	(void)state;
	char out[64];
	modname_from_path("kernel/arch/x86/kvm/kvm-amd.ko", out, sizeof(out));
	assert_string_equal(out, "kvm_amd");
	modname_from_path("kernel/drivers/net/virtio_net.ko.xz", out, sizeof(out));
	assert_string_equal(out, "virtio_net");
	modname_from_path("kvm.ko", out, sizeof(out));
	assert_string_equal(out, "kvm");
	modname_from_path("irqbypass", out, sizeof(out));
	assert_string_equal(out, "irqbypass");

	char small[4];
	modname_from_path("a/b/nvme-core.ko", small, sizeof(small));
	assert_string_equal(small, "nvm");

	char untouched[2] = {'x', 'y'};
	modname_from_path("a/kvm.ko", untouched, 0);
	assert_int_equal(untouched[0], 'x');
}

static const char *moddep = "kernel/arch/x86/kvm/kvm-amd.ko: kernel/arch/x86/kvm/kvm.ko "
			    "kernel/drivers/crypto/ccp/ccp.ko\n"
			    "kernel/arch/x86/kvm/kvm.ko: kernel/virt/lib/irqbypass.ko\n"
			    "kernel/virt/lib/irqbypass.ko:\n"
			    "kernel/drivers/crypto/ccp/ccp.ko:\n"
			    "kernel/drivers/net/virtio_net.ko: kernel/net/core/failover.ko\n"
			    "kernel/net/core/failover.ko:\n";

static int pos_of(char **order, int n, const char *path)
{
	for (int i = 0; i < n; i++)
		if (strcmp(order[i], path) == 0)
			return i;
	return -1;
}

static void free_order(char **order, int n)
{
	for (int i = 0; i < n; i++)
		free(order[i]);
}

static void test_order_deps_first(void **state)
{
	(void)state;
	struct modlist ml;
	int bad;
	assert_int_equal(modlist_parse(&ml, "kvm-amd\n", &bad), 0);
	char *order[16];
	const char *missing[MODLIST_MAX];
	size_t nmissing = 99;
	int n = modlist_order(&ml, moddep, order, 16, missing, &nmissing);
	assert_int_equal(n, 4);
	assert_int_equal(nmissing, 0);
	int irq = pos_of(order, n, "kernel/virt/lib/irqbypass.ko");
	int kvm = pos_of(order, n, "kernel/arch/x86/kvm/kvm.ko");
	int amd = pos_of(order, n, "kernel/arch/x86/kvm/kvm-amd.ko");
	int ccp = pos_of(order, n, "kernel/drivers/crypto/ccp/ccp.ko");
	assert_true(irq >= 0 && kvm >= 0 && amd >= 0 && ccp >= 0);
	assert_true(irq < kvm);
	assert_true(kvm < amd);
	assert_true(ccp < amd);
	assert_int_equal(amd, n - 1);
	free_order(order, n);
	modlist_free(&ml);
}

static void test_order_no_duplicates_and_missing(void **state)
{
	(void)state;
	struct modlist ml;
	int bad;
	/* kvm is needed by kvm_amd and listed itself, and listed twice */
	assert_int_equal(modlist_parse(&ml, "kvm\nkvm-amd\nnosuchmod\nkvm\nvirtio-net\n", &bad), 0);
	char *order[16];
	const char *missing[MODLIST_MAX];
	size_t nmissing = 0;
	int n = modlist_order(&ml, moddep, order, 16, missing, &nmissing);
	assert_int_equal(n, 6);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			assert_string_not_equal(order[i], order[j]);
	assert_int_equal(pos_of(order, n, "kernel/virt/lib/irqbypass.ko"), 0);
	assert_int_equal(pos_of(order, n, "kernel/arch/x86/kvm/kvm.ko"), 1);
	assert_true(pos_of(order, n, "kernel/net/core/failover.ko") <
		    pos_of(order, n, "kernel/drivers/net/virtio_net.ko"));
	assert_int_equal(nmissing, 1);
	assert_string_equal(missing[0], "nosuchmod");
	assert_ptr_equal(missing[0], ml.names[2]);
	free_order(order, n);
	modlist_free(&ml);
}

static void test_order_cycle(void **state)
{
	(void)state;
	struct modlist ml;
	int bad;
	assert_int_equal(modlist_parse(&ml, "ok\nloop-a\n", &bad), 0);
	const char *dep = "k/ok.ko:\n"
			  "k/loop-a.ko: k/loop-b.ko\n"
			  "k/loop-b.ko: k/loop-c.ko\n"
			  "k/loop-c.ko: k/loop-a.ko\n";
	char *order[16];
	const char *missing[MODLIST_MAX];
	size_t nmissing = 0;
	/* order[0] ("ok") is freed by modlist_order on failure; ASan checks */
	assert_int_equal(modlist_order(&ml, dep, order, 16, missing, &nmissing), -1);

	modlist_free(&ml);
	assert_int_equal(modlist_parse(&ml, "self\n", &bad), 0);
	assert_int_equal(
	    modlist_order(&ml, "k/self.ko: k/self.ko\n", order, 16, missing, &nmissing), -1);
	modlist_free(&ml);
}

static void test_order_overflow(void **state)
{
	(void)state;
	struct modlist ml;
	int bad;
	assert_int_equal(modlist_parse(&ml, "kvm-amd\n", &bad), 0);
	char *order[3];
	const char *missing[MODLIST_MAX];
	size_t nmissing = 0;
	assert_int_equal(modlist_order(&ml, moddep, order, 3, missing, &nmissing), -1);
	modlist_free(&ml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_basic),
	    cmocka_unit_test(test_parse_empty),
	    cmocka_unit_test(test_parse_two_words),
	    cmocka_unit_test(test_parse_too_many),
	    cmocka_unit_test(test_modname_from_path),
	    cmocka_unit_test(test_order_deps_first),
	    cmocka_unit_test(test_order_no_duplicates_and_missing),
	    cmocka_unit_test(test_order_cycle),
	    cmocka_unit_test(test_order_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
