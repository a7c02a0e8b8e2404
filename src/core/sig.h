/* SPDX-License-Identifier: MIT */
/*
 * Private to the detector (detect.c and sig.c): the header-field
 * histograms an alert keeps of its attack packets, and of everything
 * else, from which sig.c derives a signature. Fixed size, no pointers;
 * about 1.6 KiB each.
 */
#ifndef TG_CORE_SIG_H
#define TG_CORE_SIG_H

#include <stdint.h>

#include "tcpguard/decode-t.h"
#include "tcpguard/detect-t.h"

/* Misra-Gries summary: each value with more than n/(SIG_MG+1) of the
 * n items is kept; a kept count underestimates by at most that much, so
 * a share computed from it is a lower bound. */
#define SIG_MG 8

struct sig_mg {
	uint32_t key[SIG_MG];
	uint32_t cnt[SIG_MG];
};

#define SIG_SPORT_SHIFT 10      /* source ports in buckets of 1024 */
#define SIG_SPORT_BUCKETS (65536 >> SIG_SPORT_SHIFT)

struct sig_hist {
	uint64_t n;
	uint32_t ttl[256];
	uint32_t sport[SIG_SPORT_BUCKETS];
	struct sig_mg win;
	struct sig_mg len;
	struct sig_mg doff;
	struct sig_mg ipid;
	struct sig_mg flags;
	struct sig_mg dport;
	struct sig_mg layout;
};

void sig_mg_add(struct sig_mg *m, uint32_t key);
/* The most frequent kept value and its (lower-bound) count in *cnt;
 * returns 0 with *cnt 0 when empty. */
uint32_t sig_mg_top(const struct sig_mg *m, uint32_t *cnt);
/* Count kept for @key (0 when not kept). */
uint32_t sig_mg_count(const struct sig_mg *m, uint32_t key);
/* Distinct values kept (at most SIG_MG). */
unsigned sig_mg_distinct(const struct sig_mg *m);

void sig_hist_add(struct sig_hist *h, const struct tg_pkt *p);
void sig_hist_merge(struct sig_hist *into, const struct sig_hist *from);

/* Adds to @sig (whose DST/SRC/DPORT/FLAGS the caller set) every header
 * field whose dominant value covers cfg->sig_min_share of @atk and at
 * most cfg->sig_max_other of @other. */
void sig_derive(struct tg_sig *sig, const struct sig_hist *atk,
		const struct sig_hist *other, const struct tg_detect_cfg *cfg);

#endif
