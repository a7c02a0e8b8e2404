// SPDX-License-Identifier: MIT
/*
 * The attack detector. The engine hands it every tracked TCP packet with
 * its session, and every session as it ends; it keeps a bounded picture
 * of who is being hit and who is hitting, and raises alerts:
 *
 *  - SYN flood: pure SYNs per destination address, counted over fixed
 *    windows of packet time (window_ms). A window alarms when its rate is
 *    above the PAN-OS-style alarm threshold *and* above baseline_factor
 *    times the address's learned normal rate (an EWMA over the windows
 *    that did not alarm), while few of its SYNs completed a handshake. A
 *    busy server whose clients complete their handshakes never alarms.
 *  - Carpet bombing: the same per destination prefix (/24, /64, /48), when
 *    no single address in it takes most of the SYNs.
 *  - Backscatter: SYN-ACKs and RSTs that start a session (nobody here
 *    sent the SYN) per victim prefix.
 *  - Reflector: this host keeps retransmitting SYN-ACKs at a source that
 *    sends SYNs and never completes; the amplification factor is what
 *    the host sent to it over what it received.
 *  - Scans and brute force, from ended sessions: one source with many
 *    failed (REJ/S0-like) sessions over many ports or hosts, or many short
 *    completed sessions to one service.
 *
 * Memory is fixed in tg_detect_new, whatever the traffic: one open-
 * addressing table of entities (targets, prefixes, and the few sources
 * worth following) with bounded probing and eviction of the stalest
 * entity that has no alert; a count-min sketch that a source must pass
 * before it gets an entity (so ten million spoofed sources that each send
 * one SYN cost nothing but counter increments); HyperLogLog registers
 * for distinct counts; a Bloom filter of sources that completed a
 * handshake; and a fixed array of alerts, each with the header
 * histograms its signature comes from (sig.c).
 *
 * An alert's end leaves through the callback in tg_detect_flush, after
 * an optional second look at the packets (tg_detect_measure) has measured
 * each signature's precision and recall. For live use (cfg.events) its
 * start and periodic updates leave as they happen too: each a snapshot
 * of the running numbers and of the signature derived so far, taken
 * without disturbing the state the end is derived from. No I/O, no
 * clock, no allocation after tg_detect_new.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "tcpguard/decode.h"
#include "tcpguard/detect.h"
#include "tcpguard/flow.h"          /* tg_prefetch */
#include "mem.h"
#include "sig.h"

const char *const tg_alert_kind_str[TG_AK__COUNT] = {
	[TG_AK_SYN_FLOOD] = "syn-flood",
	[TG_AK_CARPET] = "carpet-bombing",
	[TG_AK_BACKSCATTER] = "backscatter",
	[TG_AK_REFLECTOR] = "reflector",
	[TG_AK_SCAN_VERTICAL] = "scan-vertical",
	[TG_AK_SCAN_HORIZONTAL] = "scan-horizontal",
	[TG_AK_BRUTE_FORCE] = "brute-force",
};

const char *const tg_alert_level_str[TG_AL__COUNT] = {
	"alarm", "activate", "maximum",
};

const char *const tg_alert_event_str[TG_AE__COUNT] = {
	[TG_AE_START] = "start",
	[TG_AE_UPDATE] = "update",
	[TG_AE_END] = "end",
};

#define HLL_M 64
#define CM_ROWS 4
#define PROBE 8
#define NS_MS 1000000ull
#define SYN_ONLY TG_TCP_SYN
#define FLAG_MASK (TG_TCP_FIN | TG_TCP_SYN | TG_TCP_RST | TG_TCP_ACK)
#define GATE_BITS 65536u

/* Flag classes with a histogram of "other" packets each. */
enum { CLS_SYN, CLS_SYNACK, CLS_RST, CLS__COUNT };

enum ent_kind {
	EK_NONE = 0,
	EK_HOST,        /* a = destination address */
	EK_PFX,         /* a = destination prefix / plen */
	EK_PFXW,        /* the wider IPv6 prefix */
	EK_BS,          /* a = victim prefix of unsolicited SYN-ACKs/RSTs */
	EK_REFL,        /* a = victim (SYN source), b = reflecting host */
	EK_SRC,         /* a = a source with failed sessions */
	EK_BRUTE,       /* a = source, b = server, port */
};

struct ent {
	struct tg_addr a;
	struct tg_addr b;
	uint16_t port;
	uint8_t kind;
	uint8_t plen;
	uint32_t alert;         /* alert index + 1, 0: none */
	uint64_t win_start;     /* current window */
	uint64_t win_first;     /* first event in it */
	uint64_t last_ns;       /* last event */
	uint32_t cur;           /* events in this window */
	uint32_t cur_ok;        /* completed handshakes in this window */
	uint64_t cur_bytes;
	uint32_t windows;       /* closed windows that fed the baseline */
	float ewma;             /* baseline events per second */
	uint32_t top_key;       /* Misra-Gries of one: dominant host of a prefix */
	uint32_t top_cnt;
	uint64_t n_in;          /* REFL: SYNs in; SRC/BRUTE: sessions */
	uint64_t n_out;         /* REFL: SYN-ACKs out; SRC: failed sessions */
	uint64_t b_in;
	uint64_t b_out;
	uint64_t n_ok;          /* REFL: handshakes the victim completed */
	uint64_t bm;            /* distinct sources (SRC: ports), linear counting */
	uint64_t bm2;           /* distinct destinations (HOST: ports) */
};

struct top {
	struct tg_alert_top e[8];
	uint64_t err[8];        /* count inherited on replacement */
};

struct slot {
	struct tg_alert a;
	uint32_t ent;           /* entity index + 1 while open */
	bool closed;
	bool reported;
	bool derived;
	bool start_pending;     /* events: the start is reported after the call */
	bool start_sent;
	bool many_sources;      /* over 16 distinct sources: spoofed at random */
	uint8_t cls;
	uint64_t created;       /* sessions started by an attack SYN */
	uint64_t ended_failed;
	uint8_t hll_src[HLL_M];
	uint8_t hll_dst[HLL_M];
	uint8_t hll_port[HLL_M];
	uint64_t next_update;   /* events: packet time of the next update */
	uint64_t upd_packets;   /* ... and what the last event said */
	uint64_t upd_sessions;
	uint8_t upd_level;
	uint64_t seed_ports;    /* scans: distinct counts before the alert */
	uint64_t seed_hosts;
	struct top srcs;
	struct top dsts;
	struct sig_hist atk;
};

/* A stretch of time to measure signatures over. */
struct span {
	uint64_t from, to;      /* inclusive */
};

struct tg_detect {
	struct tg_detect_cfg cfg;
	tg_alert_cb cb;
	void *ctx;
	uint64_t win_ns;
	uint64_t next_tick;
	uint64_t next_decay;
	uint32_t ent_mask;
	uint32_t *tags;         /* per entity: hash fingerprint, 0 when empty */
	struct ent *ents;
	uint32_t nslots;
	struct slot *slots;
	uint32_t next_id;
	uint32_t pending;       /* events: starts not reported yet */
	uint64_t now_ns;        /* latest packet time seen */
	uint32_t cm_mask;
	uint32_t *cm;           /* CM_ROWS x width */
	uint64_t cm_total;
	uint64_t bloom_mask;
	uint64_t *bloom;
	uint64_t gate[GATE_BITS / 64]; /* victims with a REFL entity */
	uint32_t open_syn;      /* open SYN-flood/carpet alerts */
	uint64_t h_src;         /* hashes of the current packet's addresses */
	uint64_t h_dst;
	/* Other traffic, settled, and the last two windows of it pending: a
	 * window in which an attack began (before it alarmed) is dropped,
	 * not learnt as normal. */
	struct sig_hist other[CLS__COUNT];
	struct sig_hist pend[2][CLS__COUNT];
	unsigned pcur;
	bool opened;            /* an alert opened since the last tick */
	/* The times to measure: the alerts' spans, sorted and merged, built
	 * by tg_detect_wants_measure; spans_ok false once anything changes. */
	struct span *spans;     /* max_alerts */
	uint32_t nspans;
	uint32_t span_at;       /* where the last lookup ended */
	bool spans_ok;
	struct tg_detect_stats st;
};

void tg_detect_cfg_default(struct tg_detect_cfg *c)
{
	static const uint16_t brute[] = {
		21, 22, 23, 25, 110, 143, 445, 465, 587, 993, 995, 1433, 3306,
		3389, 5432, 5900,
	};

	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->window_ms = 1000;
	c->quiet_ms = 5000;
	c->update_ms = 5000;
	c->syn_alarm_pps = 100;
	c->syn_activate_pps = 1000;
	c->syn_maximum_pps = 10000;
	c->syn_min_sources = 1;
	c->syn_max_completion = 0.5;
	c->baseline_alpha = 0.1;
	c->baseline_factor = 3.0;
	c->baseline_windows = 10;
	c->carpet_alarm_pps = 100;
	c->carpet_min_hosts = 8;
	c->prefix4 = 24;
	c->prefix6 = 64;
	c->prefix6_wide = 48;
	c->backscatter_alarm_pps = 20;
	c->reflector_min_rexmit = 10;
	c->reflector_min_amp = 2.0;
	c->scan_window_ms = 60000;
	c->scan_min_ports = 20;
	c->scan_min_hosts = 20;
	c->scan_min_fail = 0.8;
	c->brute_window_ms = 60000;
	c->brute_min_sessions = 20;
	c->brute_max_duration_ms = 30000;
	memcpy(c->brute_ports, brute, sizeof(brute));
	c->admit_min = 4;
	c->sig_min_share = 0.95;
	c->sig_max_other = 0.2;
	c->max_entities = 65536;
	c->max_alerts = 256;
	c->sketch_width = 65536;
	c->bloom_bits_log2 = 24;
}

/* ---- hashing, HyperLogLog, count-min, Bloom ------------------------- */

static inline uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t addr_hash(const struct tg_addr *a, uint64_t seed)
{
	uint64_t w[2];

	memcpy(w, a->b, 16);
	w[1] *= 0xff51afd7ed558ccdULL;
	return mix(seed ^ w[0] ^ (w[1] << 31 | w[1] >> 33));
}

static void hll_add(uint8_t *r, uint64_t h)
{
	uint64_t w = h >> 6;
	uint8_t rank = w ? (uint8_t)(__builtin_ctzll(w) + 1) : 59;

	if (rank > r[h & (HLL_M - 1)])
		r[h & (HLL_M - 1)] = rank;
}

/* 64 ln(64 / z) for z = 1..64: linear counting for small cardinalities
 * without libm. */
static const double lin_count[HLL_M + 1] = {
	0,
	266.168517, 221.807098, 195.857331, 177.445678, 163.164491, 151.495911,
	141.630268, 133.084259, 125.546144, 118.803071, 112.703220, 107.134492,
	102.011758, 97.268848, 92.853304, 88.722839, 84.842863, 81.184725,
	77.724423, 74.441652, 71.319081, 68.341800, 65.496888, 62.773072,
	60.160465, 57.650339, 55.234958, 52.907429, 50.661584, 48.491885,
	46.393336, 44.361420, 42.392033, 40.481444, 38.626241, 36.823305,
	35.069771, 33.363003, 31.700572, 30.080232, 28.499905, 26.957662,
	25.451710, 23.980381, 22.542118, 21.135468, 19.759071, 18.411653,
	17.092018, 15.799045, 14.531677, 13.288919, 12.069835, 10.873538,
	9.699193, 8.546009, 7.413236, 6.300165, 5.206121, 4.130465,
	3.072590, 2.031917, 1.007895, 0.000000,
};

/* HyperLogLog estimate (Flajolet et al. 2007) with 64 registers: about
 * 13 % standard error, exact-ish below ~100 through linear counting. */
static uint64_t hll_est(const uint8_t *r)
{
	double sum = 0, e;
	unsigned zeros = 0;

	for (int i = 0; i < HLL_M; i++) {
		sum += 1.0 / (double)(1ull << r[i]);
		zeros += !r[i];
	}
	e = 0.709 * HLL_M * HLL_M / sum;
	if (e <= 2.5 * HLL_M && zeros)
		e = lin_count[zeros];
	return (uint64_t)(e + 0.5);
}

/* Linear counting over one 64-bit word (Whang et al. 1990): enough to
 * tell 1 from 8 from 20 distinct values in a window, in 8 bytes;
 * saturates at about 270. */
static uint64_t bm_est(uint64_t bm)
{
	unsigned zeros = 64 - (unsigned)__builtin_popcountll(bm);

	return zeros ? (uint64_t)(lin_count[zeros] + 0.5) : 270;
}

/* Adds one to @key's counters; returns the estimate above the sketch's
 * noise floor (total / width), so that a flood of one-off keys does not
 * lift every key over the admission bar. */
static uint64_t cm_add(struct tg_detect *d, uint64_t key)
{
	uint32_t est = UINT32_MAX, *c[CM_ROWS];
	uint64_t floor, h = mix(key);

	/* Conservative update (Estan and Varghese): only the counters at the
	 * minimum grow, which keeps one-off keys from lifting each other. */
	for (int r = 0; r < CM_ROWS; r++) {
		c[r] = &d->cm[(size_t)r * (d->cm_mask + 1) + ((h >> (r * 16)) & d->cm_mask)];
		if (*c[r] < est)
			est = *c[r];
	}
	if (est < UINT32_MAX)
		est++;
	for (int r = 0; r < CM_ROWS; r++)
		if (*c[r] < est)
			*c[r] = est;
	d->cm_total++;
	floor = d->cm_total / (d->cm_mask + 1);
	return est > floor ? est - floor : 0;
}

static void cm_decay(struct tg_detect *d)
{
	size_t n = (size_t)CM_ROWS * (d->cm_mask + 1);

	for (size_t i = 0; i < n; i++)
		d->cm[i] >>= 1;
	d->cm_total >>= 1;
}

/* Blocked Bloom filter: the three bits of an address share one 64-bit
 * word, so a test or an insert costs one memory access. */
static inline uint64_t bloom_bits(uint64_t h)
{
	return 1ull << (h & 63) | 1ull << ((h >> 6) & 63) | 1ull << ((h >> 12) & 63);
}

/* The bloom filter's word for hash @h. */
static inline uint64_t *bloom_word(const struct tg_detect *d, uint64_t h)
{
	return &d->bloom[(h >> 18) & (d->bloom_mask >> 6)];
}

static void bloom_add(struct tg_detect *d, const struct tg_addr *a)
{
	uint64_t h = addr_hash(a, 0xb100);

	*bloom_word(d, h) |= bloom_bits(h);
}

bool tg_detect_completed(const struct tg_detect *d, const struct tg_addr *a)
{
	uint64_t h = addr_hash(a, 0xb100), m = bloom_bits(h);

	return (*bloom_word(d, h) & m) == m;
}

static inline bool gate_test(const struct tg_detect *d, const struct tg_addr *a)
{
	uint32_t b = (uint32_t)addr_hash(a, 0x6a7e) & (GATE_BITS - 1);

	return d->gate[b / 64] & (1ull << (b % 64));
}

static inline void gate_set(struct tg_detect *d, const struct tg_addr *a)
{
	uint32_t b = (uint32_t)addr_hash(a, 0x6a7e) & (GATE_BITS - 1);

	d->gate[b / 64] |= 1ull << (b % 64);
}

/* ---- construction --------------------------------------------------- */

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static bool cfg_ok(const struct tg_detect_cfg *cfg)
{
	return pow2(cfg->max_entities) && pow2(cfg->sketch_width) &&
	       cfg->max_alerts && cfg->window_ms && cfg->bloom_bits_log2 >= 10 &&
	       cfg->bloom_bits_log2 <= 34 && cfg->prefix4 <= 32 &&
	       cfg->prefix6 <= 128 && cfg->prefix6_wide <= 128;
}

uint64_t tg_detect_bytes(const struct tg_detect_cfg *cfg)
{
	struct tg_detect *d = NULL;

	if (!cfg_ok(cfg))
		return 0;
	return sizeof(*d) +
	       (uint64_t)cfg->max_entities * (sizeof(*d->ents) + sizeof(*d->tags)) +
	       (uint64_t)cfg->max_alerts * (sizeof(*d->slots) + sizeof(*d->spans)) +
	       (uint64_t)CM_ROWS * cfg->sketch_width * sizeof(*d->cm) +
	       ((1ull << cfg->bloom_bits_log2) / 64) * sizeof(uint64_t);
}

struct tg_detect *tg_detect_new(const struct tg_detect_cfg *cfg,
				tg_alert_cb cb, void *ctx)
{
	struct tg_detect *d;

	if (!cfg_ok(cfg))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->cb = cb;
	d->ctx = ctx;
	d->win_ns = cfg->window_ms * NS_MS;
	d->ent_mask = cfg->max_entities - 1;
	d->ents = tg_mem_zalloc(cfg->max_entities, sizeof(*d->ents));
	d->tags = tg_mem_zalloc(cfg->max_entities, sizeof(*d->tags));
	d->nslots = 0;
	d->slots = tg_mem_zalloc(cfg->max_alerts, sizeof(*d->slots));
	d->spans = tg_mem_zalloc(cfg->max_alerts, sizeof(*d->spans));
	d->cm_mask = cfg->sketch_width - 1;
	d->cm = tg_mem_zalloc((size_t)CM_ROWS * cfg->sketch_width, sizeof(*d->cm));
	d->bloom_mask = (1ull << cfg->bloom_bits_log2) - 1;
	d->bloom = tg_mem_zalloc((size_t)(d->bloom_mask / 64 + 1), sizeof(uint64_t));
	if (!d->ents || !d->tags || !d->slots || !d->spans || !d->cm || !d->bloom) {
		tg_detect_free(d);
		return NULL;
	}
	d->st.entities_max = cfg->max_entities;
	d->st.memory_bytes = tg_detect_bytes(cfg);
	return d;
}

void tg_detect_free(struct tg_detect *d)
{
	if (!d)
		return;
	tg_mem_free(d->ents, d->cfg.max_entities, sizeof(*d->ents));
	tg_mem_free(d->tags, d->cfg.max_entities, sizeof(*d->tags));
	tg_mem_free(d->slots, d->cfg.max_alerts, sizeof(*d->slots));
	tg_mem_free(d->spans, d->cfg.max_alerts, sizeof(*d->spans));
	tg_mem_free(d->cm, (size_t)CM_ROWS * d->cfg.sketch_width, sizeof(*d->cm));
	tg_mem_free(d->bloom, (size_t)(d->bloom_mask / 64 + 1), sizeof(uint64_t));
	free(d);
}

const struct tg_detect_stats *tg_detect_stats(const struct tg_detect *d)
{
	return &d->st;
}

/* ---- entities ------------------------------------------------------- */

static struct tg_addr masked(const struct tg_addr *a, unsigned plen)
{
	struct tg_addr m;
	unsigned bits = tg_addr_is_v4(a) ? 96 + plen : plen;
	uint64_t w[2];

	/* Two big-endian halves, each kept for its share of the prefix. */
	memcpy(w, a->b, 16);
	for (int k = 0; k < 2; k++) {
		unsigned n = bits > 64 ? 64 : bits;

		bits -= n;
		if (n < 64)
			w[k] &= htobe64(n ? ~0ull << (64 - n) : 0);
	}
	memcpy(m.b, w, 16);
	return m;
}

static inline bool ent_is(const struct ent *e, uint8_t kind, uint8_t plen,
			  uint16_t port, const struct tg_addr *a,
			  const struct tg_addr *b)
{
	return e->kind == kind && e->plen == plen && e->port == port &&
	       tg_addr_eq(&e->a, a) && (!b || tg_addr_eq(&e->b, b));
}

static inline uint64_t ent_hash(uint8_t kind, const struct tg_addr *a,
				const struct tg_addr *b, uint16_t port, uint8_t plen)
{
	return addr_hash(a, kind ^ (uint64_t)port << 8 ^ (uint64_t)plen << 24) ^
	       (b ? addr_hash(b, 7) : 0);
}

/* Starts loading the fingerprint and the first line of the entity that
 * ent_get would look at first for this key. */
static inline void ent_prefetch(const struct tg_detect *d, uint8_t kind,
				const struct tg_addr *a, uint8_t plen)
{
	uint32_t idx = (uint32_t)ent_hash(kind, a, NULL, 0, plen) & d->ent_mask;

	tg_prefetch(&d->tags[idx]);
	tg_prefetch(&d->ents[idx]);
}

/* Finds the entity (@kind, @a, @b, @port, @plen); with @create, makes it,
 * evicting the stalest entity without an alert among its probe window if
 * need be. Returns NULL when absent (or nothing could be evicted). */
static struct ent *ent_get(struct tg_detect *d, uint8_t kind, const struct tg_addr *a,
			   const struct tg_addr *b, uint16_t port, uint8_t plen,
			   bool create)
{
	static const struct tg_addr zero;
	uint64_t h = ent_hash(kind, a, b, port, plen);
	uint32_t tag = (uint32_t)(h >> 32) | 1, vi = 0;
	struct ent *victim = NULL;

	if (!b)
		b = &zero;
	/* The fingerprints are a small dense array: a lookup of an absent
	 * key touches one cache line, not the entities. */
	for (unsigned i = 0; i < PROBE; i++) {
		uint32_t idx = (uint32_t)(h + i) & d->ent_mask;
		struct ent *e;

		if (!d->tags[idx]) {
			victim = &d->ents[idx];
			vi = idx;
			break;
		}
		if (d->tags[idx] != tag)
			continue;
		e = &d->ents[idx];
		if (ent_is(e, kind, plen, port, a, b))
			return e;
	}
	if (!create)
		return NULL;
	if (!victim) {
		for (unsigned i = 0; i < PROBE; i++) {
			uint32_t idx = (uint32_t)(h + i) & d->ent_mask;
			struct ent *e = &d->ents[idx];

			if (!e->alert && (!victim || e->last_ns < victim->last_ns)) {
				victim = e;
				vi = idx;
			}
		}
		if (!victim)
			return NULL;
		d->st.entities_evicted++;
	} else {
		d->st.entities_used++;
	}
	d->tags[vi] = tag;
	memset(victim, 0, sizeof(*victim));
	victim->kind = kind;
	victim->a = *a;
	victim->b = *b;
	victim->port = port;
	victim->plen = plen;
	return victim;
}

/* ---- alerts --------------------------------------------------------- */

static void top_add(struct top *t, const struct tg_addr *a, uint16_t port,
		    uint64_t n)
{
	unsigned min = 0;

	/* Space-saving: a miss replaces the smallest entry, inheriting its
	 * count, so every address above 1/8 of the total is kept. */
	for (unsigned i = 0; i < 8; i++) {
		if (t->e[i].count && t->e[i].port == port &&
		    tg_addr_eq(&t->e[i].addr, a)) {
			t->e[i].count += n;
			return;
		}
		if (t->e[i].count < t->e[min].count)
			min = i;
	}
	t->err[min] = t->e[min].count;
	t->e[min].addr = *a;
	t->e[min].port = port;
	t->e[min].count += n;
}

static struct slot *slot_of(struct tg_detect *d, const struct ent *e)
{
	return e->alert ? &d->slots[e->alert - 1] : NULL;
}

static struct slot *alert_open(struct tg_detect *d, struct ent *e, uint8_t kind,
			       uint64_t start, uint64_t now)
{
	struct slot *s = NULL;

	if (d->nslots < d->cfg.max_alerts) {
		s = &d->slots[d->nslots++];
	} else {
		/* Live use: an alert ended and reported frees its slot. */
		for (uint32_t i = 0; i < d->nslots && !s; i++)
			if (d->slots[i].reported)
				s = &d->slots[i];
		if (!s) {
			d->st.alerts_dropped++;
			return NULL;
		}
	}
	memset(s, 0, sizeof(*s));
	s->a.id = ++d->next_id;
	s->a.kind = kind;
	s->a.level = TG_AL_ALARM;
	s->a.start_ns = start;
	s->a.end_ns = now;
	s->a.level_ns[TG_AL_ALARM] = now;
	s->a.ttl_min = 255;
	s->ent = (uint32_t)(e - d->ents) + 1;
	s->cls = kind == TG_AK_BACKSCATTER ? CLS_SYNACK : CLS_SYN;
	e->alert = (uint32_t)(s - d->slots) + 1;
	d->st.alerts++;
	d->st.alerts_open++;
	d->opened = true;
	if (d->cfg.events) {
		s->start_pending = true;
		d->pending++;
	}
	if (kind == TG_AK_SYN_FLOOD || kind == TG_AK_CARPET)
		d->open_syn++;
	switch (kind) {
	case TG_AK_SYN_FLOOD:
	case TG_AK_CARPET:
	case TG_AK_BACKSCATTER:
		s->a.target = e->a;
		s->a.target_plen = kind == TG_AK_SYN_FLOOD ? 0 : e->plen;
		break;
	case TG_AK_REFLECTOR:
		s->a.target = e->b;
		s->a.source = e->a;
		break;
	case TG_AK_BRUTE_FORCE:
		s->a.target = e->b;
		s->a.target_port = e->port;
		s->a.source = e->a;
		break;
	default:
		s->a.source = e->a;
		break;
	}
	return s;
}

static void set_level(struct slot *s, const struct tg_detect_cfg *c, double rate,
		      uint64_t now)
{
	uint8_t lv = TG_AL_ALARM;

	if (rate >= c->syn_maximum_pps)
		lv = TG_AL_MAXIMUM;
	else if (rate >= c->syn_activate_pps)
		lv = TG_AL_ACTIVATE;
	for (uint8_t l = TG_AL_ACTIVATE; l <= lv; l++)
		if (!s->a.level_ns[l])
			s->a.level_ns[l] = now;
	if (lv > s->a.level)
		s->a.level = lv;
	if (rate > s->a.peak_pps)
		s->a.peak_pps = rate;
}

/* An attack packet of an open alert. */
static void alert_pkt(struct slot *s, const struct tg_pkt *p, uint64_t seq)
{
	s->a.packets++;
	s->a.bytes += p->ip_len;
	hll_add(s->hll_src, addr_hash(&p->src, 1));
	hll_add(s->hll_dst, addr_hash(&p->dst, 1));
	top_add(&s->srcs, &p->src, 0, 1);
	top_add(&s->dsts, &p->dst, s->a.kind == TG_AK_BACKSCATTER ? 0 : p->dport, 1);
	/* The histograms need shares, not counts: past the first thousand
	 * packets, one in four of a large attack is enough. */
	if (s->atk.n < 1024 || !(seq & 3))
		sig_hist_add(&s->atk, p);
}

static void half_open(struct slot *s)
{
	uint64_t done = s->a.completed + s->ended_failed;
	uint64_t ho = s->created > done ? s->created - done : 0;

	if (ho > s->a.half_open_peak)
		s->a.half_open_peak = ho;
}

/* ---- rate windows --------------------------------------------------- */

/* Closes the window of rate entity @e and decides whether it attacks. */
static void close_window(struct tg_detect *d, struct ent *e, uint64_t win_end)
{
	const struct tg_detect_cfg *c = &d->cfg;
	double ws = (double)c->window_ms / 1000.0;
	double rate = (double)e->cur / ws;
	double thr, comp = e->cur ? (double)e->cur_ok / (double)e->cur : 0.0;
	uint64_t srcs = bm_est(e->bm);
	bool attack;
	uint8_t kind;
	struct slot *s;

	switch (e->kind) {
	case EK_HOST:
		kind = TG_AK_SYN_FLOOD;
		thr = c->syn_alarm_pps;
		/* One source sending most SYNs, over many ports, is a scan,
		 * not a flood. */
		attack = comp <= c->syn_max_completion && srcs >= c->syn_min_sources &&
			 ((uint64_t)e->top_cnt * 2 <= e->cur ||
			  bm_est(e->bm2) < c->scan_min_ports);
		break;
	case EK_PFX:
	case EK_PFXW:
		kind = TG_AK_CARPET;
		thr = c->carpet_alarm_pps;
		attack = comp <= c->syn_max_completion && srcs > 1 &&
			 bm_est(e->bm2) >= c->carpet_min_hosts &&
			 (uint64_t)e->top_cnt * 2 <= e->cur;
		break;
	default:
		kind = TG_AK_BACKSCATTER;
		thr = c->backscatter_alarm_pps;
		attack = true;
		break;
	}
	if (e->windows >= c->baseline_windows && c->baseline_factor * e->ewma > thr)
		thr = c->baseline_factor * e->ewma;
	attack = attack && e->cur && rate >= thr;
	if (attack) {
		s = slot_of(d, e);
		if (!s) {
			s = alert_open(d, e, kind, e->win_first, win_end);
			if (!s)
				return;
			/* The window that raised it was not attributed yet. */
			s->a.packets += e->cur;
			s->a.bytes += e->cur_bytes;
			s->a.baseline_pps = e->ewma;
		}
		set_level(s, c, rate, win_end);
		s->a.end_ns = e->last_ns;
		s->many_sources = hll_est(s->hll_src) > 16;
	} else if (!e->alert) {
		e->ewma = e->windows ? e->ewma + (float)(c->baseline_alpha * (rate - e->ewma))
				     : (float)rate;
		e->windows++;
	}
}

/* Moves rate entity @e to the window holding @now, closing the ones
 * before it (empty ones decay the baseline). */
static void roll(struct tg_detect *d, struct ent *e, uint64_t now)
{
	uint64_t k;

	if (!e->win_start) {
		e->win_start = now - now % d->win_ns;
		return;
	}
	if (now < e->win_start + d->win_ns)
		return;
	close_window(d, e, e->win_start + d->win_ns);
	k = (now - e->win_start) / d->win_ns;
	if (!e->alert)
		for (uint64_t i = 1; i < k && i < 64 && e->windows; i++)
			e->ewma -= (float)(d->cfg.baseline_alpha * e->ewma);
	e->win_start += k * d->win_ns;
	e->cur = e->cur_ok = 0;
	e->cur_bytes = 0;
	e->top_key = e->top_cnt = 0;
	e->bm = e->bm2 = 0;
}

/* ---- per-packet events ---------------------------------------------- */

/* Boyer-Moore majority vote over 32-bit keys: when one key holds more
 * than half of the votes it ends as top_key with a positive count, and
 * top_cnt * 2 > votes tells that it holds far more than half. */
static inline void vote(struct ent *e, uint32_t key)
{
	if (e->top_cnt && e->top_key == key)
		e->top_cnt++;
	else if (!e->top_cnt)
		e->top_key = key, e->top_cnt = 1;
	else
		e->top_cnt--;
}

static void tick(struct tg_detect *d, uint64_t now);

/* One packet counted in the window of rate entity @e, from a source
 * whose hash is @hs. */
static void count_event(struct tg_detect *d, struct ent *e, const struct tg_pkt *p,
			uint64_t hs)
{
	roll(d, e, p->ts_ns);
	if (!e->cur)
		e->win_first = p->ts_ns;
	e->cur++;
	e->cur_bytes += p->ip_len;
	e->last_ns = p->ts_ns;
	e->bm |= 1ull << (hs >> 58);
}

/* A pure SYN to rate entity @e (a host or a prefix). Returns whether it
 * was attributed to an open alert. */
static bool syn_to(struct tg_detect *d, struct ent *e, const struct tg_pkt *p,
		   bool created)
{
	struct slot *s;

	count_event(d, e, p, d->h_src);
	if (e->kind == EK_HOST)
		e->bm2 |= 1ull << (mix(p->dport) >> 58);
	else
		e->bm2 |= 1ull << (d->h_dst >> 58);
	/* The majority source of a host, the majority host of a prefix. */
	vote(e, (uint32_t)((e->kind == EK_HOST ? d->h_src : d->h_dst) >> 32));
	s = slot_of(d, e);
	if (!s)
		return false;
	alert_pkt(s, p, d->st.packets);
	if (created)
		s->created++;
	half_open(s);
	return true;
}

static void prefix_ents(struct tg_detect *d, const struct tg_addr *a,
			struct ent **pfx, struct ent **wide, bool create)
{
	bool v4 = tg_addr_is_v4(a);
	uint8_t pl = v4 ? d->cfg.prefix4 : d->cfg.prefix6;
	struct tg_addr m = masked(a, pl);

	*pfx = ent_get(d, EK_PFX, &m, NULL, 0, pl, create);
	*wide = NULL;
	if (!v4 && d->cfg.prefix6_wide) {
		m = masked(a, d->cfg.prefix6_wide);
		*wide = ent_get(d, EK_PFXW, &m, NULL, 0, d->cfg.prefix6_wide, create);
	}
}

static void refl_eval(struct tg_detect *d, struct ent *e, uint64_t start)
{
	const struct tg_detect_cfg *c = &d->cfg;
	struct slot *s = slot_of(d, e);

	if (!s) {
		if (e->n_ok || e->n_in < c->reflector_min_rexmit ||
		    (double)e->n_out < c->reflector_min_amp * (double)e->n_in)
			return;
		s = alert_open(d, e, TG_AK_REFLECTOR, start, e->last_ns);
		if (!s)
			return;
		/* The SYNs that raised it are attack packets too. */
		s->a.packets = e->n_in;
		s->a.bytes = e->b_in;
	}
	s->a.end_ns = e->last_ns;
	s->a.in_pkts = e->n_in;
	s->a.out_pkts = e->n_out;
	s->a.in_bytes = e->b_in;
	s->a.out_bytes = e->b_out;
}

static void on_syn(struct tg_detect *d, const struct tg_pkt *p, bool created)
{
	struct ent *e, *host, *pfx, *wide;
	bool attributed = false;

	d->h_src = addr_hash(&p->src, 1);
	d->h_dst = addr_hash(&p->dst, 1);
	host = ent_get(d, EK_HOST, &p->dst, NULL, 0, 0, true);
	if (host)
		attributed |= syn_to(d, host, p, created);
	prefix_ents(d, &p->dst, &pfx, &wide, true);
	if (pfx)
		attributed |= syn_to(d, pfx, p, created);
	if (wide)
		attributed |= syn_to(d, wide, p, created);
	if (gate_test(d, &p->src) &&
	    (e = ent_get(d, EK_REFL, &p->src, &p->dst, 0, 0, false))) {
		struct slot *s;

		e->n_in++;
		e->b_in += p->ip_len;
		e->last_ns = p->ts_ns;
		refl_eval(d, e, p->ts_ns);
		if ((s = slot_of(d, e))) {
			alert_pkt(s, p, d->st.packets);
			attributed = true;
		}
	}
	/* "Other traffic" is what goes to destinations below the alarm
	 * rate, so the window in which an attack starts, before it alarms,
	 * does not count as normal. One in four is plenty for the shares
	 * the signature needs. */
	if (host && host->cur * 1000ull > (uint64_t)d->cfg.syn_alarm_pps * d->cfg.window_ms)
		attributed = true;
	if (pfx && pfx->cur * 1000ull > (uint64_t)d->cfg.carpet_alarm_pps * d->cfg.window_ms)
		attributed = true;
	if (!attributed && !(d->st.packets & 3))
		sig_hist_add(&d->pend[d->pcur][CLS_SYN], p);
}

/* A SYN-ACK or RST that started a session: nobody here sent its SYN. */
static bool on_unsolicited(struct tg_detect *d, const struct tg_pkt *p)
{
	bool v4 = tg_addr_is_v4(&p->dst);
	uint8_t pl = v4 ? d->cfg.prefix4 : d->cfg.prefix6;
	struct tg_addr m = masked(&p->dst, pl);
	struct ent *e = ent_get(d, EK_BS, &m, NULL, 0, pl, true);
	struct slot *s;

	if (!e)
		return false;
	count_event(d, e, p, addr_hash(&p->src, 1));
	if (!(s = slot_of(d, e)))
		return false;
	alert_pkt(s, p, d->st.packets);
	return true;
}

/* The server @p->src answers the victim @p->dst with a SYN-ACK. */
static bool on_synack(struct tg_detect *d, const struct tg_pkt *p,
		      const struct tg_session *s)
{
	const struct tg_detect_cfg *c = &d->cfg;
	bool rexmit = s->d[1].pkts >= 2 && !(s->d[0].flags_seen & TG_TCP_ACK);
	struct ent *h, *e = NULL;
	struct slot *sl;

	if (rexmit && d->open_syn &&
	    (h = ent_get(d, EK_HOST, &p->src, NULL, 0, 0, false)) &&
	    (sl = slot_of(d, h))) {
		sl->a.synack_rexmit++;
		/* Answers to a flood from many spoofed sources: the flood
		 * alert reports them; they make no reflector alerts. */
		if (sl->many_sources)
			return false;
	}
	if (gate_test(d, &p->dst))
		e = ent_get(d, EK_REFL, &p->dst, &p->src, 0, 0, false);
	if (!e && rexmit &&
	    cm_add(d, addr_hash(&p->dst, 0x5a) ^ addr_hash(&p->src, 0x5b)) >=
		    c->reflector_min_rexmit) {
		e = ent_get(d, EK_REFL, &p->dst, &p->src, 0, 0, true);
		if (e) {
			d->st.admitted++;
			gate_set(d, &p->dst);
			e->n_in = s->d[0].pkts;
			e->b_in = tg_dir_ip_bytes(&s->d[0]);
			e->n_out = s->d[1].pkts - 1;
			e->b_out = tg_dir_ip_bytes(&s->d[1]) - p->ip_len;
			e->win_first = s->first_ns;
			e->win_start = p->ts_ns;
		}
	}
	if (!e)
		return false;
	/* Only answers to SYNs counted in n_in (from win_start, when the
	 * victim began to be followed): retransmissions to sessions begun
	 * before would inflate the amplification factor. */
	if (s->first_ns < e->win_start)
		return e->alert != 0;
	e->n_out++;
	e->b_out += p->ip_len;
	e->last_ns = p->ts_ns;
	refl_eval(d, e, e->win_first);
	return e->alert != 0;
}

/* The originator's ACK completing a handshake with the responder. */
static void on_completed(struct tg_detect *d, const struct tg_pkt *p)
{
	struct ent *e, *pfx, *wide;

	bloom_add(d, &p->src);
	if ((e = ent_get(d, EK_HOST, &p->dst, NULL, 0, 0, false))) {
		struct slot *s;

		roll(d, e, p->ts_ns);
		e->cur_ok++;
		if ((s = slot_of(d, e)))
			s->a.completed++;
	}
	prefix_ents(d, &p->dst, &pfx, &wide, false);
	if (pfx) {
		roll(d, pfx, p->ts_ns);
		pfx->cur_ok++;
	}
	if (wide) {
		roll(d, wide, p->ts_ns);
		wide->cur_ok++;
	}
	if (gate_test(d, &p->src) &&
	    (e = ent_get(d, EK_REFL, &p->src, &p->dst, 0, 0, false)))
		e->n_ok++;
}

static int flag_class(uint8_t fl)
{
	if (fl == (TG_TCP_SYN | TG_TCP_ACK))
		return CLS_SYNACK;
	if (fl & TG_TCP_RST)
		return CLS_RST;
	return -1;
}

static void emit_pending(struct tg_detect *d);

/* The ACK from the originator that completes @s's handshake: the third
 * packet, no data yet, and a SYN seen from each side. */
static inline bool completes(const struct tg_pkt *p, const struct tg_session *s,
			     bool from_orig, uint8_t fl)
{
	return from_orig && fl == TG_TCP_ACK && !p->payload_len &&
	       s->hist_len >= 3 && s->hist[s->hist_len - 1] == 'A' &&
	       !(s->d[0].hist_seen & TG_HS_DATA) && !(s->d[1].hist_seen & TG_HS_DATA) &&
	       (s->d[0].flags_seen & TG_TCP_SYN) && (s->d[1].flags_seen & TG_TCP_SYN);
}

/* What every packet does to the detector: its count and its clock. */
static inline void packet_time(struct tg_detect *d, uint64_t ts_ns)
{
	d->st.packets++;
	if (ts_ns > d->now_ns)
		d->now_ns = ts_ns;
	if (ts_ns >= d->next_tick)
		tick(d, ts_ns);
}

/* Everything but its time is read only from the packets
 * tg_detect_packet_heavy names. */
static void packet(struct tg_detect *d, const struct tg_pkt *p,
		   const struct tg_session *s, bool from_orig, bool created)
{
	uint8_t fl = p->tcp_flags & FLAG_MASK;
	bool attributed = false;
	int cls;

	packet_time(d, p->ts_ns);
	if (fl == SYN_ONLY) {
		on_syn(d, p, created);
		return;
	}
	cls = flag_class(fl);
	if (created && cls >= 0)
		attributed = on_unsolicited(d, p);
	else if (cls == CLS_SYNACK && !from_orig)
		attributed = on_synack(d, p, s);
	else if (completes(p, s, from_orig, fl))
		on_completed(d, p);
	if (cls >= 0 && !attributed)
		sig_hist_add(&d->pend[d->pcur][cls], p);
}

bool tg_detect_packet_heavy(const struct tg_pkt *p, const struct tg_session *s,
			    bool from_orig)
{
	uint8_t fl = p->tcp_flags & FLAG_MASK;

	return fl == SYN_ONLY || flag_class(fl) >= 0 || completes(p, s, from_orig, fl);
}

void tg_detect_packet_time(struct tg_detect *d, uint64_t ts_ns)
{
	d->spans_ok = false;
	packet_time(d, ts_ns);
	if (d->pending)
		emit_pending(d);
}

void tg_detect_prefetch(const struct tg_detect *d, const struct tg_pkt *p)
{
	uint8_t fl = p->tcp_flags & FLAG_MASK;

	if (fl == SYN_ONLY) {
		/* on_syn: the destination host and its prefix. */
		bool v4 = tg_addr_is_v4(&p->dst);
		uint8_t pl = v4 ? d->cfg.prefix4 : d->cfg.prefix6;
		struct tg_addr m = masked(&p->dst, pl);

		ent_prefetch(d, EK_HOST, &p->dst, 0);
		ent_prefetch(d, EK_PFX, &m, pl);
	} else if ((fl & TG_TCP_ACK) && !(fl & (TG_TCP_SYN | TG_TCP_RST))) {
		/* Perhaps the ACK that completes a handshake: on_completed
		 * marks its source in the bloom filter. */
		tg_prefetch(bloom_word(d, addr_hash(&p->src, 0xb100)));
	}
}

void tg_detect_prefetch_end(const struct tg_detect *d, const struct tg_session *s)
{
	/* session_end: the source's entity, and the responder's while a
	 * SYN flood is open. */
	if (!(s->d[0].flags_seen & TG_TCP_SYN))
		return;
	ent_prefetch(d, EK_SRC, &s->orig_h, 0);
	if (d->open_syn)
		ent_prefetch(d, EK_HOST, &s->resp_h, 0);
}

void tg_detect_packet(struct tg_detect *d, const struct tg_pkt *p,
		      const struct tg_session *s, bool from_orig, bool created)
{
	d->spans_ok = false;
	packet(d, p, s, from_orig, created);
	if (d->pending)
		emit_pending(d);
}

/* ---- session-based detectors ---------------------------------------- */

static bool brute_port(const struct tg_detect_cfg *c, uint16_t port)
{
	for (unsigned i = 0; i < 16 && c->brute_ports[i]; i++)
		if (c->brute_ports[i] == port)
			return true;
	return false;
}

/* Restarts a session-window entity that has been quiet for @win_ns. */
static void session_window(struct ent *e, const struct tg_session *s, uint64_t win_ns)
{
	if (!e->alert && e->win_start && s->first_ns > e->win_start + win_ns) {
		e->win_start = 0;
		e->n_in = e->n_out = 0;
		e->bm = e->bm2 = 0;
		e->top_key = e->top_cnt = 0;
	}
	if (!e->win_start) {
		e->win_start = s->first_ns;
		e->win_first = s->first_ns;
	}
	if (s->first_ns < e->win_first)
		e->win_first = s->first_ns;
	if (s->last_ns > e->last_ns)
		e->last_ns = s->last_ns;
}

static void scan_session(struct tg_detect *d, struct ent *e,
			 const struct tg_session *s, bool failed)
{
	const struct tg_detect_cfg *c = &d->cfg;
	uint32_t hk = (uint32_t)addr_hash(&s->resp_h, 3);
	struct slot *sl;

	session_window(e, s, c->scan_window_ms * NS_MS);
	e->n_in++;
	e->n_out += failed;
	e->bm |= 1ull << (mix(s->resp_p) >> 58);
	e->bm2 |= 1ull << (addr_hash(&s->resp_h, 1) >> 58);
	vote(e, hk);
	sl = slot_of(d, e);
	if (!sl && (double)e->n_out >= c->scan_min_fail * (double)e->n_in) {
		uint64_t ports = bm_est(e->bm), hosts = bm_est(e->bm2);

		if (ports >= c->scan_min_ports && e->top_cnt * 2 > e->n_in) {
			sl = alert_open(d, e, TG_AK_SCAN_VERTICAL, e->win_first, s->last_ns);
			if (sl)
				sl->a.target = s->resp_h;
		} else if (hosts >= c->scan_min_hosts) {
			sl = alert_open(d, e, TG_AK_SCAN_HORIZONTAL, e->win_first, s->last_ns);
		}
		if (sl) {
			sl->a.sessions = e->n_in - 1;
			sl->seed_ports = bm_est(e->bm);
			sl->seed_hosts = bm_est(e->bm2);
		}
	}
	/* The scanner's own completed sessions (its host browsing, say)
	 * are no probes: they neither count nor stretch the alert. */
	if (!sl || !failed)
		return;
	sl->a.sessions++;
	sl->a.packets += s->d[0].pkts;
	sl->a.bytes += tg_dir_ip_bytes(&s->d[0]);
	hll_add(sl->hll_port, mix(s->resp_p));
	hll_add(sl->hll_dst, addr_hash(&s->resp_h, 1));
	top_add(&sl->dsts, &s->resp_h, s->resp_p, 1);
	if (s->last_ns > sl->a.end_ns)
		sl->a.end_ns = s->last_ns;
}

static void brute_session(struct tg_detect *d, const struct tg_session *s)
{
	const struct tg_detect_cfg *c = &d->cfg;
	struct ent *e = ent_get(d, EK_BRUTE, &s->orig_h, &s->resp_h, s->resp_p, 0, false);
	struct slot *sl;

	if (!e) {
		uint64_t key = addr_hash(&s->orig_h, 0xb7) ^ addr_hash(&s->resp_h, 0xb8) ^
			       mix(s->resp_p);

		if (cm_add(d, key) < c->admit_min)
			return;
		e = ent_get(d, EK_BRUTE, &s->orig_h, &s->resp_h, s->resp_p, 0, true);
		if (!e)
			return;
		d->st.admitted++;
		/* The sessions the sketch counted before it admitted it. */
		e->n_in = c->admit_min - 1;
	}
	session_window(e, s, c->brute_window_ms * NS_MS);
	e->n_in++;
	sl = slot_of(d, e);
	if (!sl && e->n_in >= c->brute_min_sessions) {
		sl = alert_open(d, e, TG_AK_BRUTE_FORCE, e->win_first, s->last_ns);
		if (sl)
			sl->a.sessions = e->n_in - 1;
	}
	if (!sl)
		return;
	sl->a.sessions++;
	sl->a.packets += s->d[0].pkts;
	sl->a.bytes += tg_dir_ip_bytes(&s->d[0]);
	if (s->last_ns > sl->a.end_ns)
		sl->a.end_ns = s->last_ns;
}

static void session_end(struct tg_detect *d, const struct tg_session *s)
{
	const struct tg_detect_cfg *c = &d->cfg;
	bool syn = s->d[0].flags_seen & TG_TCP_SYN;
	bool completed = syn && (s->d[1].flags_seen & TG_TCP_SYN) &&
			 (s->d[0].flags_seen & TG_TCP_ACK) &&
			 (s->d[0].hist_seen & (TG_HS_ACK | TG_HS_DATA));
	struct ent *e;

	if (!syn)
		return;
	if (!completed && d->open_syn &&
	    (e = ent_get(d, EK_HOST, &s->resp_h, NULL, 0, 0, false)) && e->alert) {
		struct slot *sl = slot_of(d, e);

		sl->ended_failed++;
		if (s->d[0].pkts == 1)
			sl->a.single_syn++;
		else if (!(s->d[0].flags_seen & TG_TCP_RST))
			sl->a.retried++;
		if ((s->d[1].flags_seen & TG_TCP_SYN) && s->d[0].pkts == 1)
			sl->a.never_answered++;
		/* The sessions of a flood from many sources are the flood's:
		 * counted there, they need no per-source scan accounting. */
		if (sl->many_sources)
			return;
	}
	e = ent_get(d, EK_SRC, &s->orig_h, NULL, 0, 0, false);
	if (!e && !completed && cm_add(d, addr_hash(&s->orig_h, 0x5c)) >= c->admit_min) {
		e = ent_get(d, EK_SRC, &s->orig_h, NULL, 0, 0, true);
		if (e) {
			d->st.admitted++;
			e->n_in = e->n_out = c->admit_min - 1;
		}
	}
	if (e)
		scan_session(d, e, s, !completed);
	if (completed && s->last_ns - s->first_ns <= c->brute_max_duration_ms * NS_MS &&
	    brute_port(c, s->resp_p))
		brute_session(d, s);
}

void tg_detect_session_end(struct tg_detect *d, const struct tg_session *s)
{
	d->spans_ok = false;
	session_end(d, s);
	if (d->pending)
		emit_pending(d);
}

/* ---- closing, signatures, measurement, reporting -------------------- */

static int cmp_top(const void *a, const void *b)
{
	const struct tg_alert_top *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* Reports what space-saving guarantees: each entry's count minus what it
 * inherited; entries with no guaranteed count (a spoofed flood has no
 * top source) are left out. */
static void fill_top(struct tg_alert_top *out, struct top *t)
{
	for (int i = 0; i < 8; i++) {
		t->e[i].count -= t->err[i];
		t->err[i] = 0;
		if (t->e[i].count <= 1)
			t->e[i].count = 0;
	}
	qsort(t->e, 8, sizeof(t->e[0]), cmp_top);
	memcpy(out, t->e, TG_ALERT_TOP * sizeof(*out));
}

/* Sets the signature's identity fields of @a (slot @s's alert or a
 * snapshot of it) for the alert's kind. */
static void sig_base(const struct tg_detect *d, const struct slot *s,
		     struct tg_alert *a)
{
	struct tg_sig *g = &a->sig;
	bool v4;
	uint32_t cnt, v;

	memset(g, 0, sizeof(*g));
	g->fields = TG_SIG_FLAGS;
	g->flags = SYN_ONLY;
	switch (a->kind) {
	case TG_AK_SYN_FLOOD:
	case TG_AK_CARPET:
	case TG_AK_BACKSCATTER:
		v4 = tg_addr_is_v4(&a->target);
		g->fields |= TG_SIG_DST;
		g->dst = a->target;
		g->dst_plen = a->target_plen ? a->target_plen : (v4 ? 32 : 128);
		if (a->kind == TG_AK_BACKSCATTER) {
			g->flags = (uint8_t)sig_mg_top(&s->atk.flags, &cnt);
			break;
		}
		v = sig_mg_top(&s->atk.dport, &cnt);
		if ((double)cnt >= 0.9 * (double)s->atk.n && cnt) {
			g->fields |= TG_SIG_DPORT;
			g->dport = (uint16_t)v;
			a->target_port = (uint16_t)v;
		}
		/* A flood from one address that never completed a handshake
		 * (not spoofed at random): name it. */
		if (a->top_src[0].count >= d->cfg.sig_min_share * (double)s->atk.n &&
		    s->atk.n && !tg_detect_completed(d, &a->top_src[0].addr)) {
			g->fields |= TG_SIG_SRC;
			g->src = a->top_src[0].addr;
			g->src_plen = v4 ? 32 : 128;
		}
		break;
	case TG_AK_REFLECTOR:
		v4 = tg_addr_is_v4(&a->target);
		g->fields |= TG_SIG_DST | TG_SIG_SRC;
		g->dst = a->target;
		g->src = a->source;
		g->dst_plen = g->src_plen = v4 ? 32 : 128;
		break;
	case TG_AK_BRUTE_FORCE:
	case TG_AK_SCAN_VERTICAL:
		v4 = tg_addr_is_v4(&a->source);
		g->fields |= TG_SIG_SRC | TG_SIG_DST;
		g->src = a->source;
		g->dst = a->target;
		g->src_plen = g->dst_plen = v4 ? 32 : 128;
		if (a->kind == TG_AK_BRUTE_FORCE) {
			g->fields |= TG_SIG_DPORT;
			g->dport = a->target_port;
		}
		break;
	default:
		v4 = tg_addr_is_v4(&a->source);
		g->fields |= TG_SIG_SRC;
		g->src = a->source;
		g->src_plen = v4 ? 32 : 128;
		break;
	}
	g->ip_ver = v4 ? 4 : 6;
}

/* Fills @a (slot @s's alert, or a copy of it) with the derived numbers
 * and the signature; @s itself is left as it is, so a live snapshot does
 * not disturb the counting that goes on. */
static void derive_into(const struct tg_detect *d, const struct slot *s,
			struct tg_alert *a)
{
	unsigned distinct = 0;
	struct top tp;

	if (a->kind == TG_AK_SCAN_VERTICAL || a->kind == TG_AK_SCAN_HORIZONTAL) {
		a->distinct_ports = hll_est(s->hll_port);
		a->distinct_dst = hll_est(s->hll_dst);
		if (s->seed_ports > a->distinct_ports)
			a->distinct_ports = s->seed_ports;
		if (s->seed_hosts > a->distinct_dst)
			a->distinct_dst = s->seed_hosts;
	} else if (a->kind != TG_AK_BRUTE_FORCE) {
		a->distinct_src = hll_est(s->hll_src);
		a->distinct_dst = hll_est(s->hll_dst);
	}
	tp = s->srcs;
	fill_top(a->top_src, &tp);
	tp = s->dsts;
	fill_top(a->top_dst, &tp);
	for (int t = 0; t < 256; t++) {
		if (!s->atk.ttl[t])
			continue;
		distinct++;
		if (t < a->ttl_min)
			a->ttl_min = (uint8_t)t;
		if (t > a->ttl_max)
			a->ttl_max = (uint8_t)t;
	}
	if (!distinct)
		a->ttl_min = 0;
	a->ttl_distinct = (uint16_t)distinct;
	a->layouts = (uint16_t)sig_mg_distinct(&s->atk.layout);
	sig_base(d, s, a);
	if (a->kind <= TG_AK_REFLECTOR)
		sig_derive(&a->sig, &s->atk, &d->other[s->cls], &d->cfg);
	/* A rule naming the attacking source blocks only the attacker; any
	 * other rule is cleared for blocking by the measurement. */
	a->sig.block_ok = a->kind >= TG_AK_SCAN_VERTICAL;
	a->has_sig = true;
}

/* Fills the alert's derived numbers and its signature, once. */
static void derive(struct tg_detect *d, struct slot *s)
{
	if (s->derived)
		return;
	s->derived = true;
	derive_into(d, s, &s->a);
}

static void alert_close(struct tg_detect *d, struct slot *s)
{
	struct ent *e = s->ent ? &d->ents[s->ent - 1] : NULL;

	if (s->closed)
		return;
	s->closed = true;
	if (e && e->alert == (uint32_t)(s - d->slots) + 1)
		e->alert = 0;
	s->ent = 0;
	d->st.alerts_open--;
	if (s->a.kind == TG_AK_SYN_FLOOD || s->a.kind == TG_AK_CARPET)
		d->open_syn--;
	derive(d, s);
}

static void emit_updates(struct tg_detect *d, uint64_t now);

/* Once per window of packet time: windows of alerting entities close even
 * without traffic, and quiet alerts end. */
static void tick(struct tg_detect *d, uint64_t now)
{
	const struct tg_detect_cfg *c = &d->cfg;

	d->next_tick = now - now % d->win_ns + d->win_ns;
	if (d->opened)
		memset(d->pend, 0, sizeof(d->pend));
	for (int c2 = 0; c2 < CLS__COUNT && !d->opened; c2++)
		sig_hist_merge(&d->other[c2], &d->pend[d->pcur ^ 1][c2]);
	memset(d->pend[d->pcur ^ 1], 0, sizeof(d->pend[0]));
	d->pcur ^= 1;
	d->opened = false;
	if (!d->next_decay)
		d->next_decay = now + c->scan_window_ms * NS_MS;
	if (now >= d->next_decay) {
		cm_decay(d);
		d->next_decay = now + c->scan_window_ms * NS_MS;
	}
	for (uint32_t i = 0; i < d->nslots; i++) {
		struct slot *s = &d->slots[i];
		struct ent *e;
		uint64_t quiet = c->quiet_ms * NS_MS;

		if (s->closed)
			continue;
		e = &d->ents[s->ent - 1];
		if (e->kind == EK_HOST || e->kind == EK_PFX || e->kind == EK_PFXW ||
		    e->kind == EK_BS)
			roll(d, e, now);
		else if (e->kind == EK_SRC)
			quiet = c->scan_window_ms * NS_MS;
		else if (e->kind == EK_BRUTE)
			quiet = c->brute_window_ms * NS_MS;
		if (now >= s->a.end_ns + quiet)
			alert_close(d, s);
	}
	if (d->cfg.events && d->cfg.update_ms)
		emit_updates(d, now);
}

void tg_detect_advance(struct tg_detect *d, uint64_t now_ns)
{
	d->spans_ok = false;
	if (now_ns > d->now_ns)
		d->now_ns = now_ns;
	if (now_ns >= d->next_tick)
		tick(d, now_ns);
	if (d->pending)
		emit_pending(d);
}

static void derive_all(struct tg_detect *d)
{
	for (uint32_t i = 0; i < d->nslots; i++)
		derive(d, &d->slots[i]);
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return 0;
}

/* The spans of the alerts with a signature, sorted and merged. */
static void build_spans(struct tg_detect *d)
{
	uint32_t n = 0, m = 0;

	for (uint32_t i = 0; i < d->nslots; i++) {
		const struct tg_alert *a = &d->slots[i].a;

		if (a->has_sig && a->start_ns <= a->end_ns)
			d->spans[n++] = (struct span){ a->start_ns, a->end_ns };
	}
	qsort(d->spans, n, sizeof(*d->spans), cmp_span);
	for (uint32_t i = 0; i < n; i++) {
		if (m && d->spans[i].from <= d->spans[m - 1].to) {
			if (d->spans[i].to > d->spans[m - 1].to)
				d->spans[m - 1].to = d->spans[i].to;
		} else {
			d->spans[m++] = d->spans[i];
		}
	}
	d->nspans = m;
	d->span_at = 0;
	d->spans_ok = true;
}

bool tg_detect_wants_measure(struct tg_detect *d)
{
	derive_all(d);
	build_spans(d);
	return d->nslots > 0;
}

/* Whether @p is one of the attack packets of alert @a: in its time window,
 * the kind's flags, to (or from) its target, and (for spoofable kinds)
 * not from a source that completed a handshake. */
static bool is_attack(const struct tg_detect *d, const struct tg_alert *a,
		      const struct tg_pkt *p, uint8_t fl)
{
	const struct tg_addr *t = &a->target;
	unsigned tpl = a->target_plen ? a->target_plen : (tg_addr_is_v4(t) ? 32 : 128);

	if (p->ts_ns < a->start_ns || p->ts_ns > a->end_ns)
		return false;
	switch (a->kind) {
	case TG_AK_SYN_FLOOD:
	case TG_AK_CARPET:
		return fl == SYN_ONLY && tg_addr_in_prefix(&p->dst, t, tpl) &&
		       (!a->target_port || p->dport == a->target_port) &&
		       !tg_detect_completed(d, &p->src);
	case TG_AK_BACKSCATTER:
		return flag_class(fl) >= 0 && tg_addr_in_prefix(&p->dst, t, tpl) &&
		       !tg_detect_completed(d, &p->dst);
	case TG_AK_REFLECTOR:
		return fl == SYN_ONLY && tg_addr_eq(&p->src, &a->source) &&
		       tg_addr_eq(&p->dst, t) && !tg_detect_completed(d, &p->src);
	case TG_AK_SCAN_VERTICAL:
		return fl == SYN_ONLY && tg_addr_eq(&p->src, &a->source) &&
		       tg_addr_eq(&p->dst, t);
	case TG_AK_BRUTE_FORCE:
		return fl == SYN_ONLY && tg_addr_eq(&p->src, &a->source) &&
		       tg_addr_eq(&p->dst, t) && p->dport == a->target_port;
	default:
		return fl == SYN_ONLY && tg_addr_eq(&p->src, &a->source);
	}
}

/* The first of the merged spans that ends at or after @ts (nspans: none). */
static uint32_t span_ending_from(const struct tg_detect *d, uint64_t ts)
{
	uint32_t lo = 0, hi = d->nspans;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (d->spans[mid].to < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool tg_detect_measure_span(const struct tg_detect *d, uint64_t from, uint64_t to)
{
	if (d->spans_ok) {
		uint32_t i = span_ending_from(d, from);

		return i < d->nspans && d->spans[i].from <= to;
	}
	for (uint32_t i = 0; i < d->nslots; i++) {
		const struct tg_alert *a = &d->slots[i].a;

		if (a->has_sig && a->start_ns <= to && a->end_ns >= from)
			return true;
	}
	return false;
}

uint64_t tg_detect_last_end(const struct tg_detect *d)
{
	uint64_t end = 0;

	/* Not the last merged span's end: alerts without a signature have
	 * no span and may end later. */
	for (uint32_t i = 0; i < d->nslots; i++)
		if (d->slots[i].a.end_ns > end)
			end = d->slots[i].a.end_ns;
	return end;
}

/* tg_detect_measure_wants with the cursor @at (where the last lookup
 * ended) kept by the caller. */
static bool wants_at(const struct tg_detect *d, uint32_t *at, uint64_t ts_ns)
{
	if (d->spans_ok) {
		/* Captures run forward: the span of the last lookup, or one of
		 * the next ones, nearly always answers. */
		uint32_t i = *at;

		if (i < d->nspans && ts_ns >= d->spans[i].from) {
			while (i < d->nspans && ts_ns > d->spans[i].to)
				i++;
			*at = i;
			return i < d->nspans && ts_ns >= d->spans[i].from;
		}
		if (i == 0 || ts_ns > d->spans[i - 1].to)
			return false;   /* between span i-1 and i */
		/* Time went back past earlier spans. */
		i = span_ending_from(d, ts_ns);
		*at = i;
		return i < d->nspans && ts_ns >= d->spans[i].from;
	}
	return tg_detect_measure_span(d, ts_ns, ts_ns);
}

bool tg_detect_measure_wants(struct tg_detect *d, uint64_t ts_ns)
{
	return wants_at(d, &d->span_at, ts_ns);
}

/* What @p counts as for alert @a's signature (MV_NONE: not measured). */
enum { MV_NONE, MV_TP, MV_FN, MV_FP, MV_FP_COMPLETED };

static int measure_verdict(const struct tg_detect *d, const struct tg_alert *a,
			   const struct tg_pkt *p, uint8_t fl)
{
	bool match;

	/* The rule is in force while the attack lasts. */
	if (p->ts_ns < a->start_ns || p->ts_ns > a->end_ns)
		return MV_NONE;
	match = tg_sig_match(&a->sig, p);
	if (is_attack(d, a, p, fl))
		return match ? MV_TP : MV_FN;
	if (!match)
		return MV_NONE;
	return tg_detect_completed(d, &p->src) ? MV_FP_COMPLETED : MV_FP;
}

/* Adds verdict @v to the counts tp, fn, fp, fp_completed at @n. */
static inline void tally(uint64_t n[4], int v)
{
	if (v == MV_FP_COMPLETED) {
		n[2]++;
		n[3]++;
	} else if (v != MV_NONE) {
		n[v - MV_TP]++;
	}
}

/* Adds the counts @n (tp, fn, fp, fp_completed) to signature @g, which
 * is then measured. */
static void sig_add(struct tg_sig *g, const uint64_t n[4])
{
	g->measured = true;
	g->tp += n[0];
	g->fn += n[1];
	g->fp += n[2];
	g->fp_completed += n[3];
}

void tg_detect_measure(struct tg_detect *d, const struct tg_pkt *p)
{
	uint8_t fl = p->tcp_flags & FLAG_MASK;

	if (!(fl & (TG_TCP_SYN | TG_TCP_RST)))
		return;
	for (uint32_t i = 0; i < d->nslots; i++) {
		struct tg_alert *a = &d->slots[i].a;
		uint64_t n[4] = { 0 };

		if (!a->has_sig)
			continue;
		tally(n, measure_verdict(d, a, p, fl));
		sig_add(&a->sig, n);
	}
}

struct tg_measure {
	const struct tg_detect *d;
	uint32_t span_at;
	bool any;               /* a SYN or reset was measured */
	uint64_t n[][4];        /* per slot: tp, fn, fp, fp_completed */
};

struct tg_measure *tg_measure_new(const struct tg_detect *d)
{
	struct tg_measure *m = calloc(1, sizeof(*m) + (size_t)d->nslots * sizeof(m->n[0]));

	if (m)
		m->d = d;
	return m;
}

bool tg_measure_wants(struct tg_measure *m, uint64_t ts_ns)
{
	return wants_at(m->d, &m->span_at, ts_ns);
}

void tg_measure_packet(struct tg_measure *m, const struct tg_pkt *p)
{
	const struct tg_detect *d = m->d;
	uint8_t fl = p->tcp_flags & FLAG_MASK;

	if (!(fl & (TG_TCP_SYN | TG_TCP_RST)))
		return;
	m->any = true;
	for (uint32_t i = 0; i < d->nslots; i++)
		if (d->slots[i].a.has_sig)
			tally(m->n[i], measure_verdict(d, &d->slots[i].a, p, fl));
}

void tg_measure_prefetch(const struct tg_measure *m, const struct tg_pkt *p)
{
	/* is_attack asks whether the source (the destination, for
	 * backscatter) completed a handshake: a bloom-filter word each,
	 * anywhere in the filter for spoofed addresses. */
	tg_prefetch(bloom_word(m->d, addr_hash(&p->src, 0xb100)));
	tg_prefetch(bloom_word(m->d, addr_hash(&p->dst, 0xb100)));
}

void tg_measure_merge(struct tg_detect *d, const struct tg_measure *m)
{
	if (!m->any)
		return;
	for (uint32_t i = 0; i < d->nslots; i++)
		if (d->slots[i].a.has_sig)
			sig_add(&d->slots[i].a.sig, m->n[i]);
}

void tg_measure_free(struct tg_measure *m)
{
	free(m);
}

/* A SYN flood from a handful of sources that are all victims of a
 * reflector alert on the same host is that reflection, seen once. */
static bool folded(const struct tg_detect *d, const struct tg_alert *a)
{
	if (a->kind != TG_AK_SYN_FLOOD || a->distinct_src > 4)
		return false;
	for (uint32_t i = 0; i < d->nslots; i++) {
		const struct tg_alert *r = &d->slots[i].a;

		if (r->kind == TG_AK_REFLECTOR &&
		    tg_addr_eq(&r->target, &a->target) &&
		    tg_addr_eq(&r->source, &a->top_src[0].addr))
			return true;
	}
	return false;
}

/* ---- live events ----------------------------------------------------- */

/* Slot @s's alert as it stands, derived numbers and signature so far,
 * with event @ev, to the callback. */
static void emit(struct tg_detect *d, struct slot *s, uint8_t ev)
{
	struct tg_alert a = s->a;

	if (!s->derived)
		derive_into(d, s, &a);
	a.event = ev;
	s->upd_packets = s->a.packets;
	s->upd_sessions = s->a.sessions;
	s->upd_level = s->a.level;
	s->next_update = d->now_ns + d->cfg.update_ms * NS_MS;
	if (ev == TG_AE_START) {
		/* A flood that is a reflection seen once stays silent. */
		if (folded(d, &a))
			return;
		s->start_sent = true;
	}
	if (d->cb)
		d->cb(d->ctx, &a);
}

/* After each entry point: the starts raised during it, now that the
 * window or session that raised them has been counted in full. */
static void emit_pending(struct tg_detect *d)
{
	for (uint32_t i = 0; i < d->nslots && d->pending; i++) {
		struct slot *s = &d->slots[i];

		if (!s->start_pending)
			continue;
		s->start_pending = false;
		d->pending--;
		emit(d, s, TG_AE_START);
	}
}

/* Once per window (tick): an update for each active alert whose last
 * event is update_ms old and whose numbers moved since. */
static void emit_updates(struct tg_detect *d, uint64_t now)
{
	for (uint32_t i = 0; i < d->nslots; i++) {
		struct slot *s = &d->slots[i];

		/* A level reached is reported at once: a defence such as
		 * protect's cookies follows it. */
		if (s->closed || !s->start_sent ||
		    (now < s->next_update && s->a.level <= s->upd_level))
			continue;
		if (s->a.packets == s->upd_packets && s->a.sessions == s->upd_sessions &&
		    s->a.level == s->upd_level)
			continue;
		emit(d, s, TG_AE_UPDATE);
	}
}

void tg_detect_flush(struct tg_detect *d, bool all)
{
	if (d->pending)
		emit_pending(d);
	for (uint32_t i = 0; i < d->nslots; i++) {
		struct slot *s = &d->slots[i];

		if (s->reported || (!s->closed && !all))
			continue;
		if (!s->closed) {
			struct ent *e = &d->ents[s->ent - 1];

			/* The window in progress counts as ended. */
			if (e->kind == EK_HOST || e->kind == EK_PFX ||
			    e->kind == EK_PFXW || e->kind == EK_BS)
				roll(d, e, e->win_start + d->win_ns);
			s->a.open = true;
			alert_close(d, s);
		}
	}
	for (uint32_t i = 0; i < d->nslots; i++) {
		struct slot *s = &d->slots[i];
		struct tg_sig *g = &s->a.sig;

		if (s->reported || !s->closed)
			continue;
		s->reported = true;
		if (g->measured && !g->fp_completed)
			g->block_ok = true;
		else if (g->measured && s->a.kind < TG_AK_SCAN_VERTICAL)
			g->block_ok = false;
		s->a.event = TG_AE_END;
		/* Folded into a reflector alert: reported there, unless its
		 * start was (every start has its end). */
		if ((folded(d, &s->a) && !s->start_sent) || !d->cb)
			continue;
		d->cb(d->ctx, &s->a);
	}
}
