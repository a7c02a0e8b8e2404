// SPDX-License-Identifier: MIT
/*
 * The hand-off (handoff.h): a byte ring of 8-byte aligned records, each a
 * header and the body of its type, written by the engine's thread through
 * its callbacks and replayed by the hand-off's thread. The producer
 * publishes every eighth of the ring (and when it must wait for room);
 * the consumer gives room back after each run of records it has read.
 */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handoff.h"
#include "tcpguard/detect.h"
#include "tcpguard/engine.h"

/* How far ahead of the write position the producer prefetches. */
#define PREFETCH_AHEAD 1024

/* ---- event count ---- */

/* The fence pairs with the one in tg_evc_prepare: either the waiter sees
 * the change when it checks again, or this sees the waiter. */
void tg_evc_notify(struct tg_evc *e)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&e->waiters, memory_order_relaxed)) {
		atomic_fetch_add(&e->seq, 1);
		syscall(SYS_futex, &e->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	}
}

uint32_t tg_evc_prepare(struct tg_evc *e)
{
	uint32_t seq = atomic_load(&e->seq);

	atomic_fetch_add(&e->waiters, 1);
	atomic_thread_fence(memory_order_seq_cst);
	return seq;
}

void tg_evc_sleep(struct tg_evc *e, uint32_t seq)
{
	syscall(SYS_futex, &e->seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
	atomic_fetch_sub(&e->waiters, 1);
}

void tg_evc_cancel(struct tg_evc *e)
{
	atomic_fetch_sub(&e->waiters, 1);
}

void tg_evc_wait(struct tg_evc *e, bool (*ready)(void *), void *arg)
{
	for (int spins = 0;; spins++) {
		uint32_t seq;

		if (ready(arg))
			return;
		if (spins < TG_EVC_SPIN) {
			tg_cpu_relax();
			continue;
		}
		seq = tg_evc_prepare(e);
		if (ready(arg)) {
			tg_evc_cancel(e);
			return;
		}
		tg_evc_sleep(e, seq);
	}
}

/* ---- the ring ---- */

#define EVQ_BYTES (8u << 20)
/* The consumer sleeps when it runs dry: waking it for every eighth of
 * the ring keeps the wake-ups rare. */
#define PUBLISH_EVERY (EVQ_BYTES / 8)

enum ev_type { EV_PKT = 1, EV_TIME, EV_END, EV_SESS, EV_ADV, EV_FIN, EV_WRAP };

struct ev_hdr {
	uint32_t type;
	uint32_t len;                   /* whole record, header included */
};

/* What tg_detect_packet reads of a packet's session (detect.c: packet,
 * on_synack); the equivalence tests of -j N against -j 1 on the attack
 * captures guard this list. */
struct ev_view {
	uint64_t first_ns;
	uint32_t ip_bytes[2][2];        /* lo, hi */
	uint32_t pkts[2];
	uint8_t hist_seen[2];
	uint8_t flags_seen[2];
	uint8_t hist_len;
	uint8_t from_orig;
	uint8_t created;
	char hist[TG_HIST_MAX];
};

/* The packet as far as the detector reads it: everything before the SACK
 * blocks (the last option fields; the payload pointer follows them). The
 * asserts hold the layout to that. */
#define PKT_PREFIX (offsetof(struct tg_pkt, opts) + offsetof(struct tg_tcp_opts, sack_left))
_Static_assert(offsetof(struct tg_tcp_opts, sack_right) > offsetof(struct tg_tcp_opts, sack_left) &&
	       sizeof(struct tg_tcp_opts) ==
	       offsetof(struct tg_tcp_opts, sack_right) + sizeof(((struct tg_tcp_opts *)0)->sack_right) &&
	       offsetof(struct tg_pkt, payload) - (offsetof(struct tg_pkt, opts) +
						   sizeof(struct tg_tcp_opts)) < sizeof(void *) &&
	       sizeof(struct tg_pkt) == offsetof(struct tg_pkt, payload) + sizeof(void *),
	       "the hand-off copies struct tg_pkt up to the SACK blocks");

struct ev_pkt {
	_Alignas(8) uint8_t p[PKT_PREFIX];
	struct ev_view v;
};

/* An ended session for the session callback (the detector reads s). */
struct ev_sess {
	struct tg_session s;
	struct tg_evidence ev;
	struct tg_cause_info c;
};

/* What the consumer fills from EV_PKT records: a packet and a session
 * whose other fields stay zero. */
struct replay_buf {
	struct tg_pkt p;
	struct tg_session v;
	struct tg_session s;            /* EV_END */
};

struct tg_handoff {
	uint8_t *buf;
	_Alignas(64) _Atomic uint64_t head;   /* bytes published */
	_Alignas(64) _Atomic uint64_t tail;   /* bytes consumed */
	_Alignas(64) struct tg_evc filled;
	struct tg_evc drained;
	/* producer */
	_Alignas(64) uint64_t wpos;           /* bytes written */
	uint64_t pub;                         /* bytes published */
	uint64_t tail_seen;                   /* tail as last read */
	size_t need;                          /* bytes it waits for */
	const struct tg_engine *e;            /* tg_handoff_prefault's */
	/* the engine's untouched memory as of the last publish */
	_Alignas(64) _Atomic uintptr_t fresh_at[2];
	_Atomic uintptr_t fresh_end[2];
	/* consumer */
	_Alignas(64) uint64_t rtail;          /* bytes it has read */
	struct replay_buf rb;
	struct tg_detect *d;
	tg_session_cb on_end;
	void *ctx;
	pthread_t th;
	uintptr_t faulted[2];                 /* fresh memory faulted in up to */
	uintptr_t page;
	bool ended;                           /* EV_FIN replayed */
	bool started, finished;
};

static inline size_t ev_size(size_t body)
{
	return (sizeof(struct ev_hdr) + body + 7) & ~(size_t)7;
}

static void publish(struct tg_handoff *h)
{
	if (h->e) {
		struct tg_mem_span sp[2];

		tg_engine_untouched(h->e, sp);
		for (int i = 0; i < 2; i++) {
			atomic_store_explicit(&h->fresh_at[i], (uintptr_t)sp[i].at,
					      memory_order_relaxed);
			atomic_store_explicit(&h->fresh_end[i], (uintptr_t)sp[i].at + sp[i].len,
					      memory_order_relaxed);
		}
	}
	h->pub = h->wpos;
	atomic_store_explicit(&h->head, h->wpos, memory_order_release);
	tg_evc_notify(&h->filled);
}

/* The producer's wait: room for h->need more bytes (reads the tail). */
static bool has_room(void *arg)
{
	struct tg_handoff *h = arg;

	h->tail_seen = atomic_load_explicit(&h->tail, memory_order_acquire);
	return h->wpos + h->need - h->tail_seen <= EVQ_BYTES;
}

/* reserve's way when the record does not fit as it is: wraps with a
 * filler record at the end of the ring, and waits for the consumer while
 * the ring is full. */
static __attribute__((noinline)) uint8_t *reserve_slow(struct tg_handoff *h, size_t len)
{
	for (;;) {
		size_t at = (size_t)(h->wpos % EVQ_BYTES);
		size_t need = len;

		if (at + len > EVQ_BYTES)
			need = EVQ_BYTES - at + len;
		if (h->wpos + need - h->tail_seen <= EVQ_BYTES) {
			if (need != len) {
				struct ev_hdr hd = { EV_WRAP, (uint32_t)(EVQ_BYTES - at) };

				memcpy(h->buf + at, &hd, sizeof(hd));
				h->wpos += EVQ_BYTES - at;
				at = 0;
			}
			return h->buf + at + sizeof(struct ev_hdr);
		}
		h->tail_seen = atomic_load_explicit(&h->tail, memory_order_acquire);
		if (h->wpos + need - h->tail_seen <= EVQ_BYTES)
			continue;
		/* Full: let the consumer see everything, then wait. */
		publish(h);
		h->need = need;
		tg_evc_wait(&h->drained, has_room, h);
	}
}

/* Room for the body of a record of @len bytes at the write position. */
static inline uint8_t *reserve(struct tg_handoff *h, size_t len)
{
	size_t at = (size_t)(h->wpos % EVQ_BYTES);

	if (at + len <= EVQ_BYTES && h->wpos + len - h->tail_seen <= EVQ_BYTES) {
		/* The lines a little ahead were last read by the consumer's
		 * core: ask for them to be written. */
		__builtin_prefetch(h->buf + (at + PREFETCH_AHEAD) % EVQ_BYTES, 1);
		return h->buf + at + sizeof(struct ev_hdr);
	}
	return reserve_slow(h, len);
}

/* Closes the record whose body @reserve returned. */
static void commit(struct tg_handoff *h, void *body, enum ev_type type, size_t len)
{
	struct ev_hdr hd = { (uint32_t)type, (uint32_t)len };

	memcpy((uint8_t *)body - sizeof(hd), &hd, sizeof(hd));
	h->wpos += len;
	if (h->wpos - h->pub >= PUBLISH_EVERY)
		publish(h);
}

static void put(struct tg_handoff *h, enum ev_type type, const void *body, size_t n)
{
	size_t len = ev_size(n);
	uint8_t *rec = reserve(h, len);

	if (n)
		memcpy(rec, body, n);
	commit(h, rec, type, len);
}

/* ---- producer: the engine's callbacks ---- */

static void tap_packet(void *ctx, const struct tg_pkt *p, const struct tg_session *s,
		       bool from_orig, bool created)
{
	struct tg_handoff *h = ctx;
	size_t len = ev_size(sizeof(struct ev_pkt));
	struct ev_pkt *e;

	/* Most packets (data, ACKs, FINs) are only counted and timed. */
	if (!tg_detect_packet_heavy(p, s, from_orig)) {
		put(h, EV_TIME, &p->ts_ns, sizeof(p->ts_ns));
		return;
	}
	e = (struct ev_pkt *)reserve(h, len);
	memcpy(e->p, p, PKT_PREFIX);
	e->v.first_ns = s->first_ns;
	for (int i = 0; i < 2; i++) {
		e->v.ip_bytes[i][0] = s->d[i].ip_bytes_lo;
		e->v.ip_bytes[i][1] = s->d[i].ip_bytes_hi;
		e->v.pkts[i] = s->d[i].pkts;
		e->v.hist_seen[i] = s->d[i].hist_seen;
		e->v.flags_seen[i] = s->d[i].flags_seen;
	}
	e->v.hist_len = s->hist_len;
	e->v.from_orig = from_orig;
	e->v.created = created;
	memcpy(e->v.hist, s->hist, TG_HIST_MAX);
	commit(h, e, EV_PKT, len);
}

static void tap_end(void *ctx, const struct tg_session *s,
		    const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct tg_handoff *h = ctx;
	size_t len = ev_size(sizeof(struct ev_sess));
	struct ev_sess *e;

	if (!h->on_end) {
		put(h, EV_END, s, sizeof(*s));
		return;
	}
	e = (struct ev_sess *)reserve(h, len);
	e->s = *s;
	e->ev = *ev;
	e->c = *c;
	commit(h, e, EV_SESS, len);
}

void tg_handoff_hook(struct tg_handoff *h, struct tg_engine_cfg *cfg)
{
	cfg->cb_ctx = h;
	cfg->on_alert = NULL;
	cfg->on_packet = h->d ? tap_packet : NULL;
	cfg->on_end = h->d || h->on_end ? tap_end : NULL;
	cfg->detect_elsewhere = true;
}

void tg_handoff_advance(struct tg_handoff *h, uint64_t now_ns)
{
	if (h->d)
		put(h, EV_ADV, &now_ns, sizeof(now_ns));
}

/* ---- consumer: the hand-off's thread ---- */

/* The consumer's wait: something published beyond what it has read. */
static bool has_records(void *arg)
{
	struct tg_handoff *h = arg;

	return atomic_load_explicit(&h->head, memory_order_acquire) != h->rtail;
}

/* The body of an EV_TIME or EV_ADV record: one time. */
static inline uint64_t rec_u64(const uint8_t *rec)
{
	uint64_t v;

	memcpy(&v, rec, sizeof(v));
	return v;
}

/* Makes the call that the record at @rec (of type @type) stands for;
 * returns false at the end. */
static bool replay(struct tg_handoff *h, uint32_t type, const uint8_t *rec,
		   struct replay_buf *b)
{
	switch (type) {
	case EV_PKT: {
		const struct ev_pkt *e = (const void *)rec;
		struct tg_session *s = &b->v;

		memcpy(&b->p, e->p, PKT_PREFIX);
		b->p.payload_cap = 0;   /* the detector reads no payload */
		s->first_ns = e->v.first_ns;
		for (int i = 0; i < 2; i++) {
			s->d[i].ip_bytes_lo = e->v.ip_bytes[i][0];
			s->d[i].ip_bytes_hi = (uint16_t)e->v.ip_bytes[i][1];
			s->d[i].pkts = e->v.pkts[i];
			s->d[i].hist_seen = e->v.hist_seen[i];
			s->d[i].flags_seen = e->v.flags_seen[i];
		}
		s->hist_len = e->v.hist_len;
		memcpy(s->hist, e->v.hist, TG_HIST_MAX);
		tg_detect_packet(h->d, &b->p, s, e->v.from_orig, e->v.created);
		break;
	}
	case EV_TIME:
		tg_detect_packet_time(h->d, rec_u64(rec));
		break;
	case EV_END:
		memcpy(&b->s, rec, sizeof(b->s));
		tg_detect_session_end(h->d, &b->s);
		break;
	case EV_SESS: {
		const struct ev_sess *e = (const void *)rec;

		/* The engine's order: the session callback, then the detector
		 * (whose entities load meanwhile). */
		if (h->d)
			tg_detect_prefetch_end(h->d, &e->s);
		h->on_end(h->ctx, &e->s, &e->ev, &e->c);
		if (h->d)
			tg_detect_session_end(h->d, &e->s);
		break;
	}
	case EV_ADV:
		tg_detect_advance(h->d, rec_u64(rec));
		break;
	case EV_FIN:
		return false;
	default:        /* EV_WRAP */
		break;
	}
	return true;
}

/* Replays the records published so far; notes the end (EV_FIN) in
 * h->ended. */
static void consume(struct tg_handoff *h)
{
	uint64_t tail = h->rtail;
	uint64_t head = atomic_load_explicit(&h->head, memory_order_acquire);

	while (tail != head && !h->ended) {
		const uint8_t *rec = h->buf + tail % EVQ_BYTES;
		struct ev_hdr hd;

		memcpy(&hd, rec, sizeof(hd));
		h->ended = !replay(h, hd.type, rec + sizeof(hd), &h->rb);
		tail += hd.len;
	}
	h->rtail = tail;
	atomic_store_explicit(&h->tail, tail, memory_order_release);
	tg_evc_notify(&h->drained);
}

/* How far past the engine's untouched memory to fault in: the records
 * of some 18,000 new sessions (two huge pages). */
#define PREFAULT_AHEAD ((uintptr_t)4 << 20)

/* Faults in the next stretch of the engine's untouched memory (as the
 * producer last published it), so the kernel zeroes those pages on this
 * thread instead of on the tracking one. Resident memory then runs at
 * most PREFAULT_AHEAD per table past what the engine used. Given up for
 * good on a kernel without MADV_POPULATE_WRITE (before 5.14). */
static void prefault(struct tg_handoff *h)
{
#ifdef MADV_POPULATE_WRITE
	for (int i = 0; i < 2 && h->page; i++) {
		uintptr_t at = atomic_load_explicit(&h->fresh_at[i], memory_order_relaxed);
		uintptr_t end = atomic_load_explicit(&h->fresh_end[i], memory_order_relaxed);
		uintptr_t from = at > h->faulted[i] ? at : h->faulted[i];
		uintptr_t to = end - at > PREFAULT_AHEAD ? at + PREFAULT_AHEAD : end;

		/* Whole pages only: the one holding @at is in use already,
		 * the one holding @end may hold something else. */
		from &= ~(h->page - 1);
		to &= ~(h->page - 1);
		if (to <= from)
			continue;
		if (madvise((void *)from, to - from, MADV_POPULATE_WRITE)) {
			h->page = 0;
			return;
		}
		h->faulted[i] = to;
	}
#else
	(void)h;
#endif
}

static void *handoff_main(void *arg)
{
	struct tg_handoff *h = arg;

	while (!h->ended) {
		tg_evc_wait(&h->filled, has_records, h);
		consume(h);
		if (h->e)
			prefault(h);
	}
	return NULL;
}

/* ---- life ---- */

struct tg_handoff *tg_handoff_new(const struct tg_detect_cfg *detect,
				  tg_alert_cb on_alert, tg_session_cb on_end,
				  void *ctx)
{
	struct tg_handoff *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->on_end = on_end;
	h->ctx = ctx;
	if (!(h->buf = malloc(EVQ_BYTES)) ||
	    (detect && detect->enabled && !(h->d = tg_detect_new(detect, on_alert, ctx)))) {
		tg_handoff_free(h);
		return NULL;
	}
	return h;
}

void tg_handoff_prefault(struct tg_handoff *h, const struct tg_engine *e)
{
	long page = sysconf(_SC_PAGESIZE);

	h->page = page > 0 ? (uintptr_t)page : 0;
	h->e = e;
}

int tg_handoff_start(struct tg_handoff *h)
{
	int rc = pthread_create(&h->th, NULL, handoff_main, h);

	h->started = rc == 0;
	return -rc;
}

void tg_handoff_finish(struct tg_handoff *h)
{
	if (!h->started || h->finished)
		return;
	put(h, EV_FIN, NULL, 0);
	publish(h);
	pthread_join(h->th, NULL);
	h->finished = true;
}

struct tg_detect *tg_handoff_detect(struct tg_handoff *h)
{
	return h->d;
}

void tg_handoff_free(struct tg_handoff *h)
{
	if (!h)
		return;
	tg_handoff_finish(h);
	tg_detect_free(h->d);
	free(h->buf);
	free(h);
}
