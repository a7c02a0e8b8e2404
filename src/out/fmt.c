// SPDX-License-Identifier: MIT
/*
 * Number formatting and the record buffer of the sinks (fmt.h).
 */
#include <stdlib.h>

#include "fmt.h"

static const uint64_t pow10_tab[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
};

/* Decimal, written in place from the last digit back, two digits per
 * division (32-bit division while the value fits). */
size_t tg_fmt_u64(char *o, uint64_t v)
{
	/* Digits from the bit length: log10(2) ~ 1233/4096, one correction. */
	unsigned t = ((64u - (unsigned)__builtin_clzll(v | 1)) * 1233u) >> 12;
	unsigned n = t + 1 - ((v | 1) < pow10_tab[t]);
	char *e = o + n;

	while (v > UINT32_MAX) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		e -= 2;
		memcpy(e, tg_digit_pairs + 2 * r, 2);
	}
	for (uint32_t w = (uint32_t)v;;) {
		if (w < 10) {
			*--e = (char)('0' + w);
			return n;
		}
		if (w < 100) {
			e -= 2;
			memcpy(e, tg_digit_pairs + 2 * w, 2);
			return n;
		}
		e -= 2;
		memcpy(e, tg_digit_pairs + 2 * (w % 100), 2);
		w /= 100;
	}
}

#define OUT_BYTES (1u << 20)

struct recbuf {
	size_t n;
	char b[OUT_BYTES];
};

void tg_recbuf_new(struct tg_sink *k)
{
	/* Without one (standard output, or no memory) records go through
	 * stdio one by one. */
	if (k->f != stdout)
		k->priv = calloc(1, sizeof(struct recbuf));
}

void tg_recbuf_flush(struct tg_sink *k, FILE *f)
{
	struct recbuf *o = k->priv;

	if (o && o->n) {
		fwrite_unlocked(o->b, 1, o->n, f);
		o->n = 0;
	}
}

void tg_recbuf_session(struct tg_sink *k, const struct tg_session *s,
		       const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct recbuf *o = k->priv;
	char buf[TG_SINK_RECORD_MAX];

	if (o) {
		if (OUT_BYTES - o->n < TG_SINK_RECORD_MAX)
			tg_recbuf_flush(k, k->f);
		o->n += k->ops->format(k, s, ev, c, o->b + o->n);
		return;
	}
	/* A sink is written by one thread: no stdio lock per record. */
	fwrite_unlocked(buf, 1, k->ops->format(k, s, ev, c, buf), k->f);
}

void tg_recbuf_free(struct tg_sink *k)
{
	tg_recbuf_flush(k, k->f);
	free(k->priv);
	k->priv = NULL;
}
