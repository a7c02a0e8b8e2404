// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the classic pcap reader (src/io/pcap_mmap.c): the
 * input is a whole capture file, walked in memory by the same record walk
 * that serves mapped files (tg_source_open_buffer), and every frame it
 * hands out goes through the engine in batches exactly as analyze feeds
 * them. A crash, an out-of-bounds read or undefined behaviour here is a
 * bug in the reader or in anything behind it; an error return is not.
 */
#include <stddef.h>
#include <stdint.h>

#include "tcpguard/engine.h"
#include "../../src/io/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const struct tg_session *s,
		 const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	uint64_t *n = ctx;

	*n += ev->r.rst_count + c->cause;
	*n += tg_session_conn_state(s) + tg_session_bytes(s, 1) + s->hist_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t acc = 0;
	struct tg_engine_cfg cfg = { .max_flows = 16, .on_end = sink, .cb_ctx = &acc };
	struct tg_frame_in in[TG_BATCH_MAX];
	struct tg_source src;
	struct tg_frame f;
	struct tg_engine *e;
	unsigned n = 0;

	if (tg_source_open_buffer(&src, "fuzz.pcap", data, size, NULL) != 0)
		return 0;
	e = tg_engine_new(&cfg);
	if (!e) {
		tg_source_close(&src);
		return 0;
	}
	while (tg_source_next(&src, &f) == 1) {
		in[n++] = (struct tg_frame_in){ f.data, f.cap_len, f.wire_len,
						 f.ts_ns, f.num };
		if (n == TG_BATCH_MAX) {
			tg_engine_feed_batch(e, src.link, in, n);
			n = 0;
		}
	}
	if (n)
		tg_engine_feed_batch(e, src.link, in, n);
	tg_source_close(&src);
	tg_engine_finish(e);
	tg_engine_free(e);
	return (int)(acc & 0);
}
