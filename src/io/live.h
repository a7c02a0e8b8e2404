/* SPDX-License-Identifier: MIT */
/*
 * Live capture, the source behind `tcpguard watch`. It is an ordinary
 * tg_source (same ops table, same frames), plus what only a live source
 * has: a file descriptor to poll, kernel drop counters, and a description
 * of the ring the kernel fills. Its next() never blocks: 0 means "nothing
 * queued now", not end of input; poll the fd and call again.
 */
#ifndef TG_LIVE_H
#define TG_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "source.h"

struct tg_live_cfg {
	const char *iface;
	const char *filter;     /* BPF, NULL or "" for none */
	uint32_t buffer_bytes;  /* kernel ring size; 0: TG_LIVE_DEFAULT_BUFFER */
	uint32_t snaplen;       /* 0: 262144, as tcpdump */
	/* >0: a TPACKET_V3 ring whose blocks the kernel hands over when full
	 * or this many milliseconds after their first frame: one wake-up per
	 * block, that much more delay. 0: immediate mode, every frame
	 * readable at once (libpcap then uses a TPACKET_V2 ring). */
	uint32_t block_ms;
	bool no_promisc;
};

#define TG_LIVE_DEFAULT_BUFFER (32u << 20)

struct tg_live_stats {
	uint64_t received;      /* frames that passed the filter */
	uint64_t dropped;       /* by the kernel: the ring was full */
	uint64_t if_dropped;    /* by the interface or its driver */
};

/* Opens and activates a capture on @cfg->iface. Returns 0, -EPERM when
 * capture is not permitted (root or CAP_NET_RAW needed), or another
 * negative errno-style code; src->err says what failed either way. The
 * source is closed with tg_source_close. */
int tg_source_open_live(struct tg_source *src, const struct tg_live_cfg *cfg);

/* The descriptor that becomes readable when frames are queued. */
int tg_source_live_fd(const struct tg_source *src);

/* Kernel counters since open, widened to 64 bits across wraps. Returns 0
 * or -EIO with src->err set. */
int tg_source_live_stats(struct tg_source *src, struct tg_live_stats *st);

/* How the kernel delivers frames, e.g. "TPACKET_V3 ring, 32 MiB" (static
 * storage inside the source, valid until close). */
const char *tg_source_live_ring(const struct tg_source *src);

#endif
