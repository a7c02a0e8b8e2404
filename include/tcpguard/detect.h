/* SPDX-License-Identifier: MIT */
/*
 * The attack detector: SYN floods (per address and per prefix), reflection
 * seen from the victim and from the reflector, scans, brute force, each
 * with a header signature measured on the traffic. The engine owns one
 * when its configuration enables detection and feeds it every TCP packet
 * after tracking and every session as it ends; cli/ may feed the same
 * packets again (tg_detect_measure) to measure the signatures, then asks
 * for the alerts (tg_detect_flush). No I/O, no clock, no allocation after
 * tg_detect_new.
 */
#ifndef TG_DETECT_H
#define TG_DETECT_H

#include "tcpguard/detect-t.h"
#include "tcpguard/session-t.h"

/* Fills @cfg with the defaults documented in docs/detection.md
 * (enabled = true). */
void tg_detect_cfg_default(struct tg_detect_cfg *cfg);

/* Allocates a detector and all its tables from @cfg. Alerts leave through
 * @cb(@ctx, alert): their end in tg_detect_flush and, with cfg->events,
 * their start (at the end of the tg_detect_packet, _session_end or
 * _advance call that raised it) and an update at most every
 * cfg->update_ms of packet time while something changed (in the call that
 * moved time on). Returns NULL on a bad
 * configuration or when memory is short; the caller frees it. */
struct tg_detect *tg_detect_new(const struct tg_detect_cfg *cfg,
				tg_alert_cb cb, void *ctx);

void tg_detect_free(struct tg_detect *d);

/* Bytes tg_detect_new allocates for @cfg, all of it at start (0 for a
 * configuration it would refuse): what a memory budget must set aside. */
uint64_t tg_detect_bytes(const struct tg_detect_cfg *cfg);

/* A hint, some packets ahead of tg_detect_packet(@p): starts loading what
 * the detector will read for @p (the entities a SYN counts against, the
 * bloom word a completing ACK sets). Changes nothing. */
void tg_detect_prefetch(const struct tg_detect *d, const struct tg_pkt *p);

/* The same ahead of tg_detect_session_end(@s): the entities it reads. */
void tg_detect_prefetch_end(const struct tg_detect *d, const struct tg_session *s);

/* One tracked TCP packet @p of session @s (borrowed for the call), after
 * tg_tcp_step; @created when @p made the session. */
void tg_detect_packet(struct tg_detect *d, const struct tg_pkt *p,
		      const struct tg_session *s, bool from_orig, bool created);

/* Whether tg_detect_packet reads more of @p than its time: a SYN, a
 * SYN-ACK, a reset, or the ACK that completes @s's handshake. For any
 * other packet, tg_detect_packet_time(@d, @p->ts_ns) is the same call
 * (what a caller replaying the calls elsewhere needs to hand over). */
bool tg_detect_packet_heavy(const struct tg_pkt *p, const struct tg_session *s,
			    bool from_orig);

/* tg_detect_packet for a packet that is not heavy, from its time alone. */
void tg_detect_packet_time(struct tg_detect *d, uint64_t ts_ns);

/* Session @s ends (borrowed for the call). */
void tg_detect_session_end(struct tg_detect *d, const struct tg_session *s);

/* Time reached @now_ns: closes rate windows and ends quiet alerts. */
void tg_detect_advance(struct tg_detect *d, uint64_t now_ns);

/* Second look at a packet already fed once: counts, for every alert with
 * a signature, whether @p is an attack packet and whether the signature
 * matches it. Call for every TCP packet of the input after the first pass
 * (and after tg_engine_finish); the alerts then carry precision/recall. */
void tg_detect_measure(struct tg_detect *d, const struct tg_pkt *p);

/* Whether a packet at @ts_ns falls in the time of any alert with a
 * signature: only those are worth decoding again for tg_detect_measure
 * (a signature is measured over the time its alert lasted). After
 * tg_detect_wants_measure, constant time for times that run forward. */
bool tg_detect_measure_wants(struct tg_detect *d, uint64_t ts_ns);

/* Measuring on more threads than one: a tally for each other thread,
 * made after tg_detect_wants_measure, that reads the detector but writes
 * only itself (tg_measure_wants and tg_measure_packet as
 * tg_detect_measure_wants and tg_detect_measure), added to the
 * signatures by tg_measure_merge once its thread is done. Meanwhile
 * nothing may change the detector but tg_detect_measure and
 * tg_detect_measure_wants. The one allocation is tg_measure_new's. */
struct tg_measure;
struct tg_measure *tg_measure_new(const struct tg_detect *d);
bool tg_measure_wants(struct tg_measure *m, uint64_t ts_ns);
void tg_measure_packet(struct tg_measure *m, const struct tg_pkt *p);
/* Starts loading what tg_measure_packet will read of the detector's
 * tables for @p, so a batch of packets overlaps its cache misses. */
void tg_measure_prefetch(const struct tg_measure *m, const struct tg_pkt *p);
void tg_measure_merge(struct tg_detect *d, const struct tg_measure *m);
void tg_measure_free(struct tg_measure *m);

/* Whether tg_detect_measure_wants holds for any time in [@from, @to]. */
bool tg_detect_measure_span(const struct tg_detect *d, uint64_t from, uint64_t to);

/* The latest end of any alert so far (0 when none). */
uint64_t tg_detect_last_end(const struct tg_detect *d);

/* Derives the signature of every alert so far; true when there is any
 * to measure. */
bool tg_detect_wants_measure(struct tg_detect *d);

/* Reports the end of alerts through the callback (event TG_AE_END), in
 * order of start: every ended alert not reported yet, and with @all the
 * open ones too (reported as open). Each alert ends once. A live caller
 * calls it often (without @all) so that ends leave promptly; a slot whose
 * alert was reported may then hold a later alert, so the table of
 * cfg->max_alerts bounds the alerts active at once, not those of a run. */
void tg_detect_flush(struct tg_detect *d, bool all);

/* Whether @p matches @sig; exposed for the outputs and tests. */
bool tg_sig_match(const struct tg_sig *sig, const struct tg_pkt *p);

/* Whether @a lies in @pfx/@plen (plen on the family of @pfx). */
bool tg_addr_in_prefix(const struct tg_addr *a, const struct tg_addr *pfx,
		       unsigned plen);

/* Whether source @a completed a handshake so far (Bloom filter: may say
 * true for a few addresses that did not, never false for one that did). */
bool tg_detect_completed(const struct tg_detect *d, const struct tg_addr *a);

const struct tg_detect_stats *tg_detect_stats(const struct tg_detect *d);

extern const char *const tg_alert_kind_str[TG_AK__COUNT];
extern const char *const tg_alert_level_str[TG_AL__COUNT];
extern const char *const tg_alert_event_str[TG_AE__COUNT];

#endif
