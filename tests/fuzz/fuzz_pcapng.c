// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for captures read by libpcap (src/io/pcap_file.c):
 * the input is a whole file, pcapng or classic pcap, opened from memory
 * with fmemopen and pcap_fopen_offline (tg_source_open_stream), and every
 * frame goes through the engine one at a time as analyze feeds libpcap's
 * frames. libpcap itself is not instrumented, so this finds our bugs in
 * what it hands back (link types, lengths, timestamps), not libpcap's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpguard/engine.h"
#include "../../src/io/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const struct tg_session *s,
		 const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	uint64_t *n = ctx;

	*n += ev->r.rst_count + c->cause;
	*n += tg_session_conn_state(s) + tg_session_bytes(s, 0) + s->hist_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t acc = 0;
	struct tg_engine_cfg cfg = { .max_flows = 16, .on_end = sink, .cb_ctx = &acc };
	struct tg_source src;
	struct tg_frame f;
	struct tg_engine *e;
	FILE *fp;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	if (tg_source_open_stream(&src, "fuzz.pcapng", fp, NULL) != 0)
		return 0;
	e = tg_engine_new(&cfg);
	if (!e) {
		tg_source_close(&src);
		return 0;
	}
	/* libpcap may switch link type between pcapng interfaces only by
	 * refusing the file, so src.link holds for every frame. */
	while (tg_source_next(&src, &f) == 1)
		tg_engine_feed(e, f.link, f.ts_ns, f.num, f.data, f.cap_len,
			       f.wire_len);
	tg_source_close(&src);
	tg_engine_finish(e);
	tg_engine_free(e);
	return (int)(acc & 0);
}
