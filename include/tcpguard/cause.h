/* SPDX-License-Identifier: MIT */
/*
 * End-cause diagnosis: from a session and its evidence to a cause and one
 * line a person can check against the packets. Pure; called by the engine
 * as each session ends, and by tests.
 */
#ifndef TG_CAUSE_H
#define TG_CAUSE_H

#include "tcpguard/cause-t.h"
#include "tcpguard/session-t.h"

/* Diagnoses why @s ended (its end reason already set) from @ev; fills
 * @out. @idle_ms is the established idle timeout in force. */
void tg_cause_classify(const struct tg_session *s, const struct tg_evidence *ev,
		       struct tg_cause_info *out);

extern const char *const tg_cause_str[TG_CAUSE__COUNT];
/* One-line meaning of each cause, for summaries and explain. */
extern const char *const tg_cause_meaning[TG_CAUSE__COUNT];
extern const char *const tg_rst_seq_str[TG_RST_SEQ__COUNT];
/* What to check next for each cause, one or two sentences. */
extern const char *const tg_cause_next[TG_CAUSE__COUNT];

#endif
