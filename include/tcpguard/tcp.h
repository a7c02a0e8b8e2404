/* SPDX-License-Identifier: MIT */
/*
 * Per-session TCP tracking: the endpoint state machine, sequence and
 * window bookkeeping, Zeek's history letters and sizes, zero-window
 * episodes. Pure functions on one struct tg_session and, for what few
 * sessions need, its entry in the flow table's side pool; the engine owns
 * the table and timers and calls these per packet.
 */
#ifndef TG_TCP_H
#define TG_TCP_H

#include <stdbool.h>

#include "tcpguard/cause-t.h"
#include "tcpguard/decode-t.h"
#include "tcpguard/flow.h"
#include "tcpguard/session-t.h"

/* Starts session @s from its first packet @p: sets addresses (flipped when
 * Zeek's likely-server-port rule says so, @flip) and times. */
void tg_tcp_begin(struct tg_session *s, const struct tg_pkt *p, bool flip);

/* True when @p, a packet of existing session @s, starts a new session on
 * the same tuple (Zeek IsReuse: a SYN after a close, or with a new ISN). */
bool tg_tcp_is_reuse(const struct tg_session *s, const struct tg_pkt *p);

/* tg_tcp_step's @how. */
#define TG_STEP_EVIDENCE 0x1    /* keep the running evidence and reset photograph */
#define TG_STEP_GENERAL  0x2    /* no fast path: the general one for every
                                 * packet (the same result; tests compare) */

/* Processes @p, sent by the originator when @from_orig. Updates @s, which
 * may flip roles (then the caller's notion of direction is stale), and
 * with TG_STEP_EVIDENCE in @how its running evidence and reset
 * photograph. Takes a side-pool entry of table @t for @s the first time it
 * needs one. */
void tg_tcp_step(struct tg_flow_table *t, struct tg_session *s,
		 const struct tg_pkt *p, bool from_orig, unsigned how);

/* Which timer class @s belongs in after its last packet. */
enum tg_timer tg_tcp_timer(const struct tg_session *s);

/* True when the session has closed for good (both FINs, or a RST, or a
 * close whose peer never spoke): it only lingers for late packets. */
bool tg_tcp_closed(const struct tg_session *s);

/* Settles what is still open in @s (zero-window episodes) as it ends. */
void tg_tcp_finish(struct tg_flow_table *t, struct tg_session *s);

/* End reason of a session that ends now; @expired tells whether its idle
 * timer ran out (as opposed to the capture ending). */
enum tg_end_reason tg_tcp_end_reason(const struct tg_session *s, bool expired);

#endif
