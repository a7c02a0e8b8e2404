// SPDX-License-Identifier: MIT
/*
 * The benchmark capture generator. It writes one classic pcap file
 * (LINKTYPE_ETHERNET, microsecond timestamps, little-endian header) that
 * looks like a tap between two routers: about a million ordinary TCP
 * sessions, a spoofed SYN flood and a port scan, all interleaved in time.
 *
 * How it works: every actor that will send a packet later (a session, the
 * session arrival process, the flood, the scan) owns one entry in a binary
 * min-heap keyed by the time of its next packet. The main loop pops the
 * earliest entry, writes that one packet and puts the actor back with the
 * time of its following packet, so timestamps are monotonic across the file
 * and tens of thousands of sessions overlap without ever being sorted. A
 * session is a small state machine (handshake, request/response exchanges,
 * one of several endings) that carries the true sequence, acknowledgement,
 * IP ID and TCP timestamp values of both sides, so every segment is
 * consistent with the ones before it. The capture point sits somewhere on the
 * path: a packet's reply appears "rs" microseconds later when the server
 * answers and "rc" when the client does, with rs + rc = the round trip time.
 *
 * Output is fully determined by the command line: all randomness comes from
 * one xoshiro256** stream seeded with --seed and only integer arithmetic is
 * used (the exponential variate is a fixed-point -ln), so gcc and clang
 * builds write byte-identical files on any host. The flood and the scan need
 * no per-probe state: each probe's addresses and numbers are a hash of the
 * seed and its index, recomputed when its reply is due.
 *
 * Checksums: IPv4 header checksums and TCP checksums are both correct. The
 * TCP one is cheap because payload bytes always come from the start of one
 * fixed pattern whose running 16-bit sums are precomputed, so a segment
 * costs a sum over its pseudo-header and header only.
 *
 * Records are built in place in an 8 MiB buffer flushed with fwrite; the
 * default capture (about 10.8 M packets, 1.37 GB, 135 s of traffic with
 * about 43 k sessions open at once) takes about 4 s on one core. A one-line
 * summary goes to stderr at the end.
 *
 * Addresses: clients 10.0.0.0/8 and fd00:0:c::/64, servers 172.16.0.0/12
 * and fd00:0:5::/64, flood sources 198.18.0.0/15 (--flood-wide: 32.0.0.0/3,
 * so that millions of SYNs come from millions of addresses) against
 * 172.16.0.1:80, scanner 203.0.113.66 against ports 1..N of 172.16.0.2.
 * --bulk N adds N long-lived bulk transfers from 172.16.0.10:443 to
 * 10.200.0.0/16, full-sized segments every 100 us per flow, acknowledged
 * every second segment, for the whole capture, then closed with FINs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE_SEC 1700000000ULL	/* 2023-11-14 22:13:20 UTC */
#define OUT_BUF_SIZE (8u << 20)
#define MAX_REC (16 + 14 + 40 + 60 + 1500)
#define PAT_SIZE 2048		/* longest payload written is below 1500 */

#define N_SERVERS4 4096
#define N_SERVERS6 256

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* What the actor owning a heap entry is; the upper 24 bits hold an argument. */
enum ev_kind {
	EV_ARRIVAL,		/* the next new session starts */
	EV_SESS,		/* id = session slot */
	EV_FLOOD,		/* id = index of the next flood SYN */
	EV_FLOOD_SA,		/* id = flood index, arg = retransmission */
	EV_SCAN,		/* id = index of the next scan probe */
	EV_SCAN_REPLY,		/* id = probe index */
	EV_SCAN_RST,		/* id = probe index: scanner resets a SYN-ACK */
	EV_BULK,		/* id = bulk flow, arg = segments sent (0: SYN) */
};

/* How a normal session ends. */
enum ending {
	END_FIN_C,		/* client sends FIN first, 3 packets */
	END_FIN_S,		/* server times out keep-alive, 4 packets */
	END_RST_C,		/* client aborts with RST */
	END_RST_S,		/* server aborts with RST */
	END_CLOSED,		/* SYN to a closed port, answered by RST */
	END_OPEN,		/* still open (idle) when the capture ends */
};

enum sess_state {
	ST_SYN, ST_SYNACK, ST_HS_ACK, ST_REQ, ST_SRV_ACK, ST_RESP, ST_CLI_ACK,
	ST_CLOSE, ST_FC_SFIN, ST_FC_CACK, ST_FS_CACK, ST_FS_CFIN, ST_FS_SACK,
	ST_CLOSED_RST,
};

enum opt_kind { OPT_NONE, OPT_SYN, OPT_SYNACK, OPT_TS, OPT_MSS };

struct rng {
	uint64_t s[4];
};

struct ev {
	uint64_t t;		/* microseconds since BASE_SEC */
	uint32_t id;
	uint32_t kind;		/* enum ev_kind | arg << 8 */
};

struct heap {
	struct ev *v;
	size_t n, cap;
};

/* One normal TCP session; "c" is the client side, "s" the server side. */
struct sess {
	uint8_t caddr[16], saddr[16];	/* IPv4 uses the first 4 bytes */
	uint64_t t0;			/* time of the SYN */
	uint32_t cisn, cseq, sseq;	/* ISN, next sequence number to send */
	uint32_t cts0, sts0, cts_last, sts_last;
	uint32_t cflow, sflow;		/* IPv6 flow labels */
	uint32_t rs, rc;		/* server / client reply delay, us */
	uint32_t req_left, resp_left;
	uint32_t burst_start, burst_bytes, pending;
	uint16_t cport, sport, cid, sid, cwin, swin, cmss, smss, seg;
	uint8_t cttl, sttl, cws, sws, v6, ts, win_os;
	uint8_t state, ending, exch_left, burst_segs, acks_sent;
};

/* A packet about to be written; addresses point into a session or buffer. */
struct pkt {
	const uint8_t *src, *dst;
	uint32_t seq, ack, flow;
	uint16_t sport, dport, ipid, win;
	uint8_t flags, ttl, v6;
	const uint8_t *opt;
	unsigned int optlen, plen;
};

struct gen {
	struct rng rng;
	uint64_t seed;
	uint64_t now;
	FILE *out;
	uint8_t *buf;
	size_t used;
	int err;
	struct heap heap;
	int resched;
	struct ev next;
	struct sess *sess;
	uint32_t *free_slots;
	size_t n_sess, cap_sess, n_free;
	/* configuration */
	uint64_t sessions, flood, scan, rate, bulk, flood_wide;
	uint64_t flood_start, scan_start, window;
	uint32_t scan_mult, scan_off;
	/* counters */
	uint64_t packets, bytes, started, v6_started, flood_sent, scan_sent;
	uint64_t active, conc_max, conc_sum, conc_n, next_sample;
};

static uint8_t pat[PAT_SIZE];
static uint32_t pat_sum[PAT_SIZE + 1];	/* 16-bit word sums of pat[0..n) */

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x5e, 0x20, 0x00, 0x02 };

/* Ports of the services that normal sessions reach, with weights (%). */
static const uint16_t svc_port[] = { 443, 80, 8080, 22, 25, 993, 3306, 5432,
				     6379, 53, 8443, 9200 };
static const uint8_t svc_weight[] = { 55, 20, 3, 3, 2, 2, 3, 3, 3, 2, 2, 2 };
#define N_SVC (sizeof(svc_port) / sizeof(svc_port[0]))

/* Whether a port is one of the services (open on every server). */
static int scan_port_open(uint16_t port)
{
	for (unsigned int i = 0; i < N_SVC; i++)
		if (svc_port[i] == port)
			return 1;
	return 0;
}

/* ---- randomness, integers only --------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t hash64(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ (b * 0xd6e8feb86659fd93ULL);

	return splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return res;
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

/* Uniform in [0, n). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* Skewed towards lo: lo + (hi - lo) * u^3, mean lo + (hi - lo) / 4. */
static uint32_t rng_skew(struct rng *r, uint32_t lo, uint32_t hi)
{
	uint64_t u = rng_next(r) >> 48;	/* 16 bits */
	uint64_t w = ((u * u) >> 16) * u >> 16;

	return lo + (uint32_t)((w * (hi - lo)) >> 16);
}

/*
 * -ln(U) in Q16 for U uniform in (0, 1], from 64 random bits. With
 * U = 2^-k * x / 2^64 and x normalised, -log2(U) = k + 1 - log2(x / 2^63),
 * whose fraction comes from the classic square-and-compare bit loop.
 */
static uint64_t neg_ln_q16(uint64_t r)
{
	uint64_t m, nl2;
	uint32_t frac = 0;
	int k;

	if (r == 0)
		r = 1;
	k = __builtin_clzll(r);
	m = (r << k) >> 33;	/* Q30, in [1, 2) */
	for (int i = 0; i < 16; i++) {
		m = (m * m) >> 30;
		frac <<= 1;
		if (m >= (2ULL << 30)) {
			m >>= 1;
			frac |= 1;
		}
	}
	nl2 = ((uint64_t)(k + 1) << 16) - frac;
	return (nl2 * 45426) >> 16;	/* 45426 / 65536 = ln 2 */
}

/* Exponential variate with the given mean, capped at 12 means. */
static uint64_t rng_exp(struct rng *r, uint64_t mean)
{
	uint64_t q = neg_ln_q16(rng_next(r));

	if (q > (12u << 16))
		q = 12u << 16;
	return (mean * q) >> 16;
}

/* ---- output ---------------------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int out_flush(struct gen *g)
{
	if (g->used && !g->err && fwrite(g->buf, 1, g->used, g->out) != g->used)
		g->err = errno ? -errno : -EIO;
	g->used = 0;
	return g->err;
}

/* Sum of big-endian 16-bit words; len must be even. */
static uint32_t sum16(const uint8_t *p, unsigned int len)
{
	uint32_t s = 0;

	for (unsigned int i = 0; i < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	return s;
}

static uint16_t fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void pat_init(void)
{
	uint64_t x = 0x7463706775617264ULL;	/* "tcpguard" */

	for (unsigned int i = 0; i < PAT_SIZE; i += 8) {
		uint64_t v = splitmix64(&x);

		for (unsigned int j = 0; j < 8; j++)
			pat[i + j] = (uint8_t)(v >> (8 * j));
	}
	pat_sum[0] = 0;
	for (unsigned int n = 1; n <= PAT_SIZE; n++) {
		uint32_t b = pat[n - 1];

		pat_sum[n] = pat_sum[n - 1] + ((n & 1) ? b << 8 : b);
	}
}

/* Append one record: pcap header, Ethernet, IPv4 or IPv6, TCP, payload. */
static int emit(struct gen *g, const struct pkt *p)
{
	unsigned int iplen = p->v6 ? 40 : 20;
	unsigned int thl = 20 + p->optlen;
	unsigned int seglen = thl + p->plen;
	unsigned int frame = 14 + iplen + seglen;
	uint8_t *r, *ip, *th;
	uint32_t s;

	if (g->used + MAX_REC > OUT_BUF_SIZE && out_flush(g))
		return g->err;
	r = g->buf + g->used;
	put_le32(r, (uint32_t)(BASE_SEC + g->now / 1000000));
	put_le32(r + 4, (uint32_t)(g->now % 1000000));
	put_le32(r + 8, frame);
	put_le32(r + 12, frame);

	/* Client-to-server frames cross the tap from router A to router B. */
	memcpy(r + 16, p->flow & 0x80000000u ? mac_b : mac_a, 6);	/* dst */
	memcpy(r + 22, p->flow & 0x80000000u ? mac_a : mac_b, 6);	/* src */
	put_be16(r + 28, p->v6 ? 0x86dd : 0x0800);

	ip = r + 30;
	if (p->v6) {
		put_be32(ip, 0x60000000u | (p->flow & 0xfffff));
		put_be16(ip + 4, (uint16_t)seglen);
		ip[6] = 6;
		ip[7] = p->ttl;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
		s = sum16(ip + 8, 32);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		put_be16(ip + 2, (uint16_t)(20 + seglen));
		put_be16(ip + 4, p->ipid);
		put_be16(ip + 6, 0x4000);	/* DF */
		ip[8] = p->ttl;
		ip[9] = 6;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, p->src, 4);
		memcpy(ip + 16, p->dst, 4);
		put_be16(ip + 10, fold(sum16(ip, 20)));
		s = sum16(ip + 12, 8);
	}
	s += 6 + seglen;	/* rest of the pseudo-header */

	th = ip + iplen;
	put_be16(th, p->sport);
	put_be16(th + 2, p->dport);
	put_be32(th + 4, p->seq);
	put_be32(th + 8, p->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = p->flags;
	put_be16(th + 14, p->win);
	th[16] = th[17] = th[18] = th[19] = 0;
	if (p->optlen)
		memcpy(th + 20, p->opt, p->optlen);
	if (p->plen)
		memcpy(th + thl, pat, p->plen);
	s += sum16(th, thl) + pat_sum[p->plen];
	put_be16(th + 16, fold(s));

	g->used += 16 + frame;
	g->packets++;
	g->bytes += 16 + frame;
	return 0;
}

/* ---- event heap ------------------------------------------------------ */

static int heap_push(struct heap *h, uint64_t t, uint32_t id, uint32_t kind)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4096;
		struct ev *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	while (i) {
		size_t up = (i - 1) / 2;

		if (h->v[up].t <= t)
			break;
		h->v[i] = h->v[up];
		i = up;
	}
	h->v[i] = (struct ev){ .t = t, .id = id, .kind = kind };
	return 0;
}

/* Put e at the root (replacing it) and restore the heap order. */
static void heap_sift_root(struct heap *h, struct ev e)
{
	size_t i = 0, n = h->n;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h->v[c + 1].t < h->v[c].t)
			c++;
		if (e.t <= h->v[c].t)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = e;
}

static void heap_pop(struct heap *h)
{
	if (--h->n)
		heap_sift_root(h, h->v[h->n]);
}

/* The current actor's next packet: replaces the heap root after it ran. */
static void resched(struct gen *g, uint64_t dt, uint32_t id, uint32_t kind)
{
	g->resched = 1;
	g->next = (struct ev){ .t = g->now + dt, .id = id, .kind = kind };
}

/* ---- normal sessions ------------------------------------------------- */

static void server_addr(uint8_t *a, unsigned int idx, int v6)
{
	if (v6) {
		static const uint8_t pfx[8] = { 0xfd, 0, 0, 0, 0, 5, 0, 0 };

		memcpy(a, pfx, 8);
		memset(a + 8, 0, 6);
		put_be16(a + 14, (uint16_t)(idx + 1));
	} else {
		a[0] = 172;
		a[1] = (uint8_t)(16 + idx / 256);	/* 172.16.0.0/12 */
		a[2] = (uint8_t)(idx % 256 / 64);
		a[3] = (uint8_t)(1 + idx % 64);
	}
}

static int sess_alloc(struct gen *g, uint32_t *slot)
{
	if (g->n_free) {
		*slot = g->free_slots[--g->n_free];
		return 0;
	}
	if (g->n_sess == g->cap_sess) {
		size_t cap = g->cap_sess ? g->cap_sess * 2 : 65536;
		struct sess *s = realloc(g->sess, cap * sizeof(*s));
		uint32_t *f = realloc(g->free_slots, cap * sizeof(*f));

		if (s)
			g->sess = s;
		if (f)
			g->free_slots = f;
		if (!s || !f)
			return -ENOMEM;
		g->cap_sess = cap;
	}
	*slot = (uint32_t)g->n_sess++;
	return 0;
}

static void sess_done(struct gen *g, uint32_t slot)
{
	g->free_slots[g->n_free++] = slot;
	g->active--;
}

/* Sizes of the next request and response. */
static void sess_exchange(struct gen *g, struct sess *s)
{
	struct rng *r = &g->rng;
	uint32_t p = rng_below(r, 100);

	if (p < 93)
		s->req_left = rng_range(r, 16, 140);
	else if (p < 99)
		s->req_left = rng_range(r, 140, 500);
	else
		s->req_left = rng_range(r, 500, 2000);
	p = rng_below(r, 1000);
	if (p < 895)
		s->resp_left = rng_skew(r, 4, 400);
	else if (p < 970)
		s->resp_left = rng_range(r, 400, 1400);
	else
		s->resp_left = rng_range(r, 1500, 4500);
}

static int sess_start(struct gen *g)
{
	struct rng *r = &g->rng;
	struct sess *s;
	uint32_t slot, p, srv, u, w;
	uint64_t h;
	int rc;

	rc = sess_alloc(g, &slot);
	if (rc)
		return rc;
	s = &g->sess[slot];
	memset(s, 0, sizeof(*s));
	s->t0 = g->now;
	s->v6 = rng_below(r, 100) < 4;

	/* Clients: 10.0.0.0/8 or fd00:0:c::/64; a quarter behave like Windows. */
	if (s->v6) {
		static const uint8_t pfx[8] = { 0xfd, 0, 0, 0, 0, 0x0c, 0, 0 };
		uint64_t iid = rng_next(r);

		memcpy(s->caddr, pfx, 8);
		for (int j = 0; j < 8; j++)
			s->caddr[8 + j] = (uint8_t)(iid >> (8 * j));
	} else {
		uint32_t a = rng_next(r) >> 40;

		s->caddr[0] = 10;
		s->caddr[1] = (uint8_t)(a >> 16);
		s->caddr[2] = (uint8_t)(a >> 8);
		s->caddr[3] = (uint8_t)(1 + (a & 0xff) % 254);
	}
	s->win_os = rng_below(r, 100) < 25;
	h = hash64(g->seed, (uint64_t)s->caddr[1] << 16 | s->caddr[2] << 8 |
			    s->caddr[3] | (uint64_t)s->caddr[15] << 24);
	s->cttl = (uint8_t)((s->win_os ? 128 : 64) - (1 + h % 6));
	s->ts = !s->win_os;
	s->cws = s->win_os ? 8 : 7;
	s->cport = (uint16_t)(s->win_os ? rng_range(r, 49152, 65535)
					: rng_range(r, 32768, 60999));

	/* Servers: popular ones get most sessions; TTL and scale per server. */
	u = (uint32_t)(rng_next(r) >> 48);
	w = (uint32_t)(((uint64_t)u * u >> 16) * u >> 16);
	srv = (uint32_t)(((uint64_t)w * (s->v6 ? N_SERVERS6 : N_SERVERS4)) >> 16);
	server_addr(s->saddr, srv, s->v6);
	h = hash64(g->seed ^ 0x5e5e, srv + (s->v6 ? 100000u : 0));
	s->sttl = (uint8_t)((h % 10 == 3 ? 128 : 64) - (2 + (h >> 8) % 19));
	s->sws = (uint8_t)(7 + (h >> 16) % 4);

	p = rng_below(r, 100);
	if (p < 80)
		s->ending = rng_below(r, 100) < 70 ? END_FIN_C : END_FIN_S;
	else if (p < 88)
		s->ending = END_RST_C;
	else if (p < 93)
		s->ending = END_RST_S;
	else if (p < 97)
		s->ending = END_CLOSED;
	else
		s->ending = END_OPEN;

	if (s->ending == END_CLOSED) {
		do
			s->sport = (uint16_t)rng_range(r, 1024, 49151);
		while (scan_port_open(s->sport));
	} else {
		uint32_t x = rng_below(r, 100);
		unsigned int i = 0;

		while (i + 1 < N_SVC && x >= svc_weight[i])
			x -= svc_weight[i++];
		s->sport = svc_port[i];
	}

	s->cisn = (uint32_t)rng_next(r);
	s->sseq = (uint32_t)rng_next(r);
	s->cts0 = (uint32_t)rng_next(r);
	s->sts0 = (uint32_t)rng_next(r);
	s->cid = (uint16_t)rng_next(r);
	s->sid = (uint16_t)rng_next(r);
	s->cflow = 0x80000000u | (uint32_t)(rng_next(r) & 0xfffff);
	s->sflow = (uint32_t)(rng_next(r) & 0xfffff);

	{
		uint32_t rtt = rng_skew(r, 300, 250000);
		uint32_t f = rng_range(r, 10, 90);

		s->rs = rtt * f / 100;
		s->rc = rtt - s->rs;
	}
	if (s->v6) {
		s->cmss = rng_below(r, 10) ? 1440 : 1420;
		s->smss = 1440;
	} else {
		static const uint16_t m[] = { 1460, 1460, 1460, 1460, 1460,
					      1460, 1452, 1400, 1380, 1360 };

		s->cmss = m[rng_below(r, 10)];
		s->smss = 1460;
	}
	s->seg = (uint16_t)((s->cmss < s->smss ? s->cmss : s->smss) -
			    (s->ts ? 12 : 0));
	s->cwin = (uint16_t)rng_range(r, 502, 2048);
	s->swin = (uint16_t)rng_range(r, 235, 1024);

	p = rng_below(r, 100);
	s->exch_left = (uint8_t)(p < 78 ? 1 : p < 92 ? 2 : rng_range(r, 3, 7));
	sess_exchange(g, s);
	s->state = ST_SYN;

	g->started++;
	g->v6_started += s->v6;
	g->active++;
	if (g->active > g->conc_max)
		g->conc_max = g->active;
	return heap_push(&g->heap, g->now, slot, EV_SESS);
}

static const uint8_t *build_opts(const struct sess *s, int c2s, int kind,
				 uint32_t tsval, uint32_t tsecr, uint8_t *o,
				 unsigned int *len)
{
	uint16_t mss = c2s ? s->cmss : s->smss;
	uint8_t ws = c2s ? s->cws : s->sws;

	*len = 0;
	switch (kind) {
	case OPT_SYN:
	case OPT_SYNACK:
		o[0] = 2;
		o[1] = 4;
		put_be16(o + 2, mss);
		if (s->ts) {	/* Linux: MSS, SACK_PERM, TS, NOP, WS */
			o[4] = 4;
			o[5] = 2;
			o[6] = 8;
			o[7] = 10;
			put_be32(o + 8, tsval);
			put_be32(o + 12, tsecr);
			o[16] = 1;
			o[17] = 3;
			o[18] = 3;
			o[19] = ws;
			*len = 20;
		} else {	/* Windows: MSS, NOP, WS, NOP, NOP, SACK_PERM */
			o[4] = 1;
			o[5] = 3;
			o[6] = 3;
			o[7] = ws;
			o[8] = 1;
			o[9] = 1;
			o[10] = 4;
			o[11] = 2;
			*len = 12;
		}
		break;
	case OPT_TS:
		if (!s->ts)
			break;
		o[0] = 1;
		o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		put_be32(o + 4, tsval);
		put_be32(o + 8, tsecr);
		*len = 12;
		break;
	default:
		break;
	}
	return o;
}

/* One segment of session s; c2s says which side sends it. */
static int sess_send(struct gen *g, struct sess *s, int c2s, uint8_t flags,
		     uint32_t seq, uint32_t ack, unsigned int plen, int opt)
{
	uint8_t o[40];
	uint32_t tsval;
	struct pkt p;

	p.v6 = s->v6;
	p.seq = seq;
	p.ack = ack;
	p.flags = flags;
	p.plen = plen;
	if (c2s) {
		tsval = s->cts0 + (uint32_t)((g->now - s->t0) / 1000);
		p.opt = build_opts(s, 1, opt, tsval, s->sts_last, o, &p.optlen);
		s->cts_last = tsval;
		p.src = s->caddr;
		p.dst = s->saddr;
		p.sport = s->cport;
		p.dport = s->sport;
		p.ttl = s->cttl;
		p.ipid = s->cid++;
		p.win = (flags & TH_SYN) ? (s->win_os ? 65535 : 64240) : s->cwin;
		p.flow = s->cflow;
	} else {
		tsval = s->sts0 + (uint32_t)((g->now - s->t0) / 1000);
		p.opt = build_opts(s, 0, opt, tsval, s->cts_last, o, &p.optlen);
		s->sts_last = tsval;
		p.src = s->saddr;
		p.dst = s->caddr;
		p.sport = s->sport;
		p.dport = s->cport;
		p.ttl = s->sttl;
		p.ipid = s->sid++;
		p.win = (flags & TH_SYN) ? 65160 : s->swin;
		p.flow = s->sflow;
	}
	return emit(g, &p);
}

/* Gap between back-to-back segments from one side. */
static uint64_t gap(struct gen *g)
{
	return rng_range(&g->rng, 4, 60);
}

/* Idle time before the session's ending starts, in microseconds. */
static uint64_t close_delay(struct gen *g, int ending)
{
	struct rng *r = &g->rng;

	switch (ending) {
	case END_FIN_C:
		return 20000 + rng_exp(r, 3000000);
	case END_FIN_S:		/* keep-alive timeouts */
		return (rng_below(r, 4) ? 5000000 : 15000000) +
		       rng_range(r, 0, 20000);
	case END_RST_C:
		return 1000 + rng_exp(r, 1500000);
	default:
		return 1000 + rng_exp(r, 4000000);
	}
}

static int sess_step(struct gen *g, uint32_t slot)
{
	struct sess *s = &g->sess[slot];
	struct rng *r = &g->rng;
	int rc = 0;

	switch (s->state) {
	case ST_SYN:
		rc = sess_send(g, s, 1, TH_SYN, s->cisn, 0, 0, OPT_SYN);
		s->cseq = s->cisn + 1;
		if (s->ending == END_CLOSED) {
			s->state = ST_CLOSED_RST;
			resched(g, s->rs, slot, EV_SESS);
		} else {
			s->state = ST_SYNACK;
			resched(g, s->rs + rng_range(r, 10, 200), slot, EV_SESS);
		}
		break;
	case ST_SYNACK:
		rc = sess_send(g, s, 0, TH_SYN | TH_ACK, s->sseq, s->cseq, 0,
			       OPT_SYNACK);
		s->sseq++;
		s->state = ST_HS_ACK;
		resched(g, s->rc, slot, EV_SESS);
		break;
	case ST_HS_ACK:
		rc = sess_send(g, s, 1, TH_ACK, s->cseq, s->sseq, 0, OPT_TS);
		s->state = ST_REQ;
		resched(g, rng_range(r, 20, 400), slot, EV_SESS);
		break;
	case ST_REQ: {
		unsigned int len = s->req_left < s->seg ? s->req_left : s->seg;

		s->req_left -= len;
		rc = sess_send(g, s, 1, TH_ACK | (s->req_left ? 0 : TH_PSH),
			       s->cseq, s->sseq, len, OPT_TS);
		s->cseq += len;
		if (s->req_left) {
			resched(g, gap(g), slot, EV_SESS);
			break;
		}
		/* Server think time; a slow server acks first (delayed ACK). */
		s->pending = (uint32_t)(rng_below(r, 10) ? rng_exp(r, 6000)
							 : rng_exp(r, 150000));
		if (s->pending > 40000) {
			s->state = ST_SRV_ACK;
			resched(g, s->rs + 40000, slot, EV_SESS);
			s->pending -= 40000;
		} else {
			s->state = ST_RESP;
			resched(g, s->rs + s->pending, slot, EV_SESS);
		}
		s->burst_start = s->sseq;
		s->burst_bytes = 0;
		s->burst_segs = 0;
		s->acks_sent = 0;
		break;
	}
	case ST_SRV_ACK:
		rc = sess_send(g, s, 0, TH_ACK, s->sseq, s->cseq, 0, OPT_TS);
		s->state = ST_RESP;
		resched(g, s->pending, slot, EV_SESS);
		break;
	case ST_RESP: {
		unsigned int len = s->resp_left < s->seg ? s->resp_left : s->seg;
		int last;

		s->resp_left -= len;
		s->burst_segs++;
		s->burst_bytes += len;
		last = !s->resp_left || s->burst_segs == 10;
		rc = sess_send(g, s, 0, TH_ACK | (last ? TH_PSH : 0), s->sseq,
			       s->cseq, len, OPT_TS);
		s->sseq += len;
		if (!last) {
			resched(g, gap(g), slot, EV_SESS);
		} else {
			/* A lone segment waits for the delayed-ACK timer. */
			uint64_t d = s->rc;

			if (s->burst_segs == 1)
				d += rng_range(r, 0, 40000);
			s->state = ST_CLI_ACK;
			resched(g, d, slot, EV_SESS);
		}
		break;
	}
	case ST_CLI_ACK: {
		/* Every second segment of the burst is acknowledged. */
		uint32_t upto = 2u * s->seg * (s->acks_sent + 1u);

		if (upto > s->burst_bytes)
			upto = s->burst_bytes;
		s->acks_sent++;
		rc = sess_send(g, s, 1, TH_ACK, s->cseq, s->burst_start + upto,
			       0, OPT_TS);
		if (upto < s->burst_bytes) {
			resched(g, gap(g), slot, EV_SESS);
		} else if (s->resp_left) {
			s->burst_start = s->sseq;
			s->burst_bytes = 0;
			s->burst_segs = 0;
			s->acks_sent = 0;
			s->state = ST_RESP;
			resched(g, s->rs + rng_range(r, 5, 50), slot, EV_SESS);
		} else if (--s->exch_left) {
			sess_exchange(g, s);
			s->state = ST_REQ;
			resched(g, 1000 + rng_exp(r, 400000), slot, EV_SESS);
		} else if (s->ending == END_OPEN) {
			sess_done(g, slot);
		} else {
			s->state = ST_CLOSE;
			resched(g, close_delay(g, s->ending), slot, EV_SESS);
		}
		break;
	}
	case ST_CLOSE:
		switch (s->ending) {
		case END_FIN_C:
			rc = sess_send(g, s, 1, TH_FIN | TH_ACK, s->cseq,
				       s->sseq, 0, OPT_TS);
			s->cseq++;
			s->state = ST_FC_SFIN;
			resched(g, s->rs + rng_range(r, 10, 300), slot, EV_SESS);
			break;
		case END_FIN_S:
			rc = sess_send(g, s, 0, TH_FIN | TH_ACK, s->sseq,
				       s->cseq, 0, OPT_TS);
			s->sseq++;
			s->state = ST_FS_CACK;
			resched(g, s->rc, slot, EV_SESS);
			break;
		case END_RST_C:
			rc = sess_send(g, s, 1, TH_RST | TH_ACK, s->cseq,
				       s->sseq, 0, OPT_NONE);
			sess_done(g, slot);
			break;
		default:	/* END_RST_S */
			rc = sess_send(g, s, 0, TH_RST | TH_ACK, s->sseq,
				       s->cseq, 0, OPT_NONE);
			sess_done(g, slot);
			break;
		}
		break;
	case ST_FC_SFIN:
		rc = sess_send(g, s, 0, TH_FIN | TH_ACK, s->sseq, s->cseq, 0,
			       OPT_TS);
		s->sseq++;
		s->state = ST_FC_CACK;
		resched(g, s->rc, slot, EV_SESS);
		break;
	case ST_FC_CACK:
		rc = sess_send(g, s, 1, TH_ACK, s->cseq, s->sseq, 0, OPT_TS);
		sess_done(g, slot);
		break;
	case ST_FS_CACK:
		rc = sess_send(g, s, 1, TH_ACK, s->cseq, s->sseq, 0, OPT_TS);
		s->state = ST_FS_CFIN;
		resched(g, rng_range(r, 50, 3000), slot, EV_SESS);
		break;
	case ST_FS_CFIN:
		rc = sess_send(g, s, 1, TH_FIN | TH_ACK, s->cseq, s->sseq, 0,
			       OPT_TS);
		s->cseq++;
		s->state = ST_FS_SACK;
		resched(g, s->rs, slot, EV_SESS);
		break;
	case ST_FS_SACK:
		rc = sess_send(g, s, 0, TH_ACK, s->sseq, s->cseq, 0, OPT_TS);
		sess_done(g, slot);
		break;
	case ST_CLOSED_RST:
		/* The kernel's reply for a closed port: no socket, IP ID 0. */
		s->sid = 0;
		s->swin = 0;
		rc = sess_send(g, s, 0, TH_RST | TH_ACK, 0, s->cseq, 0,
			       OPT_NONE);
		sess_done(g, slot);
		break;
	}
	return rc;
}

/* ---- SYN flood and port scan ------------------------------------------ */

static const uint8_t mss1460[4] = { 2, 4, 0x05, 0xb4 };

/* The flood victim is server 0, port 80; sources are 198.18.0.0/15. */
static int flood_send(struct gen *g, uint32_t i, unsigned int retrans)
{
	uint64_t h = hash64(g->seed ^ 0xf100d, i);
	uint64_t h2 = hash64(g->seed ^ 0xf100e, i);
	uint64_t hs = hash64(g->seed ^ 0x5e5e, 0);
	uint8_t spoof[4], victim[4];
	struct pkt p = { 0 };

	spoof[0] = 198;
	spoof[1] = (uint8_t)(18 + (h & 1));
	spoof[2] = (uint8_t)(h >> 8);
	spoof[3] = (uint8_t)(h >> 16);
	if (g->flood_wide) {
		uint64_t ha = hash64(g->seed ^ 0xf100f, i);

		spoof[0] = (uint8_t)(32 + (ha & 31));
		spoof[1] = (uint8_t)(ha >> 8);
		spoof[2] = (uint8_t)(ha >> 16);
		spoof[3] = (uint8_t)(ha >> 24);
	}
	server_addr(victim, 0, 0);
	if (retrans == 0xff) {	/* the spoofed SYN, as a flooding tool writes it */
		p.src = spoof;
		p.dst = victim;
		p.sport = (uint16_t)(1024 + (h >> 24) % 64512);
		p.dport = 80;
		p.seq = (uint32_t)(h >> 32);
		p.flags = TH_SYN;
		p.ttl = (uint8_t)(32 + (h2 >> 40) % 200);
		p.ipid = (uint16_t)(h2 >> 48);
		p.win = (uint16_t)(512 + (h2 & 0xffff) % 65000);
		p.flow = 0x80000000u;
		g->flood_sent++;
	} else {		/* the victim's SYN-ACK, no timestamps offered */
		p.src = victim;
		p.dst = spoof;
		p.sport = 80;
		p.dport = (uint16_t)(1024 + (h >> 24) % 64512);
		p.seq = (uint32_t)h2;
		p.ack = (uint32_t)(h >> 32) + 1;
		p.flags = TH_SYN | TH_ACK;
		p.ttl = (uint8_t)((hs % 10 == 3 ? 128 : 64) - (2 + (hs >> 8) % 19));
		p.ipid = (uint16_t)((h2 >> 32) + retrans);
		p.win = 64240;
		p.opt = mss1460;
		p.optlen = 4;
	}
	return emit(g, &p);
}

static int flood_answered(struct gen *g, uint32_t i)
{
	return hash64(g->seed ^ 0xf100e, i) % 10 == 7;
}

/* Scanner 203.0.113.66:61234 sweeps ports of server 1. */
static uint16_t scan_port(struct gen *g, uint32_t i)
{
	return (uint16_t)(1 + ((uint64_t)i * g->scan_mult + g->scan_off) % g->scan);
}

enum scan_pkt { SCAN_SYN, SCAN_REPLY, SCAN_RST };

static int scan_send(struct gen *g, uint32_t i, int what)
{
	static const uint8_t scanner[4] = { 203, 0, 113, 66 };
	uint64_t h = hash64(g->seed ^ 0x5ca2, i);
	uint64_t hs = hash64(g->seed ^ 0x5e5e, 1);
	uint16_t port = scan_port(g, i);
	uint8_t target[4];
	struct pkt p = { 0 };

	server_addr(target, 1, 0);
	if (what == SCAN_REPLY) {
		p.src = target;
		p.dst = scanner;
		p.sport = port;
		p.dport = 61234;
		p.ack = (uint32_t)h + 1;
		p.ttl = (uint8_t)((hs % 10 == 3 ? 128 : 64) - (2 + (hs >> 8) % 19));
		if (scan_port_open(port)) {
			p.seq = (uint32_t)(h >> 32);
			p.flags = TH_SYN | TH_ACK;
			p.ipid = (uint16_t)(h >> 16);
			p.win = 64240;
			p.opt = mss1460;
			p.optlen = 4;
		} else {
			p.flags = TH_RST | TH_ACK;
		}
	} else {
		p.src = scanner;
		p.dst = target;
		p.sport = 61234;
		p.dport = port;
		p.ttl = (uint8_t)(37 + (h >> 56) % 23);
		p.ipid = (uint16_t)(h >> 40);
		p.flow = 0x80000000u;
		if (what == SCAN_SYN) {
			p.seq = (uint32_t)h;
			p.flags = TH_SYN;
			p.win = 1024;
			p.opt = mss1460;
			p.optlen = 4;
			g->scan_sent++;
		} else {
			p.seq = (uint32_t)h + 1;
			p.flags = TH_RST;
		}
	}
	return emit(g, &p);
}

/* ---- bulk transfers ---------------------------------------------------- */

#define BULK_SEG 1448
#define BULK_GAP_US 100

/* One step of bulk flow @i after @n segments: the handshake (n == 0), a
 * full segment from the server and every second one the client's ACK, or
 * the close once the capture's window has passed. Returns the next step
 * (0: done). */
static int bulk_send(struct gen *g, uint32_t i, uint32_t n, uint32_t *next)
{
	static const uint8_t server[4] = { 172, 16, 0, 10 };
	uint8_t client[4] = { 10, 200, (uint8_t)(i >> 8), (uint8_t)(i + 1) };
	uint64_t h = hash64(g->seed ^ 0xb01c, i);
	uint32_t cisn = (uint32_t)h, sisn = (uint32_t)(h >> 32);
	struct pkt c = { .src = client, .dst = server, .sport = (uint16_t)(40000 + i),
			 .dport = 443, .ttl = 63, .win = 65535, .flow = i };
	struct pkt sv = { .src = server, .dst = client, .sport = 443,
			  .dport = (uint16_t)(40000 + i), .ttl = 61, .win = 65535,
			  .flow = i };
	uint32_t sdata = sisn + 1 + (n ? n - 1 : 0) * BULK_SEG; /* next data byte */
	int rc;

	*next = 0;
	if (n == 0) {
		c.seq = cisn;
		c.flags = TH_SYN;
		c.opt = mss1460;
		c.optlen = 4;
		sv.seq = sisn;
		sv.ack = cisn + 1;
		sv.flags = TH_SYN | TH_ACK;
		sv.opt = mss1460;
		sv.optlen = 4;
		if ((rc = emit(g, &c)) || (rc = emit(g, &sv)))
			return rc;
		c.opt = NULL;
		c.optlen = 0;
		c.seq = cisn + 1;
		c.ack = sisn + 1;
		c.flags = TH_ACK;
		*next = 1;
		return emit(g, &c);
	}
	c.seq = cisn + 1;
	sv.ack = cisn + 1;
	c.ipid = (uint16_t)n;
	sv.ipid = (uint16_t)n;
	if (g->now >= g->window) {      /* close: server FIN, client FIN, ACK */
		sv.seq = sdata;
		sv.flags = TH_FIN | TH_ACK;
		c.ack = sdata + 1;
		c.flags = TH_FIN | TH_ACK;
		if ((rc = emit(g, &sv)) || (rc = emit(g, &c)))
			return rc;
		sv.seq = sdata + 1;
		sv.ack = cisn + 2;
		sv.flags = TH_ACK;
		return emit(g, &sv);
	}
	sv.seq = sdata;
	sv.flags = TH_ACK | TH_PSH;
	sv.plen = BULK_SEG;
	if ((rc = emit(g, &sv)))
		return rc;
	*next = n + 1;
	if (n % 2)
		return 0;
	c.ack = sdata + BULK_SEG;
	c.flags = TH_ACK;
	return emit(g, &c);
}

/* ---- main loop ------------------------------------------------------- */

static int step(struct gen *g, const struct ev *e)
{
	struct rng *r = &g->rng;
	unsigned int kind = e->kind & 0xff, arg = e->kind >> 8;
	uint32_t i = e->id;
	int rc = 0;

	switch (kind) {
	case EV_ARRIVAL:
		rc = sess_start(g);
		if (!rc && g->started < g->sessions)
			resched(g, rng_exp(r, 1000000 / g->rate), 0, EV_ARRIVAL);
		break;
	case EV_SESS:
		rc = sess_step(g, i);
		break;
	case EV_FLOOD:
		rc = flood_send(g, i, 0xff);
		if (!rc && flood_answered(g, i))
			rc = heap_push(&g->heap, g->now + rng_range(r, 40, 400),
				       i, EV_FLOOD_SA);
		if (!rc && i + 1 < g->flood)
			resched(g, rng_range(r, 10, 30), i + 1, EV_FLOOD);
		break;
	case EV_FLOOD_SA:
		/* SYN-ACK, then retransmitted after 1 s and 2 s more. */
		rc = flood_send(g, i, arg);
		if (!rc && arg < 2)
			resched(g, 1000000u << arg, i, EV_FLOOD_SA | (arg + 1) << 8);
		break;
	case EV_BULK: {
		uint32_t next;

		rc = bulk_send(g, i, arg, &next);
		if (!rc && next)
			resched(g, BULK_GAP_US, i, EV_BULK | next << 8);
		break;
	}
	case EV_SCAN:
		rc = scan_send(g, i, SCAN_SYN);
		if (!rc && hash64(g->seed ^ 0xf11e, i) % 40)	/* 1/40 filtered */
			rc = heap_push(&g->heap, g->now + rng_range(r, 150, 900),
				       i, EV_SCAN_REPLY);
		if (!rc && i + 1 < g->scan)
			resched(g, rng_range(r, 300, 700), i + 1, EV_SCAN);
		break;
	case EV_SCAN_REPLY:
		rc = scan_send(g, i, SCAN_REPLY);
		if (!rc && scan_port_open(scan_port(g, i)))
			resched(g, rng_range(r, 20000, 40000), i, EV_SCAN_RST);
		break;
	case EV_SCAN_RST:
		rc = scan_send(g, i, SCAN_RST);
		break;
	}
	return rc;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int write_file_header(struct gen *g)
{
	uint8_t *h = g->buf;

	put_le32(h, 0xa1b2c3d4);
	h[4] = 2;		/* version 2.4, little-endian */
	h[5] = 0;
	h[6] = 4;
	h[7] = 0;
	put_le32(h + 8, 0);	/* thiszone */
	put_le32(h + 12, 0);	/* sigfigs */
	put_le32(h + 16, 262144);	/* snaplen */
	put_le32(h + 20, 1);	/* LINKTYPE_ETHERNET */
	g->used = 24;
	g->bytes = 24;
	return 0;
}

static int run(struct gen *g)
{
	int rc;

	pat_init();
	rng_seed(&g->rng, g->seed);
	g->buf = malloc(OUT_BUF_SIZE);
	if (!g->buf)
		return -ENOMEM;
	write_file_header(g);

	/* Sessions arrive at g->rate per second; attacks sit inside. */
	g->window = g->sessions * 1000000 / g->rate;
	if (g->window < 10000000)
		g->window = 10000000;
	g->flood_start = g->window * 3 / 10;
	g->scan_start = g->window * 6 / 10;
	if (g->scan) {
		/* A stride near n / golden ratio, coprime to n: a shuffled sweep. */
		g->scan_mult = (uint32_t)(g->scan * 618 / 1000) | 1;
		while (gcd(g->scan_mult, g->scan) != 1)
			g->scan_mult += 2;
		g->scan_off = (uint32_t)(hash64(g->seed, 0x5ca2) % g->scan);
	}
	g->next_sample = 1000000;

	rc = 0;
	if (g->sessions)
		rc = heap_push(&g->heap, 0, 0, EV_ARRIVAL);
	if (!rc && g->flood)
		rc = heap_push(&g->heap, g->flood_start, 0, EV_FLOOD);
	if (!rc && g->scan)
		rc = heap_push(&g->heap, g->scan_start, 0, EV_SCAN);
	for (uint32_t i = 0; !rc && i < g->bulk; i++)
		rc = heap_push(&g->heap, 1000 * (uint64_t)i + 1, i, EV_BULK);

	while (!rc && g->heap.n) {
		struct ev e = g->heap.v[0];

		g->now = e.t;
		while (g->now >= g->next_sample) {
			/* Concurrency, averaged over the steady part. */
			if (g->next_sample > g->window / 5 &&
			    g->next_sample < g->window * 9 / 10) {
				g->conc_sum += g->active;
				g->conc_n++;
			}
			g->next_sample += 1000000;
		}
		g->resched = 0;
		rc = step(g, &e);
		if (g->resched)
			heap_sift_root(&g->heap, g->next);
		else
			heap_pop(&g->heap);
	}
	if (!rc)
		rc = out_flush(g);
	return rc;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gen [--seed N] [--sessions N] [--flood N] [--scan N] "
		"[--rate N] [--flood-wide] [--bulk N] OUT.pcap\n"
		"  --seed N      random seed (default 1)\n"
		"  --sessions N  normal TCP sessions (default 1000000)\n"
		"  --flood N     spoofed SYNs to 172.16.0.1:80 (default 500000)\n"
		"  --scan N      ports 1..N scanned on 172.16.0.2 (default 20000,"
		" max 65535)\n"
		"  --rate N      new sessions per second (default 10000)\n"
		"  --flood-wide  flood sources from 32.0.0.0/3, not 198.18.0.0/15\n"
		"  --bulk N      long-lived bulk transfers (default 0, max 4096)\n");
}

static void group(char *b, size_t n, uint64_t v)
{
	char t[32];
	int len = snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	size_t o = 0;

	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			b[o++] = ',';
		b[o++] = t[i];
	}
	b[o] = 0;
}

int main(int argc, char **argv)
{
	struct gen g = { .seed = 1, .sessions = 1000000, .flood = 500000,
			 .scan = 20000, .rate = 10000 };
	const char *path = NULL;
	struct timespec t0, t1;
	char a[32], b[32], c[32], d[32];
	double el;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		uint64_t *dst = NULL, max = UINT64_MAX;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--seed")) {
			dst = &g.seed;
		} else if (!strcmp(o, "--sessions")) {
			dst = &g.sessions;
			max = 100000000;
		} else if (!strcmp(o, "--flood")) {
			dst = &g.flood;
			max = 100000000;
		} else if (!strcmp(o, "--scan")) {
			dst = &g.scan;
			max = 65535;
		} else if (!strcmp(o, "--flood-wide")) {
			g.flood_wide = 1;
			continue;
		} else if (!strcmp(o, "--bulk")) {
			dst = &g.bulk;
			max = 4096;
		} else if (!strcmp(o, "--rate")) {
			dst = &g.rate;
			max = 1000000;
		} else if (o[0] == '-' && o[1]) {
			fprintf(stderr, "gen: unknown option %s\n", o);
			usage(stderr);
			return 2;
		} else if (!path) {
			path = o;
			continue;
		} else {
			fprintf(stderr, "gen: more than one output file\n");
			return 2;
		}
		if (parse_u64(argv[++i], max, dst) || (dst == &g.rate && !g.rate)) {
			fprintf(stderr, "gen: bad value for %s\n", o);
			return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	g.out = fopen(path, "wb");
	if (!g.out) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	rc = run(&g);
	if (fclose(g.out) && !rc)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(-rc));
		unlink(path);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	group(a, sizeof(a), g.packets);
	group(b, sizeof(b), g.started);
	group(c, sizeof(c), g.bytes);
	group(d, sizeof(d), g.v6_started);
	fprintf(stderr,
		"gen: seed %llu: %s packets, %s sessions (%s IPv6), "
		"%llu flood SYNs, %llu scan probes, %s bytes, %.1f s of traffic, "
		"concurrency avg %llu peak %llu, written in %.2f s\n",
		(unsigned long long)g.seed, a, b, d,
		(unsigned long long)g.flood_sent,
		(unsigned long long)g.scan_sent, c, g.now / 1e6,
		(unsigned long long)(g.conc_n ? g.conc_sum / g.conc_n : g.active),
		(unsigned long long)g.conc_max, el);
	free(g.buf);
	free(g.heap.v);
	free(g.sess);
	free(g.free_slots);
	return 0;
}
