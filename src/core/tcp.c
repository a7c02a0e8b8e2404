// SPDX-License-Identifier: MIT
/*
 * TCP tracking for one session, modelled on Zeek's TCP analyzer so that
 * conn_state, history and the byte counts in conn.log come out the same:
 * two endpoints, each with Zeek's state (INACTIVE, SYN_SENT, SYN_ACK_SENT,
 * PARTIAL, ESTABLISHED, CLOSED, RESET), start/last/ack sequence numbers
 * with wrap counters, the history letters with Zeek's repeat rules, and a
 * reassembly shadow that finds content gaps (missed_bytes) without keeping
 * any payload. On top of that it keeps what Zeek does not: TTL and IP ID
 * ranges per side, zero-window episodes with their duration and probes,
 * who closed first and who reset first.
 *
 * The per-packet order is Zeek's (TCPSessionAdapter::Process): initialise
 * the sender, compute its relative sequence, add history, check the
 * window, update acks and last sequence, run the state machine, account
 * for gaps the ACK reveals, then note the close. Changing the order
 * changes the output; tests/data holds the cases that pin it.
 *
 * Called by the engine for every TCP packet of a session. Never allocates,
 * never fails: odd packets are just packets with odd flags. What few
 * sessions need (reset photograph, zero-window, gap and checksum
 * counters) goes to the flow table's side pool, taken on first need; the
 * engine keeps an entry free before each packet.
 */
#include <string.h>

#include "tcpguard/engine.h"
#include "tcpguard/tcp.h"

/* Sequence distances beyond which a SYN or RST is not trusted to move the
 * highest sequence seen (Zeek update_last_seq). */
#define SEQ_JUMP_MAX 1048576
/* Gap accounting gives up after this much data above a hole with nothing
 * acknowledged (Zeek tcp_max_above_hole_without_any_acks). */
#define ABOVE_HOLE_MAX 16384

static inline int32_t seq_delta(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* Direction @dir's rare counters, taken from the side pool on first need;
 * NULL only if the pool ran dry (the engine prevents that). */
static inline struct tg_dir_rare *rare_dir(struct tg_flow_table *t,
					   struct tg_session *s, int dir)
{
	struct tg_rare *x = tg_flow_rare_get(t, s);

	return x ? &x->d[dir] : NULL;
}

static void hist_add(struct tg_session *s, char c)
{
	if (s->hist_len < TG_HIST_MAX)
		s->hist[s->hist_len++] = c;
	else
		s->flags |= TG_SF_HIST_TRUNC;
}

/* Letters from the originator are upper case, from the responder lower. */
static void hist_dir(struct tg_session *s, int dir, char c)
{
	hist_add(s, dir ? (char)(c - 'A' + 'a') : c);
}

/* Zeek Connection::CheckHistory: adds @c the first time @mask is seen in
 * this direction; returns whether it had been seen already. */
static bool hist_check(struct tg_session *s, int dir, uint8_t mask, char c)
{
	struct tg_dir *d = &s->d[dir];

	if (!(d->hist_seen & mask)) {
		d->hist_seen |= mask;
		hist_dir(s, dir, c);
		return false;
	}
	return true;
}

/* Zeek ScaledHistoryEntry: the letter at the 1st, 10th, 100th ... event. */
static void hist_scaled(struct tg_session *s, int dir, uint32_t count, char c)
{
	while (count >= 10 && count % 10 == 0)
		count /= 10;
	if (count == 1)
		hist_dir(s, dir, c);
}

static inline uint16_t sat16_inc(uint16_t v)
{
	return v == UINT16_MAX ? v : (uint16_t)(v + 1);
}

/* Zeek get_relative_seq: @cur relative to the endpoint's start, in a
 * 64-bit space using the wrap count that belongs with @last. */
static uint64_t rel_seq(const struct tg_dir *d, uint32_t cur, uint32_t last,
			uint32_t wraps, bool *underflow)
{
	int32_t delta = seq_delta(cur, last);

	if (delta < 0 && wraps && cur > last)
		wraps--;
	else if (delta > 0 && cur < last)
		wraps++;
	if (wraps == 0) {
		int32_t r = seq_delta(cur, d->isn);

		if (r < 0)
			*underflow = true;
		return (uint64_t)(int64_t)r;
	}
	return ((uint64_t)wraps << 32) + cur - d->isn;
}

static void set_state(struct tg_dir *d, enum tg_ep_state st)
{
	if (d->state != st) {
		d->prev_state = d->state;
		d->state = (uint8_t)st;
	}
}

static void init_seqs(struct tg_dir *d, uint32_t start, uint32_t last)
{
	d->isn = start;
	d->ack_seq = start;
	d->last_seq = last;
	d->reassem = start + 1;
}

/* Zeek init_endpoint: (re)initialise the sender's sequence space from this
 * packet, depending on its state before the packet. */
static void init_endpoint(struct tg_dir *d, uint8_t fl, uint32_t seq,
			  uint32_t end_seq)
{
	bool syn = fl & TG_TCP_SYN;

	switch (d->state) {
	case TG_EP_INACTIVE:
		if (syn)
			init_seqs(d, seq, end_seq);
		else
			init_seqs(d, seq - 1, seq);
		break;
	case TG_EP_SYN_SENT:
	case TG_EP_SYN_ACK_SENT:
		if (syn && seq != d->isn)
			init_seqs(d, seq, end_seq);
		break;
	case TG_EP_ESTABLISHED:
	case TG_EP_PARTIAL:
		if (syn)
			init_seqs(d, seq, end_seq);
		break;
	case TG_EP_RESET:
		if (syn && d->prev_state == TG_EP_INACTIVE)
			init_seqs(d, seq, end_seq);
		break;
	default:
		break;
	}
}

/* Zeek update_history. */
static void update_history(struct tg_flow_table *t, struct tg_session *s,
			   int dir, uint8_t fl, uint64_t rel, uint32_t len)
{
	struct tg_dir *d = &s->d[dir];
	bool syn = fl & TG_TCP_SYN, fin = fl & TG_TCP_FIN, rst = fl & TG_TCP_RST;
	int bits = syn + fin + rst;

	if (bits > 1) {
		if (fin && rst)
			hist_check(s, dir, TG_HS_FINRST, 'I');
		else
			hist_check(s, dir, TG_HS_MULTI, 'Q');
	} else if (syn) {
		char c = (fl & TG_TCP_ACK) ? 'H' : 'S';
		/* A SYN sits at relative 0 unless the sequence moved: only
		 * then does the position need the side pool. */
		struct tg_rare *x = tg_flow_rare(t, s);
		uint32_t last = x ? x->d[dir].hist_syn : 0;

		if (hist_check(s, dir, TG_HS_SYN, c) && (uint32_t)rel != last)
			hist_dir(s, dir, c);
		if ((uint32_t)rel != last && (x || (x = tg_flow_rare_get(t, s))))
			x->d[dir].hist_syn = (uint32_t)rel;
	} else if (fin) {
		/* A FIN's sequence position is after its data. */
		uint32_t at = (uint32_t)(rel + len);

		if (hist_check(s, dir, TG_HS_FIN, 'F') && at + 1 != d->fin_rel)
			hist_dir(s, dir, 'F');
	} else if (rst) {
		struct tg_dir_rare *x = rare_dir(t, s, dir);
		uint32_t last = x ? x->hist_rst : 0;

		if (hist_check(s, dir, TG_HS_RST, 'R') && (uint32_t)rel != last)
			hist_dir(s, dir, 'R');
		if (x)
			x->hist_rst = (uint32_t)rel;
	} else if (len) {
		hist_check(s, dir, TG_HS_DATA, 'D');
	} else if (fl & TG_TCP_ACK) {
		hist_check(s, dir, TG_HS_ACK, 'A');
	}
}

static inline uint32_t rel_ms(const struct tg_session *s, uint64_t ts)
{
	uint64_t ms = ts > s->first_ns ? (ts - s->first_ns) / 1000000u : 0;

	return ms > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)ms;
}

/* An open episode has its side-pool entry: opening one took it. */
static void zw_close(struct tg_flow_table *t, struct tg_session *s, int dir,
		     uint64_t ts)
{
	struct tg_dir *d = &s->d[dir];
	struct tg_rare *x = tg_flow_rare(t, s);

	if (!(d->dflags & TG_DF_ZW_OPEN))
		return;
	if (x)
		x->d[dir].zw_total_ms += rel_ms(s, ts) - x->d[dir].zw_start_ms;
	d->dflags &= (uint8_t)~TG_DF_ZW_OPEN;
}

/* Zeek update_window (the W letter) plus zero-window episodes: an episode
 * opens with a zero window and closes when the same side opens it again;
 * segments the peer sends meanwhile with at most one byte are probes,
 * counted on the stalled side's episode. */
static void update_window(struct tg_flow_table *t, struct tg_session *s, int dir,
			  const struct tg_pkt *p)
{
	struct tg_dir *d = &s->d[dir];
	struct tg_dir *peer = &s->d[!dir];
	bool rst = p->tcp_flags & TG_TCP_RST;
	struct tg_dir_rare *x;

	if (p->win == 0 && !rst && peer->state != TG_EP_CLOSED &&
	    d->state != TG_EP_RESET && (x = rare_dir(t, s, dir))) {
		x->zw_adv = sat16_inc(x->zw_adv);
		hist_scaled(s, dir, x->zw_adv, 'W');
	}
	if (rst)
		return;
	if (p->win == 0 && !(p->tcp_flags & TG_TCP_SYN)) {
		if (!(d->dflags & TG_DF_ZW_OPEN) && (x = rare_dir(t, s, dir))) {
			d->dflags |= TG_DF_ZW_OPEN;
			x->zw_start_ms = rel_ms(s, p->ts_ns);
			x->zw_episodes = sat16_inc(x->zw_episodes);
		}
	} else if (p->win) {
		zw_close(t, s, dir, p->ts_ns);
	}
	if ((peer->dflags & TG_DF_ZW_OPEN) && p->payload_len <= 1 &&
	    !(p->tcp_flags & (TG_TCP_SYN | TG_TCP_FIN)) &&
	    (p->payload_len == 1 || p->seq == d->last_seq - 1) &&
	    (x = rare_dir(t, s, !dir)))
		x->zw_probes = sat16_inc(x->zw_probes);
}

/* Zeek update_last_seq; returns the distance the segment end moved. */
static int32_t update_last_seq(struct tg_flow_table *t, struct tg_session *s, int dir,
			       uint32_t end_seq, uint8_t fl, uint32_t len)
{
	struct tg_dir *d = &s->d[dir];
	int32_t delta = seq_delta(end_seq, d->last_seq);

	if ((fl & (TG_TCP_SYN | TG_TCP_RST)) &&
	    (delta > SEQ_JUMP_MAX || delta < -SEQ_JUMP_MAX))
		return delta;
	if ((fl & TG_TCP_FIN) && d->last_seq == d->isn + 1) {
		/* First FIN right after the SYN: trust it even if backwards. */
	} else if (d->state == TG_EP_RESET) {
		return delta;
	} else if (delta <= 0) {
		struct tg_dir_rare *x;

		if (len > 0 && (x = rare_dir(t, s, dir))) {
			x->rxmit++;
			hist_scaled(s, dir, x->rxmit, 'T');
		}
		return delta;
	}
	if (end_seq < d->last_seq)
		d->seq_wraps++;
	d->last_seq = end_seq;
	return delta;
}

static void flip_roles(struct tg_flow_table *t, struct tg_session *s)
{
	struct tg_addr a = s->orig_h;
	uint16_t port = s->orig_p;
	struct tg_dir d = s->d[0];
	uint8_t seen0 = s->d[0].hist_seen, seen1 = s->d[1].hist_seen;
	struct tg_rare *x = tg_flow_rare(t, s);

	if (x) {
		struct tg_dir_rare r = x->d[0];

		x->d[0] = x->d[1];
		x->d[1] = r;
	}

	s->orig_h = s->resp_h;
	s->orig_p = s->resp_p;
	s->resp_h = a;
	s->resp_p = port;
	s->d[0] = s->d[1];
	s->d[1] = d;
	/* Zeek keeps its seen-letter mask by role, not by endpoint. */
	s->d[0].hist_seen = seen0;
	s->d[1].hist_seen = seen1;
	s->flags ^= TG_SF_FLIPPED;
	s->flags = (uint8_t)((s->flags & ~(TG_SF_ORIG_CLOSED_FIRST | TG_SF_RESP_CLOSED_FIRST |
					  TG_SF_RST_ORIG_FIRST | TG_SF_RST_RESP_FIRST)) |
			     (s->flags & TG_SF_ORIG_CLOSED_FIRST ? TG_SF_RESP_CLOSED_FIRST : 0) |
			     (s->flags & TG_SF_RESP_CLOSED_FIRST ? TG_SF_ORIG_CLOSED_FIRST : 0) |
			     (s->flags & TG_SF_RST_ORIG_FIRST ? TG_SF_RST_RESP_FIRST : 0) |
			     (s->flags & TG_SF_RST_RESP_FIRST ? TG_SF_RST_ORIG_FIRST : 0));
	hist_add(s, '^');
}

/* The state machine (Zeek UpdateStateMachine and its helpers), switched
 * on the sender's state before this packet. Returns whether the packet
 * closes the sender's side (Zeek do_close). May flip roles. */
static bool update_state(struct tg_flow_table *t, struct tg_session *s, int *dirp,
			 uint8_t fl, uint32_t seq, uint32_t len)
{
	int dir = *dirp;
	struct tg_dir *d = &s->d[dir];
	struct tg_dir *peer = &s->d[!dir];
	bool syn = fl & TG_TCP_SYN, fin = fl & TG_TCP_FIN, rst = fl & TG_TCP_RST;
	bool ack = fl & TG_TCP_ACK;
	bool do_close = false;

	switch (d->state) {
	case TG_EP_INACTIVE:
		if (syn) {
			if (dir == 0) {
				set_state(d, ack ? TG_EP_SYN_ACK_SENT : TG_EP_SYN_SENT);
			} else {
				if (!ack && peer->state == TG_EP_SYN_ACK_SENT &&
				    seq == d->isn) {
					/* SYN answering a SYN-ACK: the roles were
					 * the wrong way round. */
					flip_roles(t, s);
					dir = *dirp = 0;
					d = &s->d[0];
					peer = &s->d[1];
					set_state(peer, TG_EP_ESTABLISHED);
				}
				if (peer->state == TG_EP_SYN_SENT)
					set_state(peer, TG_EP_ESTABLISHED);
				set_state(d, TG_EP_ESTABLISHED);
			}
		}
		if (fin) {
			set_state(d, TG_EP_CLOSED);
			do_close = true;
		}
		if (rst) {
			set_state(d, TG_EP_RESET);
			do_close = true;
		}
		if (d->state == TG_EP_INACTIVE) {
			if (dir == 1 && len == 0 && s->d[0].state == TG_EP_SYN_SENT)
				break;
			if (ack && peer->state == TG_EP_ESTABLISHED) {
				set_state(d, TG_EP_ESTABLISHED);
				d->dflags &= (uint8_t)~TG_DF_PARTIAL;
				peer->dflags &= (uint8_t)~TG_DF_PARTIAL;
			} else {
				set_state(d, TG_EP_PARTIAL);
			}
		}
		break;
	case TG_EP_SYN_SENT:
	case TG_EP_SYN_ACK_SENT:
		if (fin) {
			set_state(d, TG_EP_CLOSED);
			do_close = true;
		}
		if (rst) {
			set_state(d, TG_EP_RESET);
			do_close = true;
		}
		break;
	case TG_EP_ESTABLISHED:
	case TG_EP_PARTIAL:
		if (syn && d->state == TG_EP_PARTIAL && peer->state == TG_EP_INACTIVE && !ack)
			set_state(d, TG_EP_SYN_SENT);
		if (fin && !rst) {
			set_state(d, TG_EP_CLOSED);
			if (peer->state == TG_EP_RESET && peer->prev_state == TG_EP_CLOSED)
				set_state(peer, TG_EP_CLOSED);
			do_close = true;
		}
		if (rst) {
			set_state(d, TG_EP_RESET);
			do_close = true;
		}
		break;
	case TG_EP_CLOSED:
		if (rst && peer->state != TG_EP_CLOSED) {
			set_state(d, TG_EP_RESET);
			if (!(d->dflags & TG_DF_DID_CLOSE))
				do_close = true;
		}
		break;
	default:
		break;
	}
	return do_close;
}

static inline bool is_clean(const struct tg_dir *d)
{
	return d->state == TG_EP_ESTABLISHED ||
	       (d->state == TG_EP_CLOSED && d->prev_state == TG_EP_ESTABLISHED);
}

/* Zeek's reassembler, reduced to what conn.log needs: data delivered in
 * order advances @reassem; an ACK from the peer beyond it reveals a gap,
 * less the bytes already seen out of order above the hole. */
static inline __attribute__((always_inline))
void ack_received(struct tg_flow_table *t, struct tg_session *s, int dir, uint32_t ack)
{
	struct tg_dir *d = &s->d[dir];
	uint32_t up_to = ack;
	int32_t hole;

	if ((d->dflags & TG_DF_FIN_SEEN) && seq_delta(up_to, d->isn + d->fin_rel) >= 0)
		up_to = d->isn + d->fin_rel - 1;
	hole = seq_delta(up_to, d->reassem);
	if (hole <= 0)
		return;
	/* The ACK of the faked ISN+1 on a midstream pickup is no gap. */
	if ((d->dflags & TG_DF_PARTIAL) && seq_delta(up_to, d->isn) <= 2) {
		d->reassem = up_to;
		return;
	}
	if (!(d->dflags & TG_DF_GAP_OFF)) {
		/* Data above the hole lives in the side pool; none, no entry. */
		struct tg_rare *x = tg_flow_rare(t, s);
		uint32_t above = x ? x->d[dir].above : 0;
		uint32_t seen = above < (uint32_t)hole ? above : (uint32_t)hole;
		uint32_t missing = (uint32_t)hole - seen;

		if (missing && is_clean(d) && is_clean(&s->d[!dir]) &&
		    (x || (x = tg_flow_rare_get(t, s)))) {
			x->d[dir].gaps = sat16_inc(x->d[dir].gaps);
			hist_scaled(s, dir, x->d[dir].gaps, 'G');
			x->d[dir].missed += missing;
		}
		if (seen)
			x->d[dir].above -= seen;
	}
	d->reassem = up_to;
}

/* Payload that was fully captured enters the reassembly shadow. Data
 * above a hole is counted in the side pool: in-order data needs none. */
static void data_sent(struct tg_flow_table *t, struct tg_session *s, int dir,
		      uint32_t seq, uint32_t len)
{
	struct tg_dir *d = &s->d[dir];
	int32_t off = seq_delta(seq, d->reassem);
	struct tg_dir_rare *x;

	if (off <= 0) {
		if ((int64_t)off + len > 0) {
			struct tg_rare *r = tg_flow_rare(t, s);

			d->reassem += (uint32_t)((int64_t)off + len);
			/* Data seen above the hole is taken to be one block
			 * ending at the highest sequence sent: once the hole
			 * is filled up to it, all of it is in order. */
			x = r ? &r->d[dir] : NULL;
			if (x && x->above &&
			    seq_delta(d->reassem, d->last_seq - x->above) >= 0) {
				if (seq_delta(d->last_seq, d->reassem) > 0)
					d->reassem = d->last_seq;
				x->above = 0;
			}
		}
		return;
	}
	x = rare_dir(t, s, dir);
	if (!x)
		return;
	x->above += len;
	if (x->above > ABOVE_HOLE_MAX && seq_delta(d->ack_seq, d->isn + 1) <= 0)
		d->dflags |= TG_DF_GAP_OFF;
}

void tg_tcp_begin(struct tg_session *s, const struct tg_pkt *p, bool flip)
{
	s->orig_h = p->src;
	s->resp_h = p->dst;
	s->orig_p = p->sport;
	s->resp_p = p->dport;
	s->first_ns = p->ts_ns;
	s->last_ns = p->ts_ns;
	for (int i = 0; i < 2; i++) {
		s->d[i].wscale = 0xff;
		s->d[i].ttl_min = 0xff;
	}
	if (flip)
		flip_roles(NULL, s);        /* a new session has no side entry */
}

bool tg_tcp_is_reuse(const struct tg_session *s, const struct tg_pkt *p)
{
	const struct tg_dir *o = &s->d[0], *r = &s->d[1];
	const struct tg_dir *conn_orig = o;

	if (!(p->tcp_flags & TG_TCP_SYN))
		return false;
	if (p->tcp_flags & TG_TCP_ACK) {
		if (o->state != TG_EP_INACTIVE)
			return false;
		conn_orig = r;
	}
	if (!(o->dflags & TG_DF_DID_CLOSE) && !(r->dflags & TG_DF_DID_CLOSE)) {
		if (p->seq == conn_orig->isn)
			return false;
		if (!(p->tcp_flags & TG_TCP_ACK) && conn_orig->state == TG_EP_SYN_ACK_SENT &&
		    r->state == TG_EP_INACTIVE && p->seq == r->isn)
			return false;
	}
	return true;
}

static void note_close(struct tg_session *s, int dir, bool rst)
{
	if (!(s->flags & (TG_SF_ORIG_CLOSED_FIRST | TG_SF_RESP_CLOSED_FIRST)))
		s->flags |= dir ? TG_SF_RESP_CLOSED_FIRST : TG_SF_ORIG_CLOSED_FIRST;
	if (rst && !(s->flags & (TG_SF_RST_ORIG_FIRST | TG_SF_RST_RESP_FIRST)))
		s->flags |= dir ? TG_SF_RST_RESP_FIRST : TG_SF_RST_ORIG_FIRST;
}

/* The "SYN-ACK, then ACK or data" flip (Zeek >= 5.1): a connection whose
 * only history is a SYN-ACK from the originator has its roles reversed
 * once either side sends a plain ACK or data, and history becomes "^h". */
static bool synack_flip(struct tg_flow_table *t, struct tg_session *s,
			const struct tg_pkt *p)
{
	if (s->hist_len != 1 || s->hist[0] != 'H')
		return false;
	if (p->tcp_flags & (TG_TCP_SYN | TG_TCP_FIN | TG_TCP_RST))
		return false;
	if (!(p->tcp_flags & TG_TCP_ACK) && p->payload_len == 0)
		return false;
	s->hist_len = 0;
	flip_roles(t, s);
	s->d[0].hist_seen = 0;
	s->d[1].hist_seen = TG_HS_SYN;
	hist_add(s, 'h');
	return true;
}

static inline uint32_t swap_dir_bits(uint32_t f, uint32_t b0, uint32_t b1)
{
	uint32_t x = f & (b0 | b1);

	f &= ~(b0 | b1);
	if (x & b0)
		f |= b1;
	if (x & b1)
		f |= b0;
	return f;
}

/* Roles were reversed: the per-side evidence follows the endpoints. */
static void ev_flip(struct tg_flow_table *t, struct tg_session *s)
{
	struct tg_ev_live *ev = &s->ev;
	uint16_t w = ev->win_last[0];
	uint32_t sh = ev->flags & TG_EV_WSHIFTS;
	struct tg_rare *x = tg_flow_rare(t, s);

	ev->flags = (ev->flags & ~TG_EV_WSHIFTS) |
		    ((sh >> 4 | sh << 4) & TG_EV_WSHIFTS);
	ev->flags = swap_dir_bits(ev->flags, TG_EV_TS_0, TG_EV_TS_1);
	ev->flags = swap_dir_bits(ev->flags, TG_EV_DF_0, TG_EV_DF_1);
	ev->flags ^= ev->flags & TG_EV_ANY_DATA ? TG_EV_LAST_DATA_1 : 0;
	ev->flags ^= TG_EV_LAST_PKT_1;
	ev->flags = swap_dir_bits(ev->flags, TG_EV_DATA_AFTER_FIN_0, TG_EV_DATA_AFTER_FIN_1);
	ev->win_last[0] = ev->win_last[1];
	ev->win_last[1] = w;
	if ((ev->flags & TG_EV_HAVE_RST) && x)
		x->r.rst_dir ^= 1;
}

/* The shift of @dir's windows now: RFC 7323 §2.2, scaling applies once
 * both sides offered it (and never to a SYN's window). */
static inline unsigned win_shift(const struct tg_session *s, int dir)
{
	const struct tg_dir *d = &s->d[dir], *peer = &s->d[!dir];

	if (d->wscale != 0xff && peer->wscale != 0xff)
		return d->wscale > 14 ? 14 : d->wscale;
	return 0;
}

/* RFC 5961 §3.2: a reset is acceptable only from RCV.NXT to the end of
 * the receiver's window. */
static inline bool rst_out_of_window(int32_t off, uint32_t rcv_win)
{
	return off < 0 || (uint32_t)off >= (rcv_win ? rcv_win : 1);
}

/* Before the packet changes anything: the first reset is photographed
 * together with what its sender and receiver had done up to then. */
static void ev_reset(struct tg_flow_table *t, struct tg_session *s, int dir,
		     const struct tg_pkt *p, uint32_t gap_us);
static inline __attribute__((always_inline))
void ev_talk(struct tg_flow_table *t, struct tg_session *s, int dir, const struct tg_pkt *p);

/* Microseconds since the session's previous packet (0 for the first). */
static inline uint32_t ev_gap_us(const struct tg_session *s, const struct tg_pkt *p)
{
	uint64_t gap = p->ts_ns > s->last_ns && (s->d[0].pkts || s->d[1].pkts)
		       ? (p->ts_ns - s->last_ns) / 1000u : 0;

	return gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
}

static void ev_before(struct tg_flow_table *t, struct tg_session *s, int dir,
		      const struct tg_pkt *p)
{
	uint32_t gap_us = ev_gap_us(s, p);

	if (p->tcp_flags & TG_TCP_RST)
		ev_reset(t, s, dir, p, gap_us);
	else
		ev_talk(t, s, dir, p);
	s->ev.last_gap_us = gap_us;
}

/* A packet other than a reset: is it one "after the reset", or new data
 * after the other side's FIN? */
static inline __attribute__((always_inline))
void ev_talk(struct tg_flow_table *t, struct tg_session *s, int dir, const struct tg_pkt *p)
{
	const struct tg_dir *d = &s->d[dir], *peer = &s->d[!dir];
	struct tg_ev_live *ev = &s->ev;

	if (ev->flags & TG_EV_HAVE_RST) {
		struct tg_rst_photo *r = &tg_flow_rare(t, s)->r;

		if (dir == r->rst_dir && !(p->tcp_flags & TG_TCP_SYN) &&
		    r->after_pkts < UINT8_MAX)
			r->after_pkts++;
	}
	if (p->payload_len && (peer->dflags & TG_DF_FIN_SEEN) &&
	    seq_delta(p->seq + p->payload_len, d->last_seq) > 0)
		ev->flags |= dir ? TG_EV_DATA_AFTER_FIN_0 : TG_EV_DATA_AFTER_FIN_1;
}

/* The first reset is photographed with what its sender and receiver had
 * done up to then. */
static void ev_reset(struct tg_flow_table *t, struct tg_session *s, int dir,
		     const struct tg_pkt *p, uint32_t gap_us)
{
	const struct tg_dir *d = &s->d[dir], *peer = &s->d[!dir];
	struct tg_ev_live *ev = &s->ev;
	struct tg_rare *x = tg_flow_rare_get(t, s);
	struct tg_rst_photo *r;
	uint32_t fl = ev->flags;

	if (!x)
		return;
	r = &x->r;
	if (r->rst_count < UINT8_MAX)
		r->rst_count++;
	if (fl & TG_EV_HAVE_RST) {
		/* A reset the receiver dropped ended nothing: a later one from
		 * the same side that it could accept is the one to judge. */
		if (r->rst_seq_class != TG_RST_SEQ_OUT_OF_WINDOW || dir != r->rst_dir ||
		    ((peer->flags_seen & TG_TCP_ACK) && d->state != TG_EP_INACTIVE &&
		     rst_out_of_window(seq_delta(p->seq, d->ack_seq),
				       tg_ev_win_last(ev, !dir))))
			return;
		fl = (fl & ~(uint32_t)(TG_EV_RST_ACK | TG_EV_RST_TS | TG_EV_RST_DF)) |
		     TG_EV_OOW_BEFORE;
		r->after_pkts = 0;
		r->rst_seq_class = TG_RST_SEQ_UNKNOWN;
	}
	fl |= TG_EV_HAVE_RST;
	if (p->tcp_flags & TG_TCP_ACK)
		fl |= TG_EV_RST_ACK;
	if (p->opts.present & TG_OPT_HAS_TS)
		fl |= TG_EV_RST_TS;
	if (p->ip_dont_frag)
		fl |= TG_EV_RST_DF;
	if (!!(fl & TG_EV_LAST_PKT_1) != dir && (d->pkts || peer->pkts))
		fl |= TG_EV_PREV_FROM_PEER;
	if ((d->dflags & TG_DF_FIN_SEEN) && (peer->dflags & TG_DF_FIN_SEEN))
		fl |= TG_EV_FIN_BOTH_BEFORE;
	if (d->dflags & TG_DF_FIN_SEEN)
		fl |= TG_EV_FIN_SENDER_BEFORE;
	if ((d->dflags | peer->dflags) & TG_DF_ZW_OPEN)
		fl |= TG_EV_ZW_AT_RST;
	ev->flags = fl;
	r->rst_dir = (uint8_t)dir;
	r->rst_pkt = (uint32_t)p->num;
	r->rst_gap_us = gap_us;
	r->trig_gap_us = ev->last_gap_us;
	r->rst_ttl = p->ttl;
	r->rst_ipid = p->ip_id;
	r->rst_win = p->win;
	/* A dropped reset before this one: the sender's looks from before
	 * that first reset still stand. */
	if (!(fl & TG_EV_OOW_BEFORE)) {
		r->sent_before = d->pkts > 0;
		r->ttl_min_before = d->ttl_min;
		r->ttl_max_before = d->ttl_max;
		r->ipid_before = d->ipid_last;
		r->flags_before = d->flags_seen;
	}
	/* Where the sequence number falls against what the receiver had
	 * acknowledged of the sender's data (its RCV.NXT) and advertised. */
	r->rst_rcv_win = tg_ev_win_last(ev, !dir);
	if ((peer->flags_seen & TG_TCP_ACK) && d->state != TG_EP_INACTIVE) {
		r->rst_seq_off = seq_delta(p->seq, d->ack_seq);
		if (r->rst_seq_off == 0)
			r->rst_seq_class = TG_RST_SEQ_EXACT;
		else if (!rst_out_of_window(r->rst_seq_off, r->rst_rcv_win))
			r->rst_seq_class = TG_RST_SEQ_IN_WINDOW;
		else
			r->rst_seq_class = TG_RST_SEQ_OUT_OF_WINDOW;
	}
	r->pend_to = 0;
	r->pend_from = 0;
	if (peer->state != TG_EP_INACTIVE && seq_delta(peer->last_seq, peer->ack_seq) > 0)
		r->pend_to = (uint32_t)seq_delta(peer->last_seq, peer->ack_seq);
	if (d->state != TG_EP_INACTIVE && seq_delta(d->last_seq, d->ack_seq) > 0)
		r->pend_from = (uint32_t)seq_delta(d->last_seq, d->ack_seq);
}

/* The responder's first FIN, kept while it had sent no data: the only
 * case the verdict reads it in (bytes never shrink). Out of line: most
 * packets carry no FIN. */
static __attribute__((noinline)) void note_resp_fin(struct tg_flow_table *t,
						    struct tg_session *s, uint64_t ts)
{
	struct tg_rare *x;

	if (tg_session_bytes(s, 1) == 0 && (x = tg_flow_rare_get(t, s)) && !x->resp_fin_ms)
		x->resp_fin_ms = rel_ms(s, ts) + 1;
}

/* After the packet: the running facts the verdict needs later. */
static void ev_after(struct tg_flow_table *t, struct tg_session *s, int dir,
		     const struct tg_pkt *p)
{
	struct tg_ev_live *ev = &s->ev;
	uint32_t fl = ev->flags;

	if (p->opts.present & TG_OPT_HAS_TS)
		fl |= dir ? TG_EV_TS_1 : TG_EV_TS_0;
	else if (!(p->tcp_flags & TG_TCP_RST))
		fl |= dir ? TG_EV_TS_GAP_1 : TG_EV_TS_GAP_0;
	if (dir == 1 && (p->tcp_flags & TG_TCP_FIN))
		note_resp_fin(t, s, p->ts_ns);
	if (p->ip_dont_frag)
		fl |= dir ? TG_EV_DF_1 : TG_EV_DF_0;
	if (p->payload_len && !(p->tcp_flags & TG_TCP_RST)) {
		fl |= TG_EV_ANY_DATA;
		fl = dir ? fl | TG_EV_LAST_DATA_1 : fl & ~(uint32_t)TG_EV_LAST_DATA_1;
	}
	fl = dir ? fl | TG_EV_LAST_PKT_1 : fl & ~(uint32_t)TG_EV_LAST_PKT_1;
	if (s->hist_len && (s->hist[0] == 'H' || (s->hist[0] == '^' && s->hist_len > 1 &&
						  s->hist[1] == 'h')))
		fl |= TG_EV_SYNACK_FIRST;
	/* The originator's ACK after the responder's SYN-ACK completes the
	 * handshake. */
	if (dir == 0 && !(p->tcp_flags & (TG_TCP_SYN | TG_TCP_RST)) &&
	    (p->tcp_flags & TG_TCP_ACK) && (s->d[1].flags_seen & TG_TCP_SYN) &&
	    (s->d[0].flags_seen & TG_TCP_SYN))
		fl |= TG_EV_ESTABLISHED;
	if (!(p->tcp_flags & TG_TCP_RST)) {
		unsigned sh = (p->tcp_flags & TG_TCP_SYN) ? 0 : win_shift(s, dir);

		ev->win_last[dir] = p->win;
		fl = (fl & ~(0xfu << TG_EV_WSHIFT_AT(dir))) | sh << TG_EV_WSHIFT_AT(dir);
	}
	ev->flags = fl;
}

/* An ACK from the other side moves the highest ACK of @d's data forward
 * (an ACK of 0 far ahead is taken for an unset field). */
static inline void ack_advance(struct tg_dir *d, uint32_t ack)
{
	int32_t da = seq_delta(ack, d->ack_seq);

	if (!(ack == 0 && da > SEQ_JUMP_MAX) && da > 0) {
		if (ack < d->ack_seq)
			d->ack_wraps++;
		d->ack_seq = ack;
	}
}

/* The sender's counters and looks, after its packet @p. */
static inline void count_sent(struct tg_dir *d, const struct tg_pkt *p)
{
	d->flags_seen |= p->tcp_flags;
	d->pkts++;
	tg_dir_add_ip_bytes(d, p->ip_len);
	d->ipid_last = p->ip_id;
	if (p->ttl < d->ttl_min)
		d->ttl_min = p->ttl;
	if (p->ttl > d->ttl_max)
		d->ttl_max = p->ttl;
}

/* The packet a session is mostly made of: an ACK, with data or without,
 * and no SYN, FIN or RST, between two established sides that have both
 * sent, with an open window and no zero-window episode. Such a packet
 * changes no state, closes nothing and can only add the D or A letter, so
 * of the general path below only these steps are left (in its order):
 * its evidence, the history letter, the times, the peer's ACK point, the
 * sender's highest sequence, the reassembly shadow and the counters. */
static inline bool is_plain(const struct tg_session *s, const struct tg_pkt *p,
			    int dir)
{
	const struct tg_dir *d = &s->d[dir], *peer = &s->d[!dir];
	uint8_t fl = p->tcp_flags;

	return (fl & (TG_TCP_SYN | TG_TCP_FIN | TG_TCP_RST | TG_TCP_ACK)) == TG_TCP_ACK &&
	       !(p->csum_checked && !p->csum_ok) && p->win &&
	       d->state == TG_EP_ESTABLISHED && peer->state == TG_EP_ESTABLISHED &&
	       (d->dflags & TG_DF_SENT) && !((d->dflags | peer->dflags) & TG_DF_ZW_OPEN) &&
	       !(s->hist_len == 1 && s->hist[0] == 'H');
}

static inline __attribute__((always_inline))
void step_plain(struct tg_flow_table *t, struct tg_session *s, bool evidence,
		const struct tg_pkt *p, int dir)
{
	struct tg_dir *d = &s->d[dir], *peer = &s->d[!dir];
	uint32_t len = p->payload_len;
	bool underflow = false;

	if (evidence) {
		/* ev_before, for a packet that is no reset */
		uint32_t gap_us = ev_gap_us(s, p);

		ev_talk(t, s, dir, p);
		s->ev.last_gap_us = gap_us;
	}
	(void)rel_seq(d, p->seq, d->last_seq, d->seq_wraps, &underflow);
	if (len)
		hist_check(s, dir, TG_HS_DATA, 'D');
	else
		hist_check(s, dir, TG_HS_ACK, 'A');
	if (!((s->d[0].dflags & TG_DF_DID_CLOSE) && (s->d[1].dflags & TG_DF_DID_CLOSE)))
		s->last_ns = p->ts_ns;
	else
		s->flags |= TG_SF_LAST_FROZEN;
	ack_advance(peer, p->ack);
	update_last_seq(t, s, dir, p->seq + len, p->tcp_flags, len);
	ack_received(t, s, !dir, p->ack);
	if (len > 0 && !underflow && p->payload_cap >= len)
		data_sent(t, s, dir, p->seq, len);
	count_sent(d, p);
	if (evidence)
		ev_after(t, s, dir, p);
}

void tg_tcp_step(struct tg_flow_table *t, struct tg_session *s,
		 const struct tg_pkt *p, bool from_orig, unsigned how)
{
	bool evidence = how & TG_STEP_EVIDENCE;
	int dir = from_orig ? 0 : 1;
	struct tg_dir *d, *peer;
	uint8_t fl = p->tcp_flags;
	uint32_t len = p->payload_len;
	uint32_t seg_len, end_seq;
	uint64_t rel;
	bool underflow = false, do_close;
	uint8_t flipped;
	bool syn = fl & TG_TCP_SYN, fin = fl & TG_TCP_FIN, rst = fl & TG_TCP_RST;

	if (!(how & TG_STEP_GENERAL) && is_plain(s, p, dir)) {
		step_plain(t, s, evidence, p, dir);
		return;
	}
	/* A bad checksum drops the packet after counting it (Zeek 'C'). */
	if (p->csum_checked && !p->csum_ok) {
		struct tg_dir_rare *x = rare_dir(t, s, dir);

		if (x) {
			x->csum_bad = sat16_inc(x->csum_bad);
			hist_scaled(s, dir, x->csum_bad, 'C');
		}
		return;
	}
	if (synack_flip(t, s, p)) {
		dir = !dir;
		if (evidence)
			ev_flip(t, s);
	}
	d = &s->d[dir];
	peer = &s->d[!dir];
	if (evidence)
		ev_before(t, s, dir, p);

	seg_len = len + syn + fin;
	if (rst)
		seg_len -= len;
	end_seq = p->seq + seg_len;

	init_endpoint(d, fl, p->seq, end_seq);
	rel = rel_seq(d, p->seq, d->last_seq, d->seq_wraps, &underflow);
	update_history(t, s, dir, fl, rel, len);
	update_window(t, s, dir, p);
	if (!((s->d[0].dflags & TG_DF_DID_CLOSE) && (s->d[1].dflags & TG_DF_DID_CLOSE)))
		s->last_ns = p->ts_ns;
	else
		s->flags |= TG_SF_LAST_FROZEN;

	if (syn && (p->opts.present & TG_OPT_HAS_WSCALE))
		d->wscale = p->opts.wscale;
	if (fin) {
		d->dflags |= TG_DF_FIN_SEEN;
		d->fin_rel = (uint32_t)(rel + seg_len);
	}
	if (fl & TG_TCP_ACK) {
		if (peer->state == TG_EP_INACTIVE) {
			init_seqs(peer, p->ack - 1, p->ack - 1);
		} else if (!rst) {
			ack_advance(peer, p->ack);
		}
	}
	update_last_seq(t, s, dir, end_seq, fl, len);

	/* The first packet of each side decides Zeek's partial flag. */
	if (!(d->dflags & TG_DF_SENT)) {
		if (dir == 0 ? (!syn || (fl & TG_TCP_ACK)) : !syn)
			d->dflags |= TG_DF_PARTIAL;
	}
	flipped = s->flags & TG_SF_FLIPPED;
	do_close = update_state(t, s, &dir, fl, p->seq, len);
	d = &s->d[dir];
	peer = &s->d[!dir];
	if (evidence && flipped != (s->flags & TG_SF_FLIPPED))
		ev_flip(t, s);

	if ((fl & TG_TCP_ACK) && peer->state != TG_EP_INACTIVE)
		ack_received(t, s, !dir, p->ack);
	if (len > 0 && !rst && !underflow && p->payload_cap >= len)
		data_sent(t, s, dir, syn ? p->seq + 1 : p->seq, len);
	if (do_close) {
		/* Zeek ConnectionClosed: the close is complete when the closer
		 * reset, or its peer had closed too or never spoke; the session
		 * then ends a fixed time later, whatever follows. */
		if (!(s->flags & TG_SF_CLOSE_DONE) &&
		    (d->state == TG_EP_RESET || (peer->dflags & TG_DF_DID_CLOSE) ||
		     peer->state == TG_EP_INACTIVE)) {
			s->flags |= TG_SF_CLOSE_DONE;
			s->close_ms = rel_ms(s, p->ts_ns);
		}
		d->dflags |= TG_DF_DID_CLOSE;
		note_close(s, dir, rst);
	} else if (rst) {
		note_close(s, dir, true);
	}

	d->dflags |= TG_DF_SENT;
	count_sent(d, p);
	if (evidence)
		ev_after(t, s, dir, p);
}

bool tg_tcp_closed(const struct tg_session *s)
{
	const struct tg_dir *o = &s->d[0], *r = &s->d[1];
	uint8_t any = o->dflags | r->dflags;

	if (s->flags & TG_SF_CLOSE_DONE)
		return true;
	/* Zeek's expire check: a side closed, and either both did, or a
	 * side reset, or a side never spoke. */
	return (any & TG_DF_DID_CLOSE) &&
	       ((o->dflags & r->dflags & TG_DF_DID_CLOSE) ||
		o->state == TG_EP_RESET || r->state == TG_EP_RESET ||
		o->state == TG_EP_INACTIVE || r->state == TG_EP_INACTIVE);
}

enum tg_timer tg_tcp_timer(const struct tg_session *s)
{
	const struct tg_dir *o = &s->d[0], *r = &s->d[1];

	if (tg_tcp_closed(s))
		return TG_TIMER_TIME_WAIT;
	if ((o->dflags | r->dflags) & TG_DF_DID_CLOSE)
		return TG_TIMER_HALF_CLOSED;
	if (r->state == TG_EP_INACTIVE &&
	    (o->state == TG_EP_SYN_SENT || o->state == TG_EP_SYN_ACK_SENT ||
	     o->state == TG_EP_INACTIVE))
		return TG_TIMER_INIT;
	/* The responder's SYN-ACK moves both sides to established in Zeek's
	 * model; for timing, the handshake lasts until the originator sends
	 * its first ACK. */
	if (o->state == TG_EP_SYN_SENT || o->state == TG_EP_SYN_ACK_SENT ||
	    r->state == TG_EP_SYN_SENT || r->state == TG_EP_SYN_ACK_SENT ||
	    ((r->flags_seen & TG_TCP_SYN) && (o->flags_seen & TG_TCP_SYN) &&
	     !(o->flags_seen & TG_TCP_ACK)))
		return TG_TIMER_HANDSHAKE;
	return TG_TIMER_ESTABLISHED;
}

void tg_tcp_finish(struct tg_flow_table *t, struct tg_session *s)
{
	/* An episode still open at the end lasted until the last packet. */
	for (int i = 0; i < 2; i++)
		zw_close(t, s, i, s->last_ns);
}

enum tg_end_reason tg_tcp_end_reason(const struct tg_session *s, bool expired)
{
	/* PAN-OS priority: a reset outranks a FIN, a FIN outranks ageing. */
	if (s->flags & TG_SF_RST_ORIG_FIRST)
		return TG_END_RST_CLIENT;
	if (s->flags & TG_SF_RST_RESP_FIRST)
		return TG_END_RST_SERVER;
	if (tg_tcp_closed(s))
		return TG_END_TCP_FIN;
	if (!expired)
		return TG_END_OPEN;
	if ((s->d[0].dflags | s->d[1].dflags) & TG_DF_FIN_SEEN)
		return TG_END_TCP_FIN;
	return TG_END_AGED_OUT;
}
