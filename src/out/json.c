// SPDX-License-Identifier: MIT
/*
 * JSON lines: one object per session, written as the session ends. Keys
 * that mean what Zeek's conn.log keys mean carry Zeek's names ("ts",
 * "id.orig_h", "conn_state", ...) so jq filters written for Zeek's JSON
 * logs work unchanged; tcpguard's own keys follow (docs/output.md lists
 * them). As in Zeek's JSON, unset values are left out rather than null.
 * Records are built as fmt.h describes.
 */
#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "sink.h"
#include "tcpguard/cause.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"

/* The record's helpers below are inlined into json_format: no call takes
 * the address of its cursor, which then stays in registers (3.5 % fewer
 * instructions for the whole analysis of the bench capture). */
static inline __attribute__((always_inline))
void put_key_u64(struct fbuf *j, const char *key, uint64_t v)
{
	put(j, key);
	put_u64(j, v);
}

/* ,"orig_NAME": or ,"resp_NAME": (both prefixes are five bytes, so one
 * length serves). */
#define PUT_DKEY(j, resp, name) \
	putn((j), (resp) ? ",\"resp_" name "\":" : ",\"orig_" name "\":", \
	     sizeof(",\"orig_" name "\":") - 1)

static inline __attribute__((always_inline))
void dir_json(struct fbuf *j, int resp, const struct tg_dir *d,
	      const struct tg_dir_rare *x, bool sent)
{
	static const char fl[] = "FSRPAUEC";

	PUT_DKEY(j, resp, "state");
	j->b[j->n++] = '"';
	putn(j, tg_ep_state_str[d->state], tg_ep_state_len[d->state]);
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
	put_u64(j, x->rxmit);
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
static inline __attribute__((always_inline))
void reset_json(struct fbuf *j, const struct tg_evidence *ev)
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
static inline __attribute__((always_inline))
void put_esc(struct fbuf *j, const char *str)
{
	while (*str) {
		size_t n = strcspn(str, "\"\\");

		if (n > TG_SINK_RECORD_MAX - 8 - j->n)
			n = TG_SINK_RECORD_MAX - 8 - j->n;
		putn(j, str, n);
		str += n;
		if (!*str || j->n >= TG_SINK_RECORD_MAX - 8)
			return;
		put_c(j, '\\');
		put_c(j, *str++);
	}
}

/* The cause's evidence text as a JSON string body, written in place: its
 * words hold no quote or backslash, so it goes in as it is (no copy);
 * were one ever there, or the record short of room, it is escaped from a
 * copy. */
static inline __attribute__((always_inline))
void put_evidence(struct fbuf *j, const struct tg_session *s, const struct tg_evidence *ev)
{
	char text[TG_CAUSE_TEXT_MAX];
	char *at = j->b + j->n;
	size_t n;

	if (TG_SINK_RECORD_MAX - 8 - j->n >= TG_CAUSE_TEXT_MAX) {
		n = tg_cause_describe(s, ev, at, TG_CAUSE_TEXT_MAX);
		if (!memchr(at, '"', n) && !memchr(at, '\\', n)) {
			j->n += n;
			return;
		}
		memcpy(text, at, n + 1);
	} else {
		tg_cause_describe(s, ev, text, sizeof(text));
	}
	put_esc(j, text);
}

static size_t json_format(const struct tg_sink *k, const struct tg_session *s,
			  const struct tg_evidence *ev, const struct tg_cause_info *c,
			  char *out)
{
	struct fbuf j = { out, 0 };
	uint64_t dur_us = (s->last_ns - s->first_ns) / 1000u;
	enum tg_conn_state cs = tg_session_conn_state(s);

	put(&j, "{\"ts\":");
	put_fixed(&j, s->first_ns / 1000u, 6);
	put(&j, ",\"uid\":\"");
	put_uid(&j, s, k->uid_seed);
	put(&j, "\",\"id.orig_h\":\"");
	put_addr(&j, &s->orig_h);
	put_key_u64(&j, "\",\"id.orig_p\":", s->orig_p);
	put(&j, ",\"id.resp_h\":\"");
	put_addr(&j, &s->resp_h);
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
	putn(&j, tg_conn_state_str[cs], tg_conn_state_len[cs]);
	put_key_u64(&j, "\",\"missed_bytes\":", (uint64_t)ev->d[0].missed + ev->d[1].missed);
	if (s->hist_len) {
		put(&j, ",\"history\":\"");
		putn(&j, s->hist, s->hist_len);
		put_c(&j, '"');
	}
	put_key_u64(&j, ",\"orig_pkts\":", s->d[0].pkts);
	put_key_u64(&j, ",\"orig_ip_bytes\":", tg_dir_ip_bytes(&s->d[0]));
	put_key_u64(&j, ",\"resp_pkts\":", s->d[1].pkts);
	put_key_u64(&j, ",\"resp_ip_bytes\":", tg_dir_ip_bytes(&s->d[1]));
	put(&j, ",\"end_reason\":\"");
	putn(&j, tg_end_reason_str[s->end], tg_end_reason_len[s->end]);
	put(&j, "\",\"cause\":\"");
	putn(&j, tg_cause_str[c->cause], tg_cause_len[c->cause]);
	put(&j, "\",\"cause_evidence\":\"");
	put_evidence(&j, s, ev);
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

static int json_finish(struct tg_sink *k, const struct tg_stats *st)
{
	(void)st;
	return tg_sink_flush(k) ? -EIO : 0;
}

static void json_reopened(struct tg_sink *k, FILE *old, FILE *f, int fresh)
{
	(void)fresh;
	tg_recbuf_flush(k, old);        /* what was written before the rotation */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
}

static void json_flush(struct tg_sink *k)
{
	tg_recbuf_flush(k, k->f);
}

static const struct tg_sink_ops json_ops = {
	.name = "json",
	.session = tg_recbuf_session,
	.format = json_format,
	.finish = json_finish,
	.free = tg_recbuf_free,
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
	tg_recbuf_new(k);
	return 0;
}
