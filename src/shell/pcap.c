#include "shell/pcap.h"

#include <string.h>

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void pcap_global_header(uint8_t out[PCAP_GLOBAL_LEN], uint32_t snaplen, uint32_t linktype)
{
	le32(out, PCAP_MAGIC);
	le16(out + 4, 2); /* version 2.4 */
	le16(out + 6, 4);
	le32(out + 8, 0);  /* thiszone */
	le32(out + 12, 0); /* sigfigs */
	le32(out + 16, snaplen);
	le32(out + 20, linktype);
}

void pcap_record_header(uint8_t out[PCAP_RECORD_LEN], uint32_t sec, uint32_t usec, uint32_t caplen,
			uint32_t len)
{
	le32(out, sec);
	le32(out + 4, usec);
	le32(out + 8, caplen < len ? caplen : len);
	le32(out + 12, len);
}

int pcap_file_name_valid(const char *name)
{
	size_t n = strnlen(name, CAPTURE_NAME_MAX + 1);
	return n > 0 && n <= CAPTURE_NAME_MAX && name[0] != '.' &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		   n;
}
