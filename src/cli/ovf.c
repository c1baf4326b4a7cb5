#include "cli/ovf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* CIM's ResourceType values (DSP1043) that an item may have, for reports */
static const char *resource_name(long type)
{
	static const char *const names[] = {
	    [1] = "other device",
	    [5] = "IDE controller",
	    [6] = "SCSI controller",
	    [7] = "Fibre Channel adapter",
	    [8] = "iSCSI adapter",
	    [9] = "InfiniBand adapter",
	    [11] = "other network adapter",
	    [12] = "I/O slot",
	    [13] = "I/O device",
	    [14] = "floppy drive",
	    [15] = "CD drive",
	    [16] = "DVD drive",
	    [18] = "tape drive",
	    [19] = "storage extent",
	    [20] = "other storage device",
	    [21] = "serial port",
	    [22] = "parallel port",
	    [23] = "USB controller",
	    [24] = "graphics controller",
	    [25] = "IEEE 1394 controller",
	    [35] = "sound card",
	};
	if (type >= 0 && (size_t)type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "unknown device type";
}

static bool named(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* the first element child of n with the local name `name` */
static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* the first element with the local name `name` below n, depth first */
static xmlNode *descendant(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		if (named(c, name))
			return c;
		xmlNode *d = descendant(c, name);
		if (d)
			return d;
	}
	return NULL;
}

/* The text of n, trimmed, into buf; "" when n is NULL. */
static const char *text_of(const xmlNode *n, char *buf, size_t len)
{
	buf[0] = '\0';
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	if (t) {
		str_copy(buf, len, (const char *)t);
		xmlFree(t);
		char *s = str_trim(buf);
		memmove(buf, s, strlen(s) + 1);
	}
	return buf;
}

/* the attribute of n with the local name `name` in any namespace (ovf:,
 * vmw:, none), trimmed into buf; "" when absent */
static const char *attr(const xmlNode *n, const char *name, char *buf, size_t len)
{
	for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
		if (strcmp((const char *)a->name, name) == 0)
			return text_of((const xmlNode *)a, buf, len);
	buf[0] = '\0';
	return buf;
}

/* a decimal integer 0..2^53 */
static int number(const char *s, unsigned long long *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > (1ULL << 53) ? -1 : 0;
}

/* AllocationUnits ("byte * 2^20", "byte", "MegaBytes", ...) as a number of
 * bytes; `none` when empty. -1 when not understood. */
static int unit_bytes(const char *units, uint64_t none, uint64_t *out)
{
	char u[64];
	size_t n = 0;
	for (const char *p = units; *p && n + 1 < sizeof(u); p++)
		if (!isspace((unsigned char)*p))
			u[n++] = (char)tolower((unsigned char)*p);
	u[n] = '\0';
	static const struct {
		const char *name;
		unsigned shift;
	} words[] = {{"", 0},	 {"byte", 0},	    {"bytes", 0}, {"kilobytes", 10},
		     {"kb", 10}, {"megabytes", 20}, {"mb", 20},	  {"gigabytes", 30},
		     {"gb", 30}, {"terabytes", 40}, {"tb", 40}};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcmp(u, words[i].name) == 0) {
			*out = i == 0 ? none : 1ULL << words[i].shift;
			return 0;
		}
	unsigned base, exp;
	char tail;
	if (sscanf(u, "byte*%u^%u%c", &base, &exp, &tail) != 2 || (base != 2 && base != 10))
		return -1;
	uint64_t v = 1;
	for (unsigned i = 0; i < exp; i++)
		if (__builtin_mul_overflow(v, base, &v))
			return -1;
	*out = v;
	return 0;
}

/* quantity * the units' bytes, or -1 */
static int scaled(const char *quantity, const char *units, uint64_t none, uint64_t *out)
{
	unsigned long long q;
	uint64_t mult;
	if (number(quantity, &q) < 0 || unit_bytes(units, none, &mult) < 0 ||
	    __builtin_mul_overflow((uint64_t)q, mult, out))
		return -1;
	return 0;
}

struct parse {
	xmlNode *envelope;
	struct ovf_vm *vm;
	void (*unmapped)(const char *what, void *ctx);
	void *ctx;
	char *err;
	size_t errlen;
};

static void report(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct parse *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p->unmapped(line, p->ctx);
}

/* the element of `section` (DiskSection, References) whose attribute
 * `key` is `id` */
static xmlNode *by_id(struct parse *p, const char *section, const char *element, const char *key,
		      const char *id)
{
	char v[256];
	xmlNode *s = child(p->envelope, section);
	for (xmlNode *c = s ? s->children : NULL; c; c = c->next)
		if (named(c, element) && strcmp(attr(c, key, v, sizeof(v)), id) == 0)
			return c;
	return NULL;
}

/* the file (href) of References' File `id`; -1 unless it is a plain name */
static int file_href(struct parse *p, const char *id, char *href, size_t len)
{
	xmlNode *f = by_id(p, "References", "File", "id", id);
	if (!f)
		return errorf(p->err, p->errlen, "no File \"%s\" in References", id);
	attr(f, "href", href, len);
	if (!*href || href[0] == '.' || strchr(href, '/') || strchr(href, '\\') ||
	    strchr(href, ':'))
		return errorf(p->err, p->errlen,
			      "File \"%s\": \"%s\" is not the name of a file beside the OVF", id,
			      href);
	return 0;
}

/* a disk item's HostResource: "ovf:/disk/ID" (DiskSection) or "ovf:/file/ID" */
static int take_disk(struct parse *p, const xmlNode *item, const char *label)
{
	char res[256], id[256], buf[256];
	text_of(child(item, "HostResource"), res, sizeof(res));
	const char *r = strncmp(res, "ovf:", 4) == 0 ? res + 4 : res;
	struct ovf_disk d = {.capacity = 0};
	if (strncmp(r, "/disk/", 6) == 0) {
		xmlNode *disk = by_id(p, "DiskSection", "Disk", "diskId", r + 6);
		if (!disk)
			return errorf(p->err, p->errlen, "%s: no Disk \"%s\" in DiskSection", label,
				      r + 6);
		if (scaled(attr(disk, "capacity", buf, sizeof(buf)),
			   attr(disk, "capacityAllocationUnits", id, sizeof(id)), 1,
			   &d.capacity) < 0)
			return errorf(p->err, p->errlen, "%s: capacity \"%s\" is not understood",
				      label, buf);
		attr(disk, "fileRef", id, sizeof(id));
		if (*id && file_href(p, id, d.file, sizeof(d.file)) < 0)
			return -1;
	} else if (strncmp(r, "/file/", 6) == 0) {
		if (file_href(p, r + 6, d.file, sizeof(d.file)) < 0)
			return -1;
	} else {
		report(p, "%s: its HostResource \"%s\" names no disk", label, res);
		return 0;
	}
	if (p->vm->ndisks == VM_MAX_DISKS) {
		report(p, "%s: a Keel VM has at most %d disks", label, VM_MAX_DISKS);
		return 0;
	}
	p->vm->disks[p->vm->ndisks++] = d;
	return 0;
}

static int take_item(struct parse *p, const xmlNode *item)
{
	char buf[256], units[64], name[128], label[192];
	unsigned long long type = 0;
	bool typed = number(text_of(child(item, "ResourceType"), buf, sizeof(buf)), &type) == 0;
	text_of(child(item, "ElementName"), name, sizeof(name));
	if (!*name)
		text_of(child(item, "Caption"), name, sizeof(name));
	if (!*name)
		text_of(child(item, "Description"), name, sizeof(name));
	snprintf(label, sizeof(label), "\"%s\" (ResourceType %s)", name, typed ? buf : "none");
	const char *quantity = text_of(child(item, "VirtualQuantity"), buf, sizeof(buf));
	text_of(child(item, "AllocationUnits"), units, sizeof(units));
	uint64_t bytes;
	unsigned long long n;
	switch (typed ? type : 0) {
	case 3:
		if (number(quantity, &n) < 0 || n < 1 || n > VM_MAX_VCPUS)
			return errorf(p->err, p->errlen, "%s: %s vCPUs (a Keel VM has 1 to %d)",
				      label, quantity, VM_MAX_VCPUS);
		p->vm->vcpus = (long long)n;
		return 0;
	case 4:
		if (scaled(quantity, units, 1ULL << 20, &bytes) < 0)
			return errorf(p->err, p->errlen,
				      "%s: memory \"%s\" in \"%s\" is not understood", label,
				      quantity, units);
		p->vm->memory_mib = (long long)(bytes >> 20);
		return 0;
	case 17:
		return take_disk(p, item, label);
	case 10:
		if (p->vm->nnics == VM_MAX_NICS) {
			report(p, "%s: a Keel VM has at most %d NICs", label, VM_MAX_NICS);
			return 0;
		}
		text_of(child(item, "Connection"), p->vm->networks[p->vm->nnics++],
			sizeof(p->vm->networks[0]));
		return 0;
	case 5:
	case 6:
	case 20: /* disk controllers: the disks become virtio disks */
		return 0;
	default:
		report(p, "%s: %s", label, typed ? resource_name((long)type) : "no ResourceType");
		return 0;
	}
}

/* VMware: <vmw:Config vmw:key="firmware" vmw:value="efi"/> in the hardware
 * section; VirtualBox: <Firmware type="EFI"/> in its machine description */
static enum vm_firmware firmware(const xmlNode *system, const xmlNode *hardware)
{
	char key[64], value[64];
	for (xmlNode *c = hardware->children; c; c = c->next)
		if (named(c, "Config") && strcmp(attr(c, "key", key, sizeof(key)), "firmware") == 0)
			return strcasecmp(attr(c, "value", value, sizeof(value)), "efi") == 0
				   ? VM_FIRMWARE_UEFI
				   : VM_FIRMWARE_BIOS;
	xmlNode *vbox = descendant(system, "Firmware");
	if (vbox && strncasecmp(attr(vbox, "type", value, sizeof(value)), "efi", 3) == 0)
		return VM_FIRMWARE_UEFI;
	return VM_FIRMWARE_BIOS;
}

static int read_system(struct parse *p, const xmlNode *system)
{
	char buf[256];
	text_of(child(system, "Name"), p->vm->name, sizeof(p->vm->name));
	if (!p->vm->name[0])
		attr(system, "id", p->vm->name, sizeof(p->vm->name));
	xmlNode *hw = child(system, "VirtualHardwareSection");
	if (!hw)
		return errorf(p->err, p->errlen, "the VirtualSystem has no VirtualHardwareSection");
	for (xmlNode *c = hw->children; c; c = c->next)
		if ((named(c, "Item") || named(c, "StorageItem") || named(c, "EthernetPortItem")) &&
		    take_item(p, c) < 0)
			return -1;
	p->vm->firmware = firmware(system, hw);
	/* a VirtualSystemCollection's other systems */
	for (const xmlNode *s = system->next; s; s = s->next)
		if (named(s, "VirtualSystem"))
			report(p, "VirtualSystem \"%s\": only the first system is imported",
			       attr(s, "id", buf, sizeof(buf)));
	return 0;
}

int ovf_parse(const char *xml, size_t len, struct ovf_vm *vm,
	      void (*unmapped)(const char *what, void *ctx), void *ctx, char *err, size_t errlen)
{
	memset(vm, 0, sizeof(*vm));
	if (len > OVF_MAX)
		return errorf(err, errlen, "the OVF descriptor is over 4 MiB");
	xmlDoc *doc = xmlReadMemory(xml, (int)len, "descriptor.ovf", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		xmlError *e = xmlGetLastError();
		char why[256] = "";
		if (e && e->message)
			str_copy(why, sizeof(why), e->message);
		return errorf(err, errlen, "the OVF descriptor is not XML (%s, line %d)",
			      str_trim(why), e ? e->line : 0);
	}
	struct parse p = {xmlDocGetRootElement(doc), vm, unmapped, ctx, err, errlen};
	int rc;
	xmlNode *system = descendant(p.envelope, "VirtualSystem");
	if (doc->intSubset || doc->extSubset) /* no entities to expand, ever */
		rc = errorf(err, errlen, "the OVF descriptor has a DOCTYPE, which OVF never has");
	else if (!named(p.envelope, "Envelope"))
		rc = errorf(err, errlen, "not an OVF descriptor (no Envelope)");
	else if (!system)
		rc = errorf(err, errlen, "the OVF descriptor has no VirtualSystem");
	else
		rc = read_system(&p, system);
	xmlFreeDoc(doc);
	if (rc == 0 && vm->vcpus == 0)
		vm->vcpus = 1;
	return rc;
}
