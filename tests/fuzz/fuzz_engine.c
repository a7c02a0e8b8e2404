// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the engine: the input is a sequence of records
 * (2-byte length, 2-byte time step in milliseconds, Ethernet frame) fed
 * through tg_engine_feed with a small flow table (8 sessions, a side pool
 * of 4), so flow creation, eviction, the side pool running out, TCP
 * tracking, timers and session end all see hostile input.
 * Inputs of odd length also run the attack detector, with tables and
 * thresholds small enough for a few packets to raise alerts, then measure
 * the signatures on the same packets and flush every alert.
 */
#include <stddef.h>
#include <stdint.h>

#include "tcpguard/decode.h"
#include "tcpguard/detect.h"
#include "tcpguard/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const struct tg_session *s,
		 const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	uint64_t *n = ctx;

	*n += ev->r.rst_count + c->cause;
	*n += tg_session_conn_state(s) + tg_session_bytes(s, 0) + s->hist_len;
}

static void alert(void *ctx, const struct tg_alert *a)
{
	uint64_t *n = ctx;

	*n += (uint64_t)(uintptr_t)a & 1;
}

static void detect_small(struct tg_detect_cfg *d)
{
	tg_detect_cfg_default(d);
	d->events = true;
	d->window_ms = 100;
	d->quiet_ms = 200;
	d->update_ms = 100;
	d->syn_alarm_pps = 20;
	d->syn_activate_pps = 40;
	d->syn_maximum_pps = 80;
	d->syn_min_sources = 2;
	d->carpet_alarm_pps = 20;
	d->carpet_min_hosts = 2;
	d->backscatter_alarm_pps = 10;
	d->reflector_min_rexmit = 2;
	d->scan_min_ports = 4;
	d->scan_min_hosts = 4;
	d->brute_min_sessions = 3;
	d->admit_min = 1;
	d->max_entities = 64;
	d->max_alerts = 4;
	d->sketch_width = 64;
	d->bloom_bits_log2 = 10;
}

/* Walks the records of @data: feeds each frame to the engine, or with
 * @measure decodes it again for the signature measurement. */
static void each_frame(const uint8_t *data, size_t size, struct tg_engine *e, bool measure)
{
	uint64_t ts = 1000000000ull, num = 0;
	size_t off = 0;

	while (off + 4 <= size) {
		uint32_t len = (uint32_t)(data[off] << 8 | data[off + 1]);
		uint32_t step = (uint32_t)(data[off + 2] << 8 | data[off + 3]);

		off += 4;
		if (len > size - off)
			len = (uint32_t)(size - off);
		ts += (uint64_t)step * 1000000ull;
		if (!measure) {
			tg_engine_feed(e, TG_LINK_ETHERNET, ts, ++num, data + off, len, len);
		} else {
			struct tg_decode_cfg dc = { 0 };
			struct tg_pkt p = { .ts_ns = ts, .num = ++num };

			if (tg_decode(&dc, TG_LINK_ETHERNET, data + off, len, len, &p) == TG_DEC_TCP)
				tg_detect_measure(tg_engine_detect(e), &p);
		}
		off += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t acc = 0;
	struct tg_engine_cfg cfg = { .max_flows = 8, .on_end = sink, .cb_ctx = &acc,
				     .on_alert = alert };
	struct tg_engine *e;

	if (size & 1)
		detect_small(&cfg.detect);
	e = tg_engine_new(&cfg);
	if (!e)
		return 0;
	each_frame(data, size, e, false);
	tg_engine_finish(e);
	if (tg_engine_detect(e)) {
		if (tg_detect_wants_measure(tg_engine_detect(e)))
			each_frame(data, size, e, true);
		tg_detect_flush(tg_engine_detect(e), true);
	}
	tg_engine_free(e);
	return (int)(acc & 0);
}
