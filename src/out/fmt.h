/* SPDX-License-Identifier: MIT */
/*
 * Record formatting shared by the JSON and conn.log sinks: a record is
 * built in a buffer of TG_SINK_RECORD_MAX bytes with hand-written number
 * formatting (digits two at a time from a table), then leaves in one
 * write. A busy capture ends hundreds of thousands of sessions a second:
 * printf's format parsing cost more than the whole TCP analysis.
 */
#ifndef TG_OUT_FMT_H
#define TG_OUT_FMT_H

#include <stdint.h>
#include <string.h>

#include "sink.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"

struct fbuf {
	char *b;                /* TG_SINK_RECORD_MAX bytes */
	size_t n;
};

static inline __attribute__((always_inline))
void putn(struct fbuf *j, const char *s, size_t l)
{
	memcpy(j->b + j->n, s, l);
	j->n += l;
}

static inline __attribute__((always_inline))
void put(struct fbuf *j, const char *s)
{
	putn(j, s, strlen(s));
}

static inline __attribute__((always_inline))
void put_c(struct fbuf *j, char c)
{
	j->b[j->n++] = c;
}

/* The session's uid: 18 characters, and a NUL past them that the next
 * write covers. */
static inline void put_uid(struct fbuf *j, const struct tg_session *s, uint64_t seed)
{
	tg_session_uid(s, seed, j->b + j->n);
	j->n += 18;
}

static inline void put_addr(struct fbuf *j, const struct tg_addr *a)
{
	j->n += tg_addr_put(a, j->b + j->n);
}

/* Decimal, any value, at @o; returns its length (fmt.c). Takes no
 * struct fbuf, so that a record's cursor can stay in registers. */
size_t tg_fmt_u64(char *o, uint64_t v);

/* Most numbers in a record (TTLs, packet counts, retransmissions) are
 * one or two digits: those take no call. */
static inline __attribute__((always_inline))
void put_u64(struct fbuf *j, uint64_t v)
{
	if (v < 10) {
		j->b[j->n++] = (char)('0' + v);
	} else if (v < 100) {
		memcpy(j->b + j->n, tg_digit_pairs + 2 * v, 2);
		j->n += 2;
	} else {
		j->n += tg_fmt_u64(j->b + j->n, v);
	}
}

/* Seconds with @digits decimals from a count of 10^-digits seconds.
 * Inlined so that @digits, always a constant, makes the divisions by
 * 10^digits multiplications. */
static inline __attribute__((always_inline))
void put_fixed(struct fbuf *j, uint64_t units, unsigned digits)
{
	uint64_t div = 1;
	uint32_t frac;
	unsigned i;

	for (i = 0; i < digits; i++)
		div *= 10;
	i = digits;
	put_u64(j, units / div);
	j->b[j->n++] = '.';
	frac = (uint32_t)(units % div);
	for (; i >= 2; i -= 2) {
		memcpy(j->b + j->n + i - 2, tg_digit_pairs + 2 * (frac % 100), 2);
		frac /= 100;
	}
	if (i)
		j->b[j->n] = (char)('0' + frac % 10);
	j->n += digits;
}

/* A sink that formats its own records (ops->format) writes them through
 * a buffer of its own, a megabyte at a time: a stdio call per record
 * cost more than a third of the record's formatting. Not for standard
 * output, which other writers (alerts to "-") may share record by
 * record. tg_recbuf_new sets it up as k->priv (when it can);
 * tg_recbuf_session serves as ops->session; tg_recbuf_flush writes what
 * it holds to @f (k->f, or the old file of a rotation); tg_recbuf_free
 * flushes and frees it. */
void tg_recbuf_new(struct tg_sink *k);
void tg_recbuf_session(struct tg_sink *k, const struct tg_session *s,
		       const struct tg_evidence *ev, const struct tg_cause_info *c);
void tg_recbuf_flush(struct tg_sink *k, FILE *f);
void tg_recbuf_free(struct tg_sink *k);

#endif
