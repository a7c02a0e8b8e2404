// SPDX-License-Identifier: MIT
/*
 * Bounded memory under a SYN flood: builds an engine with a byte budget
 * (cfg.max_memory, what analyze --max-memory sets), opens some
 * established sessions, then feeds N SYNs from distinct spoofed sources
 * (generated in memory, no capture file) within one second, closes the
 * established sessions normally and checks three things:
 *
 *   - peak resident memory (VmHWM) stays within the budget + 10 %;
 *   - the flood was absorbed by eviction (the count is printed);
 *   - every established session survived the flood and ended with its
 *     own FIN exchange (tcp-fin, SF), none evicted.
 *
 * Then the side pool under a scan answered by resets, on a new engine of
 * the same budget: the established sessions each hold a side-pool entry
 * (a zero window), then N/4 probes from distinct sources each get a
 * RST-ACK and linger holding one too, far more than the pool (a quarter
 * of the table) holds while the table itself has room. Checked: every
 * probe ends as port-closed with its reset's evidence; the pool ran dry
 * exactly once per probe beyond its room, each time ending the oldest
 * lingering probe (no eviction counted); every established session kept
 * its entry and ended with its FIN and its zero-window episode; memory
 * within the budget again.
 *
 *   synflood [--syns N] [--max-memory BYTES] [--established K]
 *
 * Run by `make test` (test-stress) on the normal build only: sanitizer
 * shadow memory would make the resident size meaningless. Prints one line
 * per check and "stress: N passed, M failed" (also appended to
 * $TG_RESULTS when set); exits 0 when all checks hold, 1 otherwise.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpguard/detect.h"
#include "tcpguard/engine.h"
#include "pktbuild.h"

static uint64_t vm_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			kb = strtoull(line + strlen(key), NULL, 10);
	fclose(f);
	return kb;
}

/* One segment of established session @i (client 10.x.y.z:40000+ →
 * 192.0.2.1:443), from the client when @c2s. */
static void seg_win(struct tg_engine *e, uint64_t ts, uint32_t i, int c2s,
		    uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen,
		    uint16_t win)
{
	static const uint8_t payload[100];
	uint8_t cli[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	uint8_t srv[4] = { 192, 0, 2, 1 };
	uint16_t cport = (uint16_t)(40000 + i % 20000);
	struct pb_tcp t = {
		.sport = c2s ? cport : 443, .dport = c2s ? 443 : cport,
		.seq = seq, .ack = ack, .flags = flags, .win = win,
		.payload = payload, .payload_len = plen,
	};
	struct pb_buf f = { .len = 0 };

	pb_eth(&f, 0x0800);
	pb_ipv4_tcp(&f, c2s ? cli : srv, c2s ? srv : cli, &t);
	tg_engine_feed(e, TG_LINK_ETHERNET, ts, 0, f.b, f.len, f.len);
}

static void seg(struct tg_engine *e, uint64_t ts, uint32_t i, int c2s,
		uint8_t flags, uint32_t seq, uint32_t ack, uint32_t plen)
{
	seg_win(e, ts, i, c2s, flags, seq, ack, plen, 65535);
}

struct ends {
	uint64_t est_zw;        /* established, ended by FIN, with its episode */
	uint64_t refused;       /* probes judged port-closed from their reset */
};

static void count_end(void *ctx, const struct tg_session *s,
		      const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct ends *x = ctx;

	if (s->resp_p == 443 && s->end == TG_END_TCP_FIN &&
	    tg_session_conn_state(s) == TG_CS_SF && ev->d[1].zw_episodes == 1)
		x->est_zw++;
	if (s->resp_p == 22 && c->cause == TG_CAUSE_PORT_CLOSED &&
	    (ev->flags & TG_EV_HAVE_RST) && ev->r.rst_dir == 1)
		x->refused++;
}

/* The side pool under a reset scan (see the file comment). Returns the
 * number of failed checks. */
static int rst_scan(const struct tg_engine_cfg *base, uint64_t probes, uint32_t est)
{
	enum { S = 0x02, A = 0x10, F = 0x01, P = 0x08, R = 0x04 };
	struct tg_engine_cfg cfg = *base;
	struct ends x = { 0 };
	const struct tg_stats *st;
	struct tg_engine *e;
	uint64_t ts = 1700000100ull * 1000000000ull, pool, room, want, hwm, limit_kb;
	uint64_t step = probes ? 500000000ull / probes : 1;
	struct pb_buf syn = { .len = 0 }, rst = { .len = 0 };
	uint8_t scanner[4] = { 100, 64, 0, 0 }, srv[4] = { 192, 0, 2, 2 };
	struct pb_tcp ts_syn = { .sport = 40000, .dport = 22, .seq = 7, .flags = S,
				 .win = 1024 };
	struct pb_tcp ts_rst = { .sport = 22, .dport = 40000, .ack = 8, .flags = R | A };
	int bad = 0;

	cfg.on_end = count_end;
	cfg.cb_ctx = &x;
	e = tg_engine_new(&cfg);
	if (!e) {
		fprintf(stderr, "synflood: no engine for the reset scan\n");
		return 1;
	}
	st = tg_engine_stats(e);
	if (!step)
		step = 1;
	/* Established sessions whose server shuts its window: each takes a
	 * side-pool entry for the episode. */
	for (uint32_t i = 0; i < est; i++, ts += 1000000) {
		seg(e, ts, i, 1, S, 1000, 0, 0);
		seg(e, ts + 10, i, 0, S | A, 5000, 1001, 0);
		seg(e, ts + 20, i, 1, A, 1001, 5001, 0);
		seg(e, ts + 30, i, 1, A | P, 1001, 5001, 100);
		seg_win(e, ts + 40, i, 0, A, 5001, 1101, 0, 0);
	}
	pb_eth(&syn, 0x0800);
	pb_ipv4_tcp(&syn, scanner, srv, &ts_syn);
	pb_eth(&rst, 0x0800);
	pb_ipv4_tcp(&rst, srv, scanner, &ts_rst);
	for (uint64_t n = 0; n < probes; n++) {
		uint32_t a = (uint32_t)(0x64400000u + n);       /* 100.64.0.0/10 */

		pb_w32(syn.b + 14 + 12, a);
		pb_w32(rst.b + 14 + 16, a);
		ts += step;
		tg_engine_feed(e, TG_LINK_ETHERNET, ts, 2 * n, syn.b, syn.len, syn.len);
		ts += step;
		tg_engine_feed(e, TG_LINK_ETHERNET, ts, 2 * n + 1, rst.b, rst.len, rst.len);
	}
	/* The windows open again, then every established session closes. */
	ts += 1000000;
	for (uint32_t i = 0; i < est; i++, ts += 1000) {
		seg(e, ts, i, 0, A, 5001, 1101, 0);
		seg(e, ts + 5, i, 1, F | A, 1101, 5001, 0);
		seg(e, ts + 10, i, 0, F | A, 5001, 1102, 0);
		seg(e, ts + 20, i, 1, A, 1102, 5002, 0);
	}
	tg_engine_finish(e);

	/* The pool is a quarter of the table; the established sessions hold
	 * est entries; each probe's SYN past the rest found it dry once. */
	pool = st->max_flows / 4;
	room = pool > est ? pool - est : 0;
	/* The packet after the last reset finds the pool dry once more. */
	want = probes >= room ? probes - room + 1 : 0;
	printf("synflood: reset scan: table of %u sessions, side pool %llu; %llu probes, "
	       "pool ran dry %llu times, %llu evicted\n", st->max_flows,
	       (unsigned long long)pool, (unsigned long long)probes,
	       (unsigned long long)st->rare_full, (unsigned long long)st->evicted);
	printf("synflood: %s %llu of %llu probes ended port-closed with their reset's evidence\n",
	       x.refused == probes ? "ok" : "FAIL", (unsigned long long)x.refused,
	       (unsigned long long)probes);
	bad += x.refused != probes;
	printf("synflood: %s pool ran dry %llu times (%llu expected), lingering probes "
	       "ended early, none evicted\n",
	       st->rare_full == want && st->evicted == 0 ? "ok" : "FAIL",
	       (unsigned long long)st->rare_full, (unsigned long long)want);
	bad += !(st->rare_full == want && st->evicted == 0);
	printf("synflood: %s %llu of %u established sessions kept their zero-window "
	       "episode and ended tcp-fin/SF\n", x.est_zw == est ? "ok" : "FAIL",
	       (unsigned long long)x.est_zw, est);
	bad += x.est_zw != est;
	tg_engine_free(e);
	hwm = vm_kb("VmHWM:");
	limit_kb = cfg.max_memory / 1024 + cfg.max_memory / 10240;
	printf("synflood: %s VmHWM %llu KiB after the reset scan, limit %llu KiB\n",
	       hwm && hwm <= limit_kb ? "ok" : "FAIL", (unsigned long long)hwm,
	       (unsigned long long)limit_kb);
	bad += !(hwm && hwm <= limit_kb);
	return bad;
}

static void no_alert(void *ctx, const struct tg_alert *a)
{
	(void)ctx;
	(void)a;
}

int main(int argc, char **argv)
{
	uint64_t syns = 10000000, budget = 256ull << 20, est = 1000;
	enum { S = 0x02, A = 0x10, F = 0x01, P = 0x08 };
	struct tg_engine_cfg cfg = { 0 };
	const struct tg_stats *st;
	struct tg_engine *e;
	uint64_t ts = 1700000000ull * 1000000000ull, hwm, limit_kb;
	struct pb_buf syn = { .len = 0 };
	int bad = 0;
	bool detect = true;

	for (int i = 1; i + 1 < argc; i += 2) {
		uint64_t v = strtoull(argv[i + 1], NULL, 0);

		if (!strcmp(argv[i], "--syns"))
			syns = v;
		else if (!strcmp(argv[i], "--max-memory"))
			budget = v;
		else if (!strcmp(argv[i], "--established"))
			est = v;
		else if (!strcmp(argv[i], "--detect"))
			detect = v != 0;
	}
	/* The attack detector counts against the same budget. */
	if (detect) {
		tg_detect_cfg_default(&cfg.detect);
		cfg.on_alert = no_alert;
	}
	cfg.max_memory = budget;
	e = tg_engine_new(&cfg);
	if (!e) {
		fprintf(stderr, "synflood: no engine for a %llu-byte budget\n",
			(unsigned long long)budget);
		return 1;
	}
	st = tg_engine_stats(e);

	/* Established sessions: handshake and a request, 1 ms apart. */
	for (uint32_t i = 0; i < est; i++, ts += 1000000) {
		seg(e, ts, i, 1, S, 1000, 0, 0);
		seg(e, ts + 10, i, 0, S | A, 5000, 1001, 0);
		seg(e, ts + 20, i, 1, A, 1001, 5001, 0);
		seg(e, ts + 30, i, 1, A | P, 1001, 5001, 100);
		seg(e, ts + 40, i, 0, A, 5001, 1101, 0);
	}

	/* The flood: one template SYN to 172.16.0.1:80, its source address
	 * (198.18.0.0/15 and up) and port rewritten per packet, all within
	 * one second so that no tcp-init timer expires: only eviction can
	 * make room. */
	{
		uint8_t src[4] = { 198, 18, 0, 0 }, dst[4] = { 172, 16, 0, 1 };
		struct pb_tcp t = { .sport = 1024, .dport = 80, .seq = 1, .flags = S,
				    .win = 1024 };
		uint64_t step = syns ? 1000000000ull / syns : 1;

		pb_eth(&syn, 0x0800);
		pb_ipv4_tcp(&syn, src, dst, &t);
		if (!step)
			step = 1;
		for (uint64_t n = 0; n < syns; n++) {
			uint32_t a = (uint32_t)(0xc6120000u + (n >> 4));

			pb_w32(syn.b + 14 + 12, a);
			pb_w16(syn.b + 14 + 20, (uint16_t)(1024 + (n & 15)));
			ts += step;
			tg_engine_feed(e, TG_LINK_ETHERNET, ts, n, syn.b, syn.len, syn.len);
		}
	}

	/* Close every established session: client FIN, server FIN, ACK. */
	ts += 1000000;
	for (uint32_t i = 0; i < est; i++, ts += 1000) {
		seg(e, ts, i, 1, F | A, 1101, 5001, 0);
		seg(e, ts + 10, i, 0, F | A, 5001, 1102, 0);
		seg(e, ts + 20, i, 1, A, 1102, 5002, 0);
	}
	tg_engine_finish(e);

	hwm = vm_kb("VmHWM:");
	limit_kb = budget / 1024 + budget / 10240;
	printf("synflood: budget %llu MiB -> table of %u sessions; %llu SYNs, "
	       "%llu sessions evicted, peak %u open\n",
	       (unsigned long long)(budget >> 20), st->max_flows,
	       (unsigned long long)syns, (unsigned long long)st->evicted,
	       st->active_peak);
	printf("synflood: %s VmHWM %llu KiB, limit (budget + 10 %%) %llu KiB\n",
	       hwm && hwm <= limit_kb ? "ok" : "FAIL",
	       (unsigned long long)hwm, (unsigned long long)limit_kb);
	bad += !(hwm && hwm <= limit_kb);
	printf("synflood: %s %llu of %llu established sessions ended tcp-fin/SF "
	       "(tcp-fin %llu, SF %llu)\n",
	       st->ended[TG_END_TCP_FIN] == est && st->conn_state[TG_CS_SF] == est
	       ? "ok" : "FAIL",
	       (unsigned long long)st->ended[TG_END_TCP_FIN], (unsigned long long)est,
	       (unsigned long long)st->ended[TG_END_TCP_FIN],
	       (unsigned long long)st->conn_state[TG_CS_SF]);
	bad += !(st->ended[TG_END_TCP_FIN] == est && st->conn_state[TG_CS_SF] == est);
	/* Each SYN beyond the free room evicted one half-open session. */
	printf("synflood: %s flood absorbed by eviction (%llu evicted, %llu expected)\n",
	       syns + est <= st->max_flows || st->evicted == syns + est - st->max_flows
	       ? "ok" : "FAIL", (unsigned long long)st->evicted,
	       (unsigned long long)(syns + est > st->max_flows
				    ? syns + est - st->max_flows : 0));
	bad += !(syns + est <= st->max_flows || st->evicted == syns + est - st->max_flows);
	tg_engine_free(e);
	cfg.on_end = NULL;
	bad += rst_scan(&cfg, syns / 4, (uint32_t)est);
	{
		const char *res = getenv("TG_RESULTS");
		FILE *f = res && *res ? fopen(res, "a") : NULL;

		printf("stress: %d passed, %d failed\n", 7 - bad, bad);
		if (f) {
			fprintf(f, "stress: %d passed, %d failed\n", 7 - bad, bad);
			fclose(f);
		}
	}
	return bad ? 1 : 0;
}
