// SPDX-License-Identifier: MIT
/*
 * Zeek conn.log in Zeek's ASCII (TSV) format: the same meta header
 * (#separator written as \x09, #fields, #types, #open/#close in local time),
 * the same 22 columns in the same order, "-" for unset values, so
 * zeek-cut and scripts written for Zeek read it unchanged. Only TCP rows
 * are written. local_orig/local_resp follow Zeek's default, where the
 * private address ranges count as local.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "sink.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"

static void stamp(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%d-%H-%M-%S", &tm);
}

/* Zeek's Site::private_address_space, which is local by default. */
static bool is_private(const struct tg_addr *a)
{
	const uint8_t *b = a->b;

	if (tg_addr_is_v4(a)) {
		b += 12;
		return b[0] == 10 || b[0] == 127 ||
		       (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) ||
		       (b[0] == 100 && (b[1] & 0xc0) == 64);
	}
	if ((b[0] & 0xfe) == 0xfc)                  /* fc00::/7 */
		return true;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)  /* fe80::/10 */
		return true;
	for (int i = 0; i < 15; i++)                /* ::1 */
		if (b[i])
			return false;
	return b[15] == 1;
}

static void zeek_header(FILE *f)
{
	char t[32];

	stamp(t, sizeof(t));
	fprintf(f, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
		"#unset_field\t-\n#path\tconn\n#open\t%s\n", t);
	fputs("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
	      "proto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\t"
	      "local_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\t"
	      "orig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n",
	      f);
	fputs("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\t"
	      "interval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\t"
	      "count\tcount\tcount\tset[string]\tcount\n", f);
}

/* One row, built as fmt.h describes. */
static size_t zeek_format(const struct tg_sink *k, const struct tg_session *s,
			  const struct tg_evidence *ev, const struct tg_cause_info *c,
			  char *out)
{
	struct fbuf j = { out, 0 };
	uint64_t dur_us = (s->last_ns - s->first_ns) / 1000u;
	enum tg_conn_state cs = tg_session_conn_state(s);

	(void)c;
	put_fixed(&j, s->first_ns / 1000u, 6);
	put_c(&j, '\t');
	put_uid(&j, s, k->uid_seed);
	put_c(&j, '\t');
	put_addr(&j, &s->orig_h);
	put_c(&j, '\t');
	put_u64(&j, s->orig_p);
	put_c(&j, '\t');
	put_addr(&j, &s->resp_h);
	put_c(&j, '\t');
	put_u64(&j, s->resp_p);
	put(&j, "\ttcp\t-\t");
	if (dur_us > 0) {
		put_fixed(&j, dur_us, 6);
		put_c(&j, '\t');
		put_u64(&j, tg_session_bytes(s, 0));
		put_c(&j, '\t');
		put_u64(&j, tg_session_bytes(s, 1));
		put_c(&j, '\t');
	} else {
		put(&j, "-\t-\t-\t");
	}
	putn(&j, tg_conn_state_str[cs], tg_conn_state_len[cs]);
	put_c(&j, '\t');
	put_c(&j, is_private(&s->orig_h) ? 'T' : 'F');
	put_c(&j, '\t');
	put_c(&j, is_private(&s->resp_h) ? 'T' : 'F');
	put_c(&j, '\t');
	put_u64(&j, (uint64_t)ev->d[0].missed + ev->d[1].missed);
	put_c(&j, '\t');
	if (s->hist_len)
		putn(&j, s->hist, s->hist_len);
	else
		put_c(&j, '-');
	put_c(&j, '\t');
	put_u64(&j, s->d[0].pkts);
	put_c(&j, '\t');
	put_u64(&j, tg_dir_ip_bytes(&s->d[0]));
	put_c(&j, '\t');
	put_u64(&j, s->d[1].pkts);
	put_c(&j, '\t');
	put_u64(&j, tg_dir_ip_bytes(&s->d[1]));
	put(&j, "\t-\t6\n");
	return j.n;
}

static int zeek_finish(struct tg_sink *k, const struct tg_stats *st)
{
	char t[32];

	(void)st;
	tg_recbuf_flush(k, k->f);
	stamp(t, sizeof(t));
	fprintf(k->f, "#close\t%s\n", t);
	return fflush(k->f) == 0 && !ferror(k->f) ? 0 : -EIO;
}

/* Rotation, as Zeek rotates: the old file gets its #close line and a
 * fresh file its own header, so each file stands alone for zeek-cut. */
static void zeek_reopened(struct tg_sink *k, FILE *old, FILE *f, int fresh)
{
	char t[32];

	tg_recbuf_flush(k, old);        /* the rows written before the rotation */
	if (!fresh)
		return;
	stamp(t, sizeof(t));
	fprintf(old, "#close\t%s\n", t);
	zeek_header(f);
}

static void zeek_flush(struct tg_sink *k)
{
	tg_recbuf_flush(k, k->f);
}

static const struct tg_sink_ops zeek_ops = {
	.name = "zeek",
	.session = tg_recbuf_session,
	.format = zeek_format,
	.finish = zeek_finish,
	.free = tg_recbuf_free,
	.flush = zeek_flush,
	.reopened = zeek_reopened,
};

int tg_sink_zeek_new(struct tg_sink *k, const char *path, uint64_t seed)
{
	int rc = tg_sink_open_file(k, path);

	if (rc)
		return rc;
	k->ops = &zeek_ops;
	k->uid_seed = seed;
	/* Large writes: one system call per many rows. */
	setvbuf(k->f, NULL, _IOFBF, 1 << 20);
	tg_recbuf_new(k);
	zeek_header(k->f);
	return 0;
}
