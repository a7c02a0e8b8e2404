// SPDX-License-Identifier: MIT
/*
 * Alerts as JSON lines and as a summary section, and signatures as text.
 * Alerts are few (one per attack), so plain stdio is fine here, unlike the
 * per-session JSON sink. The BPF and nftables renderings say exactly what
 * tg_sig_match tests, field by field, so the precision and recall printed
 * beside a rule are those of the rule itself. IPv6 BPF offsets assume no
 * extension headers before TCP (tcpdump's tcp[] does not reach past them).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "alerts.h"
#include "sink.h"
#include "tcpguard/decode.h"
#include "tcpguard/detect.h"

struct sbuf {
	char *b;
	size_t len;
	size_t n;
};

static void add(struct sbuf *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (s->n >= s->len)
		return;
	va_start(ap, fmt);
	r = vsnprintf(s->b + s->n, s->len - s->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		s->n += (size_t)r;
}

static const char *addr_plen(const struct tg_addr *a, unsigned plen, bool v4,
			     char *buf, size_t len)
{
	char t[64];

	tg_addr_str(a, t, sizeof(t));
	if (plen == (v4 ? 32u : 128u))
		snprintf(buf, len, "%s", t);
	else
		snprintf(buf, len, "%s/%u", t, plen);
	return buf;
}

char *tg_sig_bpf(const struct tg_sig *g, char *buf, size_t len)
{
	struct sbuf s = { buf, len, 0 };
	bool v4 = g->ip_ver == 4;
	const char *ip = v4 ? "ip" : "ip6";
	char a[80];
	/* TCP header bytes, through tcp[] for IPv4 and ip6[40 + n] for IPv6. */
	const char *tcp = v4 ? "tcp[" : "ip6[40+";

	buf[0] = '\0';
	add(&s, "%s and tcp", ip);
	if (g->fields & TG_SIG_FLAGS)
		add(&s, " and %s13] & 0x17 == 0x%02x", tcp, g->flags);
	if (g->fields & TG_SIG_SRC)
		add(&s, " and src %s %s", g->src_plen == (v4 ? 32 : 128) ? "host" : "net",
		    addr_plen(&g->src, g->src_plen, v4, a, sizeof(a)));
	if (g->fields & TG_SIG_DST)
		add(&s, " and dst %s %s", g->dst_plen == (v4 ? 32 : 128) ? "host" : "net",
		    addr_plen(&g->dst, g->dst_plen, v4, a, sizeof(a)));
	if (g->fields & TG_SIG_DPORT)
		add(&s, " and dst port %u", g->dport);
	if (g->fields & TG_SIG_SPORT)
		add(&s, " and src portrange %u-%u", g->sport_lo, g->sport_hi);
	if (g->fields & TG_SIG_TTL) {
		if (g->ttl_lo == g->ttl_hi)
			add(&s, " and %s == %u", v4 ? "ip[8]" : "ip6[7]", g->ttl_lo);
		else
			add(&s, " and %s >= %u and %s <= %u", v4 ? "ip[8]" : "ip6[7]",
			    g->ttl_lo, v4 ? "ip[8]" : "ip6[7]", g->ttl_hi);
	}
	if (g->fields & TG_SIG_LEN) {
		if (v4)
			add(&s, " and ip[2:2] == %u", g->len);
		else
			add(&s, " and ip6[4:2] == %u", g->len >= 40 ? g->len - 40 : 0);
	}
	if (g->fields & TG_SIG_IPID)
		add(&s, " and ip[4:2] == %u", g->ip_id);
	if (g->fields & TG_SIG_WIN)
		add(&s, " and %s14:2] == %u", tcp, g->win);
	if (g->fields & TG_SIG_DOFF)
		add(&s, " and %s12] & 0xf0 == 0x%02x", tcp, (g->doff / 4) << 4);
	return buf;
}

static const char *nft_flags(uint8_t f, char *buf, size_t len)
{
	static const char *const names[] = { "fin", "syn", "rst", NULL, "ack" };
	struct sbuf s = { buf, len, 0 };

	buf[0] = '\0';
	for (int i = 0; i < 5; i++)
		if (names[i] && (f & (1u << i)))
			add(&s, "%s%s", s.n ? "|" : "", names[i]);
	if (!s.n)
		add(&s, "0x0");
	return buf;
}

char *tg_sig_nft(const struct tg_sig *g, uint32_t id, char *buf, size_t len)
{
	struct sbuf s = { buf, len, 0 };
	bool v4 = g->ip_ver == 4;
	const char *ip = v4 ? "ip" : "ip6";
	char a[80];

	buf[0] = '\0';
	add(&s, "meta l4proto tcp");
	if (g->fields & TG_SIG_SRC)
		add(&s, " %s saddr %s", ip, addr_plen(&g->src, g->src_plen, v4, a, sizeof(a)));
	if (g->fields & TG_SIG_DST)
		add(&s, " %s daddr %s", ip, addr_plen(&g->dst, g->dst_plen, v4, a, sizeof(a)));
	if (g->fields & TG_SIG_DPORT)
		add(&s, " tcp dport %u", g->dport);
	if (g->fields & TG_SIG_SPORT)
		add(&s, " tcp sport %u-%u", g->sport_lo, g->sport_hi);
	if (g->fields & TG_SIG_FLAGS)
		add(&s, " tcp flags & (fin|syn|rst|ack) == %s", nft_flags(g->flags, a, sizeof(a)));
	if (g->fields & TG_SIG_TTL) {
		if (g->ttl_lo == g->ttl_hi)
			add(&s, " %s %u", v4 ? "ip ttl" : "ip6 hoplimit", g->ttl_lo);
		else
			add(&s, " %s %u-%u", v4 ? "ip ttl" : "ip6 hoplimit", g->ttl_lo, g->ttl_hi);
	}
	if (g->fields & TG_SIG_LEN)
		add(&s, " %s length %u", ip, v4 ? g->len : (g->len >= 40 ? g->len - 40 : 0));
	if (g->fields & TG_SIG_IPID)
		add(&s, " ip id %u", g->ip_id);
	if (g->fields & TG_SIG_WIN)
		add(&s, " tcp window %u", g->win);
	if (g->fields & TG_SIG_DOFF)
		add(&s, " tcp doff %u", g->doff / 4);
	if (g->block_ok)
		add(&s, " counter drop");
	else
		add(&s, " counter log prefix \"tcpguard alert %u: \"", id);
	return buf;
}

static void jaddr(FILE *f, const char *key, const struct tg_addr *a)
{
	char t[64];

	fprintf(f, ",\"%s\":\"%s\"", key, tg_addr_str(a, t, sizeof(t)));
}

static void jtime(FILE *f, const char *key, uint64_t ns)
{
	char t[40];

	tg_fmt_time(t, sizeof(t), ns);
	fprintf(f, ",\"%s\":%s", key, t);
}

static void jtop(FILE *f, const char *key, const struct tg_alert_top *t, bool ports)
{
	char a[64];
	bool first = true;

	fprintf(f, ",\"%s\":[", key);
	for (int i = 0; i < TG_ALERT_TOP && t[i].count; i++) {
		fprintf(f, "%s{\"addr\":\"%s\"", first ? "" : ",",
			tg_addr_str(&t[i].addr, a, sizeof(a)));
		if (ports && t[i].port)
			fprintf(f, ",\"port\":%u", t[i].port);
		fprintf(f, ",\"count\":%" PRIu64 "}", t[i].count);
		first = false;
	}
	fputc(']', f);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void jsig(FILE *f, const struct tg_alert *a)
{
	const struct tg_sig *g = &a->sig;
	char buf[768];

	fprintf(f, ",\"signature\":{\"bpf\":\"%s\"", tg_sig_bpf(g, buf, sizeof(buf)));
	/* The nft rule carries quotes in its log prefix: escape them. */
	tg_sig_nft(g, a->id, buf, sizeof(buf));
	fputs(",\"nft\":\"", f);
	for (const char *p = buf; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fprintf(f, "\",\"action\":\"%s\"", g->block_ok ? "drop" : "log");
	if (g->measured)
		fprintf(f, ",\"attack_matched\":%" PRIu64 ",\"attack_missed\":%" PRIu64
			",\"other_matched\":%" PRIu64 ",\"other_matched_completed\":%" PRIu64
			",\"precision\":%.4f,\"recall\":%.4f", g->tp, g->fn, g->fp,
			g->fp_completed, ratio(g->tp, g->tp + g->fp), ratio(g->tp, g->tp + g->fn));
	fputc('}', f);
}

void tg_alerts_write(FILE *f, const struct tg_alert *a)
{
	bool flood = a->kind == TG_AK_SYN_FLOOD || a->kind == TG_AK_CARPET;
	bool scan = a->kind == TG_AK_SCAN_VERTICAL || a->kind == TG_AK_SCAN_HORIZONTAL;

	fprintf(f, "{\"id\":%" PRIu32 ",\"event\":\"%s\",\"kind\":\"%s\",\"level\":\"%s\"",
		a->id, tg_alert_event_str[a->event < TG_AE__COUNT ? a->event : TG_AE_END],
		tg_alert_kind_str[a->kind], tg_alert_level_str[a->level]);
	jtime(f, "start", a->start_ns);
	jtime(f, "end", a->end_ns);
	if (a->open)
		fputs(",\"open\":true", f);
	if (a->kind != TG_AK_SCAN_HORIZONTAL)
		jaddr(f, "target", &a->target);
	if (a->target_plen)
		fprintf(f, ",\"target_prefix_len\":%u", a->target_plen);
	if (a->target_port)
		fprintf(f, ",\"target_port\":%u", a->target_port);
	if (scan || a->kind == TG_AK_BRUTE_FORCE || a->kind == TG_AK_REFLECTOR)
		jaddr(f, a->kind == TG_AK_REFLECTOR ? "victim" : "source", &a->source);
	for (int l = 0; l < TG_AL__COUNT; l++)
		if (a->level_ns[l] && !scan && a->kind != TG_AK_BRUTE_FORCE &&
		    a->kind != TG_AK_REFLECTOR)
			jtime(f, tg_alert_level_str[l], a->level_ns[l]);
	if (a->peak_pps > 0)
		fprintf(f, ",\"peak_pps\":%.1f,\"baseline_pps\":%.1f", a->peak_pps,
			a->baseline_pps);
	fprintf(f, ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64, a->packets, a->bytes);
	if (scan || a->kind == TG_AK_BRUTE_FORCE)
		fprintf(f, ",\"sessions\":%" PRIu64, a->sessions);
	if (scan)
		fprintf(f, ",\"distinct_ports\":%" PRIu64 ",\"distinct_hosts\":%" PRIu64,
			a->distinct_ports, a->distinct_dst);
	if (flood || a->kind == TG_AK_BACKSCATTER)
		fprintf(f, ",\"distinct_sources\":%" PRIu64 ",\"distinct_targets\":%" PRIu64,
			a->distinct_src, a->distinct_dst);
	if (flood)
		fprintf(f, ",\"completed\":%" PRIu64 ",\"synack_retransmissions\":%" PRIu64
			",\"half_open_peak\":%" PRIu64 ",\"spoofing\":{\"single_syn\":%" PRIu64
			",\"retried\":%" PRIu64 ",\"never_answered\":%" PRIu64
			",\"ttl_min\":%u,\"ttl_max\":%u,\"ttl_distinct\":%u,\"option_layouts\":%u}",
			a->completed, a->synack_rexmit, a->half_open_peak, a->single_syn,
			a->retried, a->never_answered, a->ttl_min, a->ttl_max,
			a->ttl_distinct, a->layouts);
	if (a->kind == TG_AK_REFLECTOR)
		fprintf(f, ",\"amplification\":{\"packets\":%.2f,\"bytes\":%.2f,"
			"\"sent_packets\":%" PRIu64 ",\"sent_bytes\":%" PRIu64
			",\"received_packets\":%" PRIu64 ",\"received_bytes\":%" PRIu64 "}",
			ratio(a->out_pkts, a->in_pkts), ratio(a->out_bytes, a->in_bytes),
			a->out_pkts, a->out_bytes, a->in_pkts, a->in_bytes);
	if (!scan && a->kind != TG_AK_BRUTE_FORCE)
		jtop(f, "top_sources", a->top_src, false);
	if (a->kind != TG_AK_BRUTE_FORCE && a->kind != TG_AK_REFLECTOR)
		jtop(f, "top_targets", a->top_dst, true);
	if (a->has_sig)
		jsig(f, a);
	fputs("}\n", f);
}

void tg_alerts_summary(FILE *f, const struct tg_alert *v, size_t n)
{
	char t[64], s[64], buf[768];

	if (!n)
		return;
	fprintf(f, "\nattacks detected: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct tg_alert *a = &v[i];
		const struct tg_sig *g = &a->sig;
		uint64_t ms = (a->end_ns - a->start_ns) / 1000000u;

		tg_addr_str(&a->target, t, sizeof(t));
		tg_addr_str(&a->source, s, sizeof(s));
		fprintf(f, "  #%" PRIu32 " %-15s %s", a->id, tg_alert_kind_str[a->kind],
			a->kind == TG_AK_SCAN_HORIZONTAL ? s : t);
		if (a->target_plen)
			fprintf(f, "/%u", a->target_plen);
		if (a->target_port)
			fprintf(f, ":%u", a->target_port);
		if (a->kind >= TG_AK_REFLECTOR && a->kind != TG_AK_SCAN_HORIZONTAL)
			fprintf(f, " %s %s", a->kind == TG_AK_REFLECTOR ? "victim" : "from", s);
		fprintf(f, ", %s, %" PRIu64 ".%03" PRIu64 " s, %" PRIu64 " packets",
			tg_alert_level_str[a->level], ms / 1000, ms % 1000, a->packets);
		if (a->peak_pps > 0)
			fprintf(f, ", peak %.0f/s", a->peak_pps);
		if (a->kind == TG_AK_REFLECTOR)
			fprintf(f, ", amplification x%.1f", ratio(a->out_pkts, a->in_pkts));
		if (a->sessions)
			fprintf(f, ", %" PRIu64 " sessions", a->sessions);
		fputc('\n', f);
		if (!a->has_sig)
			continue;
		fprintf(f, "      bpf: %s\n", tg_sig_bpf(g, buf, sizeof(buf)));
		fprintf(f, "      nft: %s\n", tg_sig_nft(g, a->id, buf, sizeof(buf)));
		if (g->measured)
			fprintf(f, "      measured: precision %.4f, recall %.4f (%" PRIu64
				" attack packets matched, %" PRIu64 " missed, %" PRIu64
				" other packets matched)\n", ratio(g->tp, g->tp + g->fp),
				ratio(g->tp, g->tp + g->fn), g->tp, g->fn, g->fp);
	}
}
