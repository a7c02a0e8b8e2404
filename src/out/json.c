// SPDX-License-Identifier: MIT
/*
 * JSON lines: one object per session, written as the session ends. Keys
 * that mean what Zeek's conn.log keys mean carry Zeek's names ("ts",
 * "id.orig_h", "conn_state", ...) so jq filters written for Zeek's JSON
 * logs work unchanged; tcpguard's own keys follow (docs/output.md lists
 * them). As in Zeek's JSON, unset values are left out rather than null.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "sink.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"

static void dir_json(FILE *f, const char *who, const struct tg_dir *d,
		     bool sent)
{
	fprintf(f, ",\"%s_state\":\"%s\"", who, tg_ep_state_str[d->state]);
	if (!sent)
		return;
	fprintf(f, ",\"%s_ttl_min\":%u,\"%s_ttl_max\":%u",
		who, d->ttl_min, who, d->ttl_max);
	fprintf(f, ",\"%s_ip_id_last\":%u", who, d->ipid_last);
	if (d->wscale != 0xff)
		fprintf(f, ",\"%s_wscale\":%u", who, d->wscale);
	fprintf(f, ",\"%s_rxmit_pkts\":%" PRIu32, who, d->rxmit);
	if (d->zw_episodes)
		fprintf(f, ",\"%s_zero_win\":{\"episodes\":%u,\"seconds\":%" PRIu32
			".%03" PRIu32 ",\"probes\":%u}", who, d->zw_episodes,
			d->zw_total_ms / 1000, d->zw_total_ms % 1000, d->zw_probes);
}

static void json_session(struct tg_sink *k, const struct tg_session *s)
{
	FILE *f = k->f;
	char ts[32], a[64], b[64], uid[24];
	uint64_t dur = s->last_ns - s->first_ns;
	int cs = tg_session_conn_state(s);

	tg_fmt_time(ts, sizeof(ts), s->first_ns);
	fprintf(f, "{\"ts\":%s,\"uid\":\"%s\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,"
		"\"id.resp_h\":\"%s\",\"id.resp_p\":%u,\"proto\":\"tcp\"",
		ts, tg_session_uid(s, k->uid_seed, uid),
		tg_addr_str(&s->orig_h, a, sizeof(a)), s->orig_p,
		tg_addr_str(&s->resp_h, b, sizeof(b)), s->resp_p);
	/* Zeek leaves duration and sizes unset for zero-length sessions. */
	if (dur / 1000 > 0) {
		tg_fmt_time(ts, sizeof(ts), dur);
		fprintf(f, ",\"duration\":%s,\"orig_bytes\":%" PRIu64
			",\"resp_bytes\":%" PRIu64, ts,
			tg_session_bytes(s, 0), tg_session_bytes(s, 1));
	}
	fprintf(f, ",\"conn_state\":\"%s\",\"missed_bytes\":%" PRIu64,
		tg_conn_state_str[cs],
		(uint64_t)s->d[0].missed + s->d[1].missed);
	if (s->hist_len)
		fprintf(f, ",\"history\":\"%.*s\"", s->hist_len, s->hist);
	fprintf(f, ",\"orig_pkts\":%" PRIu32
		",\"orig_ip_bytes\":%" PRIu64 ",\"resp_pkts\":%" PRIu32
		",\"resp_ip_bytes\":%" PRIu64,
		s->d[0].pkts, tg_dir_ip_bytes(&s->d[0]),
		s->d[1].pkts, tg_dir_ip_bytes(&s->d[1]));
	fprintf(f, ",\"end_reason\":\"%s\"", tg_end_reason_str[s->end]);
	if (s->flags & TG_SF_ORIG_CLOSED_FIRST)
		fputs(",\"first_closer\":\"orig\"", f);
	else if (s->flags & TG_SF_RESP_CLOSED_FIRST)
		fputs(",\"first_closer\":\"resp\"", f);
	tg_fmt_time(ts, sizeof(ts), s->last_ns);
	fprintf(f, ",\"last_ts\":%s", ts);
	dir_json(f, "orig", &s->d[0], s->d[0].pkts > 0);
	dir_json(f, "resp", &s->d[1], s->d[1].pkts > 0);
	if (s->flags & TG_SF_HIST_TRUNC)
		fputs(",\"history_truncated\":true", f);
	fputs("}\n", f);
}

static int json_finish(struct tg_sink *k, const struct tg_stats *st)
{
	(void)st;
	return fflush(k->f) == 0 && !ferror(k->f) ? 0 : -EIO;
}

static const struct tg_sink_ops json_ops = {
	.name = "json",
	.session = json_session,
	.finish = json_finish,
};

int tg_sink_json_new(struct tg_sink *k, const char *path, uint64_t seed)
{
	int rc = tg_sink_open_file(k, path);

	if (rc)
		return rc;
	k->ops = &json_ops;
	k->uid_seed = seed;
	return 0;
}
