/* SPDX-License-Identifier: MIT */
/*
 * End-cause diagnosis: from a session and its evidence to a cause and one
 * line a person can check against the packets. Pure; called by the engine
 * as each session ends, and by tests.
 */
#ifndef TG_CAUSE_H
#define TG_CAUSE_H

#include <stddef.h>

#include "tcpguard/cause-t.h"
#include "tcpguard/session-t.h"

/* Diagnoses why @s ended (its end reason already set) from @ev; fills
 * @out. Cheap: no text is formatted. */
void tg_cause_classify(const struct tg_session *s, const struct tg_evidence *ev,
		       struct tg_cause_info *out);

/* The evidence behind that verdict in one line of plain words, or why no
 * rule could decide, into @buf (TG_CAUSE_TEXT_MAX is always enough);
 * returns its length. */
size_t tg_cause_describe(const struct tg_session *s, const struct tg_evidence *ev,
			 char *buf, size_t len);

#define TG_CAUSE_TEXT_MAX 336

extern const char *const tg_cause_str[TG_CAUSE__COUNT];
extern const uint8_t tg_cause_len[TG_CAUSE__COUNT];   /* their lengths */
/* One-line meaning of each cause, for summaries and explain. */
extern const char *const tg_cause_meaning[TG_CAUSE__COUNT];
extern const char *const tg_rst_seq_str[TG_RST_SEQ__COUNT];
/* What to check next for each cause, one or two sentences. */
extern const char *const tg_cause_next[TG_CAUSE__COUNT];

#endif
