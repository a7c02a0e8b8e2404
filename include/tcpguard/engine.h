/* SPDX-License-Identifier: MIT */
/*
 * The engine: decode, flow table, TCP tracking and session end, behind one
 * handle. It does no I/O, reads no clock and allocates only in
 * tg_engine_new: callers feed frames with their timestamps and receive
 * ended sessions through the callback in the configuration.
 */
#ifndef TG_ENGINE_H
#define TG_ENGINE_H

#include <stddef.h>

#include "tcpguard/engine-t.h"

/* Allocates the engine and its whole flow table. Returns NULL on bad
 * configuration or when memory is short. The caller owns the result and
 * frees it with tg_engine_free. */
struct tg_engine *tg_engine_new(const struct tg_engine_cfg *cfg);

/* Frees @e (NULL is fine). Sessions still open are dropped silently: call
 * tg_engine_finish first to have them reported. */
void tg_engine_free(struct tg_engine *e);

/* Feeds one frame of link type @link captured at @ts_ns. @num is the
 * frame's 1-based number in its input. Bytes are borrowed for the call.
 * Returns the decode verdict (counted in the stats either way). */
enum tg_decode_verdict tg_engine_feed(struct tg_engine *e, int link,
				      uint64_t ts_ns, uint64_t num,
				      const uint8_t *data, uint32_t cap_len,
				      uint32_t wire_len);

/* One frame for tg_engine_feed_batch. */
struct tg_frame_in {
	const uint8_t *data;
	uint32_t cap_len;
	uint32_t wire_len;
	uint64_t ts_ns;
	uint64_t num;
};

/* Largest batch tg_engine_feed_batch takes at once. */
#define TG_BATCH_MAX 16

/* Feeds up to TG_BATCH_MAX frames of link type @link, in order, with the
 * same result as feeding them one by one; decoding the batch first lets
 * the flow-table memory loads of all its packets overlap. */
void tg_engine_feed_batch(struct tg_engine *e, int link,
			  const struct tg_frame_in *f, unsigned n);

/* Feeds an already decoded packet (TG_DEC_TCP). */
void tg_engine_feed_pkt(struct tg_engine *e, const struct tg_pkt *p);

/* Tells the engine that time has reached @now_ns without traffic, so
 * sessions whose timers ran out end now (live capture calls this). */
void tg_engine_advance(struct tg_engine *e, uint64_t now_ns);

/* Ends every session still in the table as TG_END_OPEN (those already
 * closed keep their end reason), reporting each through the callback. */
void tg_engine_finish(struct tg_engine *e);

const struct tg_stats *tg_engine_stats(const struct tg_engine *e);

/* The engine's packet time: the latest timestamp it was fed or advanced
 * to (what tg_engine_advance passes its detector). */
uint64_t tg_engine_now(const struct tg_engine *e);

/* The engine's attack detector, NULL when detection is off. Owned by the
 * engine. */
struct tg_detect *tg_engine_detect(struct tg_engine *e);

/* Sessions open now under timer class @t (live status lines). */
uint32_t tg_engine_active_in(const struct tg_engine *e, enum tg_timer t);

/* Memory the flow table has not touched yet, in the order it will: the
 * session records and side-pool entries past those ever handed out
 * (@span[0], @span[1]; a length of 0 when none is left). Its pages are
 * committed, and zeroed by the kernel, when a record on them is first
 * written; a thread with a core to spare may fault them in ahead
 * (madvise MADV_POPULATE_WRITE) so that cost leaves the tracking thread. */
struct tg_mem_span {
	void *at;
	size_t len;
};
void tg_engine_untouched(const struct tg_engine *e, struct tg_mem_span span[2]);

/* The Zeek-style uid of @s under @seed: "C" and 17 base-62 characters,
 * written into @buf (at least 19 bytes). Returns @buf. */
char *tg_session_uid(const struct tg_session *s, uint64_t seed, char *buf);

/* Zeek conn_state of @s, computed from its endpoint states and history. */
enum tg_conn_state tg_session_conn_state(const struct tg_session *s);

/* Zeek's orig_bytes / resp_bytes for direction @dir (0 orig, 1 resp). */
uint64_t tg_session_bytes(const struct tg_session *s, int dir);

/* The names of these values, and for some their lengths (the JSON
 * writer copies them by length). */
extern const char *const tg_conn_state_str[TG_CS__COUNT];
extern const char *const tg_end_reason_str[TG_END__COUNT];
extern const uint8_t tg_conn_state_len[TG_CS__COUNT];
extern const uint8_t tg_end_reason_len[TG_END__COUNT];
extern const char *const tg_timer_str[TG_TIMER__COUNT];
extern const char *const tg_ep_state_str[TG_EP__COUNT];
extern const uint8_t tg_ep_state_len[TG_EP__COUNT];

#endif
