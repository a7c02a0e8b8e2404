/* SPDX-License-Identifier: MIT */
/*
 * The flow table: every tracked session in one preallocated array, found
 * by a symmetric hash of its addresses and ports, and threaded on one
 * list per timer class in order of last activity so that expiry and
 * eviction look only at list heads. Used by the engine; exposed for tests.
 */
#ifndef TG_FLOW_H
#define TG_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpguard/cause-t.h"
#include "tcpguard/decode-t.h"
#include "tcpguard/session-t.h"

struct tg_flow_list {
	uint32_t head;          /* index + 1, 0 when empty; head is oldest */
	uint32_t tail;
	uint32_t count;
};

/* The side pool holds the rarely needed part of a session (struct
 * tg_rare: reset photograph, zero-window, gap and checksum counters) for
 * a quarter of the table's sessions at most; a session takes an entry the
 * first time it needs one and gives it back when it ends. */
struct tg_flow_table {
	struct tg_session *s;   /* cap entries, zeroed lazily by the OS */
	struct tg_rare *rare;   /* rare_cap entries, the side pool */
	uint32_t *bucket;       /* nbucket heads, index + 1 */
	uint32_t mask;          /* nbucket - 1 */
	uint32_t cap;
	uint32_t used;          /* entries in use */
	uint32_t high;          /* entries ever handed out: [0, high) touched */
	uint32_t free_head;     /* recycled entries, chained by hnext */
	uint32_t rare_cap;
	uint32_t rare_used;
	uint32_t rare_high;     /* side entries ever handed out */
	uint32_t rare_free;     /* recycled side entries, chained by their first word */
	uint32_t rare_hand;     /* where the next look for a pool victim starts */
	struct tg_flow_list list[TG_TIMER__COUNT];
};

/* Allocates a table for @cap sessions (1 .. 1<<30). Returns 0 or -ENOMEM
 * / -EINVAL. Pages are committed as entries are first used. */
int tg_flow_init(struct tg_flow_table *t, uint32_t cap);

/* Bytes tg_flow_init allocates for @cap entries (records, side pool and
 * buckets). */
uint64_t tg_flow_bytes(uint32_t cap);

/* The largest capacity whose table fits in @bytes; 0 when none does. */
uint32_t tg_flow_cap_for_bytes(uint64_t bytes);

/* Releases the table's memory; safe on a zeroed or destroyed table. */
void tg_flow_destroy(struct tg_flow_table *t);

/* Symmetric hash of the packet's tuple (the same both directions). */
uint32_t tg_flow_hash(const struct tg_pkt *p);

/* A prefetch the compiler keeps: GCC deletes __builtin_prefetch calls
 * whose loop or block has no other effect (the batch prefetch below
 * vanished that way), so on x86 it is an asm statement. */
static inline void tg_prefetch(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p);
#endif
}

/* Starts loading the bucket, then (once that is likely in cache) the first
 * entry of hash @h, so a batch of lookups overlaps its memory misses. */
static inline void tg_flow_prefetch_bucket(const struct tg_flow_table *t, uint32_t h)
{
	tg_prefetch(&t->bucket[h & t->mask]);
}

/* Starts loading record @i (index + 1; 0 is none): a packet touches both
 * directions and the running evidence, all of its 192 bytes, three cache
 * lines (the array starts on a page). */
static inline void tg_flow_prefetch_rec(const struct tg_flow_table *t, uint32_t i)
{
	if (i) {
		const char *p = (const char *)&t->s[i - 1];

		tg_prefetch(p);
		tg_prefetch(p + 64);
		tg_prefetch(p + 128);
	}
}

static inline void tg_flow_prefetch_entry(const struct tg_flow_table *t, uint32_t h)
{
	tg_flow_prefetch_rec(t, t->bucket[h & t->mask]);
}

/* The timer-list neighbours of the first record of hash @h's chain, which
 * moving it to its list's tail will write. */
static inline void tg_flow_prefetch_links(const struct tg_flow_table *t, uint32_t h)
{
	uint32_t i = t->bucket[h & t->mask];

	if (i) {
		const struct tg_session *s = &t->s[i - 1];

		if (s->lprev)
			tg_prefetch(&t->s[s->lprev - 1].lnext);
		if (s->lnext)
			tg_prefetch(&t->s[s->lnext - 1].lprev);
	}
}

/* For expiry, which ends sessions from the head of a timer list and
 * checks the new head's deadline: @s is the head, about to end or not
 * due yet. Starts loading all of @s (its first line is in cache: its
 * deadline was just read), its bucket, and what the deadline of the
 * record after it reads, so that when they end they were last touched
 * long ago but are not cold. */
void tg_flow_prefetch_list(const struct tg_flow_table *t, const struct tg_session *s);

/* tg_flow_lookup with the hash already computed. */
struct tg_session *tg_flow_lookup_h(struct tg_flow_table *t, const struct tg_pkt *p,
				    uint32_t h, bool *from_orig);

/* Finds the session of the packet's 5-tuple in either direction. Sets
 * *@from_orig to whether @p was sent by the session's originator. A
 * session found behind others in its hash chain moves to its front. */
struct tg_session *tg_flow_lookup(struct tg_flow_table *t,
				  const struct tg_pkt *p, bool *from_orig);

/* Takes a free entry, zeroed, not yet in the hash or any list. Returns NULL
 * when the table is full (the caller evicts and retries). */
struct tg_session *tg_flow_alloc(struct tg_flow_table *t);

/* Links @s, whose orig/resp addresses and ports are set, at the end of
 * its hash chain and at the tail of list @timer. */
void tg_flow_insert(struct tg_flow_table *t, struct tg_session *s,
		    enum tg_timer timer);

/* Moves @s to the tail of list @timer (its class may change). */
void tg_flow_touch(struct tg_flow_table *t, struct tg_session *s,
		   enum tg_timer timer);

/* Unlinks @s from hash and list and returns its entry to the free pool. */
void tg_flow_remove(struct tg_flow_table *t, struct tg_session *s);

/* The side-pool entry of @s, or NULL when it has none. */
static inline struct tg_rare *tg_flow_rare(const struct tg_flow_table *t,
					   const struct tg_session *s)
{
	return s->rare ? &t->rare[s->rare - 1] : NULL;
}

/* The side-pool entry of @s, taken (zeroed) if it had none. NULL when the
 * pool is empty: the engine keeps one free before each packet (see
 * tg_flow_rare_full), so tracking does not meet that. */
struct tg_rare *tg_flow_rare_get(struct tg_flow_table *t, struct tg_session *s);

/* True when no side-pool entry is free. */
static inline bool tg_flow_rare_full(const struct tg_flow_table *t)
{
	return t->rare_used == t->rare_cap;
}

/* The session to end when the side pool is full, one that holds an entry:
 * the oldest lingering (tcp-time-wait) session among the first 64 of
 * that list that hold one; failing that, the least recently active holder
 * among 64 entries from a hand that moves on each time. NULL only when no
 * session holds an entry. */
struct tg_session *tg_flow_rare_victim(struct tg_flow_table *t);

/* Oldest session of list @timer, or NULL. */
struct tg_session *tg_flow_oldest(const struct tg_flow_table *t,
				  enum tg_timer timer);

/* Swaps the roles of @s (Zeek's flip) keeping it findable. */
void tg_flow_flip(struct tg_session *s);

#endif
