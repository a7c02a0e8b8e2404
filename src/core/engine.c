// SPDX-License-Identifier: MIT
/*
 * The engine: glue between decoder, flow table and TCP tracking, and the
 * owner of time. Each frame is decoded; a TCP packet finds or creates its
 * session (Zeek's rules decide who is the originator and when a SYN starts
 * a new session on the same tuple), is tracked, and moves its session to
 * the timer class its state calls for. Timers run on packet time only:
 * before each packet, every session whose deadline has passed ends, so
 * the same capture always gives the same output.
 *
 * Under pressure (table full) one session is ended to make room, chosen
 * by a fixed rule that protects established sessions from a SYN flood:
 * the oldest closed (lingering) session first, then the oldest half-open
 * one (SYN only, then SYN-ACK seen), then half-closed, and only then the
 * least recently active established session. Each eviction of a session
 * that had not ended is counted. The side pool (flow.h) running out is
 * pressure too: before a packet, when no entry is free, one session that
 * holds an entry ends (a lingering one first), so tracking always finds
 * one.
 *
 * No I/O, no clock, no allocation after tg_engine_new.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpguard/cause.h"
#include "tcpguard/decode.h"
#include "tcpguard/detect.h"
#include "tcpguard/engine.h"
#include "tcpguard/flow.h"
#include "tcpguard/tcp.h"
#include "names.h"

_Static_assert(sizeof(struct tg_session) == 192, "session record over budget");
_Static_assert(sizeof(struct tg_rare) <= 132, "side-pool entry over budget");

/* Each name once, for the string and its length (the JSON writer's). */
#define CONN_STATES(X) \
	X(TG_CS_S0, "S0") X(TG_CS_S1, "S1") X(TG_CS_SF, "SF") X(TG_CS_REJ, "REJ") \
	X(TG_CS_S2, "S2") X(TG_CS_S3, "S3") X(TG_CS_RSTO, "RSTO") X(TG_CS_RSTR, "RSTR") \
	X(TG_CS_RSTOS0, "RSTOS0") X(TG_CS_RSTRH, "RSTRH") X(TG_CS_SH, "SH") \
	X(TG_CS_SHR, "SHR") X(TG_CS_OTH, "OTH")
#define END_REASONS(X) \
	X(TG_END_TCP_FIN, "tcp-fin") \
	X(TG_END_RST_CLIENT, "tcp-rst-from-client") \
	X(TG_END_RST_SERVER, "tcp-rst-from-server") \
	X(TG_END_AGED_OUT, "aged-out") \
	X(TG_END_TCP_REUSE, "tcp-reuse") \
	X(TG_END_OPEN, "open-at-end") \
	X(TG_END_EVICTED, "evicted")

const char *const tg_conn_state_str[TG_CS__COUNT] = { CONN_STATES(TG_NAME_STR) };
const uint8_t tg_conn_state_len[TG_CS__COUNT] = { CONN_STATES(TG_NAME_LEN) };
const char *const tg_end_reason_str[TG_END__COUNT] = { END_REASONS(TG_NAME_STR) };
const uint8_t tg_end_reason_len[TG_END__COUNT] = { END_REASONS(TG_NAME_LEN) };

const char *const tg_timer_str[TG_TIMER__COUNT] = {
	"tcp-init", "tcp-handshake", "tcp", "tcp-half-closed", "tcp-time-wait",
};

#define EP_STATES(X) \
	X(TG_EP_INACTIVE, "inactive") X(TG_EP_SYN_SENT, "syn-sent") \
	X(TG_EP_SYN_ACK_SENT, "syn-ack-sent") X(TG_EP_PARTIAL, "partial") \
	X(TG_EP_ESTABLISHED, "established") X(TG_EP_CLOSED, "closed") \
	X(TG_EP_RESET, "reset")

const char *const tg_ep_state_str[TG_EP__COUNT] = { EP_STATES(TG_NAME_STR) };
const uint8_t tg_ep_state_len[TG_EP__COUNT] = { EP_STATES(TG_NAME_LEN) };

/* Zeek's likely_server_ports with all base protocol scripts loaded. */
static const uint16_t zeek_server_ports[] = {
	21, 22, 23, 25, 53, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445,
	502, 563, 585, 587, 614, 631, 636, 989, 990, 992, 993, 995, 1080,
	1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 5900,
	6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
};

struct tg_engine {
	struct tg_engine_cfg cfg;
	struct tg_flow_table ft;
	struct tg_stats st;
	struct tg_detect *det;            /* NULL: detection off */
	uint64_t now_ns;
	/* No session's deadline is earlier than this: expiry is skipped
	 * until packet time reaches it. Lowered as sessions change,
	 * recomputed from the list heads after each expiry pass. */
	uint64_t next_deadline;
	uint64_t timeout_ns[TG_TIMER__COUNT];
	unsigned step_how;                /* tg_tcp_step's TG_STEP_* */
	uint8_t server_port[65536 / 8];
};

static const uint32_t default_timeout_s[TG_TIMER__COUNT] = {
	[TG_TIMER_INIT] = TG_DEFAULT_TIMEOUT_INIT_S,
	[TG_TIMER_HANDSHAKE] = TG_DEFAULT_TIMEOUT_HANDSHAKE_S,
	[TG_TIMER_ESTABLISHED] = TG_DEFAULT_TIMEOUT_ESTABLISHED_S,
	[TG_TIMER_HALF_CLOSED] = TG_DEFAULT_TIMEOUT_HALF_CLOSED_S,
	[TG_TIMER_TIME_WAIT] = TG_DEFAULT_TIMEOUT_TIME_WAIT_S,
};

struct tg_engine *tg_engine_new(const struct tg_engine_cfg *cfg)
{
	struct tg_engine *e = calloc(1, sizeof(*e));
	const uint16_t *ports = zeek_server_ports;
	uint32_t nports = sizeof(zeek_server_ports) / sizeof(zeek_server_ports[0]);

	if (!e)
		return NULL;
	e->cfg = *cfg;
	e->step_how = (cfg->no_evidence ? 0 : TG_STEP_EVIDENCE) |
		      (cfg->decode.no_fast_path ? TG_STEP_GENERAL : 0);
	if (cfg->max_memory) {
		/* The budget covers the detector's tables too. */
		uint64_t fixed = sizeof(*e) +
				 (cfg->detect.enabled ? tg_detect_bytes(&cfg->detect) : 0);
		uint64_t room = cfg->max_memory > fixed ? cfg->max_memory - fixed : 0;

		e->cfg.max_flows = tg_flow_cap_for_bytes(room);
		if (!e->cfg.max_flows) {
			free(e);
			return NULL;
		}
	}
	if (!e->cfg.max_flows)
		e->cfg.max_flows = TG_DEFAULT_MAX_FLOWS;
	if (tg_flow_init(&e->ft, e->cfg.max_flows) != 0) {
		free(e);
		return NULL;
	}
	for (int i = 0; i < TG_TIMER__COUNT; i++) {
		uint64_t ms = cfg->timeout_ms[i] ? cfg->timeout_ms[i]
						 : default_timeout_s[i] * 1000ull;
		e->timeout_ns[i] = ms * 1000000ull;
	}
	if (cfg->server_ports) {
		ports = cfg->server_ports;
		nports = cfg->n_server_ports;
	}
	for (uint32_t i = 0; i < nports; i++)
		e->server_port[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
	if (cfg->detect.enabled && !cfg->detect_elsewhere &&
	    !(e->det = tg_detect_new(&cfg->detect, cfg->on_alert, cfg->cb_ctx))) {
		tg_engine_free(e);
		return NULL;
	}
	e->st.max_flows = e->cfg.max_flows;
	/* Everything the table holds per flow: record, its share of the
	 * side pool and of the buckets. */
	e->st.session_bytes = (uint32_t)((tg_flow_bytes(e->cfg.max_flows) +
					  e->cfg.max_flows - 1) / e->cfg.max_flows);
	return e;
}

void tg_engine_free(struct tg_engine *e)
{
	if (!e)
		return;
	tg_detect_free(e->det);
	tg_flow_destroy(&e->ft);
	free(e);
}

const struct tg_stats *tg_engine_stats(const struct tg_engine *e)
{
	return &e->st;
}

uint64_t tg_engine_now(const struct tg_engine *e)
{
	return e->now_ns;
}

struct tg_detect *tg_engine_detect(struct tg_engine *e)
{
	return e->det;
}

uint32_t tg_engine_active_in(const struct tg_engine *e, enum tg_timer t)
{
	return (unsigned)t < TG_TIMER__COUNT ? e->ft.list[t].count : 0;
}

void tg_engine_untouched(const struct tg_engine *e, struct tg_mem_span span[2])
{
	const struct tg_flow_table *t = &e->ft;

	span[0] = (struct tg_mem_span){ t->s + t->high,
					(size_t)(t->cap - t->high) * sizeof(*t->s) };
	span[1] = (struct tg_mem_span){ t->rare + t->rare_high,
					(size_t)(t->rare_cap - t->rare_high) * sizeof(*t->rare) };
}

/* The whole evidence of @s: its running part and, if it took one, its
 * side-pool entry. */
static void gather_evidence(const struct tg_flow_table *t, const struct tg_session *s,
			    struct tg_evidence *ev)
{
	const struct tg_rare *x = tg_flow_rare(t, s);

	ev->flags = s->ev.flags & ~TG_EV_WSHIFTS;
	ev->win_last[0] = tg_ev_win_last(&s->ev, 0);
	ev->win_last[1] = tg_ev_win_last(&s->ev, 1);
	ev->last_gap_us = s->ev.last_gap_us;
	if (x) {
		ev->resp_fin_ms = x->resp_fin_ms;
		ev->r = x->r;
		ev->d[0] = x->d[0];
		ev->d[1] = x->d[1];
	} else {
		ev->resp_fin_ms = 0;
		memset(&ev->r, 0, sizeof(ev->r));
		memset(ev->d, 0, sizeof(ev->d));
	}
}

static void end_session(struct tg_engine *e, struct tg_session *s,
			enum tg_end_reason why)
{
	struct tg_evidence ev;
	struct tg_cause_info cause;

	/* The session callback (formatting, for analyze) runs before the
	 * detector's turn: time for its entities to arrive. */
	if (e->det)
		tg_detect_prefetch_end(e->det, s);
	s->end = (uint8_t)why;
	tg_tcp_finish(&e->ft, s);
	gather_evidence(&e->ft, s, &ev);
	if (e->cfg.no_evidence)
		cause.cause = TG_CAUSE_UNKNOWN;
	else
		tg_cause_classify(s, &ev, &cause);
	e->st.ended[why]++;
	e->st.conn_state[tg_session_conn_state(s)]++;
	e->st.cause[cause.cause]++;
	if (e->cfg.on_end)
		e->cfg.on_end(e->cfg.cb_ctx, s, &ev, &cause);
	if (e->det)
		tg_detect_session_end(e->det, s);
	tg_flow_remove(&e->ft, s);
	e->st.active--;
}

static uint64_t deadline(const struct tg_engine *e, const struct tg_session *s)
{
	/* A SYN with no answer gets a fixed time from the first SYN (PAN-OS
	 * tcp-init, Zeek's attempt timer); everything else is idle time. */
	if (s->timer == TG_TIMER_INIT)
		return s->first_ns + e->timeout_ns[TG_TIMER_INIT];
	/* A completed close lingers a fixed time from the close. */
	if (s->timer == TG_TIMER_TIME_WAIT && (s->flags & TG_SF_CLOSE_DONE))
		return s->first_ns + s->close_ms * 1000000ull +
		       e->timeout_ns[TG_TIMER_TIME_WAIT];
	return s->last_ns + e->timeout_ns[s->timer];
}

static void expire(struct tg_engine *e, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (now < e->next_deadline)
		return;
	for (int t = 0; t < TG_TIMER__COUNT; t++) {
		struct tg_session *s;
		uint64_t d;

		while ((s = tg_flow_oldest(&e->ft, (enum tg_timer)t))) {
			d = deadline(e, s);
			/* Sessions end here long after their last packet:
			 * have the head and the one after it loaded before
			 * their turn comes. */
			tg_flow_prefetch_list(&e->ft, s);
			if (d > now) {
				if (d < next)
					next = d;
				break;
			}
			end_session(e, s, tg_tcp_end_reason(s, true));
		}
	}
	e->next_deadline = next;
}

void tg_engine_advance(struct tg_engine *e, uint64_t now_ns)
{
	if (now_ns > e->now_ns)
		e->now_ns = now_ns;
	expire(e, e->now_ns);
	if (e->det)
		tg_detect_advance(e->det, e->now_ns);
}

/* Ends @s to make room: a lingering session with its own reason, any
 * other as evicted (and counted). */
static void end_for_room(struct tg_engine *e, struct tg_session *s)
{
	if (s->timer == TG_TIMER_TIME_WAIT) {
		end_session(e, s, tg_tcp_end_reason(s, true));
	} else {
		e->st.evicted++;
		end_session(e, s, TG_END_EVICTED);
	}
}

/* Makes room by the eviction rule in the file comment. */
static void evict_one(struct tg_engine *e)
{
	static const enum tg_timer order[] = {
		TG_TIMER_TIME_WAIT, TG_TIMER_INIT, TG_TIMER_HANDSHAKE,
		TG_TIMER_HALF_CLOSED, TG_TIMER_ESTABLISHED,
	};

	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct tg_session *s = tg_flow_oldest(&e->ft, order[i]);

		if (!s)
			continue;
		end_for_room(e, s);
		return;
	}
}

/* The side pool is empty: one session that holds an entry ends (see
 * tg_flow_rare_victim). */
static void free_rare(struct tg_engine *e)
{
	struct tg_session *s = tg_flow_rare_victim(&e->ft);

	e->st.rare_full++;
	if (s)
		end_for_room(e, s);
}

static inline bool server_port(const struct tg_engine *e, uint16_t p)
{
	return e->server_port[p / 8] & (1u << (p % 8));
}

/* Zeek WantConnection: a session that starts with anything but a plain SYN
 * is turned round when its source port looks like a server's. */
static bool want_flip(const struct tg_engine *e, const struct tg_pkt *p)
{
	uint8_t fl = p->tcp_flags;

	if ((fl & TG_TCP_SYN) && !(fl & TG_TCP_ACK))
		return false;
	if (!server_port(e, p->sport))
		return false;
	if (server_port(e, p->dport))
		return !(fl & TG_TCP_SYN) && p->sport < p->dport;
	return true;
}

static struct tg_session *new_session(struct tg_engine *e, const struct tg_pkt *p)
{
	struct tg_session *s = tg_flow_alloc(&e->ft);

	if (!s) {
		evict_one(e);
		s = tg_flow_alloc(&e->ft);
		if (!s)
			return NULL;
	}
	tg_tcp_begin(s, p, want_flip(e, p));
	tg_flow_insert(&e->ft, s, TG_TIMER_INIT);
	e->st.sessions++;
	if (++e->st.active > e->st.active_peak)
		e->st.active_peak = e->st.active;
	return s;
}

static void feed_pkt_h(struct tg_engine *e, const struct tg_pkt *p, uint32_t h);

void tg_engine_feed_pkt(struct tg_engine *e, const struct tg_pkt *p)
{
	feed_pkt_h(e, p, tg_flow_hash(p));
}

void tg_engine_feed_batch(struct tg_engine *e, int link,
			  const struct tg_frame_in *f, unsigned n)
{
	struct tg_pkt p[TG_BATCH_MAX];
	uint32_t h[TG_BATCH_MAX];
	bool tcp[TG_BATCH_MAX];

	if (n > TG_BATCH_MAX)
		n = TG_BATCH_MAX;
	for (unsigned i = 0; i < n; i++) {
		enum tg_decode_verdict v;

		p[i].ts_ns = f[i].ts_ns;
		p[i].num = f[i].num;
		v = tg_decode(&e->cfg.decode, link, f[i].data, f[i].cap_len,
			      f[i].wire_len, &p[i]);
		e->st.frames++;
		e->st.decode[v]++;
		tcp[i] = v == TG_DEC_TCP;
		if (tcp[i]) {
			e->st.tcp_opts[p[i].opts.verdict]++;
			h[i] = tg_flow_hash(&p[i]);
			tg_flow_prefetch_bucket(&e->ft, h[i]);
			if (e->det)
				tg_detect_prefetch(e->det, &p[i]);
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (tcp[i])
			tg_flow_prefetch_entry(&e->ft, h[i]);
	for (unsigned i = 0; i < n; i++) {
		/* The packet after next: its record has arrived by now; its
		 * neighbours on the timer list are about to be relinked. */
		if (i + 2 < n && tcp[i + 2])
			tg_flow_prefetch_links(&e->ft, h[i + 2]);
		if (tcp[i])
			feed_pkt_h(e, &p[i], h[i]);
	}
}

static void feed_pkt_h(struct tg_engine *e, const struct tg_pkt *p, uint32_t h)
{
	struct tg_session *s;
	bool from_orig = true, created = false;
	enum tg_timer t;
	uint64_t dl;

	if (p->ts_ns < e->now_ns)
		e->st.ts_backwards++;
	else
		e->now_ns = p->ts_ns;
	expire(e, e->now_ns);
	e->st.tcp_packets++;
	/* A packet takes at most one side-pool entry. */
	if (tg_flow_rare_full(&e->ft))
		free_rare(e);

	s = tg_flow_lookup_h(&e->ft, p, h, &from_orig);
	if (s && tg_tcp_is_reuse(s, p)) {
		e->st.reused++;
		end_session(e, s, tg_tcp_closed(s) ? tg_tcp_end_reason(s, true)
						   : TG_END_TCP_REUSE);
		s = NULL;
	}
	if (!s) {
		s = new_session(e, p);
		if (!s)
			return;
		from_orig = tg_addr_eq(&s->orig_h, &p->src) &&
			    s->orig_p == p->sport;
		created = true;
	}
	tg_tcp_step(&e->ft, s, p, from_orig, e->step_how);
	if (e->det)
		tg_detect_packet(e->det, p, s, from_orig, created);
	if (e->cfg.on_packet)
		e->cfg.on_packet(e->cfg.cb_ctx, p, s, from_orig, created);

	t = tg_tcp_timer(s);
	/* Fixed-deadline classes keep their place: re-touching would
	 * postpone a deadline that counts from the first packet or the close. */
	if (t != s->timer || (t != TG_TIMER_INIT && t != TG_TIMER_TIME_WAIT))
		tg_flow_touch(&e->ft, s, t);
	dl = deadline(e, s);
	if (dl < e->next_deadline)
		e->next_deadline = dl;
}

enum tg_decode_verdict tg_engine_feed(struct tg_engine *e, int link,
				      uint64_t ts_ns, uint64_t num,
				      const uint8_t *data, uint32_t cap_len,
				      uint32_t wire_len)
{
	struct tg_pkt p;
	enum tg_decode_verdict v;

	p.ts_ns = ts_ns;
	p.num = num;
	v = tg_decode(&e->cfg.decode, link, data, cap_len, wire_len, &p);
	e->st.frames++;
	e->st.decode[v]++;
	if (v != TG_DEC_TCP)
		return v;
	e->st.tcp_opts[p.opts.verdict]++;
	tg_engine_feed_pkt(e, &p);
	return v;
}

void tg_engine_finish(struct tg_engine *e)
{
	for (int t = 0; t < TG_TIMER__COUNT; t++) {
		struct tg_session *s;

		while ((s = tg_flow_oldest(&e->ft, (enum tg_timer)t)))
			end_session(e, s, tg_tcp_end_reason(s, false));
	}
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

char *tg_session_uid(const struct tg_session *s, uint64_t seed, char *buf)
{
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t w[4], h1, h2;

	/* Derived from what identifies the session, so the same capture
	 * gives the same uids however it is split across workers. */
	memcpy(w, s->orig_h.b, 16);
	memcpy(w + 2, s->resp_h.b, 16);
	h1 = mix(seed ^ w[0] ^ mix(w[1] ^ mix(s->first_ns)));
	h2 = mix(h1 ^ w[2] ^ mix(w[3] ^ ((uint64_t)s->orig_p << 16 | s->resp_p)));
	/* Base 62, least significant digit first: 9 digits of h1, 8 of
	 * h2; two digits per 64-bit division, split with 32-bit arithmetic. */
	buf[0] = 'C';
	for (int i = 1; i < 9; i += 2) {
		uint32_t r = (uint32_t)(h1 % (62 * 62));

		h1 /= 62 * 62;
		buf[i] = b62[r % 62];
		buf[i + 1] = b62[r / 62];
	}
	buf[9] = b62[h1 % 62];
	for (int i = 10; i < 18; i += 2) {
		uint32_t r = (uint32_t)(h2 % (62 * 62));

		h2 /= 62 * 62;
		buf[i] = b62[r % 62];
		buf[i + 1] = b62[r / 62];
	}
	buf[18] = '\0';
	return buf;
}

/* Zeek TCP_Endpoint::Size(). */
uint64_t tg_session_bytes(const struct tg_session *s, int dir)
{
	const struct tg_dir *d = &s->d[dir], *peer = &s->d[!dir];
	uint64_t last = ((uint64_t)d->seq_wraps << 32) + d->last_seq;
	uint64_t ack = ((uint64_t)d->ack_wraps << 32) + d->ack_seq;
	uint64_t size;

	if (d->prev_state == TG_EP_SYN_SENT && d->state == TG_EP_RESET &&
	    peer->state == TG_EP_INACTIVE && !(ack == d->isn || ack == d->isn + 1ull))
		return 0;
	size = (last > ack ? last : ack) - d->isn;
	if (size)
		size--;
	if ((d->dflags & TG_DF_FIN_SEEN) && size)
		size--;
	return size;
}

static bool hist_is_rstos0(const struct tg_session *s)
{
	/* /^\^?S[^HAFGIQ]*R.*$/ over the whole history. */
	int i = 0;

	if (i < s->hist_len && s->hist[i] == '^')
		i++;
	if (i >= s->hist_len || s->hist[i] != 'S')
		return false;
	for (i++; i < s->hist_len; i++) {
		if (s->hist[i] == 'R')
			return true;
		if (strchr("HAFGIQ", s->hist[i]))
			return false;
	}
	return false;
}

enum tg_conn_state tg_session_conn_state(const struct tg_session *s)
{
	int os = s->d[0].state, rs = s->d[1].state;
	bool o_in = os == TG_EP_INACTIVE || os == TG_EP_PARTIAL;
	bool r_in = rs == TG_EP_INACTIVE || rs == TG_EP_PARTIAL;

	if (rs == TG_EP_RESET) {
		if (os == TG_EP_SYN_SENT || os == TG_EP_SYN_ACK_SENT ||
		    (os == TG_EP_RESET && tg_session_bytes(s, 0) == 0 &&
		     tg_session_bytes(s, 1) == 0))
			return TG_CS_REJ;
		return o_in ? TG_CS_RSTRH : TG_CS_RSTR;
	}
	if (os == TG_EP_RESET) {
		if (r_in)
			return hist_is_rstos0(s) ? TG_CS_RSTOS0 : TG_CS_OTH;
		return TG_CS_RSTO;
	}
	if (rs == TG_EP_CLOSED && os == TG_EP_CLOSED)
		return TG_CS_SF;
	if (os == TG_EP_CLOSED)
		return r_in ? TG_CS_SH : TG_CS_S2;
	if (rs == TG_EP_CLOSED)
		return o_in ? TG_CS_SHR : TG_CS_S3;
	if (os == TG_EP_SYN_SENT && rs == TG_EP_INACTIVE)
		return TG_CS_S0;
	if (os == TG_EP_ESTABLISHED && rs == TG_EP_ESTABLISHED)
		return TG_CS_S1;
	return TG_CS_OTH;
}
