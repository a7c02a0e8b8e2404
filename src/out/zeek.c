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
#include <inttypes.h>
#include <string.h>
#include <time.h>

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

static void zeek_session(struct tg_sink *k, const struct tg_session *s,
			 const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	FILE *f = k->f;
	char ts[32], a[64], b[64], uid[24];
	uint64_t dur = s->last_ns - s->first_ns;

	(void)ev;
	(void)c;
	tg_fmt_time(ts, sizeof(ts), s->first_ns);
	fprintf(f, "%s\t%s\t%s\t%u\t%s\t%u\ttcp\t-\t", ts,
		tg_session_uid(s, k->uid_seed, uid),
		tg_addr_str(&s->orig_h, a, sizeof(a)), s->orig_p,
		tg_addr_str(&s->resp_h, b, sizeof(b)), s->resp_p);
	if (dur / 1000 > 0) {
		tg_fmt_time(ts, sizeof(ts), dur);
		fprintf(f, "%s\t%" PRIu64 "\t%" PRIu64 "\t", ts,
			tg_session_bytes(s, 0), tg_session_bytes(s, 1));
	} else {
		fputs("-\t-\t-\t", f);
	}
	fprintf(f, "%s\t%c\t%c\t%" PRIu64 "\t", tg_conn_state_str[tg_session_conn_state(s)],
		is_private(&s->orig_h) ? 'T' : 'F',
		is_private(&s->resp_h) ? 'T' : 'F',
		(uint64_t)s->d[0].missed + s->d[1].missed);
	if (s->hist_len)
		fprintf(f, "%.*s", s->hist_len, s->hist);
	else
		fputc('-', f);
	fprintf(f, "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu64 "\t-\t6\n",
		s->d[0].pkts, tg_dir_ip_bytes(&s->d[0]), s->d[1].pkts, tg_dir_ip_bytes(&s->d[1]));
}

static int zeek_finish(struct tg_sink *k, const struct tg_stats *st)
{
	char t[32];

	(void)st;
	stamp(t, sizeof(t));
	fprintf(k->f, "#close\t%s\n", t);
	return fflush(k->f) == 0 && !ferror(k->f) ? 0 : -EIO;
}

/* Rotation, as Zeek rotates: the old file gets its #close line and a
 * fresh file its own header, so each file stands alone for zeek-cut. */
static void zeek_reopened(struct tg_sink *k, FILE *old, FILE *f, int fresh)
{
	char t[32];

	(void)k;
	if (!fresh)
		return;
	stamp(t, sizeof(t));
	fprintf(old, "#close\t%s\n", t);
	zeek_header(f);
}

static const struct tg_sink_ops zeek_ops = {
	.name = "zeek",
	.session = zeek_session,
	.finish = zeek_finish,
	.reopened = zeek_reopened,
};

int tg_sink_zeek_new(struct tg_sink *k, const char *path, uint64_t seed)
{
	int rc = tg_sink_open_file(k, path);

	if (rc)
		return rc;
	k->ops = &zeek_ops;
	k->uid_seed = seed;
	zeek_header(k->f);
	return 0;
}
