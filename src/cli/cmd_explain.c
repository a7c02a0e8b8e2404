// SPDX-License-Identifier: MIT
/*
 * tcpguard explain FILE SESSION       (SESSION: a uid, or ADDR:PORT ADDR:PORT)
 * tcpguard explain --all-resets FILE
 *
 * The story of one session in plain words. The capture is read twice:
 * first through the engine, exactly as analyze reads it, to find the
 * session (or every session a reset ended) with its verdict and evidence;
 * then frame by frame again, printing the packets of those sessions as a
 * timeline relative to the session start: direction, flags, relative
 * sequence and acknowledgment numbers, payload length, window and TTL,
 * with the packets that matter annotated. A verdict paragraph ends each
 * session: the PAN-OS end reason, Zeek's view, the cause, its evidence
 * and what to check next. Fits 80 columns; colour only on a terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "common.h"
#include "tcpguard.h"
#include "tcpguard/cause.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"
#include "tcpguard/flow.h"
#include "../io/source.h"

#define MAX_TARGETS 100000
#define MAX_LINES 400           /* per session; the rest is summarised */

struct target {
	struct tg_session s;
	struct tg_evidence ev;
	struct tg_cause_info cause;
	uint64_t until_ns;      /* next session on the tuple starts here */
	uint32_t hash;
	size_t next;            /* hash chain, index + 1 */
	/* timeline state */
	char *text;
	size_t len, cap;
	unsigned lines, dropped;
	uint64_t prev_ns;
	uint32_t base[2];
	uint32_t high[2];
	uint8_t ttl[2];
	bool have_base[2];
	bool have_ttl[2];
};

struct explain {
	const char *uid;
	bool by_tuple;
	struct tg_addr a, b;
	uint16_t pa, pb;
	bool all_resets;
	uint64_t seed;
	struct target *t;
	size_t n;
	size_t *head;           /* hash heads, index + 1 */
	uint32_t mask;
	bool color;
	bool overflow;
};

static uint32_t session_hash(const struct tg_session *s)
{
	struct tg_pkt p = { 0 };

	p.src = s->orig_h;
	p.dst = s->resp_h;
	p.sport = s->orig_p;
	p.dport = s->resp_p;
	return tg_flow_hash(&p);
}

static bool same_tuple(const struct tg_session *x, const struct tg_session *y)
{
	return x->orig_p == y->orig_p && x->resp_p == y->resp_p &&
	       !memcmp(&x->orig_h, &y->orig_h, sizeof(x->orig_h)) &&
	       !memcmp(&x->resp_h, &y->resp_h, sizeof(x->resp_h));
}

static bool wanted(const struct explain *x, const struct tg_session *s,
		   const struct tg_evidence *ev)
{
	char uid[24];

	if (x->all_resets)
		return ev->flags & TG_EV_HAVE_RST;
	if (x->uid)
		return !strcmp(tg_session_uid(s, x->seed, uid), x->uid);
	if (s->orig_p == x->pa && s->resp_p == x->pb &&
	    !memcmp(&s->orig_h, &x->a, 16) && !memcmp(&s->resp_h, &x->b, 16))
		return true;
	return s->orig_p == x->pb && s->resp_p == x->pa &&
	       !memcmp(&s->orig_h, &x->b, 16) && !memcmp(&s->resp_h, &x->a, 16);
}

static void on_end(void *ctx, const struct tg_session *s,
		   const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct explain *x = ctx;

	/* A later session on a tuple we follow bounds the earlier one. */
	for (size_t i = x->n; i-- > 0;) {
		struct target *t = &x->t[i];

		if (same_tuple(&t->s, s) && t->s.first_ns < s->first_ns &&
		    (!t->until_ns || s->first_ns < t->until_ns)) {
			t->until_ns = s->first_ns;
			break;
		}
	}
	if (!wanted(x, s, ev))
		return;
	if (x->n == MAX_TARGETS) {
		x->overflow = true;
		return;
	}
	x->t[x->n].s = *s;
	x->t[x->n].ev = *ev;
	x->t[x->n].cause = *c;
	x->t[x->n].hash = session_hash(s);
	x->n++;
}

static void emit(struct target *t, const char *fmt, ...)
{
	va_list ap;
	int need;

	if (t->lines >= MAX_LINES) {
		t->dropped++;
		return;
	}
	for (;;) {
		va_start(ap, fmt);
		need = vsnprintf(t->text ? t->text + t->len : NULL,
				 t->text ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (need < 0)
			return;
		if (t->text && t->len + (size_t)need < t->cap)
			break;
		size_t cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->len + (size_t)need + 1)
			cap *= 2;
		char *p = realloc(t->text, cap);
		if (!p)
			return;
		t->text = p;
		t->cap = cap;
	}
	t->len += (size_t)need;
	t->lines++;
}

static void flag_str(uint8_t fl, char *out)
{
	static const struct { uint8_t bit; char c; } map[] = {
		{ TG_TCP_SYN, 'S' }, { TG_TCP_FIN, 'F' }, { TG_TCP_RST, 'R' },
		{ TG_TCP_PSH, 'P' }, { TG_TCP_ACK, '.' }, { TG_TCP_URG, 'U' },
		{ TG_TCP_ECE, 'E' }, { TG_TCP_CWR, 'W' },
	};
	int n = 0;

	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (fl & map[i].bit)
			out[n++] = map[i].c;
	out[n] = '\0';
}

static const char *paint(const struct explain *x, uint8_t fl)
{
	if (!x->color)
		return "";
	if (fl & TG_TCP_RST)
		return "\033[31m";
	if (fl & TG_TCP_FIN)
		return "\033[33m";
	if (fl & TG_TCP_SYN)
		return "\033[32m";
	return "";
}

/* One packet of target @t on the timeline. */
static void timeline(const struct explain *x, struct target *t, const struct tg_pkt *p)
{
	bool from_orig = p->sport == t->s.orig_p &&
			 !memcmp(&p->src, &t->s.orig_h, 16);
	int d = from_orig ? 0 : 1;
	uint64_t rel = p->ts_ns - t->s.first_ns;
	char flags[12], note[128] = "";
	uint32_t seq, ack;
	size_t nl = 0;

	if (!t->have_base[d]) {
		t->base[d] = (p->tcp_flags & TG_TCP_SYN) ? p->seq : p->seq - 1;
		t->have_base[d] = true;
		t->high[d] = p->seq;
	}
	if (!t->have_base[!d] && (p->tcp_flags & TG_TCP_ACK) &&
	    !(p->tcp_flags & TG_TCP_RST)) {
		t->base[!d] = p->ack - 1;
		t->have_base[!d] = true;
		t->high[!d] = p->ack;
	}
	seq = p->seq - t->base[d];
	ack = t->have_base[!d] ? p->ack - t->base[!d] : 0;

	if (t->prev_ns && p->ts_ns - t->prev_ns >= 1000000000ull)
		emit(t, "           ... %.1f s of silence ...\n",
		     (double)(p->ts_ns - t->prev_ns) / 1e9);
	t->prev_ns = p->ts_ns;

#define NOTE(...) (nl += (size_t)snprintf(note + nl, nl < sizeof(note) ? sizeof(note) - nl : 0, __VA_ARGS__))
	if ((t->ev.flags & TG_EV_HAVE_RST) && p->num == t->ev.r.rst_pkt)
		NOTE(" <- this reset ended it");
	else if ((t->ev.flags & TG_EV_HAVE_RST) && (uint32_t)p->num > t->ev.r.rst_pkt &&
		 d == t->ev.r.rst_dir && !(p->tcp_flags & TG_TCP_RST))
		NOTE(" <- sent after 'its own' reset");
	if (p->payload_len && (int32_t)(p->seq + p->payload_len - t->high[d]) <= 0)
		NOTE(" retransmission");
	if ((int32_t)(p->seq + p->payload_len - t->high[d]) > 0)
		t->high[d] = p->seq + p->payload_len;
	if (p->win == 0 && !(p->tcp_flags & TG_TCP_RST))
		NOTE(" zero window");
	if (t->have_ttl[d] && p->ttl != t->ttl[d])
		NOTE(" TTL was %u", t->ttl[d]);
	t->ttl[d] = p->ttl;
	t->have_ttl[d] = true;
	if ((p->tcp_flags & TG_TCP_SYN) && (p->opts.present & TG_OPT_HAS_MSS))
		NOTE(" mss %u%s%s", p->opts.mss,
		     p->opts.present & TG_OPT_HAS_SACKOK ? " sack" : "",
		     p->opts.present & TG_OPT_HAS_TS ? " ts" : "");
#undef NOTE

	flag_str(p->tcp_flags, flags);
	emit(t, "%4llu.%06llu %s %s%-5s%s seq %-9u ack %-9u len %-5u win %-6u ttl %u%s\n",
	     (unsigned long long)(rel / 1000000000u),
	     (unsigned long long)(rel % 1000000000u / 1000u),
	     from_orig ? "C>S" : "S>C", paint(x, p->tcp_flags), flags,
	     x->color && *paint(x, p->tcp_flags) ? "\033[0m" : "",
	     seq, ack, p->payload_len, p->win, p->ttl, "");
	if (note[0])
		emit(t, "%22s%s\n", "", note);
}

/* Word-wraps @text at 78 columns with @indent spaces after the first line. */
static void wrap(FILE *f, const char *label, const char *text)
{
	int col = fprintf(f, "%s", label);
	const char *w = text;

	while (*w) {
		const char *e = strchr(w, ' ');
		int len = e ? (int)(e - w) : (int)strlen(w);

		if (col + 1 + len > 78) {
			fprintf(f, "\n  ");
			col = 2;
		} else if (col > (int)strlen(label) || col > 2) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", len, w);
		col += len;
		w += len;
		while (*w == ' ')
			w++;
	}
	fputc('\n', f);
}

static void verdict(FILE *f, const struct explain *x, const struct target *t)
{
	const struct tg_session *s = &t->s;
	char a[64], b[64], uid[24], line[512];
	bool v6 = !tg_addr_is_v4(&s->orig_h);

	/* IPv6 endpoints in brackets, as explain takes them back. */
	fprintf(f, "\nSession %s  %s%s%s:%u -> %s%s%s:%u\n", tg_session_uid(s, x->seed, uid),
		v6 ? "[" : "", tg_addr_str(&s->orig_h, a, sizeof(a)), v6 ? "]" : "", s->orig_p,
		v6 ? "[" : "", tg_addr_str(&s->resp_h, b, sizeof(b)), v6 ? "]" : "", s->resp_p);
	fputs("  time        dir flags  (seq/ack relative to each side's ISN)\n", f);
	if (t->text)
		fwrite(t->text, 1, t->len, f);
	if (t->dropped)
		fprintf(f, "           ... %u more lines not shown ...\n", t->dropped);
	snprintf(line, sizeof(line), "PAN-OS would log end reason %s; Zeek conn_state %s, "
		 "history %.*s.", tg_end_reason_str[s->end],
		 tg_conn_state_str[tg_session_conn_state(s)], s->hist_len, s->hist);
	fputc('\n', f);
	wrap(f, "Verdict:", line);
	snprintf(line, sizeof(line), "%s: %s.", tg_cause_str[t->cause.cause],
		 tg_cause_meaning[t->cause.cause]);
	wrap(f, "Cause:", line);
	tg_cause_describe(s, &t->ev, line, sizeof(line));
	wrap(f, "Evidence:", line);
	wrap(f, "Next:", tg_cause_next[t->cause.cause]);
}

static int parse_endpoint(const char *arg, struct tg_addr *a, uint16_t *port)
{
	char buf[80];
	const char *colon;
	char *end;
	long p;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	if (arg[0] == '[') {
		const char *rb = strchr(arg, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		memcpy(buf, arg + 1, (size_t)(rb - arg - 1));
		buf[rb - arg - 1] = '\0';
		colon = rb + 1;
		if (inet_pton(AF_INET6, buf, a->b) != 1)
			return -EINVAL;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return -EINVAL;
		memcpy(buf, arg, (size_t)(colon - arg));
		buf[colon - arg] = '\0';
		memset(a->b, 0, 10);
		a->b[10] = a->b[11] = 0xff;
		if (inet_pton(AF_INET, buf, a->b + 12) != 1 &&
		    inet_pton(AF_INET6, buf, a->b) != 1)
			return -EINVAL;
	}
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static void help(FILE *f)
{
	fputs("usage: tcpguard explain [options] FILE SESSION\n"
	      "       tcpguard explain [options] --all-resets FILE\n"
	      "\n"
	      "SESSION is a uid from the JSON or conn.log output, or two endpoints\n"
	      "ADDR:PORT ADDR:PORT (IPv6 as [ADDR]:PORT) in either order.\n"
	      "Prints the session's packets as a timeline and a verdict: the\n"
	      "PAN-OS end reason, Zeek's view, the cause and what to check next.\n"
	      "\n"
	      "  --all-resets         every session a reset ended\n"
	      "  --color / --no-color colour (default: when stdout is a terminal)\n"
	      TG_CLI_ENGINE_HELP, f);
}

/* Second pass: every frame again, each packet of a target to its timeline. */
static int replay(struct explain *x, const char *path, const struct tg_decode_cfg *dc)
{
	struct tg_source src;
	struct tg_frame f;
	int rc;

	x->mask = 1;
	while (x->mask < x->n * 2)
		x->mask <<= 1;
	x->head = calloc(x->mask, sizeof(*x->head));
	if (!x->head)
		return 2;
	x->mask--;
	/* Chained in reverse so a chain lists targets in time order. */
	for (size_t i = x->n; i-- > 0;) {
		x->t[i].next = x->head[x->t[i].hash & x->mask];
		x->head[x->t[i].hash & x->mask] = i + 1;
	}
	if (tg_source_open_file(&src, path, NULL)) {
		fprintf(stderr, "tcpguard: %s\n", src.err);
		return 2;
	}
	while ((rc = tg_source_next(&src, &f)) == 1) {
		struct tg_pkt p;
		uint32_t h;

		p.ts_ns = f.ts_ns;
		p.num = f.num;
		if (tg_decode(dc, f.link, f.data, f.cap_len, f.wire_len, &p) != TG_DEC_TCP)
			continue;
		h = tg_flow_hash(&p);
		for (size_t i = x->head[h & x->mask]; i; i = x->t[i - 1].next) {
			struct target *t = &x->t[i - 1];
			bool fwd, rev;

			if (t->hash != h || p.ts_ns < t->s.first_ns ||
			    (t->until_ns && p.ts_ns >= t->until_ns))
				continue;
			fwd = p.sport == t->s.orig_p && p.dport == t->s.resp_p &&
			      !memcmp(&p.src, &t->s.orig_h, 16) && !memcmp(&p.dst, &t->s.resp_h, 16);
			rev = p.dport == t->s.orig_p && p.sport == t->s.resp_p &&
			      !memcmp(&p.dst, &t->s.orig_h, 16) && !memcmp(&p.src, &t->s.resp_h, 16);
			if (fwd || rev)
				timeline(x, t, &p);
		}
	}
	tg_source_close(&src);
	return rc < 0 ? 1 : 0;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all-resets", no_argument, NULL, 'A' },
		{ "color", no_argument, NULL, 'c' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		TG_CLI_ENGINE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct explain x = { .color = isatty(STDOUT_FILENO) };
	struct tg_engine_cfg cfg = { 0 };
	uint16_t ports[TG_CLI_MAX_PORTS];
	struct tg_engine *e = NULL;
	struct tg_source src;
	struct tg_frame f;
	const char *path;
	int c, rc, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'A': x.all_resets = true; break;
		case 'c': x.color = true; break;
		case 'C': x.color = false; break;
		case 'h': help(stdout); return 0;
		default:
			rc = tg_cli_engine_opt(&cfg, ports, c, optarg);
			if (rc == 1)
				break;
			if (rc == 0)
				help(stderr);
			return 2;
		}
	}
	if (optind >= argc || (!x.all_resets && optind + 1 >= argc)) {
		help(stderr);
		return 2;
	}
	path = argv[optind];
	if (!strcmp(path, "-")) {
		fprintf(stderr, "tcpguard: explain reads its capture twice: give a file, "
			"not standard input\n");
		return 2;
	}
	if (argc - optind > (x.all_resets ? 1 : 3) ||
	    (!x.all_resets && argc - optind == 3 && !strchr(argv[optind + 1], ':'))) {
		fprintf(stderr, "tcpguard: explain: too many arguments\n");
		help(stderr);
		return 2;
	}
	if (!x.all_resets) {
		if (optind + 2 < argc) {
			x.by_tuple = true;
			if (parse_endpoint(argv[optind + 1], &x.a, &x.pa) ||
			    parse_endpoint(argv[optind + 2], &x.b, &x.pb)) {
				fprintf(stderr, "tcpguard: expected ADDR:PORT ADDR:PORT, got '%s %s'\n",
					argv[optind + 1], argv[optind + 2]);
				return 2;
			}
		} else {
			x.uid = argv[optind + 1];
		}
	}
	x.seed = cfg.uid_seed;
	x.t = calloc(MAX_TARGETS, sizeof(*x.t));
	if (!x.t)
		return 2;
	cfg.on_end = on_end;
	cfg.cb_ctx = &x;
	e = tg_engine_new(&cfg);
	if (!e) {
		fprintf(stderr, "tcpguard: cannot allocate the flow table\n");
		status = 2;
		goto out;
	}
	if (tg_source_open_file(&src, path, NULL)) {
		fprintf(stderr, "tcpguard: %s\n", src.err);
		status = 2;
		goto out;
	}
	while ((rc = tg_source_next(&src, &f)) == 1)
		tg_engine_feed(e, f.link, f.ts_ns, f.num, f.data, f.cap_len, f.wire_len);
	if (rc < 0) {
		fprintf(stderr, "tcpguard: warning: %s\n", src.err);
		status = 1;
	}
	tg_source_close(&src);
	tg_engine_finish(e);

	if (x.n == 0) {
		fprintf(stderr, "tcpguard: %s: %s\n", path, x.all_resets
			? "no session ended with a reset" : "no such session");
		status = x.all_resets ? status : 2;
		goto out;
	}
	rc = replay(&x, path, &cfg.decode);
	if (rc > status)
		status = rc;
	for (size_t i = 0; i < x.n; i++)
		verdict(stdout, &x, &x.t[i]);
	if (x.overflow)
		fprintf(stderr, "tcpguard: more than %d sessions matched; the rest are left out\n",
			MAX_TARGETS);
out:
	for (size_t i = 0; i < x.n; i++)
		free(x.t[i].text);
	free(x.t);
	free(x.head);
	tg_engine_free(e);
	return status;
}
