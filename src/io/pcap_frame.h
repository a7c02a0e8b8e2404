/* SPDX-License-Identifier: MIT */
/*
 * The one conversion both libpcap readers (file and live) make: a libpcap
 * record into a struct tg_frame. Both open their handles with nanosecond
 * timestamps, so tv_usec holds nanoseconds.
 */
#ifndef TG_PCAP_FRAME_H
#define TG_PCAP_FRAME_H

#include <pcap/pcap.h>

#include "source.h"

static inline void tg_frame_from_pcap(struct tg_frame *f, const struct pcap_pkthdr *h,
				      const u_char *data, uint64_t num, int link)
{
	f->data = data;
	f->cap_len = h->caplen;
	f->wire_len = h->len;
	f->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	f->num = num;
	f->link = link;
}

#endif
