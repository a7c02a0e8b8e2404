// SPDX-License-Identifier: MIT
/*
 * JSON lines: one object per session, written as the session ends. Keys
 * that mean what Zeek's conn.log keys mean carry Zeek's names ("ts",
 * "id.orig_h", "conn_state", ...) so jq filters written for Zeek's JSON
 * logs work unchanged; tcpguard's own keys follow (docs/output.md lists
 * them). As in Zeek's JSON, unset values are left out rather than null.
 *
 * A busy capture ends hundreds of thousands of sessions a second, so a
 * record is built in a stack buffer with hand-written number formatting
 * and leaves in one fwrite; printf's format parsing cost more than the
 * whole TCP analysis.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "tcpguard/cause.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"

struct jbuf {
	char *b;                /* TG_SINK_RECORD_MAX bytes */
	size_t n;
};

static inline void putn(struct jbuf *j, const char *s, size_t l)
{
	memcpy(j->b + j->n, s, l);
	j->n += l;
}

static inline void put(struct jbuf *j, const char *s)
{
	putn(j, s, strlen(s));
}

static const uint64_t pow10_tab[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
};

/* Decimal, written in place from the last digit back, two digits per
 * division (32-bit division while the value fits). */
static void put_u64_long(struct jbuf *j, uint64_t v)
{
	/* Digits from the bit length: log10(2) ~ 1233/4096, one correction. */
	unsigned t = ((64u - (unsigned)__builtin_clzll(v | 1)) * 1233u) >> 12;
	unsigned n = t + 1 - ((v | 1) < pow10_tab[t]);
	char *e;

	e = j->b + j->n + n;
	j->n += n;
	while (v > UINT32_MAX) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		e -= 2;
		memcpy(e, tg_digit_pairs + 2 * r, 2);
	}
	for (uint32_t w = (uint32_t)v;;) {
		if (w < 10) {
			*--e = (char)('0' + w);
			return;
		}
		if (w < 100) {
			e -= 2;
			memcpy(e, tg_digit_pairs + 2 * w, 2);
			return;
		}
		e -= 2;
		memcpy(e, tg_digit_pairs + 2 * (w % 100), 2);
		w /= 100;
	}
}

/* Most numbers in a record (TTLs, packet counts, retransmissions) are
 * one or two digits: those take no call. */
static inline void put_u64(struct jbuf *j, uint64_t v)
{
	if (v < 10) {
		j->b[j->n++] = (char)('0' + v);
	} else if (v < 100) {
		memcpy(j->b + j->n, tg_digit_pairs + 2 * v, 2);
		j->n += 2;
	} else {
		put_u64_long(j, v);
	}
}

/* Seconds with @digits decimals from a count of 10^-digits seconds.
 * Inlined so that @digits, always a constant, makes the divisions by
 * 10^digits multiplications. */
static inline __attribute__((always_inline))
void put_fixed(struct jbuf *j, uint64_t units, unsigned digits)
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

static void put_key_u64(struct jbuf *j, const char *key, uint64_t v)
{
	put(j, key);
	put_u64(j, v);
}

/* ,"orig_NAME": or ,"resp_NAME": (both prefixes are five bytes, so one
 * length serves). */
#define PUT_DKEY(j, resp, name) \
	putn((j), (resp) ? ",\"resp_" name "\":" : ",\"orig_" name "\":", \
	     sizeof(",\"orig_" name "\":") - 1)

static void dir_json(struct jbuf *j, int resp, const struct tg_dir *d,
		     const struct tg_dir_rare *x, bool sent)
{
	static const char fl[] = "FSRPAUEC";

	PUT_DKEY(j, resp, "state");
	j->b[j->n++] = '"';
	put(j, tg_ep_state_str[d->state]);
	j->b[j->n++] = '"';
	if (!sent)
		return;
	/* Every TCP flag this side ever sent, tcpdump's letters. */
	PUT_DKEY(j, resp, "flags");
	j->b[j->n++] = '"';
	for (unsigned f = d->flags_seen; f; f &= f - 1)
		j->b[j->n++] = fl[__builtin_ctz(f)];    /* lowest bit first */
	j->b[j->n++] = '"';
	PUT_DKEY(j, resp, "ttl_min");
	put_u64(j, d->ttl_min);
	PUT_DKEY(j, resp, "ttl_max");
	put_u64(j, d->ttl_max);
	PUT_DKEY(j, resp, "ip_id_last");
	put_u64(j, d->ipid_last);
	if (d->wscale != 0xff) {
		PUT_DKEY(j, resp, "wscale");
		put_u64(j, d->wscale);
	}
	PUT_DKEY(j, resp, "rxmit_pkts");
	put_u64(j, d->rxmit);
	if (x->zw_episodes) {
		PUT_DKEY(j, resp, "zero_win");
		put_key_u64(j, "{\"episodes\":", x->zw_episodes);
		put(j, ",\"seconds\":");
		put_fixed(j, x->zw_total_ms, 3);
		put_key_u64(j, ",\"probes\":", x->zw_probes);
		j->b[j->n++] = '}';
	}
}

/* The reset that ended the session, with what the sender had looked like
 * before it: the facts behind the cause. */
static void reset_json(struct jbuf *j, const struct tg_evidence *ev)
{
	put_key_u64(j, ",\"reset\":{\"frame\":", ev->r.rst_pkt);
	put(j, ",\"from\":\"");
	put(j, ev->r.rst_dir ? "resp" : "orig");
	put(j, "\",\"flags\":\"");
	put(j, ev->flags & TG_EV_RST_ACK ? "RA" : "R");
	put_key_u64(j, "\",\"ttl\":", ev->r.rst_ttl);
	if (ev->r.sent_before) {
		put_key_u64(j, ",\"ttl_before_min\":", ev->r.ttl_min_before);
		put_key_u64(j, ",\"ttl_before_max\":", ev->r.ttl_max_before);
		put_key_u64(j, ",\"ip_id_before\":", ev->r.ipid_before);
	}
	put_key_u64(j, ",\"ip_id\":", ev->r.rst_ipid);
	put_key_u64(j, ",\"win\":", ev->r.rst_win);
	put(j, ",\"seq\":\"");
	put(j, tg_rst_seq_str[ev->r.rst_seq_class]);
	j->b[j->n++] = '"';
	if (ev->r.rst_seq_class != TG_RST_SEQ_UNKNOWN) {
		put(j, ",\"seq_offset\":");
		if (ev->r.rst_seq_off < 0) {
			j->b[j->n++] = '-';
			put_u64(j, (uint64_t)(-(int64_t)ev->r.rst_seq_off));
		} else {
			put_u64(j, (uint64_t)ev->r.rst_seq_off);
		}
		put_key_u64(j, ",\"rcv_win\":", ev->r.rst_rcv_win);
	}
	put(j, ",\"gap\":");
	put_fixed(j, ev->r.rst_gap_us, 6);
	put_key_u64(j, ",\"pending_to_sender\":", ev->r.pend_to);
	put_key_u64(j, ",\"pending_from_sender\":", ev->r.pend_from);
	put_key_u64(j, ",\"sender_pkts_after\":", ev->r.after_pkts);
	put_key_u64(j, ",\"resets\":", ev->r.rst_count);
	j->b[j->n++] = '}';
}

/* Copies @str into the record as a JSON string body (quotes and
 * backslashes escaped; the evidence text holds nothing else special). */
static void put_esc(struct jbuf *j, const char *str)
{
	while (*str) {
		size_t n = strcspn(str, "\"\\");

		if (n > TG_SINK_RECORD_MAX - 8 - j->n)
			n = TG_SINK_RECORD_MAX - 8 - j->n;
		memcpy(j->b + j->n, str, n);
		j->n += n;
		str += n;
		if (!*str || j->n >= TG_SINK_RECORD_MAX - 8)
			return;
		j->b[j->n++] = '\\';
		j->b[j->n++] = *str++;
	}
}

static size_t json_format(const struct tg_sink *k, const struct tg_session *s,
			  const struct tg_evidence *ev, const struct tg_cause_info *c,
			  char *out)
{
	struct jbuf j = { out, 0 };
	char text[TG_CAUSE_TEXT_MAX];
	uint64_t dur_us = (s->last_ns - s->first_ns) / 1000u;

	put(&j, "{\"ts\":");
	put_fixed(&j, s->first_ns / 1000u, 6);
	put(&j, ",\"uid\":\"");
	/* The uid is 18 characters; its NUL lands where the next key goes. */
	tg_session_uid(s, k->uid_seed, j.b + j.n);
	j.n += 18;
	put(&j, "\",\"id.orig_h\":\"");
	j.n += tg_addr_put(&s->orig_h, j.b + j.n);
	put_key_u64(&j, "\",\"id.orig_p\":", s->orig_p);
	put(&j, ",\"id.resp_h\":\"");
	j.n += tg_addr_put(&s->resp_h, j.b + j.n);
	put_key_u64(&j, "\",\"id.resp_p\":", s->resp_p);
	put(&j, ",\"proto\":\"tcp\"");
	/* Zeek leaves duration and sizes unset for zero-length sessions. */
	if (dur_us > 0) {
		put(&j, ",\"duration\":");
		put_fixed(&j, dur_us, 6);
		put_key_u64(&j, ",\"orig_bytes\":", tg_session_bytes(s, 0));
		put_key_u64(&j, ",\"resp_bytes\":", tg_session_bytes(s, 1));
	}
	put(&j, ",\"conn_state\":\"");
	put(&j, tg_conn_state_str[tg_session_conn_state(s)]);
	put_key_u64(&j, "\",\"missed_bytes\":", (uint64_t)s->d[0].missed + s->d[1].missed);
	if (s->hist_len) {
		put(&j, ",\"history\":\"");
		memcpy(j.b + j.n, s->hist, s->hist_len);
		j.n += s->hist_len;
		j.b[j.n++] = '"';
	}
	put_key_u64(&j, ",\"orig_pkts\":", s->d[0].pkts);
	put_key_u64(&j, ",\"orig_ip_bytes\":", tg_dir_ip_bytes(&s->d[0]));
	put_key_u64(&j, ",\"resp_pkts\":", s->d[1].pkts);
	put_key_u64(&j, ",\"resp_ip_bytes\":", tg_dir_ip_bytes(&s->d[1]));
	put(&j, ",\"end_reason\":\"");
	put(&j, tg_end_reason_str[s->end]);
	put(&j, "\",\"cause\":\"");
	put(&j, tg_cause_str[c->cause]);
	put(&j, "\",\"cause_evidence\":\"");
	tg_cause_describe(s, ev, text, sizeof(text));
	put_esc(&j, text);
	j.b[j.n++] = '"';
	if (ev->flags & TG_EV_HAVE_RST)
		reset_json(&j, ev);
	if (s->flags & TG_SF_ORIG_CLOSED_FIRST)
		put(&j, ",\"first_closer\":\"orig\"");
	else if (s->flags & TG_SF_RESP_CLOSED_FIRST)
		put(&j, ",\"first_closer\":\"resp\"");
	put(&j, ",\"last_ts\":");
	put_fixed(&j, s->last_ns / 1000u, 6);
	dir_json(&j, 0, &s->d[0], &ev->d[0], s->d[0].pkts > 0);
	dir_json(&j, 1, &s->d[1], &ev->d[1], s->d[1].pkts > 0);
	if (s->flags & TG_SF_HIST_TRUNC)
		put(&j, ",\"history_truncated\":true");
	put(&j, "}\n");
	return j.n;
}

/* Records are formatted straight into a buffer of the sink's own and
 * leave it a megabyte at a time: a stdio call per record cost more than
 * a third of the record's formatting. Not for standard output, which
 * other writers (alerts to "-") may share record by record. */
#define OUT_BYTES (1u << 20)

struct json_out {
	size_t n;
	char b[OUT_BYTES];
};

static void out_flush(struct tg_sink *k, FILE *f)
{
	struct json_out *o = k->priv;

	if (o && o->n) {
		fwrite_unlocked(o->b, 1, o->n, f);
		o->n = 0;
	}
}

static void json_session(struct tg_sink *k, const struct tg_session *s,
			 const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct json_out *o = k->priv;
	char buf[TG_SINK_RECORD_MAX];

	if (o) {
		if (OUT_BYTES - o->n < TG_SINK_RECORD_MAX)
			out_flush(k, k->f);
		o->n += json_format(k, s, ev, c, o->b + o->n);
		return;
	}
	/* A sink is written by one thread: no stdio lock per record. */
	fwrite_unlocked(buf, 1, json_format(k, s, ev, c, buf), k->f);
}

static int json_finish(struct tg_sink *k, const struct tg_stats *st)
{
	(void)st;
	return tg_sink_flush(k) ? -EIO : 0;
}

static void json_reopened(struct tg_sink *k, FILE *old, FILE *f, int fresh)
{
	(void)fresh;
	out_flush(k, old);      /* what was written before the rotation */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
}

static void json_flush(struct tg_sink *k)
{
	out_flush(k, k->f);
}

static void json_free(struct tg_sink *k)
{
	out_flush(k, k->f);
	free(k->priv);
	k->priv = NULL;
}

static const struct tg_sink_ops json_ops = {
	.name = "json",
	.session = json_session,
	.format = json_format,
	.finish = json_finish,
	.free = json_free,
	.flush = json_flush,
	.reopened = json_reopened,
};

int tg_sink_json_new(struct tg_sink *k, const char *path, uint64_t seed)
{
	int rc = tg_sink_open_file(k, path);

	if (rc)
		return rc;
	k->ops = &json_ops;
	k->uid_seed = seed;
	/* Large writes: one system call per many records. */
	setvbuf(k->f, NULL, _IOFBF, 1 << 20);
	if (k->f != stdout)
		k->priv = calloc(1, sizeof(struct json_out));   /* none: stdio */
	return 0;
}
