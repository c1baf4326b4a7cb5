/* The test platform's QEMU, not Keel: an LD_PRELOAD library for the outer
 * QEMU that stands in for the server when there is no hardware
 * virtualisation (tools/appliance.py, docs/vmm.md "Firmware").
 *
 * Debian bookworm's QEMU 7.2 emulates AMD SVM under TCG. When a guest of
 * the KVM inside the appliance writes CR8 (OVMF does, at the end of every
 * interrupt handler) while KVM waits for an interrupt window, TCG's
 * helper_write_crN calls cpu_interrupt() on its own vCPU thread without the
 * big QEMU lock, and tcg_handle_interrupt's assertion of that lock aborts
 * the whole appliance. The call itself only sets a request bit and makes
 * the vCPU leave its translated code; QEMU upstream has since made it legal
 * without the lock. This library lets exactly that assertion pass: glib's
 * g_assertion_message_expr is not meant to return, but Debian's build of
 * tcg_handle_interrupt continues with the interrupt request right after the
 * call. Every other assertion still aborts, through glib's own function. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef void assertion_fn(const char *domain, const char *file, int line, const char *func,
			  const char *expr);

void g_assertion_message_expr(const char *domain, const char *file, int line, const char *func,
			      const char *expr);

void g_assertion_message_expr(const char *domain, const char *file, int line, const char *func,
			      const char *expr)
{
	if (func && expr && strcmp(func, "tcg_handle_interrupt") == 0 &&
	    strcmp(expr, "qemu_mutex_iothread_locked()") == 0)
		return;
	assertion_fn *real = (assertion_fn *)dlsym(RTLD_NEXT, "g_assertion_message_expr");
	if (real)
		real(domain, file, line, func, expr);
	abort();
}
