// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the engine: the input is a sequence of records
 * (2-byte length, 2-byte time step in milliseconds, Ethernet frame) fed
 * through tg_engine_feed with a small flow table, so flow creation,
 * eviction, TCP tracking, timers and session end all see hostile input.
 */
#include <stddef.h>
#include <stdint.h>

#include "tcpguard/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const struct tg_session *s,
		 const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	uint64_t *n = ctx;

	*n += ev->rst_count + c->cause;
	*n += tg_session_conn_state(s) + tg_session_bytes(s, 0) + s->hist_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t acc = 0, ts = 1000000000ull, num = 0;
	struct tg_engine_cfg cfg = { .max_flows = 8, .on_end = sink, .cb_ctx = &acc };
	struct tg_engine *e = tg_engine_new(&cfg);
	size_t off = 0;

	if (!e)
		return 0;
	while (off + 4 <= size) {
		uint32_t len = (uint32_t)(data[off] << 8 | data[off + 1]);
		uint32_t step = (uint32_t)(data[off + 2] << 8 | data[off + 3]);

		off += 4;
		if (len > size - off)
			len = (uint32_t)(size - off);
		ts += (uint64_t)step * 1000000ull;
		tg_engine_feed(e, TG_LINK_ETHERNET, ts, ++num, data + off, len, len);
		off += len;
	}
	tg_engine_finish(e);
	tg_engine_free(e);
	return (int)(acc & 0);
}
