/* The classic pcap file format (as tcpdump and Wireshark read it), written
 * by `capture`: a 24-byte global header, then per packet a 16-byte record
 * header and the packet's first caplen bytes. Everything little-endian,
 * microsecond time stamps, link type Ethernet. */
#ifndef KEEL_SHELL_PCAP_H
#define KEEL_SHELL_PCAP_H

#include <stdint.h>

#define PCAP_MAGIC	       0xa1b2c3d4u
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_GLOBAL_LEN	       24
#define PCAP_RECORD_LEN	       16

void pcap_global_header(uint8_t out[PCAP_GLOBAL_LEN], uint32_t snaplen, uint32_t linktype);
/* caplen is cut to len if larger */
void pcap_record_header(uint8_t out[PCAP_RECORD_LEN], uint32_t sec, uint32_t usec, uint32_t caplen,
			uint32_t len);

/* A capture's file name: 1..64 of [A-Za-z0-9._-], not starting with '.'
 * (it is created in CAPTURE_DIR, never elsewhere). */
#define CAPTURE_DIR	 "/scratch/captures"
#define CAPTURE_NAME_MAX 64
int pcap_file_name_valid(const char *name);

#endif
