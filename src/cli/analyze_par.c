// SPDX-License-Identifier: MIT
/*
 * analyze -j N: one reader thread, N session workers and, when detection
 * is on, one detection thread (two where cores allow). Without detection
 * and short of CPUs, the reader runs worker 0's (smaller) share itself.
 *
 * The reader (the main thread) walks each capture, finds each frame's
 * flow with a minimal parse (Ethernet, VLAN, IPv4/IPv6, TCP ports; every
 * other frame goes through tg_decode) and a symmetric hash of the two
 * endpoints, so both directions of a session reach the same worker. It
 * hands frames over in batches of up to TG_BATCH_MAX through one
 * lock-free single-producer/single-consumer ring per worker: pointers
 * into the mapped file for the mmap reader (every frame stays valid until
 * the file is closed, and the reader waits for the workers before closing
 * it), copies in the ring slot for libpcap. Batches are cut at fixed
 * points of the input (full, tick, end of file), so a run is repeatable.
 *
 * Each worker owns an engine with detection off and max_flows/N records,
 * and formats its ended sessions with its own copies of the JSON and
 * conn.log sinks into an append-only output queue, each record keyed by
 * the worker's packet time when it ended. Every 100 ms of packet time the
 * reader sends every worker a time tick (tg_engine_advance), so a worker
 * that gets no packets still expires its sessions and its output keeps
 * moving. The reader merges the queues by (key, worker, sequence): a
 * record leaves when no worker can still produce a smaller one, so the
 * output order depends only on the capture and N, and the lines are those
 * of -j 1 in another order. The summary sums the workers' counters and
 * merges their summary tables.
 *
 * Attack detection needs every packet of a prefix, a source or a victim
 * together, the state of the packet's session after tracking, one global
 * packet sequence and one clock; no dispatch by one key serves all
 * detectors. So the detection thread runs the -j 1 engine, no sinks,
 * over every frame in capture order: its alerts are those of -j 1 by
 * construction, at the price of a second tracking pass (docs/design.md).
 * When the machine has a core for it, that thread's engine only tracks:
 * every call it would make on its detector (packet with the session's
 * state after tracking, session end, time) goes in order through a byte
 * ring to a detector thread that makes the same calls on a detector of
 * its own, so tracking and detection run side by side. Workers never
 * block on output, so neither the reader nor a worker can wait on the
 * other in a cycle.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "analyze_par.h"
#include "common.h"
#include "handoff.h"
#include "tcpguard/decode.h"
#include "tcpguard/detect.h"
#include "tcpguard/engine.h"
#include "../io/source.h"

#define RING_SLOTS 128                  /* batches in flight per worker */
#define TICK_NS 100000000ull            /* packet time between ticks */
#define CHUNK_BYTES (1u << 20)          /* output queue allocation unit */
#define SPARES 8                        /* emitted chunks kept for reuse */
#define KEY_FINISH (UINT64_MAX - 1)     /* records of tg_engine_finish */
#define NOTIFY_EVERY 8                  /* slots between wake-ups of a consumer */
_Static_assert(RING_SLOTS % NOTIFY_EVERY == 0, "wake-ups must divide the ring");

/* ---- reader -> worker rings --------------------------------------------- */

enum slot_type { SLOT_FRAMES, SLOT_TICK, SLOT_FINISH };

struct slot {
	uint8_t type;
	int link;
	unsigned n;
	uint64_t tick_ns;
	struct tg_frame_in f[TG_BATCH_MAX];
	size_t off[TG_BATCH_MAX];       /* copies: offset in buf while filling */
	uint8_t *buf;                   /* frame copies (libpcap sources) */
	size_t cap, used;
};

struct ring {
	_Alignas(64) _Atomic uint32_t head;   /* written by the reader */
	_Alignas(64) _Atomic uint32_t tail;   /* written by the consumer */
	_Alignas(64) struct tg_evc filled;       /* head moved */
	struct tg_evc drained;                   /* tail moved */
	bool open;                            /* reader: slot at head being filled */
	struct slot s[RING_SLOTS];
};

/* ---- worker output queues ----------------------------------------------- */

/* A record: u64 key, u32 JSON bytes, u32 conn.log bytes, the bytes, padding
 * to 8. Chunks are written by the worker and freed by the reader. */
struct chunk {
	struct chunk *_Atomic next;
	_Atomic size_t committed;
	_Atomic bool sealed;
	size_t cap;
	uint8_t data[];
};

struct outq {
	/* worker side */
	struct chunk *w;
	size_t pos, rec;                /* write position, current record */
	int part;                       /* which length the cookie fills */
	/* reader side */
	struct chunk *r;
	size_t rpos;
	size_t rcom;                    /* r's committed bytes as last read */
};

struct worker {
	struct ring ring;
	unsigned id;
	bool detect;                    /* the detection thread */
	struct tg_handoff *dt;          /* its detector thread */
	struct tg_engine *e;
	struct tg_engine_cfg cfg;
	pthread_t th;
	bool started;
	uint64_t key;
	_Alignas(64) _Atomic uint64_t wm; /* no future record below this key */
	struct outq q;
	/* Chunks the reader has emitted, handed back for reuse (a ring with
	 * the reader as producer and the worker as consumer). */
	struct chunk *spare[SPARES];
	_Alignas(64) _Atomic uint32_t spare_head;
	_Alignas(64) _Atomic uint32_t spare_tail;
	FILE *cf[2];                    /* cookie streams into q */
	struct tg_sink rows[2];         /* JSON, conn.log rows into cf */
	int rowmap[2];                  /* caller's sink index of rows[i] */
	int nrows;
	struct tg_sink report;          /* this worker's summary tables */
	bool has_report;
	int err;                        /* -ENOMEM while formatting */
};

/* Merged records waiting to be written: pointers into the workers' queue
 * chunks, written with one writev per IOV_BATCH records instead of being
 * copied through stdio one by one. A chunk is handed back only after
 * everything pointing into it was written. */
#define IOV_BATCH 256

struct obuf {
	int fd;                         /* -1: this output is off */
	int n;
	int err;                        /* errno of a failed write */
	struct iovec iov[IOV_BATCH];
};

struct par {
	struct obuf ob[2];              /* JSON lines, conn.log rows */
	const struct tg_par_run *r;
	unsigned n;
	struct worker *w;               /* n workers */
	struct worker *det;             /* NULL: detection off */
	struct tg_handoff *dt;          /* with det: runs the detector */
	uint64_t next_tick;
	bool ticking;
	/* The reader works as worker 0 itself (no thread, no ring: its
	 * batches are run where they fill) when there are not enough CPUs
	 * for a reader of its own; worker 0 then gets a smaller share of the
	 * flows, hash values below share0, to leave the reader time to read. */
	bool inline0;
	uint32_t share0;
	bool split;                     /* detection on two threads */
};

/* A chunk for @w's queue: a spare the reader handed back when the size
 * fits (no fresh pages to fault in and zero), else a new allocation. */
static struct chunk *chunk_new(struct worker *w, size_t need)
{
	size_t cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;
	uint32_t t = atomic_load_explicit(&w->spare_tail, memory_order_relaxed);
	struct chunk *c;

	if (cap == CHUNK_BYTES &&
	    t != atomic_load_explicit(&w->spare_head, memory_order_acquire)) {
		c = w->spare[t % SPARES];
		atomic_store_explicit(&w->spare_tail, t + 1, memory_order_release);
	} else if (!(c = malloc(sizeof(*c) + cap))) {
		return NULL;
	}
	atomic_init(&c->next, NULL);
	atomic_init(&c->committed, 0);
	atomic_init(&c->sealed, false);
	c->cap = cap;
	return c;
}

/* The reader is done with @c: back to @w as a spare, or freed. */
static void chunk_retire(struct worker *w, struct chunk *c)
{
	uint32_t h = atomic_load_explicit(&w->spare_head, memory_order_relaxed);

	if (c->cap == CHUNK_BYTES &&
	    h - atomic_load_explicit(&w->spare_tail, memory_order_acquire) < SPARES) {
		w->spare[h % SPARES] = c;
		atomic_store_explicit(&w->spare_head, h + 1, memory_order_release);
	} else {
		free(c);
	}
}

/* Makes room for @need more bytes of the current record, moving the record
 * to a new chunk when this one is full. */
static int outq_room(struct worker *w, size_t need)
{
	struct outq *q = &w->q;
	struct chunk *c;
	size_t part;

	if (q->pos + need <= q->w->cap)
		return 0;
	part = q->pos - q->rec;
	c = chunk_new(w, (part + need + 4096 + 7) & ~(size_t)7);
	if (!c)
		return -ENOMEM;
	memcpy(c->data, q->w->data + q->rec, part);
	atomic_store_explicit(&q->w->committed, q->rec, memory_order_release);
	atomic_store_explicit(&q->w->next, c, memory_order_release);
	atomic_store_explicit(&q->w->sealed, true, memory_order_release);
	q->w = c;
	q->rec = 0;
	q->pos = part;
	return 0;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
	struct worker *w = cookie;
	struct outq *q = &w->q;

	if (outq_room(w, len + 8)) {    /* + the record's padding */
		w->err = -ENOMEM;
		return -1;
	}
	memcpy(q->w->data + q->pos, buf, len);
	q->pos += len;
	return (ssize_t)len;
}

static void rec_len(struct outq *q, int part, uint32_t len)
{
	memcpy(q->w->data + q->rec + 8 + 4 * part, &len, 4);
}

static void on_end(void *ctx, const struct tg_session *s,
		   const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct worker *w = ctx;
	struct outq *q = &w->q;

	if (w->has_report)
		w->report.ops->session(&w->report, s, ev, c);
	if (!w->nrows)
		return;
	q->rec = q->pos;
	if (outq_room(w, 16)) {
		w->err = -ENOMEM;
		return;
	}
	memcpy(q->w->data + q->pos, &w->key, 8);
	memset(q->w->data + q->pos + 8, 0, 8);
	q->pos += 16;
	for (int i = 0; i < w->nrows; i++) {
		/* Offsets from the record's start survive a move to a new chunk. */
		size_t rel = q->pos - q->rec;
		const struct tg_sink *k = &w->rows[i];

		if (k->ops->format) {
			/* Straight into the queue: no stream in between. */
			if (outq_room(w, TG_SINK_RECORD_MAX + 8)) {
				w->err = -ENOMEM;
				return;
			}
			q->pos += k->ops->format(k, s, ev, c, (char *)q->w->data + q->pos);
		} else {
			k->ops->session(&w->rows[i], s, ev, c);
			fflush(w->cf[i]);
		}
		rec_len(q, w->rowmap[i], (uint32_t)(q->pos - q->rec - rel));
	}
	q->pos = (q->pos + 7) & ~(size_t)7;
}

/* ---- workers ------------------------------------------------------------ */

static void worker_commit(struct worker *w)
{
	if (w->nrows)
		atomic_store_explicit(&w->q.w->committed, w->q.pos, memory_order_release);
}

/* A worker's wait: a slot published beyond the ring's tail (only the
 * worker moves the tail). */
static bool ring_has_slot(void *arg)
{
	struct ring *r = arg;

	return atomic_load_explicit(&r->head, memory_order_acquire) !=
	       atomic_load_explicit(&r->tail, memory_order_relaxed);
}

/* What a worker does with one slot: a batch of frames, a tick or the
 * finish. Returns whether it was the finish. */
static bool worker_slot(struct worker *w, const struct slot *sl)
{
	bool fin = sl->type == SLOT_FINISH;

	switch (sl->type) {
	case SLOT_FRAMES:
		if (sl->f[0].ts_ns > w->key)
			w->key = sl->f[0].ts_ns;
		atomic_store_explicit(&w->wm, w->key, memory_order_release);
		tg_engine_feed_batch(w->e, sl->link, sl->f, sl->n);
		break;
	case SLOT_TICK:
		if (sl->tick_ns > w->key)
			w->key = sl->tick_ns;
		atomic_store_explicit(&w->wm, w->key, memory_order_release);
		tg_engine_advance(w->e, sl->tick_ns);
		if (w->dt)
			tg_handoff_advance(w->dt, tg_engine_now(w->e));
		break;
	default:
		w->key = KEY_FINISH;
		atomic_store_explicit(&w->wm, w->key, memory_order_release);
		tg_engine_finish(w->e);
		break;
	}
	worker_commit(w);
	if (fin)
		atomic_store_explicit(&w->wm, UINT64_MAX, memory_order_release);
	return fin;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ring *r = &w->ring;
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	for (;;) {
		bool fin;

		tg_evc_wait(&r->filled, ring_has_slot, r);
		fin = worker_slot(w, &r->s[tail % RING_SLOTS]);
		atomic_store_explicit(&r->tail, ++tail, memory_order_release);
		/* A reader waiting for room is woken a quarter ring at a time
		 * (or when the ring is empty), not for every batch. */
		if (tail % (RING_SLOTS / 4) == 0 ||
		    tail == atomic_load_explicit(&r->head, memory_order_acquire))
			tg_evc_notify(&r->drained);
		if (fin)
			return NULL;
	}
}

/* ---- the merge ------------------------------------------------------------ */

static void ob_flush(struct obuf *o)
{
	struct iovec *v = o->iov;
	int n = o->n;

	o->n = 0;
	while (n > 0 && !o->err) {
		ssize_t k = writev(o->fd, v, n < IOV_MAX ? n : IOV_MAX);

		if (k < 0) {
			if (errno != EINTR)
				o->err = errno;
			continue;
		}
		while (n > 0 && (size_t)k >= v->iov_len) {
			k -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + k;
			v->iov_len -= (size_t)k;
		}
	}
}

static void ob_flush_all(struct par *p)
{
	for (int i = 0; i < 2; i++)
		if (p->ob[i].n)
			ob_flush(&p->ob[i]);
}

static void ob_add(struct obuf *o, const void *b, size_t len)
{
	if (o->n == IOV_BATCH)
		ob_flush(o);
	o->iov[o->n].iov_base = (void *)b;
	o->iov[o->n].iov_len = len;
	o->n++;
}

/* Whether worker @w has a committed record; its key in *@key. Frees the
 * chunks it has read to their end. The worker's committed offset is read
 * again only once the records known from the last read are used up, so
 * a busy merge does not pull the worker's cache line across for each
 * record. */
static bool peek(struct par *p, struct worker *w, uint64_t *key)
{
	struct outq *q = &w->q;

	for (;;) {
		struct chunk *c = q->r;
		size_t com;

		if (q->rpos < q->rcom) {
			memcpy(key, c->data + q->rpos, 8);
			return true;
		}
		com = atomic_load_explicit(&c->committed, memory_order_acquire);
		if (com != q->rcom) {
			q->rcom = com;
			continue;
		}
		if (!atomic_load_explicit(&c->sealed, memory_order_acquire))
			return false;
		com = atomic_load_explicit(&c->committed, memory_order_acquire);
		if (q->rpos < com) {
			q->rcom = com;
			continue;
		}
		q->r = atomic_load_explicit(&c->next, memory_order_acquire);
		q->rpos = 0;
		q->rcom = 0;
		ob_flush_all(p);        /* nothing may point into @c now */
		chunk_retire(w, c);
	}
}

static void emit(struct par *p, struct worker *w)
{
	struct outq *q = &w->q;
	const uint8_t *rec = q->r->data + q->rpos;
	uint32_t len[2];
	size_t off = 16;

	memcpy(len, rec + 8, 8);
	for (int i = 0; i < 2; i++) {
		if (len[i] && p->ob[i].fd >= 0)
			ob_add(&p->ob[i], rec + off, len[i]);
		off += len[i];
	}
	q->rpos += (off + 7) & ~(size_t)7;
}

/* Whether a record (key @k, worker @i) goes before (key @k2, worker @j). */
static inline bool precedes(uint64_t k, unsigned i, uint64_t k2, unsigned j)
{
	return k < k2 || (k == k2 && i < j);
}

/* Writes every record that no worker can still precede, in order of
 * (key, worker); returns how many. One look at every worker finds the
 * smallest record and the bound the others set (their first record, or
 * for a worker with none its watermark: nothing it writes later can be
 * smaller); the smallest worker's records then go out in a run until the
 * bound, without looking at the others again. */
static unsigned merge(struct par *p)
{
	unsigned done = 0;

	if (!p->w[0].nrows)
		return 0;
	for (;;) {
		uint64_t val[TG_PAR_MAX_JOBS], k, bound = UINT64_MAX;
		unsigned best = p->n, bj = p->n;

		for (unsigned j = 0; j < p->n; j++) {
			/* The watermark first: records committed before it
			 * moved are then visible to peek. */
			uint64_t wm = atomic_load_explicit(&p->w[j].wm, memory_order_acquire);

			if (peek(p, &p->w[j], &val[j])) {
				if (best == p->n || precedes(val[j], j, val[best], best))
					best = j;
			} else {
				val[j] = wm;
			}
		}
		if (best == p->n)
			return done;
		for (unsigned j = 0; j < p->n; j++)
			if (j != best && (bj == p->n || precedes(val[j], j, bound, bj))) {
				bound = val[j];
				bj = j;
			}
		k = val[best];
		if (bj != p->n && !precedes(k, best, bound, bj))
			return done;    /* a worker without records may still precede */
		do {
			emit(p, &p->w[best]);
			done++;
		} while (peek(p, &p->w[best], &k) && (bj == p->n || precedes(k, best, bound, bj)));
	}
}

/* ---- the reader ------------------------------------------------------------ */

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* One endpoint, address in the engine's 16-byte form (IPv4 mapped). */
static inline uint64_t ep_hash(const uint8_t *a, uint16_t port)
{
	uint64_t hi, lo;

	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	/* One mix per endpoint: the reader hashes every frame. */
	return mix64(hi ^ (lo << 23 | lo >> 41) ^ ((uint64_t)port << 48 | port));
}

/* The symmetric flow hash of a plain Ethernet [VLAN] IPv4/IPv6 TCP frame;
 * false for anything else (tunnels, fragments, extension headers, other
 * link types), which tg_decode then handles. Both directions give the same
 * sum; the tuple is tg_decode's, so both paths agree on a flow. */
static bool fast_hash(int link, const uint8_t *d, uint32_t len, uint64_t *h)
{
	static const uint8_t v4map[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint32_t off = 14;
	uint16_t et;
	const uint8_t *ip, *tcp;

	if (link != 1 || len < 14)
		return false;
	et = (uint16_t)(d[12] << 8 | d[13]);
	for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		if (len < off + 4)
			return false;
		et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
		off += 4;
	}
	ip = d + off;
	if (et == 0x0800) {
		uint8_t a[16];
		uint32_t ihl;

		if (len < off + 20 || ip[0] >> 4 != 4 || ip[9] != 6 ||
		    (ip[6] & 0x3f) || ip[7])
			return false;
		ihl = (ip[0] & 15u) * 4;
		if (ihl < 20 || len < off + ihl + 4)
			return false;
		tcp = ip + ihl;
		memcpy(a, v4map, 12);
		memcpy(a + 12, ip + 12, 4);
		*h = ep_hash(a, (uint16_t)(tcp[0] << 8 | tcp[1]));
		memcpy(a + 12, ip + 16, 4);
		*h += ep_hash(a, (uint16_t)(tcp[2] << 8 | tcp[3]));
		return true;
	}
	if (et == 0x86dd) {
		if (len < off + 44 || ip[0] >> 4 != 6 || ip[6] != 6)
			return false;
		tcp = ip + 40;
		*h = ep_hash(ip + 8, (uint16_t)(tcp[0] << 8 | tcp[1])) +
		     ep_hash(ip + 24, (uint16_t)(tcp[2] << 8 | tcp[3]));
		return true;
	}
	return false;
}

static unsigned pick(const struct par *p, const struct tg_frame *f)
{
	uint64_t h;
	struct tg_pkt pk;

	if (!fast_hash(f->link, f->data, f->cap_len, &h)) {
		if (tg_decode(&p->r->cfg->decode, f->link, f->data, f->cap_len,
			      f->wire_len, &pk) != TG_DEC_TCP)
			return 0;       /* counted, never tracked: any worker */
		h = ep_hash(pk.src.b, pk.sport) + ep_hash(pk.dst.b, pk.dport);
	}
	if (p->inline0) {
		uint64_t x = h >> 32;

		if (x < p->share0)
			return 0;
		return 1 + (unsigned)(((x - p->share0) * (p->n - 1)) /
				      ((1ull << 32) - p->share0));
	}
	return (unsigned)(((h >> 32) * p->n) >> 32);
}

/* The reader waits until the consumer of @r has processed up to @upto
 * (tail >= upto), writing merged output meanwhile. Returns true when it
 * has; false after a wait, to be called again. */
static bool ring_wait(struct par *p, struct ring *r, uint32_t upto)
{
	uint32_t seq;

	for (int spins = 0; spins < TG_EVC_SPIN; spins++) {
		if ((int32_t)(atomic_load_explicit(&r->tail, memory_order_acquire) - upto) >= 0)
			return true;
		if (!merge(p))
			tg_cpu_relax();
	}
	seq = tg_evc_prepare(&r->drained);
	if ((int32_t)(atomic_load_explicit(&r->tail, memory_order_acquire) - upto) >= 0) {
		tg_evc_cancel(&r->drained);
		return true;
	}
	tg_evc_sleep(&r->drained, seq);
	return false;
}

/* The slot at the ring's head, waiting (and merging) while it is full. */
static struct slot *slot_open(struct par *p, struct worker *w)
{
	struct ring *r = &w->ring;
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct slot *s = &r->s[head % RING_SLOTS];

	if (r->open)
		return s;
	while (!ring_wait(p, r, head - RING_SLOTS + 1))
		;
	s->type = SLOT_FRAMES;
	s->n = 0;
	s->used = 0;
	r->open = true;
	return s;
}

/* Publishes the open slot. A sleeping consumer is woken only every
 * NOTIFY_EVERY slots, or at once with @force (ticks, the finish, the
 * drain): a wake-up is a system call, and with many workers each gets a
 * batch too rarely to stay awake spinning, so waking it for every batch
 * made the reader the bottleneck. A consumer that sleeps with slots not
 * yet announced is woken before its ring can fill (ring_wait relies on
 * that), since RING_SLOTS is a multiple of NOTIFY_EVERY. */
static void slot_publish(struct worker *w, bool force)
{
	struct ring *r = &w->ring;
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct slot *s = &r->s[head % RING_SLOTS];

	if (r->open) {
		if (s->type == SLOT_FRAMES && s->used)
			for (unsigned i = 0; i < s->n; i++)
				s->f[i].data = s->buf + s->off[i];
		r->open = false;
		atomic_store_explicit(&r->head, ++head, memory_order_release);
	}
	if (force || head % NOTIFY_EVERY == 0)
		tg_evc_notify(&r->filled);
}

/* Whether the reader runs @w's batches itself (p->inline0, worker 0). */
static inline bool runs_inline(const struct par *p, const struct worker *w)
{
	return p->inline0 && w == &p->w[0];
}

/* The reader's own batch for worker 0 (p->inline0), in the first slot of
 * its unused ring: run when it is full, before a tick, at the end. */
static void inline_run(struct worker *w)
{
	struct slot *s = &w->ring.s[0];

	if (s->type == SLOT_FRAMES && !s->n)
		return;
	if (s->type == SLOT_FRAMES && s->used)
		for (unsigned i = 0; i < s->n; i++)
			s->f[i].data = s->buf + s->off[i];
	worker_slot(w, s);
	s->type = SLOT_FRAMES;
	s->n = 0;
	s->used = 0;
}

static int add_frame(struct par *p, struct worker *w, const struct tg_frame *f,
		     bool copy)
{
	bool here = runs_inline(p, w);
	struct slot *s = here ? &w->ring.s[0] : slot_open(p, w);
	struct tg_frame_in *in;

	if (s->n && s->link != f->link) {
		if (here) {
			inline_run(w);
		} else {
			slot_publish(w, false);
			s = slot_open(p, w);
		}
	}
	s->link = f->link;
	in = &s->f[s->n];
	*in = (struct tg_frame_in){ f->data, f->cap_len, f->wire_len, f->ts_ns, f->num };
	if (copy) {
		if (s->used + f->cap_len > s->cap) {
			size_t cap = (s->used + f->cap_len) * 2;
			uint8_t *b = realloc(s->buf, cap);

			if (!b)
				return -ENOMEM;
			s->buf = b;
			s->cap = cap;
		}
		memcpy(s->buf + s->used, f->data, f->cap_len);
		s->off[s->n] = s->used;
		s->used += f->cap_len;
	}
	if (++s->n == TG_BATCH_MAX) {
		if (here)
			inline_run(w);
		else
			slot_publish(w, false);
	}
	return 0;
}

/* Sends a tick (or the finish) to worker @w after its open batch. */
static void send_ctl(struct par *p, struct worker *w, enum slot_type t,
		     uint64_t ts)
{
	struct slot *s;

	if (runs_inline(p, w)) {
		inline_run(w);
		w->ring.s[0].type = (uint8_t)t;
		w->ring.s[0].tick_ns = ts;
		inline_run(w);
		return;
	}
	slot_publish(w, false);
	s = slot_open(p, w);
	s->type = (uint8_t)t;
	s->tick_ns = ts;
	slot_publish(w, true);
}

/* Publishes every open batch and waits until every thread has processed
 * all it was given (the mapped file may then be closed). */
static void drain(struct par *p)
{
	for (unsigned j = 0; j <= p->n; j++) {
		struct worker *w = j < p->n ? &p->w[j] : p->det;
		struct ring *r;

		if (!w)
			continue;
		if (runs_inline(p, w)) {
			inline_run(w);
			continue;
		}
		r = &w->ring;
		slot_publish(w, true);
		while (!ring_wait(p, r,
				  atomic_load_explicit(&r->head, memory_order_relaxed)))
			;
	}
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one input to its end; returns 0, 1 (read error) or 2 (open
 * error), or -ENOMEM. */
static int read_file(struct par *p, const char *path, int i)
{
	const struct tg_par_run *r = p->r;
	struct tg_source src;
	struct tg_frame f;
	int rc, shown = 0, err = 0;
	double next = mono_s() + 0.5;
	bool copy;
	struct tg_cli_chunks *ck;

	rc = tg_source_open_file(&src, path, r->filter);
	if (rc) {
		fprintf(stderr, "tcpguard: %s\n", src.err);
		return 2;
	}
	copy = strcmp(src.ops->name, "pcap-mmap") != 0;
	ck = tg_cli_chunks_open(r->det, i, r->nfiles, &src);
	while (!*r->stop && (rc = tg_source_next(&src, &f)) == 1) {
		if (ck)
			tg_cli_chunks_frame(ck, &src, f.ts_ns);
		if (!p->ticking) {
			p->ticking = true;
			p->next_tick = f.ts_ns + TICK_NS;
		} else if (f.ts_ns >= p->next_tick) {
			for (unsigned j = 0; j < p->n; j++)
				send_ctl(p, &p->w[j], SLOT_TICK, f.ts_ns);
			p->next_tick = f.ts_ns + TICK_NS;
		}
		err = add_frame(p, &p->w[pick(p, &f)], &f, copy);
		if (!err && p->det)
			err = add_frame(p, p->det, &f, copy);
		if (err)
			break;
		if ((f.num & 63) == 0)
			merge(p);
		if (r->want_progress && (f.num & 0xffff) == 0 && mono_s() >= next) {
			uint64_t done = 0, total = 0;

			src.ops->progress(&src, &done, &total);
			if (total)
				fprintf(stderr, "\r%s: %3.0f%%", src.path,
					100.0 * (double)done / (double)total);
			shown = 1;
			next = mono_s() + 0.5;
		}
	}
	drain(p);
	if (ck)
		tg_cli_chunks_close(ck, &src, rc == 0 && !err && !*r->stop);
	if (shown)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		fprintf(stderr, "tcpguard: warning: %s (the sessions read so far are reported)\n",
			src.err);
	tg_source_close(&src);
	if (err)
		return err;
	return rc < 0 ? 1 : 0;
}

/* ---- setup, run, summary ---------------------------------------------------- */

static void stats_add(struct tg_stats *a, const struct tg_stats *b)
{
	a->frames += b->frames;
	a->tcp_packets += b->tcp_packets;
	for (int i = 0; i < TG_DEC__COUNT; i++)
		a->decode[i] += b->decode[i];
	for (int i = 0; i < TG_OPT__COUNT; i++)
		a->tcp_opts[i] += b->tcp_opts[i];
	a->ts_backwards += b->ts_backwards;
	a->sessions += b->sessions;
	for (int i = 0; i < TG_END__COUNT; i++)
		a->ended[i] += b->ended[i];
	for (int i = 0; i < TG_CS__COUNT; i++)
		a->conn_state[i] += b->conn_state[i];
	for (int i = 0; i < TG_CAUSE__COUNT; i++)
		a->cause[i] += b->cause[i];
	a->evicted += b->evicted;
	a->rare_full += b->rare_full;
	a->reused += b->reused;
	a->active += b->active;
	/* The sum of the workers' peaks: at least the peak of the whole. */
	a->active_peak += b->active_peak;
	a->max_flows += b->max_flows;
	a->session_bytes = b->session_bytes;
}

/* The fraction of the flows worker @id gets (see pick). */
static double share_of(const struct par *p, unsigned id)
{
	double s0 = p->inline0 ? (double)p->share0 / 4294967296.0 : 1.0 / p->n;

	return id == 0 ? s0 : (1.0 - s0) / (p->n - 1);
}

static int worker_init(struct par *p, struct worker *w, unsigned id,
		       FILE *const out[2], const int sink_of[2], int report)
{
	const struct tg_par_run *r = p->r;
	cookie_io_functions_t io = { .write = cookie_write };

	w->id = id;
	w->cfg = *r->cfg;
	w->cfg.detect.enabled = false;
	w->cfg.on_end = on_end;
	w->cfg.cb_ctx = w;
	w->cfg.on_alert = NULL;
	/* Each worker's table in proportion to its share of the flows. */
	if (w->cfg.max_memory) {
		w->cfg.max_memory = (uint64_t)((double)w->cfg.max_memory * share_of(p, id));
	} else {
		uint32_t mf = w->cfg.max_flows ? w->cfg.max_flows : TG_DEFAULT_MAX_FLOWS;
		uint32_t k = (uint32_t)((double)mf * share_of(p, id));

		w->cfg.max_flows = k ? k : 1;
	}
	atomic_init(&w->wm, 0);
	for (int part = 0; part < 2; part++) {
		int k = w->nrows;

		if (!out[part])
			continue;
		w->cf[k] = fopencookie(w, "w", io);
		if (!w->cf[k])
			return -ENOMEM;
		setvbuf(w->cf[k], NULL, _IOFBF, 16384);
		tg_sink_rows_new(&w->rows[k], &r->sinks[sink_of[part]], w->cf[k]);
		w->rowmap[k] = part;
		w->nrows++;
	}
	if (w->nrows && !(w->q.w = w->q.r = chunk_new(w, CHUNK_BYTES)))
		return -ENOMEM;
	if (report >= 0) {
		if (tg_sink_report_new(&w->report, NULL, 10))
			return -ENOMEM;
		w->has_report = true;
	}
	w->e = tg_engine_new(&w->cfg);
	return w->e ? 0 : -ENOMEM;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	tg_engine_free(w->e);
	for (int i = 0; i < w->nrows; i++) {
		tg_sink_free(&w->rows[i]);
		fclose(w->cf[i]);
	}
	if (w->has_report)
		tg_sink_free(&w->report);
	for (struct chunk *c = w->q.r, *n; c; c = n) {
		n = atomic_load(&c->next);
		free(c);
	}
	for (uint32_t t = atomic_load(&w->spare_tail); t != atomic_load(&w->spare_head); t++)
		free(w->spare[t % SPARES]);
	for (unsigned i = 0; i < RING_SLOTS; i++)
		free(w->ring.s[i].buf);
}

/* The detection thread: the -j 1 engine over every frame, no sinks. With
 * a core to spare for it, its detector calls are queued to a detector
 * thread that owns the detector (tracking and detection then run side by
 * side); otherwise the engine runs its own detector, as with -j 1. */
static int det_init(struct par *p)
{
	const struct tg_engine_cfg *cfg = p->r->cfg;
	struct worker *w = calloc(1, sizeof(*w));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!(p->det = w))
		return -ENOMEM;
	w->detect = true;
	w->cfg = *cfg;
	w->cfg.on_end = NULL;
	/* Told at a terminal: the detection thread tracks every packet as
	 * -j 1 does, so without a core of its own it costs more than the
	 * workers save (--no-detect has no such thread). */
	if (p->r->want_progress && cpus > 0 && cpus < (long)p->n + 2)
		fprintf(stderr, "tcpguard: note: -j %u with detection wants %u CPUs (reader, "
			"workers, detection) and %ld are online: expect no gain over -j 1; "
			"--no-detect scales\n", p->n, p->n + 2, cpus);
	if (p->split) {
		if (!(p->dt = tg_handoff_new(&cfg->detect, cfg->on_alert, NULL, cfg->cb_ctx)))
			return -ENOMEM;
		w->dt = p->dt;
		tg_handoff_hook(p->dt, &w->cfg);
		w->cfg.no_evidence = true;
	}
	w->e = tg_engine_new(&w->cfg);
	return w->e ? 0 : -ENOMEM;
}

static int finish_outputs(struct par *p, int report, int status)
{
	const struct tg_par_run *r = p->r;
	struct tg_stats st = { 0 };

	for (unsigned j = 0; j < p->n; j++) {
		stats_add(&st, tg_engine_stats(p->w[j].e));
		if (p->w[j].err) {
			fprintf(stderr, "tcpguard: formatting output: %s\n",
				strerror(-p->w[j].err));
			status = 2;
		}
		if (report >= 0)
			tg_sink_report_merge(&r->sinks[report], &p->w[j].report);
	}
	for (int i = 0; i < 2; i++)
		if (p->ob[i].err) {
			fprintf(stderr, "tcpguard: writing the %s: %s\n",
				i ? "conn.log" : "JSON lines", strerror(p->ob[i].err));
			status = 2;
		}
	if (tg_cli_finish_sinks(r->sinks, r->nsinks, &st, r->det))
		status = 2;
	return status;
}

/* 1 or 0 from environment variable @name, else @dflt (the tests force
 * both ways). */
static bool env_choice(const char *name, bool dflt)
{
	const char *v = getenv(name);

	return v && (*v == '0' || *v == '1') ? *v == '1' : dflt;
}

bool tg_cli_par_pipelined(const struct tg_engine_cfg *cfg, unsigned jobs)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return env_choice("TCPGUARD_PIPELINE",
			  cfg->detect.enabled && cpus > 0 && cpus < (long)jobs + 2);
}

/* Which threads get a core: reader, workers, the detection thread, and a
 * detector thread of its own where a core is left for it. Without
 * detection and with fewer CPUs than reader and workers, the reader also
 * does worker 0's share, sized (3/5 of another worker's) so that reading
 * and that share take about as long as another worker's share: on two
 * CPUs -j 2 --no-detect then runs two threads, not three (about 7 %
 * faster on the bench capture). With detection the reader must keep the
 * detection thread fed and stays a reader: working there made -j 2 on
 * two CPUs slower still. */
static void place_threads(struct par *p)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool det = p->r->cfg->detect.enabled;

	p->split = env_choice("TCPGUARD_DETECT_THREAD", cpus >= (long)p->n + 3);
	p->inline0 = env_choice("TCPGUARD_READER_WORKS",
				!det && cpus > 0 && cpus < 1 + (long)p->n);
	if (p->inline0)
		p->share0 = (uint32_t)(4294967296.0 * 0.6 / (0.6 + (double)(p->n - 1)));
}

int tg_cli_analyze_par(const struct tg_par_run *r)
{
	struct par p = { .r = r, .n = r->jobs };
	FILE *out[2] = { NULL, NULL };
	int sink_of[2] = { -1, -1 }, report = -1, status = 0, rc = 0;
	unsigned started = 0;
	bool det_started = false, opened = true;

	for (int i = 0; i < r->nsinks; i++) {
		const char *name = r->sinks[i].ops->name;
		int part = !strcmp(name, "json") ? 0 : !strcmp(name, "zeek") ? 1 : -1;

		if (part >= 0) {
			out[part] = r->sinks[i].f;
			sink_of[part] = i;
		} else if (!strcmp(name, "report")) {
			report = i;
		}
	}
	/* Records go straight to the file descriptors; what the sinks wrote
	 * through stdio so far (a conn.log header) goes first. */
	for (int i = 0; i < 2; i++) {
		p.ob[i].fd = -1;
		if (out[i] && fflush(out[i]) == 0)
			p.ob[i].fd = fileno(out[i]);
		else if (out[i])
			p.ob[i].err = errno;
	}
	if (p.n < 2 || p.n > TG_PAR_MAX_JOBS || !(p.w = calloc(p.n, sizeof(*p.w)))) {
		fprintf(stderr, "tcpguard: -j: expected 1..%d\n", TG_PAR_MAX_JOBS);
		free(p.w);
		return 2;
	}
	place_threads(&p);
	for (unsigned j = 0; j < p.n && !rc; j++)
		rc = worker_init(&p, &p.w[j], j, out, sink_of, report);
	if (!rc && r->cfg->detect.enabled)
		rc = det_init(&p);
	if (rc) {
		fprintf(stderr, "tcpguard: cannot allocate %u workers' flow tables\n", p.n);
		status = 2;
		goto out;
	}
	for (; started < p.n; started++)
		if ((started > 0 || !p.inline0) &&
		    pthread_create(&p.w[started].th, NULL, worker_main, &p.w[started]))
			break;
	if (started == p.n && p.det) {
		det_started = (!p.dt || !tg_handoff_start(p.dt)) &&
			      !pthread_create(&p.det->th, NULL, worker_main, p.det);
	}
	if (started < p.n || (p.det && !det_started)) {
		fputs("tcpguard: cannot start the worker threads\n", stderr);
		status = 2;
		opened = false;
	}

	for (int i = 0; opened && i < r->nfiles && !*r->stop; i++) {
		rc = read_file(&p, r->files[i], i);
		if (rc < 0) {
			fprintf(stderr, "tcpguard: %s\n", strerror(-rc));
			rc = 2;
		}
		if (rc > status)
			status = rc;
		if (rc == 2 && i == 0 && r->nfiles == 1)
			opened = false;
	}
	/* Every thread ends; the workers flush their sessions. */
	for (unsigned j = 0; j < started; j++)
		send_ctl(&p, &p.w[j], SLOT_FINISH, 0);
	if (det_started)
		send_ctl(&p, p.det, SLOT_FINISH, 0);
	drain(&p);
	merge(&p);
	ob_flush_all(&p);
	for (unsigned j = p.inline0 ? 1 : 0; j < started; j++)
		pthread_join(p.w[j].th, NULL);
	if (det_started)
		pthread_join(p.det->th, NULL);
	if (p.dt)
		tg_handoff_finish(p.dt);
	if (!opened)
		goto out;
	if (*r->stop)
		fputs("tcpguard: interrupted: writing every session seen so far\n", stderr);
	if (p.det)
		tg_cli_detect_finish_det(r->det, p.dt ? tg_handoff_detect(p.dt) : tg_engine_detect(p.det->e),
					 r->cfg, r->files, r->nfiles, r->filter);
	status = finish_outputs(&p, report, status);
out:
	for (unsigned j = 0; j < p.n; j++)
		worker_free(&p.w[j]);
	worker_free(p.det);
	free(p.det);
	tg_handoff_free(p.dt);
	free(p.w);
	return status;
}
