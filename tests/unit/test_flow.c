// SPDX-License-Identifier: MIT
/*
 * Unit tests of the flow table (tg_flow_*, include/tcpguard/flow.h). They
 * prove that a table holds exactly its capacity and then says full with
 * NULL; that a session is found from a packet of either direction, for
 * IPv4 and IPv6 keys, and that nothing else is; that removed entries come
 * back zeroed for reuse; that each timer list stays in order of last
 * touch, so tg_flow_oldest is the least recently active; that long bucket
 * chains (natural collisions, and every entry forced into one bucket)
 * survive removals from head, middle and tail; and that tg_flow_flip
 * leaves a session findable with its directions swapped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tcpguard/flow.h"

static struct tg_addr v4(uint32_t a)
{
	struct tg_addr x = { .b = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff} };

	x.b[12] = (uint8_t)(a >> 24);
	x.b[13] = (uint8_t)(a >> 16);
	x.b[14] = (uint8_t)(a >> 8);
	x.b[15] = (uint8_t)a;
	return x;
}

static struct tg_addr v6(uint16_t last)
{
	struct tg_addr x = { .b = {0x20, 0x01, 0x0d, 0xb8} };

	x.b[14] = (uint8_t)(last >> 8);
	x.b[15] = (uint8_t)last;
	return x;
}

/* A packet from @src:@sp to @dst:@dp (only the tuple matters here). */
static struct tg_pkt pkt(struct tg_addr src, uint16_t sp, struct tg_addr dst,
			 uint16_t dp)
{
	struct tg_pkt p;

	memset(&p, 0, sizeof(p));
	p.src = src;
	p.dst = dst;
	p.sport = sp;
	p.dport = dp;
	return p;
}

/* Allocates and inserts the session orig @o:@op -> resp @r:@rp. */
static struct tg_session *add(struct tg_flow_table *t, struct tg_addr o,
			      uint16_t op, struct tg_addr r, uint16_t rp,
			      enum tg_timer timer)
{
	struct tg_session *s = tg_flow_alloc(t);

	assert_non_null(s);
	s->orig_h = o;
	s->orig_p = op;
	s->resp_h = r;
	s->resp_p = rp;
	tg_flow_insert(t, s, timer);
	return s;
}

static void assert_found(struct tg_flow_table *t, const struct tg_session *s)
{
	struct tg_pkt p = pkt(s->orig_h, s->orig_p, s->resp_h, s->resp_p);
	bool from_orig = false;

	assert_ptr_equal(tg_flow_lookup(t, &p, &from_orig), s);
	assert_true(from_orig);
	p = pkt(s->resp_h, s->resp_p, s->orig_h, s->orig_p);
	from_orig = true;
	assert_ptr_equal(tg_flow_lookup(t, &p, &from_orig), s);
	assert_false(from_orig);
}

static void assert_absent(struct tg_flow_table *t, struct tg_pkt p)
{
	bool from_orig;

	assert_null(tg_flow_lookup(t, &p, &from_orig));
}

static void test_init_destroy(void **state)
{
	struct tg_flow_table t;

	(void)state;
	assert_int_equal(tg_flow_init(&t, 0), -EINVAL);
	assert_int_equal(tg_flow_init(&t, (1u << 30) + 1), -EINVAL);
	tg_flow_destroy(&t);                    /* zeroed by the failed init */

	assert_int_equal(tg_flow_init(&t, 5), 0);
	assert_int_equal(t.cap, 5);
	assert_int_equal(t.used, 0);
	/* Power of two, at least one bucket per entry; a side pool of at
	 * least 4 entries (a quarter of larger tables). */
	assert_int_equal(t.mask + 1, 8);
	assert_int_equal(t.rare_cap, 4);
	tg_flow_destroy(&t);
	assert_int_equal(tg_flow_init(&t, 3), 0);
	assert_int_equal(t.rare_cap, 3);
	for (int i = 0; i < TG_TIMER__COUNT; i++) {
		assert_null(tg_flow_oldest(&t, (enum tg_timer)i));
		assert_int_equal(t.list[i].count, 0);
	}
	tg_flow_destroy(&t);
	assert_null(t.s);
	tg_flow_destroy(&t);                    /* twice is fine */
}

/* The side pool: a quarter of the table (at least 4 entries), taken on
 * first need, zeroed, kept while the session lives and given back when it
 * is removed; a full pool says so instead of handing out an entry twice. */
static void test_side_pool(void **state)
{
	struct tg_flow_table t;
	struct tg_session *s[300];
	struct tg_rare *x, *y;

	(void)state;
	assert_int_equal(tg_flow_init(&t, 400), 0);
	assert_int_equal(t.rare_cap, 100);
	for (int i = 0; i < 300; i++) {
		s[i] = tg_flow_alloc(&t);
		assert_non_null(s[i]);
		s[i]->orig_p = (uint16_t)(1000 + i);
		tg_flow_insert(&t, s[i], TG_TIMER_ESTABLISHED);
		assert_null(tg_flow_rare(&t, s[i]));
	}
	for (int i = 0; i < 100; i++) {
		assert_false(tg_flow_rare_full(&t));
		x = tg_flow_rare_get(&t, s[2 * i]);
		assert_non_null(x);
		assert_ptr_equal(tg_flow_rare(&t, s[2 * i]), x);
		assert_ptr_equal(tg_flow_rare_get(&t, s[2 * i]), x);     /* kept */
		x->d[1].zw_probes = (uint16_t)(i + 1);
	}
	assert_true(tg_flow_rare_full(&t));
	assert_int_equal(t.rare_used, 100);
	assert_null(tg_flow_rare_get(&t, s[1]));
	assert_int_equal(s[1]->rare, 0);

	/* A session without an entry gives none back. */
	tg_flow_remove(&t, s[1]);
	assert_true(tg_flow_rare_full(&t));
	/* One with an entry does; the next taker finds it zeroed. */
	x = tg_flow_rare(&t, s[10]);
	tg_flow_remove(&t, s[10]);
	assert_int_equal(s[10]->rare, 0);
	assert_false(tg_flow_rare_full(&t));
	assert_int_equal(t.rare_used, 99);
	y = tg_flow_rare_get(&t, s[3]);
	assert_ptr_equal(y, x);
	assert_int_equal(y->d[1].zw_probes, 0);
	assert_true(tg_flow_rare_full(&t));
	/* The other entries kept their contents. */
	assert_int_equal(tg_flow_rare(&t, s[12])->d[1].zw_probes, 7);
	tg_flow_destroy(&t);

	/* Per flow, records, pool and buckets stay within 256 bytes. */
	assert_true(tg_flow_bytes(1u << 20) <= 256ull << 20);
	assert_true(tg_flow_bytes(1000000) <= 256ull * 1000000);
	/* And the pool never shrinks as the table grows. */
	for (uint32_t cap = 1; cap < 600; cap++)
		assert_true(tg_flow_bytes(cap) < tg_flow_bytes(cap + 1));
}

static void test_alloc_until_full(void **state)
{
	struct tg_flow_table t;
	struct tg_session *s[8];

	(void)state;
	assert_int_equal(tg_flow_init(&t, 8), 0);
	for (int i = 0; i < 8; i++) {
		s[i] = add(&t, v4(0x0a000001), (uint16_t)(1000 + i), v4(0x0a000002),
			   80, TG_TIMER_INIT);
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(s[i], s[j]);
	}
	assert_int_equal(t.used, 8);
	assert_null(tg_flow_alloc(&t));
	assert_null(tg_flow_alloc(&t));
	assert_int_equal(t.used, 8);
	for (int i = 0; i < 8; i++)
		assert_found(&t, s[i]);
	tg_flow_destroy(&t);
}

static void test_lookup_both_directions(void **state)
{
	struct tg_flow_table t;
	struct tg_addr a = v4(0xc0a80001), b = v4(0xc0a80002);
	struct tg_session *s;

	(void)state;
	assert_int_equal(tg_flow_init(&t, 64), 0);
	s = add(&t, a, 40000, b, 443, TG_TIMER_INIT);
	assert_found(&t, s);

	/* Near misses: each field of the tuple changed once. */
	assert_absent(&t, pkt(a, 40001, b, 443));
	assert_absent(&t, pkt(a, 40000, b, 444));
	assert_absent(&t, pkt(v4(0xc0a80003), 40000, b, 443));
	assert_absent(&t, pkt(a, 40000, v4(0xc0a80003), 443));
	assert_absent(&t, pkt(a, 443, b, 40000));  /* ports crossed */
	assert_absent(&t, pkt(b, 40000, a, 443));
	/* The same numbers as an IPv6 address are another host. */
	{
		struct tg_addr a6 = a;

		a6.b[10] = a6.b[11] = 0;
		assert_absent(&t, pkt(a6, 40000, b, 443));
	}
	tg_flow_destroy(&t);
}

static void test_ipv6_keys(void **state)
{
	struct tg_flow_table t;
	struct tg_session *s1, *s2, *s3;

	(void)state;
	assert_int_equal(tg_flow_init(&t, 16), 0);
	s1 = add(&t, v6(1), 5000, v6(2), 22, TG_TIMER_ESTABLISHED);
	s2 = add(&t, v6(2), 5000, v6(1), 22, TG_TIMER_ESTABLISHED);
	s3 = add(&t, v6(1), 5000, v4(0x01020304), 22, TG_TIMER_ESTABLISHED);
	assert_found(&t, s1);
	assert_found(&t, s2);
	assert_found(&t, s3);
	assert_absent(&t, pkt(v6(1), 5000, v6(3), 22));
	tg_flow_destroy(&t);
}

static void test_remove_and_reuse(void **state)
{
	struct tg_flow_table t;
	struct tg_session *s[4], *again;
	struct tg_addr c = v4(0x0a000001), d = v4(0x0a000002);

	(void)state;
	assert_int_equal(tg_flow_init(&t, 4), 0);
	for (int i = 0; i < 4; i++)
		s[i] = add(&t, c, (uint16_t)(2000 + i), d, 80, TG_TIMER_INIT);
	assert_null(tg_flow_alloc(&t));

	s[1]->hist_len = 3;                     /* dirt a reuse must clear */
	tg_flow_remove(&t, s[1]);
	assert_int_equal(t.used, 3);
	assert_int_equal(t.list[TG_TIMER_INIT].count, 3);
	assert_absent(&t, pkt(c, 2001, d, 80));
	assert_found(&t, s[0]);
	assert_found(&t, s[2]);
	assert_found(&t, s[3]);

	again = tg_flow_alloc(&t);
	assert_ptr_equal(again, s[1]);          /* the freed entry */
	assert_int_equal(again->hist_len, 0);
	assert_int_equal(again->hnext, 0);
	assert_null(tg_flow_alloc(&t));
	again->orig_h = d;
	again->orig_p = 80;
	again->resp_h = c;
	again->resp_p = 2001;
	tg_flow_insert(&t, again, TG_TIMER_ESTABLISHED);
	assert_found(&t, again);
	assert_ptr_equal(tg_flow_oldest(&t, TG_TIMER_ESTABLISHED), again);

	/* Free everything, then fill again. */
	for (int i = 0; i < 4; i++)
		tg_flow_remove(&t, s[i]);
	assert_int_equal(t.used, 0);
	for (int i = 0; i < TG_TIMER__COUNT; i++)
		assert_null(tg_flow_oldest(&t, (enum tg_timer)i));
	for (int i = 0; i < 4; i++)
		s[i] = add(&t, c, (uint16_t)(3000 + i), d, 80, TG_TIMER_INIT);
	assert_null(tg_flow_alloc(&t));
	for (int i = 0; i < 4; i++)
		assert_found(&t, s[i]);
	tg_flow_destroy(&t);
}

/* Walks list @timer from head to tail into @out; returns the count. */
static unsigned list_walk(const struct tg_flow_table *t, enum tg_timer timer,
			  const struct tg_session **out)
{
	unsigned n = 0;
	uint32_t prev = 0;

	for (uint32_t i = t->list[timer].head; i; i = t->s[i - 1].lnext) {
		assert_int_equal(t->s[i - 1].lprev, prev);
		assert_int_equal(t->s[i - 1].timer, timer);
		out[n++] = &t->s[i - 1];
		prev = i;
	}
	assert_int_equal(t->list[timer].tail, prev);
	assert_int_equal(t->list[timer].count, n);
	return n;
}

static void test_list_order(void **state)
{
	struct tg_flow_table t;
	struct tg_session *a, *b, *c;
	const struct tg_session *l[8];
	struct tg_addr x = v4(1), y = v4(2);

	(void)state;
	assert_int_equal(tg_flow_init(&t, 8), 0);
	a = add(&t, x, 1, y, 80, TG_TIMER_INIT);
	b = add(&t, x, 2, y, 80, TG_TIMER_INIT);
	c = add(&t, x, 3, y, 80, TG_TIMER_INIT);
	assert_int_equal(list_walk(&t, TG_TIMER_INIT, l), 3);
	assert_ptr_equal(l[0], a);
	assert_ptr_equal(l[2], c);
	assert_ptr_equal(tg_flow_oldest(&t, TG_TIMER_INIT), a);

	tg_flow_touch(&t, a, TG_TIMER_INIT);    /* a is now the newest */
	assert_ptr_equal(tg_flow_oldest(&t, TG_TIMER_INIT), b);
	assert_int_equal(list_walk(&t, TG_TIMER_INIT, l), 3);
	assert_ptr_equal(l[0], b);
	assert_ptr_equal(l[1], c);
	assert_ptr_equal(l[2], a);

	tg_flow_touch(&t, a, TG_TIMER_INIT);    /* already the tail: no-op */
	assert_int_equal(list_walk(&t, TG_TIMER_INIT, l), 3);
	assert_ptr_equal(l[2], a);

	/* A class change moves it to the other list's tail. */
	tg_flow_touch(&t, b, TG_TIMER_ESTABLISHED);
	tg_flow_touch(&t, c, TG_TIMER_ESTABLISHED);
	assert_ptr_equal(tg_flow_oldest(&t, TG_TIMER_INIT), a);
	assert_ptr_equal(tg_flow_oldest(&t, TG_TIMER_ESTABLISHED), b);
	assert_int_equal(list_walk(&t, TG_TIMER_INIT, l), 1);
	assert_int_equal(list_walk(&t, TG_TIMER_ESTABLISHED, l), 2);
	tg_flow_touch(&t, b, TG_TIMER_ESTABLISHED);
	assert_ptr_equal(tg_flow_oldest(&t, TG_TIMER_ESTABLISHED), c);

	/* Removing the head, middle and tail keeps the links consistent. */
	tg_flow_touch(&t, a, TG_TIMER_ESTABLISHED);   /* c, b, a */
	tg_flow_remove(&t, b);
	assert_int_equal(list_walk(&t, TG_TIMER_ESTABLISHED, l), 2);
	assert_ptr_equal(l[0], c);
	assert_ptr_equal(l[1], a);
	tg_flow_remove(&t, c);
	assert_ptr_equal(tg_flow_oldest(&t, TG_TIMER_ESTABLISHED), a);
	tg_flow_remove(&t, a);
	assert_null(tg_flow_oldest(&t, TG_TIMER_ESTABLISHED));
	assert_int_equal(list_walk(&t, TG_TIMER_ESTABLISHED, l), 0);
	assert_int_equal(list_walk(&t, TG_TIMER_INIT, l), 0);
	tg_flow_destroy(&t);
}

/* Longest chain in the bucket array. */
static unsigned longest_chain(const struct tg_flow_table *t)
{
	unsigned best = 0;

	for (uint32_t b = 0; b <= t->mask; b++) {
		unsigned n = 0;

		for (uint32_t i = t->bucket[b]; i; i = t->s[i - 1].hnext)
			n++;
		if (n > best)
			best = n;
	}
	return best;
}

static void fill_and_churn(struct tg_flow_table *t, uint32_t n)
{
	static struct tg_session *s[4096];
	struct tg_addr srv = v4(0x0a0a0a0a);

	assert_true(n <= 4096);
	for (uint32_t i = 0; i < n; i++)
		s[i] = add(t, v4(0x0b000000 + i / 7), (uint16_t)(1024 + i % 7), srv,
			   443, (enum tg_timer)(i % TG_TIMER__COUNT));
	for (uint32_t i = 0; i < n; i++)
		assert_found(t, s[i]);
	/* Every third one out: heads, middles and tails of chains. */
	for (uint32_t i = 0; i < n; i += 3)
		tg_flow_remove(t, s[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (i % 3)
			assert_found(t, s[i]);
		else
			assert_absent(t, pkt(v4(0x0b000000 + i / 7),
					     (uint16_t)(1024 + i % 7), srv, 443));
	}
	/* And back in, into the recycled entries. */
	for (uint32_t i = 0; i < n; i += 3)
		s[i] = add(t, v4(0x0b000000 + i / 7), (uint16_t)(1024 + i % 7), srv,
			   443, TG_TIMER_HALF_CLOSED);
	assert_int_equal(t->used, n);
	assert_null(tg_flow_alloc(t));
	for (uint32_t i = 0; i < n; i++)
		assert_found(t, s[i]);
}

static void test_bucket_collisions(void **state)
{
	struct tg_flow_table t;

	(void)state;
	/* 4096 entries over 8192 buckets: chains of 3 and more are certain. */
	assert_int_equal(tg_flow_init(&t, 4096), 0);
	fill_and_churn(&t, 4096);
	assert_true(longest_chain(&t) >= 3);
	tg_flow_destroy(&t);

	/* White box: a mask of 0 puts every session in bucket 0, one chain
	 * of 200 entries, the worst case the hash could ever give. */
	assert_int_equal(tg_flow_init(&t, 200), 0);
	t.mask = 0;
	fill_and_churn(&t, 200);
	assert_int_equal(longest_chain(&t), 200);
	tg_flow_destroy(&t);
}

/* The sessions of a chain (white box: one bucket) in chain order. */
static unsigned chain(const struct tg_flow_table *t, const struct tg_session **v,
		      unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = t->bucket[0]; i && n < max; i = t->s[i - 1].hnext)
		v[n++] = &t->s[i - 1];
	return n;
}

/* New sessions join the end of their chain; a session a lookup finds
 * behind others moves to the front; removal from any place keeps the
 * rest in order and findable. */
static void test_chain_order(void **state)
{
	struct tg_flow_table t;
	struct tg_session *a, *b, *c;
	const struct tg_session *v[4];
	struct tg_pkt p;
	bool from_orig;

	(void)state;
	assert_int_equal(tg_flow_init(&t, 16), 0);
	t.mask = 0;
	a = add(&t, v4(1), 1000, v4(2), 80, TG_TIMER_INIT);
	b = add(&t, v4(3), 1001, v4(2), 80, TG_TIMER_INIT);
	c = add(&t, v4(4), 1002, v4(2), 80, TG_TIMER_INIT);
	assert_int_equal(chain(&t, v, 4), 3);
	assert_ptr_equal(v[0], a);
	assert_ptr_equal(v[1], b);
	assert_ptr_equal(v[2], c);

	p = pkt(v4(2), 80, v4(4), 1002);
	assert_ptr_equal(tg_flow_lookup(&t, &p, &from_orig), c);
	assert_false(from_orig);
	assert_int_equal(chain(&t, v, 4), 3);
	assert_ptr_equal(v[0], c);
	assert_ptr_equal(v[1], a);
	assert_ptr_equal(v[2], b);

	/* At the front already: stays. */
	assert_ptr_equal(tg_flow_lookup(&t, &p, &from_orig), c);
	assert_int_equal(chain(&t, v, 4), 3);
	assert_ptr_equal(v[0], c);

	tg_flow_remove(&t, a);
	assert_int_equal(chain(&t, v, 4), 2);
	assert_ptr_equal(v[0], c);
	assert_ptr_equal(v[1], b);
	assert_found(&t, b);
	assert_found(&t, c);
	assert_absent(&t, pkt(v4(1), 1000, v4(2), 80));
	tg_flow_destroy(&t);
}

static void test_flip_keeps_findable(void **state)
{
	struct tg_flow_table t;
	struct tg_addr c = v6(10), srv = v6(20);
	struct tg_session *s;
	struct tg_pkt p = pkt(c, 51000, srv, 80);
	bool from_orig = false;

	(void)state;
	assert_int_equal(tg_flow_init(&t, 32), 0);
	add(&t, v6(11), 1, srv, 80, TG_TIMER_INIT);   /* neighbours */
	s = add(&t, c, 51000, srv, 80, TG_TIMER_INIT);
	add(&t, v6(12), 1, srv, 80, TG_TIMER_INIT);
	s->d[0].pkts = 5;
	s->d[1].pkts = 7;

	tg_flow_flip(s);
	assert_memory_equal(s->orig_h.b, srv.b, 16);
	assert_int_equal(s->orig_p, 80);
	assert_memory_equal(s->resp_h.b, c.b, 16);
	assert_int_equal(s->resp_p, 51000);
	assert_int_equal(s->d[0].pkts, 7);      /* directions swapped too */
	assert_int_equal(s->d[1].pkts, 5);

	assert_ptr_equal(tg_flow_lookup(&t, &p, &from_orig), s);
	assert_false(from_orig);                /* c is the responder now */
	assert_found(&t, s);

	/* Flipping back and removing still finds the right chain entry. */
	tg_flow_flip(s);
	assert_found(&t, s);
	tg_flow_flip(s);
	tg_flow_remove(&t, s);
	assert_absent(&t, p);
	assert_int_equal(t.used, 2);
	tg_flow_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_destroy),
		cmocka_unit_test(test_side_pool),
		cmocka_unit_test(test_alloc_until_full),
		cmocka_unit_test(test_lookup_both_directions),
		cmocka_unit_test(test_ipv6_keys),
		cmocka_unit_test(test_remove_and_reuse),
		cmocka_unit_test(test_list_order),
		cmocka_unit_test(test_bucket_collisions),
		cmocka_unit_test(test_chain_order),
		cmocka_unit_test(test_flip_keeps_findable),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
