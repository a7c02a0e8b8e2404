// SPDX-License-Identifier: MIT
/*
 * Tests of the engine's front door, tg_engine_feed, with whole Ethernet
 * frames built by tests/unit/pktbuild.h. They prove that a conversation
 * fed as frames gives the same session as the decoded packets do
 * (test_tcp.c), that every frame is counted once under its decode verdict
 * and TCP option verdict whatever happens to it, that a bad TCP checksum
 * reaches the session only as Zeek's 'C' letter, that frames older than
 * the one before are counted and do not move time back, and that the
 * configuration's timeouts and likely-server-port set take effect.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tcpguard/decode.h"
#include "tcpguard/engine.h"
#include "harness.h"
#include "pktbuild.h"

static const uint8_t cli4[4] = {10, 0, 0, 1};
static const uint8_t srv4[4] = {10, 0, 0, 2};
static const uint8_t payload[256];

struct rig {
	struct h_ended o;
	struct tg_engine *e;
	uint64_t num;
};

static void rig_init(struct rig *r, const struct tg_engine_cfg *base)
{
	struct tg_engine_cfg cfg;

	if (base)
		cfg = *base;
	else
		memset(&cfg, 0, sizeof(cfg));
	memset(&r->o, 0, sizeof(r->o));
	if (!cfg.max_flows)
		cfg.max_flows = 1024;
	cfg.on_end = h_on_end;
	cfg.cb_ctx = &r->o;
	r->e = tg_engine_new(&cfg);
	r->num = 0;
	assert_non_null(r->e);
}

static enum tg_decode_verdict feed(struct rig *r, uint64_t ms, int link,
				   const struct pb_buf *f)
{
	return tg_engine_feed(r->e, link, H_MS(ms), ++r->num, f->b, f->len, f->len);
}

/* Builds the Ethernet frame of one segment between 10.0.0.1:40000 and
 * 10.0.0.2:80, client to server when @c2s. */
static void tcp_frame(struct pb_buf *f, bool c2s, uint8_t flags, uint32_t seq,
		      uint32_t ack, uint32_t len)
{
	struct pb_tcp t = {
		.sport = c2s ? 40000 : 80, .dport = c2s ? 80 : 40000,
		.seq = seq, .ack = ack, .flags = flags, .win = 29200,
		.payload = payload, .payload_len = len,
	};

	f->len = 0;
	pb_eth(f, 0x0800);
	pb_ipv4_tcp(f, c2s ? cli4 : srv4, c2s ? srv4 : cli4, &t);
}

static void tx(struct rig *r, uint64_t ms, bool c2s, uint8_t flags,
	       uint32_t seq, uint32_t ack, uint32_t len)
{
	struct pb_buf f;

	tcp_frame(&f, c2s, flags, seq, ack, len);
	assert_int_equal(feed(r, ms, TG_LINK_ETHERNET, &f), TG_DEC_TCP);
}

static void test_frames_graceful(void **state)
{
	struct tg_engine_cfg cfg = { .decode.validate_csum = true };
	struct rig r;
	const struct tg_stats *st;

	(void)state;
	rig_init(&r, &cfg);
	tx(&r, 0, H_C2S, H_S, 1000, 0, 0);
	tx(&r, 1, H_S2C, H_SA, 5000, 1001, 0);
	tx(&r, 2, H_C2S, H_A, 1001, 5001, 0);
	tx(&r, 3, H_C2S, H_PA, 1001, 5001, 100);
	tx(&r, 4, H_S2C, H_A, 5001, 1101, 0);
	tx(&r, 5, H_S2C, H_PA, 5001, 1101, 200);
	tx(&r, 6, H_C2S, H_A, 1101, 5201, 0);
	tx(&r, 7, H_C2S, H_FA, 1101, 5201, 0);
	tx(&r, 8, H_S2C, H_FA, 5201, 1102, 0);
	tx(&r, 9, H_C2S, H_A, 1102, 5202, 0);
	tg_engine_finish(r.e);

	assert_int_equal(r.o.n, 1);
	assert_string_equal(r.o.hist[0], "ShADadFf");
	assert_int_equal(tg_session_conn_state(&r.o.s[0]), TG_CS_SF);
	assert_int_equal(tg_session_bytes(&r.o.s[0], 0), 100);
	assert_int_equal(tg_session_bytes(&r.o.s[0], 1), 200);
	assert_int_equal(tg_dir_ip_bytes(&r.o.s[0].d[0]), 6 * 40 + 100);
	assert_int_equal(tg_dir_ip_bytes(&r.o.s[0].d[1]), 4 * 40 + 200);
	assert_int_equal(r.o.s[0].d[0].ttl_min, 64);
	assert_int_equal(r.o.s[0].d[0].ipid_last, 0x1234);
	assert_int_equal(r.o.s[0].orig_p, 40000);

	st = tg_engine_stats(r.e);
	assert_int_equal(st->frames, 10);
	assert_int_equal(st->tcp_packets, 10);
	assert_int_equal(st->decode[TG_DEC_TCP], 10);
	assert_int_equal(st->tcp_opts[TG_OPT_OK], 10);
	assert_int_equal(st->sessions, 1);
	assert_int_equal(st->ts_backwards, 0);
	tg_engine_free(r.e);
}

/* One frame per verdict; each counted once, only TCP reaches tracking. */
static void test_stats_per_verdict(void **state)
{
	struct tg_engine_cfg cfg = { .decode.validate_csum = true };
	static const uint8_t bad_opt[4] = {8, 1, 0, 0};
	struct rig r;
	struct pb_buf f;
	const struct tg_stats *st;
	uint8_t udp[16];
	uint8_t seg[64];
	uint32_t n;
	struct pb_tcp t = { .sport = 1, .dport = 2, .flags = H_S, .win = 1024 };

	(void)state;
	rig_init(&r, &cfg);
	st = tg_engine_stats(r.e);

	f.len = 0;                                      /* ARP */
	pb_eth(&f, 0x0806);
	pb_put(&f, payload, 28);
	assert_int_equal(feed(&r, 0, TG_LINK_ETHERNET, &f), TG_DEC_NOT_IP);

	f.len = 0;                                      /* DNS */
	pb_eth(&f, 0x0800);
	n = pb_udp(udp, 5353, 53, payload, 8);
	pb_ipv4(&f, cli4, srv4, 17, 1, 0, 64, NULL, 0, udp, n);
	assert_int_equal(feed(&r, 1, TG_LINK_ETHERNET, &f), TG_DEC_NOT_TCP);

	f.len = 0;                                      /* later fragment */
	pb_eth(&f, 0x0800);
	n = pb_tcp_seg(seg, &t, cli4, srv4, 4);
	pb_ipv4(&f, cli4, srv4, 6, 2, 0x0010, 64, NULL, 0, seg, n);
	assert_int_equal(feed(&r, 2, TG_LINK_ETHERNET, &f), TG_DEC_FRAGMENT);

	f.len = 10;                                     /* runt */
	assert_int_equal(feed(&r, 3, TG_LINK_ETHERNET, &f), TG_DEC_TRUNC_LINK);
	assert_int_equal(feed(&r, 4, 12345, &f), TG_DEC_BAD_LINKTYPE);

	tcp_frame(&f, true, H_S, 1, 0, 0);              /* bad IP checksum */
	f.b[14 + 10] ^= 0xff;
	assert_int_equal(feed(&r, 5, TG_LINK_ETHERNET, &f), TG_DEC_BAD_IP_CSUM);

	f.len = 0;                                      /* bad option, still TCP */
	t.opt = bad_opt;
	t.opt_len = 4;
	pb_eth(&f, 0x0800);
	pb_ipv4_tcp(&f, cli4, srv4, &t);
	assert_int_equal(feed(&r, 6, TG_LINK_ETHERNET, &f), TG_DEC_TCP);

	assert_int_equal(st->frames, 7);
	assert_int_equal(st->decode[TG_DEC_NOT_IP], 1);
	assert_int_equal(st->decode[TG_DEC_NOT_TCP], 1);
	assert_int_equal(st->decode[TG_DEC_FRAGMENT], 1);
	assert_int_equal(st->decode[TG_DEC_TRUNC_LINK], 1);
	assert_int_equal(st->decode[TG_DEC_BAD_LINKTYPE], 1);
	assert_int_equal(st->decode[TG_DEC_BAD_IP_CSUM], 1);
	assert_int_equal(st->decode[TG_DEC_TCP], 1);
	assert_int_equal(st->tcp_opts[TG_OPT_BAD_LENGTH], 1);
	assert_int_equal(st->tcp_opts[TG_OPT_OK], 0);
	assert_int_equal(st->tcp_packets, 1);
	assert_int_equal(st->sessions, 1);
	{
		uint64_t sum = 0;

		for (int i = 0; i < TG_DEC__COUNT; i++)
			sum += st->decode[i];
		assert_int_equal(sum, st->frames);
	}
	tg_engine_finish(r.e);
	assert_int_equal(r.o.n, 1);
	assert_string_equal(r.o.hist[0], "S");
	tg_engine_free(r.e);
}

/* A segment with a bad TCP checksum still finds (or makes) its session but
 * is dropped there: only the 'C' letter, no packet or byte counted
 * (notes/zeek-tcp-rules.md §6). Without validation it is a normal packet. */
static void test_bad_tcp_checksum(void **state)
{
	struct tg_engine_cfg cfg = { .decode.validate_csum = true };
	struct rig r;
	struct pb_buf f;

	(void)state;
	rig_init(&r, &cfg);
	tcp_frame(&f, true, H_S, 1000, 0, 0);
	f.b[14 + 20 + 16] ^= 0x01;
	assert_int_equal(feed(&r, 0, TG_LINK_ETHERNET, &f), TG_DEC_TCP);
	tg_engine_finish(r.e);
	assert_int_equal(r.o.n, 1);
	assert_string_equal(r.o.hist[0], "C");
	assert_int_equal(r.o.ev[0].d[0].csum_bad, 1);
	assert_int_equal(r.o.s[0].d[0].pkts, 0);
	assert_int_equal(tg_dir_ip_bytes(&r.o.s[0].d[0]), 0);
	assert_int_equal(tg_session_conn_state(&r.o.s[0]), TG_CS_OTH);
	tg_engine_free(r.e);

	rig_init(&r, NULL);
	assert_int_equal(feed(&r, 0, TG_LINK_ETHERNET, &f), TG_DEC_TCP);
	tg_engine_finish(r.e);
	assert_string_equal(r.o.hist[0], "S");
	assert_int_equal(r.o.s[0].d[0].pkts, 1);
	tg_engine_free(r.e);
}

/* Frames out of time order: counted, processed, and time does not go
 * back (so no timer runs twice or backwards). */
static void test_ts_backwards(void **state)
{
	struct rig r;
	const struct tg_stats *st;

	(void)state;
	rig_init(&r, NULL);
	st = tg_engine_stats(r.e);
	tx(&r, 2000, H_C2S, H_S, 1000, 0, 0);
	tx(&r, 1000, H_S2C, H_SA, 5000, 1001, 0);
	assert_int_equal(st->ts_backwards, 1);
	tx(&r, 1500, H_C2S, H_A, 1001, 5001, 0);
	assert_int_equal(st->ts_backwards, 2);
	tx(&r, 2000, H_C2S, H_PA, 1001, 5001, 10);      /* equal is not back */
	assert_int_equal(st->ts_backwards, 2);
	assert_int_equal(st->tcp_packets, 4);
	tg_engine_finish(r.e);
	assert_int_equal(r.o.n, 1);
	assert_string_equal(r.o.hist[0], "ShAD");
	assert_int_equal(r.o.s[0].d[0].pkts, 3);
	tg_engine_free(r.e);
}

static void test_config_timeouts_and_ports(void **state)
{
	static const uint16_t none[1];
	struct tg_engine_cfg cfg;
	struct rig r;
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.timeout_ms[TG_TIMER_INIT] = 1000;
	rig_init(&r, &cfg);
	h_tx(r.e, &c, H_C2S, 0, H_S, 1000, 0, 0);
	tg_engine_advance(r.e, H_MS(999));
	assert_int_equal(r.o.n, 0);
	tg_engine_advance(r.e, H_MS(1000));
	assert_int_equal(r.o.n, 1);
	assert_int_equal(r.o.s[0].end, TG_END_AGED_OUT);
	tg_engine_advance(r.e, H_MS(500));              /* back: no effect */
	tg_engine_free(r.e);

	/* No likely server ports (Zeek -b): a SYN-ACK from 80 is not turned. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.server_ports = none;
	cfg.n_server_ports = 0;
	rig_init(&r, &cfg);
	h_tx(r.e, &c, H_S2C, 0, H_SA, 5000, 1001, 0);
	tg_engine_finish(r.e);
	assert_string_equal(r.o.hist[0], "H");
	assert_int_equal(r.o.s[0].orig_p, 80);
	tg_engine_free(r.e);

	/* A custom set: 40000 is a server port now, so the SYN-ACK from it
	 * is turned round. */
	{
		static const uint16_t mine[1] = {40000};
		struct h_conv rev = h_conv(80, 40000);

		cfg.server_ports = mine;
		cfg.n_server_ports = 1;
		rig_init(&r, &cfg);
		h_tx(r.e, &rev, H_S2C, 0, H_SA, 5000, 1001, 0);
		tg_engine_finish(r.e);
		assert_string_equal(r.o.hist[0], "^h");
		assert_int_equal(r.o.s[0].resp_p, 40000);
		tg_engine_free(r.e);
	}
	tg_engine_free(NULL);
}

/* A SYN answered but never acknowledged waits in the handshake class
 * (10 s idle) and then ages out. */
static void test_handshake_timer(void **state)
{
	struct rig r;
	struct h_conv c = h_conv(40000, 80);

	(void)state;
	rig_init(&r, NULL);
	h_tx(r.e, &c, H_C2S, 0, H_S, 1000, 0, 0);
	h_tx(r.e, &c, H_S2C, 1, H_SA, 5000, 1001, 0);
	tg_engine_advance(r.e, H_MS(1 + 10000) - 1);
	assert_int_equal(r.o.n, 0);
	tg_engine_advance(r.e, H_MS(1 + 10000));
	assert_int_equal(r.o.n, 1);
	assert_string_equal(r.o.hist[0], "Sh");
	assert_int_equal(r.o.s[0].end, TG_END_AGED_OUT);
	tg_engine_free(r.e);
}

static void test_uid(void **state)
{
	struct rig r;
	struct h_conv c = h_conv(40000, 80);
	char a[19], b[19], d[19];

	(void)state;
	rig_init(&r, NULL);
	h_tx(r.e, &c, H_C2S, 0, H_S, 1000, 0, 0);
	tg_engine_finish(r.e);
	tg_session_uid(&r.o.s[0], 1, a);
	tg_session_uid(&r.o.s[0], 1, b);
	tg_session_uid(&r.o.s[0], 2, d);
	assert_int_equal(strlen(a), 18);
	assert_int_equal(a[0], 'C');
	for (int i = 1; i < 18; i++)
		assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz", a[i]));
	assert_string_equal(a, b);              /* same seed, same uid */
	assert_string_not_equal(a, d);
	tg_engine_free(r.e);
}

/* What the per-packet tap saw; the ended sessions first, so the same
 * context serves h_on_end. */
struct tap {
	struct h_ended o;
	unsigned n;
	unsigned created;
	uint32_t sender_pkts[16];
	bool orig[16];
};

static void tap_cb(void *ctx, const struct tg_pkt *p, const struct tg_session *s,
		   bool from_orig, bool created)
{
	struct tap *t = ctx;

	(void)p;
	if (t->n < 16) {
		t->sender_pkts[t->n] = s->d[from_orig ? 0 : 1].pkts;
		t->orig[t->n] = from_orig;
	}
	t->n++;
	t->created += created;
}

static void tap_run(struct tap *t, bool no_evidence)
{
	static const struct { bool c2s; uint8_t fl; uint32_t seq, ack, len; } seg[] = {
		{ true, H_S, 1000, 0, 0 }, { false, H_SA, 5000, 1001, 0 },
		{ true, H_A, 1001, 5001, 0 }, { true, H_PA, 1001, 5001, 100 },
		{ false, H_A, 5001, 1101, 0 }, { false, H_RA, 5001, 1101, 0 },
	};
	struct tg_engine_cfg cfg;
	struct tg_engine *e;
	struct pb_buf f;

	memset(&cfg, 0, sizeof(cfg));
	memset(t, 0, sizeof(*t));
	cfg.max_flows = 64;
	cfg.on_end = h_on_end;
	cfg.on_packet = tap_cb;
	cfg.no_evidence = no_evidence;
	cfg.cb_ctx = t;
	e = tg_engine_new(&cfg);
	assert_non_null(e);
	for (unsigned i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		tcp_frame(&f, seg[i].c2s, seg[i].fl, seg[i].seq, seg[i].ack, seg[i].len);
		assert_int_equal(tg_engine_feed(e, TG_LINK_ETHERNET, H_MS(i), i + 1,
						f.b, f.len, f.len), TG_DEC_TCP);
	}
	assert_int_equal(tg_engine_now(e), H_MS(5));
	tg_engine_finish(e);
	assert_int_equal(tg_engine_stats(e)->cause[TG_CAUSE_UNKNOWN], no_evidence ? 1 : 0);
	tg_engine_free(e);
}

/* The tap sees every tracked packet once, after tracking (its sender's
 * count already includes it), with its direction and whether it made the
 * session; an engine without evidence tracks the same session. */
static void test_packet_tap(void **state)
{
	static const bool orig[6] = { true, false, true, true, false, false };
	static const uint32_t pkts[6] = { 1, 1, 2, 3, 2, 3 };
	struct tap a, b;

	(void)state;
	tap_run(&a, false);
	assert_int_equal(a.n, 6);
	assert_int_equal(a.created, 1);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(a.orig[i], orig[i]);
		assert_int_equal(a.sender_pkts[i], pkts[i]);
	}
	assert_int_equal(a.o.n, 1);
	assert_string_equal(a.o.hist[0], "ShADar");
	assert_int_not_equal(a.o.cause[0].cause, TG_CAUSE_UNKNOWN);
	assert_true(a.o.ev[0].flags & TG_EV_HAVE_RST);

	tap_run(&b, true);
	assert_int_equal(b.n, 6);
	assert_int_equal(b.o.n, 1);
	/* The tracking is the same; only the running evidence is not kept. */
	assert_int_equal(b.o.s[0].ev.flags, 0);
	assert_int_equal(b.o.s[0].ev.win_last[1], 0);
	memset(&a.o.s[0].ev, 0, sizeof(a.o.s[0].ev));
	assert_memory_equal(&a.o.s[0], &b.o.s[0], sizeof(a.o.s[0]));
	assert_int_equal(b.o.cause[0].cause, TG_CAUSE_UNKNOWN);
	assert_int_equal(b.o.ev[0].flags, 0);
}

/* The untouched memory starts as the whole table, shrinks by a record
 * for each record first handed out (a session, then the side-pool entry
 * its reset takes), and stays put when an ended session's record is
 * reused. */
static void test_untouched(void **state)
{
	struct tg_mem_span a[2], b[2], c[2];
	struct rig r;
	size_t rec = sizeof(struct tg_session);

	(void)state;
	rig_init(&r, NULL);
	tg_engine_untouched(r.e, a);
	assert_non_null(a[0].at);
	assert_int_equal(a[0].len, 1024 * rec);
	assert_non_null(a[1].at);
	assert_true(a[1].len > 0);

	tx(&r, 0, H_C2S, H_S, 1000, 0, 0);
	tg_engine_untouched(r.e, b);
	assert_ptr_equal(b[0].at, (char *)a[0].at + rec);
	assert_int_equal(b[0].len, a[0].len - rec);
	assert_ptr_equal(b[1].at, a[1].at);
	assert_int_equal(b[1].len, a[1].len);

	tx(&r, 1, H_S2C, H_RA, 0, 1001, 0);
	tg_engine_advance(r.e, H_MS(60000));
	assert_int_equal(r.o.n, 1);
	tg_engine_untouched(r.e, b);
	assert_ptr_equal(b[0].at, (char *)a[0].at + rec);
	assert_true((char *)b[1].at > (char *)a[1].at);
	assert_int_equal((char *)b[1].at - (char *)a[1].at, a[1].len - b[1].len);

	/* The tuple again, once the first session has ended: its record. */
	tx(&r, 60001, H_C2S, H_S, 7000, 0, 0);
	tg_engine_untouched(r.e, c);
	assert_ptr_equal(c[0].at, b[0].at);
	assert_int_equal(c[0].len, b[0].len);
	tg_engine_finish(r.e);
	assert_int_equal(r.o.n, 2);
	tg_engine_free(r.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_graceful),
		cmocka_unit_test(test_stats_per_verdict),
		cmocka_unit_test(test_bad_tcp_checksum),
		cmocka_unit_test(test_ts_backwards),
		cmocka_unit_test(test_config_timeouts_and_ports),
		cmocka_unit_test(test_handshake_timer),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_packet_tap),
		cmocka_unit_test(test_untouched),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
