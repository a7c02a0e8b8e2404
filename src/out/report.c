// SPDX-License-Identifier: MIT
/*
 * The readable summary printed at the end of analyze: sessions by PAN-OS
 * end reason and by Zeek conn_state, the addresses that sent the resets
 * that ended sessions, zero-window episodes, and every decode problem by
 * reason. Aggregation happens here, in the output layer, in a small
 * fixed-size table: reset senders beyond its capacity are counted as
 * "others" rather than growing memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "tcpguard/cause.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"

#define RST_SLOTS 16384
/* Probes per lookup: once the table is crowded, an address that finds no
 * room within this many slots is counted under "others". */
#define RST_PROBES 32

struct rst_sender {
	struct tg_addr addr;
	uint64_t count;
	bool used;
};

struct report {
	unsigned top;
	uint64_t rst_other;
	uint64_t zw_sessions;
	uint64_t zw_episodes;
	uint64_t zw_ms;
	uint64_t zw_probes;
	uint64_t zw_longest_ms;
	struct tg_session zw_longest;
	struct rst_sender rst[RST_SLOTS];
};

static void count_rst(struct report *r, const struct tg_addr *a, uint64_t cnt)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 16777619u;
	for (unsigned n = 0; n < RST_PROBES; n++) {
		struct rst_sender *e = &r->rst[(h + n) & (RST_SLOTS - 1)];

		if (!e->used) {
			e->used = true;
			e->addr = *a;
			e->count = cnt;
			return;
		}
		if (memcmp(e->addr.b, a->b, 16) == 0) {
			e->count += cnt;
			return;
		}
	}
	r->rst_other += cnt;
}

static void report_session(struct tg_sink *k, const struct tg_session *s,
			   const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct report *r = k->priv;
	uint64_t ms = 0, ep = 0, pr = 0;

	(void)c;
	if (s->end == TG_END_RST_CLIENT)
		count_rst(r, &s->orig_h, 1);
	else if (s->end == TG_END_RST_SERVER)
		count_rst(r, &s->resp_h, 1);
	for (int d = 0; d < 2; d++) {
		ms += ev->d[d].zw_total_ms;
		ep += ev->d[d].zw_episodes;
		pr += ev->d[d].zw_probes;
	}
	if (ep) {
		r->zw_sessions++;
		r->zw_episodes += ep;
		r->zw_ms += ms;
		r->zw_probes += pr;
		if (ms >= r->zw_longest_ms) {
			r->zw_longest_ms = ms;
			r->zw_longest = *s;
		}
	}
}

void tg_sink_report_merge(struct tg_sink *into, const struct tg_sink *from)
{
	struct report *r = into->priv;
	const struct report *o = from->priv;

	for (unsigned i = 0; i < RST_SLOTS; i++)
		if (o->rst[i].used)
			count_rst(r, &o->rst[i].addr, o->rst[i].count);
	r->rst_other += o->rst_other;
	r->zw_sessions += o->zw_sessions;
	r->zw_episodes += o->zw_episodes;
	r->zw_ms += o->zw_ms;
	r->zw_probes += o->zw_probes;
	if (o->zw_sessions && o->zw_longest_ms >= r->zw_longest_ms) {
		r->zw_longest_ms = o->zw_longest_ms;
		r->zw_longest = o->zw_longest;
	}
}

static int cmp_rst(const void *a, const void *b)
{
	const struct rst_sender *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return memcmp(x->addr.b, y->addr.b, 16);
}

static void pct_line(FILE *f, const char *name, uint64_t n, uint64_t total)
{
	fprintf(f, "  %-22s %10" PRIu64 "  %5.1f%%\n", name, n,
		total ? 100.0 * (double)n / (double)total : 0.0);
}

static int report_finish(struct tg_sink *k, const struct tg_stats *st)
{
	struct report *r = k->priv;
	FILE *f = k->f;
	uint64_t total = 0, bad = 0;
	unsigned n = 0, used = 0;
	char a[64], b[64];

	for (int i = 0; i < TG_END__COUNT; i++)
		total += st->ended[i];
	fprintf(f, "frames %" PRIu64 ", TCP packets %" PRIu64 ", sessions %" PRIu64
		" (peak %" PRIu32 " open at once, table cap %" PRIu32 ", %" PRIu32
		" bytes per flow)\n", st->frames, st->tcp_packets, total,
		st->active_peak, st->max_flows, st->session_bytes);
	if (st->evicted)
		fprintf(f, "evicted under table pressure: %" PRIu64 "\n", st->evicted);
	if (st->rare_full)
		fprintf(f, "side pool full (sessions ended to make room): %" PRIu64 " times\n",
			st->rare_full);
	if (st->reused)
		fprintf(f, "new sessions on a reused tuple: %" PRIu64 "\n", st->reused);

	fputs("\nsessions by end reason\n", f);
	for (int i = 0; i < TG_END__COUNT; i++)
		if (st->ended[i])
			pct_line(f, tg_end_reason_str[i], st->ended[i], total);
	fputs("\nsessions by conn_state\n", f);
	for (int i = 0; i < TG_CS__COUNT; i++)
		if (st->conn_state[i])
			pct_line(f, tg_conn_state_str[i], st->conn_state[i], total);

	fputs("\nsessions by cause\n", f);
	for (int i = 0; i < TG_CAUSE__COUNT; i++)
		if (st->cause[i])
			pct_line(f, tg_cause_str[i], st->cause[i], total);

	/* The tally is done: pack the used slots first, sort only those. */
	for (unsigned i = 0; i < RST_SLOTS; i++)
		if (r->rst[i].used)
			r->rst[used++] = r->rst[i];
	qsort(r->rst, used, sizeof(r->rst[0]), cmp_rst);
	if (used) {
		fputs("\ntop reset senders (sessions ended by their RST)\n", f);
		for (; n < used && n < r->top; n++)
			fprintf(f, "  %-40s %10" PRIu64 "\n",
				tg_addr_str(&r->rst[n].addr, a, sizeof(a)),
				r->rst[n].count);
		if (r->rst_other)
			fprintf(f, "  %-40s %10" PRIu64 "\n", "(others)", r->rst_other);
	}

	if (r->zw_sessions) {
		const struct tg_session *z = &r->zw_longest;

		fprintf(f, "\nzero-window episodes: %" PRIu64 " in %" PRIu64
			" sessions, %" PRIu64 ".%03" PRIu64 " s stalled in all, %"
			PRIu64 " probes\n", r->zw_episodes, r->zw_sessions,
			r->zw_ms / 1000, r->zw_ms % 1000, r->zw_probes);
		fprintf(f, "  longest: %s:%u -> %s:%u, %" PRIu64 ".%03" PRIu64 " s\n",
			tg_addr_str(&z->orig_h, a, sizeof(a)), z->orig_p,
			tg_addr_str(&z->resp_h, b, sizeof(b)), z->resp_p,
			r->zw_longest_ms / 1000, r->zw_longest_ms % 1000);
	}

	for (int i = TG_DEC_FRAGMENT; i < TG_DEC__COUNT; i++)
		bad += st->decode[i];
	for (int i = 1; i < TG_OPT__COUNT; i++)
		bad += st->tcp_opts[i];
	bad += st->ts_backwards;
	fputs("\ndecode problems", f);
	if (!bad) {
		fputs(": none\n", f);
	} else {
		fputc('\n', f);
		for (int i = TG_DEC_FRAGMENT; i < TG_DEC__COUNT; i++)
			if (st->decode[i])
				fprintf(f, "  %-28s %10" PRIu64 "\n",
					tg_decode_verdict_str[i], st->decode[i]);
		for (int i = 1; i < TG_OPT__COUNT; i++)
			if (st->tcp_opts[i])
				fprintf(f, "  %-28s %10" PRIu64 "\n",
					tg_opt_verdict_str[i], st->tcp_opts[i]);
		if (st->ts_backwards)
			fprintf(f, "  %-28s %10" PRIu64 "\n", "timestamp-backwards",
				st->ts_backwards);
	}
	if (st->decode[TG_DEC_NOT_IP] || st->decode[TG_DEC_NOT_TCP])
		fprintf(f, "not analysed: %" PRIu64 " non-IP, %" PRIu64
			" non-TCP IP frames\n", st->decode[TG_DEC_NOT_IP],
			st->decode[TG_DEC_NOT_TCP]);
	return fflush(f) == 0 ? 0 : -EIO;
}

static void report_free(struct tg_sink *k)
{
	free(k->priv);
	k->priv = NULL;
}

static const struct tg_sink_ops report_ops = {
	.name = "report",
	.session = report_session,
	.finish = report_finish,
	.free = report_free,
};

int tg_sink_report_new(struct tg_sink *k, FILE *f, unsigned top)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->top = top;
	k->ops = &report_ops;
	k->f = f;
	k->owns_file = 0;
	k->priv = r;
	return 0;
}
