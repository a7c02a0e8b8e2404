// SPDX-License-Identifier: MIT
/*
 * tcpguard protect -i IFACE --config FILE [options]
 *
 * Inline defence on the host that runs the service. The data path is
 * src/bpf/protect.bpf.c (XDP + TC, loaded by src/ctl/xdp.c): allow/deny
 * lists, SYN cookies that keep the TCP options, a backscatter guard, and
 * the bans. This file is the control plane around it:
 *
 *  - reads the configuration (INI, see help()) and fills the maps;
 *  - captures what XDP lets through (AF_PACKET, src/io/pcap_live.c) into
 *    the engine, writes sessions like watch (--json/--zeek), and counts a
 *    *verified* short session to a jail port as one failure of its
 *    source. Verified means the source completed a handshake: the engine
 *    saw SYN-ACK then its ACK, or XDP validated its cookie (ring-buffer
 *    event). A spoofed SYN never completes one, so SYN-only evidence can
 *    never ban anyone;
 *  - bans (fail2ban policy, src/ctl/bans.c) go to the state file under its
 *    lock and from there to the XDP deny map with expiry (or an nftables
 *    set with --backend nft). The file is re-read when it changes, which
 *    is how `tcpguard bans add|del|flush` reach a running protect;
 *  - auto mode follows the engine's detector: a syn-flood alert at level
 *    activate or above turns cookies on for its destination (address and
 *    port), its end turns them off. Cookie SYNs never reach the capture,
 *    so XDP copies their heads to a sample ring that is fed to the engine
 *    (docs/design.md). [auto] syn_pps > 0 adds XDP's own per-address rate
 *    as a fast safety net, on for hold_s after the rate fell.
 *
 * Exit: SIGINT/SIGTERM detach everything (unless --pin) and print the
 * counters. Exit status 2 for usage, configuration and attach errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze_detect.h"
#include "common.h"
#include "detect_ini.h"
#include "tcpguard.h"
#include "tcpguard/detect.h"
#include "tcpguard/engine.h"
#include "../ctl/bans.h"
#include "../ctl/nft.h"
#include "../ctl/xdp.h"
#include "../io/live.h"
#include "../out/sink.h"

#define MAX_RULES 1024
#define MAX_JAIL_PORTS 64
#define VERIFIED_SLOTS 8192
#define MAX_ATTACK 256

struct rule {
	struct tg_pfx pfx;
	bool allow;
	char text[64];
};

struct pcfg {
	uint8_t mode;
	bool backscatter;
	uint32_t bs_rate;
	uint16_t ports[MAX_JAIL_PORTS];
	int nports;
	struct rule rules[MAX_RULES];
	int nrules;
	struct tg_jail_cfg jail;
	uint16_t jail_ports[MAX_JAIL_PORTS];
	int njail;
	uint32_t max_duration_ms;
	uint32_t syn_pps;
	uint32_t hold_s;
	char state[1024];
};

struct verified {
	uint8_t addr[16];
	int64_t at_s;
};

/* A destination with cookies on in auto mode: from a syn-flood alert of
 * the detector (port as the alert names it, 0: the whole address) while
 * it lasts at level activate or above, or from the XDP safety net (port
 * 0) for hold_s after the rate fell. */
struct attack {
	uint8_t addr[16];
	uint16_t port;
	bool on;
	bool detector;
	uint32_t alert_id;
	int64_t last_hot_s;
};

struct protect {
	struct pcfg cfg;
	struct tg_xdp *x;
	struct tg_nft *nft;
	struct tg_jail *jail;
	struct tg_bans bans;
	struct tg_sink sinks[3];
	int nsinks;
	FILE *events;
	struct tg_cli_detect det;
	bool dirty;             /* alerts written since the last flush */
	struct verified ver[VERIFIED_SLOTS];
	struct attack att[MAX_ATTACK];
	int natt;
	struct tg_engine *e;
	int64_t rt_off_ns;      /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t samples;
	struct timespec state_mtime;
	ino_t state_ino;
	off_t state_size;
	uint64_t failures, bans_made;
	uint16_t srv_ports[TG_CLI_MAX_PORTS];
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void help(FILE *f)
{
	fputs("usage: tcpguard protect -i IFACE --config FILE [options]\n"
	      "\n"
	      "Inline defence with XDP on the server's interface: allow/deny\n"
	      "lists, SYN cookies that keep MSS, window scale, SACK and ECN,\n"
	      "a backscatter guard, and bans for verified sources only.\n"
	      "\n"
	      "  -i, --interface IFACE  attach to IFACE (required)\n"
	      "  -c, --config FILE    configuration (below)\n"
	      "  --mode off|always|auto  override [protect] mode\n"
	      "  --state FILE         ban state file (default [bans] state or\n"
	      "                       /var/lib/tcpguard/bans)\n"
	      "  --backend xdp|nft    where bans go (default xdp; nft: an\n"
	      "                       nftables set, for hosts without XDP)\n"
	      "  --generic            generic (skb) XDP even if the driver has native\n"
	      "  --pin                leave programs attached and maps pinned at exit\n"
	      "  --json PATH          one JSON object per session ('-' = stdout)\n"
	      "  --zeek PATH          Zeek conn.log (TSV)\n"
	      "  --events PATH        bans, unbans, auto-mode changes as JSON lines\n"
	      "                       (default stderr)\n"
	      "  -q, --quiet          no counters at exit\n"
	      "  --alerts PATH        attack alerts as JSON lines ('-' = stdout);\n"
	      "                       SIGHUP reopens it\n"
	      "  --alert-events WHICH all (default): start, updates and end; end\n"
	      "  --no-detect          no attack detection (mode auto needs it)\n"
	      "\n"
	      "Configuration:\n"
	      "  [protect]  mode = off|always|auto   ports = 80,443\n"
	      "             backscatter = on|off     backscatter_rate = 1000\n"
	      "  [allow]    one prefix per line (wins over [deny], as hosts.allow)\n"
	      "  [deny]     one prefix per line\n"
	      "  [bans]     ports = 22   maxretry = 5   findtime = 600\n"
	      "             bantime = 600   bantime_increment = on   factor = 2\n"
	      "             maxtime = 604800   max_duration = 10   state = FILE\n"
	      "             ignore = PREFIX[, PREFIX...]\n"
	      "  [auto]     syn_pps = 0 (XDP safety net, off)   hold = 10\n"
	      "  [detect], [syn-flood], ...  detection thresholds as for watch\n"
	      "             (docs/detection.md)\n",
	      f);
}

static int parse_ports(const char *v, uint16_t *out, int *n)
{
	char buf[1024], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", v);
	for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		char *end;
		long p = strtol(t, &end, 10);

		if (*end || p < 1 || p > 65535 || *n >= MAX_JAIL_PORTS)
			return -1;
		out[(*n)++] = (uint16_t)p;
	}
	return 0;
}

static bool on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return false;
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int mode_of(const char *v)
{
	for (int m = 0; m < TG_PT__MODE_COUNT; m++)
		if (!strcmp(v, tg_pt_mode_str[m]))
			return m;
	return -1;
}

/* Reads @path into @c; prints "FILE:LINE: reason" and returns 2 on error. */
static int load_config(struct pcfg *c, const char *path)
{
	char line[1024], sect[32] = "";
	unsigned num = 0;
	bool detect = false;    /* in a detection section: tg_cli_detect_ini's */
	FILE *f = fopen(path, "re");

	if (!f) {
		fprintf(stderr, "tcpguard: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *k, *v, *eq;
		bool b, bad = false;
		long n = 0;

		num++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');

			if (!e)
				goto bad;
			*e = 0;
			snprintf(sect, sizeof(sect), "%s", s + 1);
			detect = tg_cli_detect_ini_section(sect);
			if (!detect && strcmp(sect, "protect") && strcmp(sect, "allow") &&
			    strcmp(sect, "deny") && strcmp(sect, "bans") &&
			    strcmp(sect, "auto"))
				goto bad;
			continue;
		}
		if (detect)
			continue;
		if (!strcmp(sect, "allow") || !strcmp(sect, "deny")) {
			struct rule *r = &c->rules[c->nrules];

			if (c->nrules >= MAX_RULES || tg_pfx_parse(s, &r->pfx))
				goto bad;
			r->allow = !strcmp(sect, "allow");
			snprintf(r->text, sizeof(r->text), "%s", s);
			c->nrules++;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			goto bad;
		*eq = 0;
		k = trim(s);
		v = trim(eq + 1);
		if (*v >= '0' && *v <= '9')
			n = strtol(v, NULL, 10);
		if (!strcmp(sect, "protect")) {
			if (!strcmp(k, "mode"))
				bad = (n = mode_of(v)) < 0, c->mode = (uint8_t)n;
			else if (!strcmp(k, "ports"))
				bad = parse_ports(v, c->ports, &c->nports) < 0;
			else if (!strcmp(k, "backscatter"))
				bad = !on_off(v, &c->backscatter);
			else if (!strcmp(k, "backscatter_rate"))
				bad = n < 1, c->bs_rate = (uint32_t)n;
			else
				bad = true;
		} else if (!strcmp(sect, "bans")) {
			if (!strcmp(k, "ports"))
				bad = parse_ports(v, c->jail_ports, &c->njail) < 0;
			else if (!strcmp(k, "maxretry"))
				bad = n < 1, c->jail.maxretry = (uint32_t)n;
			else if (!strcmp(k, "findtime"))
				bad = n < 1, c->jail.findtime_s = n;
			else if (!strcmp(k, "bantime"))
				bad = n < 1, c->jail.bantime_s = n;
			else if (!strcmp(k, "bantime_increment"))
				bad = !on_off(v, &b), c->jail.increment = b;
			else if (!strcmp(k, "factor"))
				bad = n < 1, c->jail.factor = (uint32_t)n;
			else if (!strcmp(k, "maxtime"))
				bad = n < 1, c->jail.maxtime_s = n;
			else if (!strcmp(k, "max_duration"))
				bad = n < 1, c->max_duration_ms = (uint32_t)n * 1000;
			else if (!strcmp(k, "state"))
				snprintf(c->state, sizeof(c->state), "%s", v);
			else if (!strcmp(k, "ignore")) {
				char *save = NULL;

				for (char *t = strtok_r(v, ", \t", &save); t && !bad;
				     t = strtok_r(NULL, ", \t", &save))
					bad = c->jail.nignore >= 64 ||
					      tg_pfx_parse(t, &c->jail.ignore[c->jail.nignore++]);
			} else
				bad = true;
		} else if (!strcmp(sect, "auto")) {
			if (!strcmp(k, "syn_pps"))
				bad = n < 1, c->syn_pps = (uint32_t)n;
			else if (!strcmp(k, "hold"))
				bad = n < 1, c->hold_s = (uint32_t)n;
			else
				bad = true;
		} else {
			bad = true;
		}
		if (!bad)
			continue;
bad:
		fprintf(stderr, "tcpguard: %s:%u: cannot use this line\n", path, num);
		fclose(f);
		return 2;
	}
	fclose(f);
	return 0;
}

static void event(struct protect *p, const char *kind, const struct tg_pfx *pfx,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One JSON line about a control-plane decision. */
static void event(struct protect *p, const char *kind, const struct tg_pfx *pfx,
		  const char *fmt, ...)
{
	char a[64] = "";
	va_list ap;

	if (pfx)
		tg_pfx_format(pfx, a, sizeof(a));
	fprintf(p->events, "{\"ts\":%" PRId64 ",\"event\":\"%s\",\"addr\":\"%s\"",
		(int64_t)time(NULL), kind, a);
	va_start(ap, fmt);
	vfprintf(p->events, fmt, ap);
	va_end(ap);
	fputs("}\n", p->events);
	fflush(p->events);
}

static void nuke_stale(void *ctx, const struct tg_pfx *pfx)
{
	struct protect *p = ctx;
	struct tg_ban *b = tg_bans_find(&p->bans, pfx);

	if (!b || !tg_ban_active(b, time(NULL)))
		tg_xdp_rule_del(p->x, pfx, false);
}

/* Makes the data path match the state file: every active ban in, every
 * other ban entry out. Called with the state lock held. */
static void apply_bans(struct protect *p)
{
	int64_t now = time(NULL), mono = mono_ns();

	for (size_t i = 0; i < p->bans.n; i++) {
		struct tg_ban *b = &p->bans.v[i];
		uint64_t exp;

		if (!tg_ban_active(b, now))
			continue;
		exp = b->until_s ? (uint64_t)mono + (uint64_t)(b->until_s - now) * 1000000000ull : 0;
		if (p->x)
			tg_xdp_rule_add(p->x, &b->pfx, false, 0, true, exp);
		else if (p->nft)
			tg_nft_ban(p->nft, &b->pfx, b->until_s ? b->until_s - now : 0);
	}
	if (p->x)
		tg_xdp_bans_each(p->x, nuke_stale, p);
	else if (p->nft)
		tg_nft_sync(p->nft, &p->bans, now);
}

/* Re-reads the state file if it changed (another writer: `tcpguard bans`). */
static void reload_bans(struct protect *p, bool force)
{
	char err[512];
	struct stat st;
	int lk;

	if (stat(p->cfg.state, &st) == 0) {
		if (!force && st.st_ino == p->state_ino && st.st_size == p->state_size &&
		    st.st_mtim.tv_sec == p->state_mtime.tv_sec &&
		    st.st_mtim.tv_nsec == p->state_mtime.tv_nsec)
			return;
		p->state_ino = st.st_ino;
		p->state_size = st.st_size;
		p->state_mtime = st.st_mtim;
	} else if (!force && !p->state_ino) {
		return;
	} else {
		p->state_ino = 0;
	}
	lk = tg_bans_lock(p->cfg.state);
	if (tg_bans_load(&p->bans, p->cfg.state, err, sizeof(err)))
		fprintf(stderr, "tcpguard: %s\n", err);
	tg_bans_unlock(lk);
	apply_bans(p);
}

static bool is_verified(struct protect *p, const uint8_t addr[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return !memcmp(p->ver[h % VERIFIED_SLOTS].addr, addr, 16) &&
	       p->ver[h % VERIFIED_SLOTS].at_s;
}

static void on_event(void *ctx, const struct tg_pt_event *ev)
{
	struct protect *p = ctx;
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ ev->addr[i]) * 16777619u;
	memcpy(p->ver[h % VERIFIED_SLOTS].addr, ev->addr, 16);
	p->ver[h % VERIFIED_SLOTS].at_s = time(NULL);
}

static bool jail_port(const struct protect *p, uint16_t port)
{
	for (int i = 0; i < p->cfg.njail; i++)
		if (p->cfg.jail_ports[i] == port)
			return true;
	return false;
}

static bool allowlisted(const struct protect *p, const uint8_t addr[16])
{
	for (int i = 0; i < p->cfg.nrules; i++)
		if (p->cfg.rules[i].allow && tg_pfx_contains(&p->cfg.rules[i].pfx, addr))
			return true;
	return false;
}

/* Bans @addr for the jail's time, through the state file. */
static void ban(struct protect *p, const uint8_t addr[16], uint16_t port)
{
	struct tg_pfx pfx;
	struct tg_ban *b, *old;
	int64_t now = time(NULL), len;
	char err[512], reason[48];
	int lk;

	tg_pfx_host(&pfx, addr);
	lk = tg_bans_lock(p->cfg.state);
	if (tg_bans_load(&p->bans, p->cfg.state, err, sizeof(err)))
		fprintf(stderr, "tcpguard: %s\n", err);
	old = tg_bans_find(&p->bans, &pfx);
	len = tg_jail_bantime(&p->cfg.jail, old ? old->count : 0);
	snprintf(reason, sizeof(reason), "brute-force:%u", port);
	tg_bans_purge(&p->bans, now, p->cfg.jail.forget_s);
	b = tg_bans_put(&p->bans, &pfx, now, now + len, reason);
	if (b && tg_bans_save(&p->bans, p->cfg.state, err, sizeof(err)))
		fprintf(stderr, "tcpguard: %s\n", err);
	tg_bans_unlock(lk);
	if (!b)
		return;
	p->bans_made++;
	event(p, "ban", &pfx, ",\"seconds\":%" PRId64 ",\"count\":%u,\"reason\":\"%s\"",
	      len, b->count, reason);
	reload_bans(p, true);
}

static void on_end(void *ctx, const struct tg_session *s,
		   const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct protect *p = ctx;
	const uint8_t *src = (const uint8_t *)&s->orig_h;

	for (int i = 0; i < p->nsinks; i++)
		p->sinks[i].ops->session(&p->sinks[i], s, ev, c);
	if (!p->cfg.njail || !jail_port(p, s->resp_p))
		return;
	if (!tg_jail_counts(s, is_verified(p, src), p->cfg.max_duration_ms) ||
	    allowlisted(p, src))
		return;
	p->failures++;
	{
		struct tg_pfx pfx;
		struct tg_ban *old;
		int64_t len;

		tg_pfx_host(&pfx, src);
		old = tg_bans_find(&p->bans, &pfx);
		if (tg_jail_fail(p->jail, src, time(NULL), old ? old->count : 0, &len))
			ban(p, src, s->resp_p);
	}
}

/* Cookies on or off for one attack entry, with an event line. */
static void attack_set(struct protect *p, struct attack *a, bool on, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static void attack_set(struct protect *p, struct attack *a, bool on, const char *fmt,
		       ...)
{
	struct tg_pfx pfx;
	char more[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(more, sizeof(more), fmt, ap);
	va_end(ap);
	a->on = on;
	/* A long deadline, refreshed each tick: a pinned program left behind
	 * by a killed protect falls back to no cookies within the hour. */
	tg_xdp_attack(p->x, a->addr, a->port, on ? (uint64_t)mono_ns() +
		      3600ull * 1000000000ull : 0);
	tg_pfx_host(&pfx, a->addr);
	event(p, on ? "cookies-on" : "cookies-off", &pfx, ",\"port\":%u,\"by\":\"%s\"%s",
	      a->port, a->detector ? "detector" : "xdp-rate", more);
}

static struct attack *attack_find(struct protect *p, const uint8_t addr[16],
				  uint16_t port, bool detector)
{
	for (int i = 0; i < p->natt; i++)
		if (!memcmp(p->att[i].addr, addr, 16) && p->att[i].port == port &&
		    p->att[i].detector == detector)
			return &p->att[i];
	if (p->natt >= MAX_ATTACK)
		return NULL;
	memset(&p->att[p->natt], 0, sizeof(p->att[0]));
	memcpy(p->att[p->natt].addr, addr, 16);
	p->att[p->natt].port = port;
	p->att[p->natt].detector = detector;
	return &p->att[p->natt++];
}

/* Auto mode follows the detector: a syn-flood alert at level activate or
 * above turns cookies on for its target (address, and port when the
 * alert names one); its end turns them off. */
static void auto_alert(struct protect *p, const struct tg_alert *al)
{
	struct attack *a;

	if (al->kind != TG_AK_SYN_FLOOD || !p->x || p->cfg.mode != TG_PT_AUTO)
		return;
	if (al->event == TG_AE_END) {
		for (int i = 0; i < p->natt; i++) {
			a = &p->att[i];
			if (!a->detector || a->alert_id != al->id)
				continue;
			if (a->on)
				attack_set(p, a, false, ",\"alert\":%" PRIu32, al->id);
			p->att[i--] = p->att[--p->natt];
		}
		return;
	}
	if (al->level < TG_AL_ACTIVATE)
		return;
	a = attack_find(p, al->target.b, al->target_port, true);
	if (!a || a->on)
		return;
	a->alert_id = al->id;
	attack_set(p, a, true, ",\"alert\":%" PRIu32 ",\"level\":\"%s\",\"peak_pps\":%.0f",
		   al->id, tg_alert_level_str[al->level], al->peak_pps);
}

static void on_alert(void *ctx, const struct tg_alert *a)
{
	struct protect *p = ctx;

	tg_cli_detect_alert(&p->det, a);
	auto_alert(p, a);
	p->dirty = true;
}

/* A cookie SYN's head from XDP: to the engine, as if captured, so the
 * detector keeps seeing a flood that cookies hide from the capture. */
static void on_sample(void *ctx, const struct tg_pt_sample *sm)
{
	struct protect *p = ctx;

	if (!p->e)
		return;
	p->samples++;
	tg_engine_feed(p->e, TG_LINK_ETHERNET, sm->ts_ns + (uint64_t)p->rt_off_ns,
		       p->samples, sm->data, sm->cap < TG_PT_SAMPLE_LEN ? sm->cap :
		       TG_PT_SAMPLE_LEN, sm->len);
}

/* The XDP safety net ([auto] syn_pps): a SYN rate XDP counted itself. */
static void on_synrate(void *ctx, const uint8_t addr[16], uint64_t syns)
{
	struct protect *p = ctx;
	struct attack *a;

	if (!p->cfg.syn_pps || syns < p->cfg.syn_pps)
		return;
	a = attack_find(p, addr, 0, false);
	if (!a)
		return;
	a->last_hot_s = time(NULL);
	if (!a->on)
		attack_set(p, a, true, ",\"syn_per_s\":%" PRIu64, syns);
}

/* Once a second: auto mode, and bans that expired or changed on disk. */
static void tick(struct protect *p)
{
	int64_t now = time(NULL);

	if (p->x && p->cfg.mode == TG_PT_AUTO) {
		tg_xdp_synrate_each(p->x, on_synrate, p);
		for (int i = 0; i < p->natt; i++) {
			struct attack *a = &p->att[i];

			if (!a->detector && a->on &&
			    now - a->last_hot_s >= (int64_t)p->cfg.hold_s) {
				attack_set(p, a, false, "%s", "");
				p->att[i--] = p->att[--p->natt];
			} else if (a->on) {
				tg_xdp_attack(p->x, a->addr, a->port, (uint64_t)mono_ns() +
					      3600ull * 1000000000ull);
			}
		}
	}
	for (size_t i = 0; i < p->bans.n; i++) {
		struct tg_ban *b = &p->bans.v[i];

		if (b->until_s && b->until_s <= now && b->until_s > now - 2) {
			event(p, "unban", &b->pfx, ",\"count\":%u", b->count);
			b->until_s = now - 2;   /* report once */
			reload_bans(p, true);
			break;
		}
	}
	reload_bans(p, false);
}

static void print_counters(struct protect *p)
{
	uint64_t c[TG_PT_C__COUNT] = { 0 };

	if (p->x && !tg_xdp_counters(p->x, c)) {
		fprintf(stderr, "protect counters (%s XDP):\n", tg_xdp_attach_mode(p->x));
		for (int i = 0; i < TG_PT_C__COUNT; i++)
			fprintf(stderr, "  %-22s %" PRIu64 "\n", tg_pt_counter_str[i], c[i]);
		for (int i = 0; i < p->cfg.nrules; i++) {
			uint64_t h = 0;

			tg_xdp_rule_hits(p->x, (uint32_t)i + 1, &h);
			fprintf(stderr, "  rule %-4d %-5s %-28s %" PRIu64 " hits\n", i + 1,
				p->cfg.rules[i].allow ? "allow" : "deny",
				p->cfg.rules[i].text, h);
		}
	}
	fprintf(stderr, "  verified-failures      %" PRIu64 "\n  bans-made              %"
		PRIu64 "\n  syn-samples-fed        %" PRIu64 "\n", p->failures, p->bans_made,
		p->samples);
}

static int setup_data_path(struct protect *p, const char *iface, bool generic,
			   bool pin, bool use_nft)
{
	struct tg_xdp_opts o = {
		.iface = iface, .mode = p->cfg.mode, .backscatter = p->cfg.backscatter,
		.bs_rate_pps = p->cfg.bs_rate, .force_generic = generic, .pin = pin,
	};
	char err[1200];
	int rc;

	if (use_nft) {
		if (p->cfg.mode != TG_PT_OFF || p->cfg.nrules) {
			fprintf(stderr, "tcpguard: --backend nft carries bans only: "
				"set mode = off and move [allow]/[deny] to nftables\n");
			return 2;
		}
		rc = tg_nft_open(&p->nft, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tcpguard: %s\n", err);
			return 2;
		}
		return 0;
	}
	rc = tg_xdp_open(&p->x, &o, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tcpguard: protect: %s\n", err);
		return 2;
	}
	for (int i = 0; i < p->cfg.nports; i++)
		tg_xdp_set_port(p->x, p->cfg.ports[i], true);
	for (int i = 0; i < p->cfg.nrules; i++) {
		rc = tg_xdp_rule_add(p->x, &p->cfg.rules[i].pfx, p->cfg.rules[i].allow,
				     (uint32_t)i + 1, false, 0);
		if (rc) {
			fprintf(stderr, "tcpguard: rule %s: %s\n", p->cfg.rules[i].text,
				strerror(-rc));
			return 2;
		}
	}
	fprintf(stderr, "tcpguard: protecting %s (%s XDP, mode %s, %d ports, %d rules)\n",
		iface, tg_xdp_attach_mode(p->x), tg_pt_mode_str[p->cfg.mode],
		p->cfg.nports, p->cfg.nrules);
	return 0;
}

/* SIGHUP: the output files again under their names (log rotation). */
static void reopen(struct protect *p)
{
	int rc;

	for (int i = 0; i < p->nsinks; i++)
		if ((rc = tg_sink_reopen(&p->sinks[i])))
			fprintf(stderr, "tcpguard: reopening %s: %s (still writing to "
				"the old file)\n", p->sinks[i].path, strerror(-rc));
	if ((rc = tg_cli_detect_reopen(&p->det)))
		fprintf(stderr, "tcpguard: reopening %s: %s (still writing to the "
			"old file)\n", p->det.alerts, strerror(-rc));
}

static int loop(struct protect *p, struct tg_source *src, struct tg_engine *e,
		int sfd)
{
	struct pollfd pf[3] = {
		{ .fd = src ? tg_source_live_fd(src) : -1, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
		{ .fd = p->x ? tg_xdp_events_fd(p->x) : -1, .events = POLLIN },
	};
	int64_t next_tick = mono_ns(), skew = 0;
	bool have_skew = false;

	for (;;) {
		struct tg_frame f;
		int64_t now;
		int rc = 0;

		while (src && (rc = tg_source_next(src, &f)) == 1) {
			tg_engine_feed(e, f.link, f.ts_ns, f.num, f.data, f.cap_len,
				       f.wire_len);
			now = mono_ns();
			if (!have_skew || now - (int64_t)f.ts_ns < skew) {
				skew = now - (int64_t)f.ts_ns;
				have_skew = true;
			}
		}
		if (rc < 0) {
			fprintf(stderr, "tcpguard: %s\n", src->err);
			return 1;
		}
		if (p->x) {
			struct timespec rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			p->rt_off_ns = (int64_t)rt.tv_sec * 1000000000ll + rt.tv_nsec -
				       mono_ns();
			tg_xdp_events_poll(p->x, on_event, p);
		}
		now = mono_ns();
		if (have_skew && e)
			tg_engine_advance(e, (uint64_t)(now - skew - 100000000ll));
		if (e)
			tg_cli_detect_poll(&p->det, e);
		if (p->dirty && tg_cli_detect_sync(&p->det))
			fprintf(stderr, "tcpguard: writing alerts: %s\n", strerror(errno));
		p->dirty = false;
		if (now >= next_tick) {
			tick(p);
			for (int i = 0; i < p->nsinks; i++)
				tg_sink_flush(&p->sinks[i]);
			next_tick = now + 1000000000ll;
		}
		if (poll(pf, 3, 100) < 0 && errno != EINTR)
			return 1;
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo != SIGHUP)
					return 0;
			reopen(p);
			reload_bans(p, true);
		}
	}
}

int cmd_protect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'O' },
		{ "state", required_argument, NULL, 'X' },
		{ "backend", required_argument, NULL, 'B' },
		{ "generic", no_argument, NULL, 'G' },
		{ "pin", no_argument, NULL, 'I' },
		{ "alerts", required_argument, NULL, 'A' },
		{ "alert-events", required_argument, NULL, 'E' },
		{ "no-detect", no_argument, NULL, 'N' },
		{ "json", required_argument, NULL, 'j' },
		{ "zeek", required_argument, NULL, 'z' },
		{ "events", required_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		TG_CLI_ENGINE_OPTIONS,
		{ 0 },
	};
	struct protect *p = calloc(1, sizeof(*p));
	struct tg_engine_cfg ecfg = { 0 };
	struct tg_live_cfg lc = { 0 };
	struct tg_source src = { 0 };
	struct tg_engine *e = NULL;
	const char *config = NULL, *json = NULL, *zeek = NULL, *events = NULL;
	const char *state = NULL, *backend = "xdp";
	int mode = -1, quiet = 0, status = 0, c, sfd = -1, rc;
	bool generic = false, pin = false, have_src = false;
	sigset_t sigs;

	if (!p)
		return 2;
	p->events = stderr;
	p->cfg.mode = TG_PT_ALWAYS;
	p->cfg.backscatter = true;
	p->cfg.bs_rate = 1000;
	p->cfg.max_duration_ms = 10000;
	p->cfg.syn_pps = 0;             /* the XDP safety net is opt-in */
	p->cfg.hold_s = 10;
	tg_jail_cfg_default(&p->cfg.jail);
	snprintf(p->cfg.state, sizeof(p->cfg.state), "/var/lib/tcpguard/bans");
	ecfg.on_end = on_end;
	ecfg.on_alert = on_alert;
	ecfg.cb_ctx = p;
	p->det.live = true;
	p->det.shared_config = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:c:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': lc.iface = optarg; break;
		case 'c': config = optarg; break;
		case 'O':
			mode = mode_of(optarg);
			if (mode < 0) {
				fprintf(stderr, "tcpguard: --mode '%s': off, always or auto\n", optarg);
				status = 2;
				goto out;
			}
			break;
		case 'X': state = optarg; break;
		case 'B': backend = optarg; break;
		case 'G': generic = true; break;
		case 'I': pin = true; break;
		case 'j': json = optarg; break;
		case 'z': zeek = optarg; break;
		case 'V': events = optarg; break;
		case 'q': quiet = 1; break;
		case 'h':
			help(stdout);
			if (!tg_xdp_built_in())
				puts("\n(this tcpguard was built without BPF support)");
			goto out;
		default: {
			enum tg_cli_opt r = tg_cli_shared_opt(&p->det, &ecfg, p->srv_ports, c, optarg);

			if (r == TG_CLI_OPT_NEXT)
				break;
			if (r == TG_CLI_OPT_UNKNOWN)
				help(stderr);
			status = r == TG_CLI_OPT_DONE ? 0 : 2;
			goto out;
		}
		}
	}
	if (!lc.iface || optind < argc) {
		fprintf(stderr, "tcpguard: protect: -i IFACE is required and takes "
			"no other arguments\n");
		help(stderr);
		status = 2;
		goto out;
	}
	if (strcmp(backend, "xdp") && strcmp(backend, "nft")) {
		fprintf(stderr, "tcpguard: --backend '%s': xdp or nft\n", backend);
		status = 2;
		goto out;
	}
	if (!tg_xdp_built_in() && !strcmp(backend, "xdp")) {
		fprintf(stderr, "tcpguard: protect: this tcpguard was built without "
			"BPF support (clang, bpftool and libbpf-dev were missing at "
			"build time); use --backend nft for bans only\n");
		status = 2;
		goto out;
	}
	if (config && (status = load_config(&p->cfg, config)))
		goto out;
	p->det.config = config;
	if ((status = tg_cli_detect_setup(&p->det, &ecfg)))
		goto out;
	if (mode >= 0)
		p->cfg.mode = (uint8_t)mode;
	if (state)
		snprintf(p->cfg.state, sizeof(p->cfg.state), "%s", state);
	if (events && !(p->events = fopen(events, "ae"))) {
		fprintf(stderr, "tcpguard: %s: %s\n", events, strerror(errno));
		p->events = stderr;
		status = 2;
		goto out;
	}
	p->jail = tg_jail_new(&p->cfg.jail, 4096);
	if (!p->jail) {
		status = 2;
		goto out;
	}
	/* A shell starts background jobs with SIGINT ignored; signalfd would
	 * then never see it. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);      /* a closed stderr must not skip the detach */
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	status = setup_data_path(p, lc.iface, generic, pin, !strcmp(backend, "nft"));
	if (status)
		goto out;
	reload_bans(p, true);
	lc.block_ms = 10;
	lc.filter = "tcp";
	if (tg_source_open_live(&src, &lc)) {
		fprintf(stderr, "tcpguard: warning: no capture (%s): sessions are "
			"not logged and nothing is banned\n", src.err);
	} else {
		have_src = true;
		status = tg_cli_open_sinks(p->sinks, &p->nsinks, json, zeek, 1,
					   ecfg.uid_seed);
		if (status)
			goto out;
		e = tg_engine_new(&ecfg);
		if (!e) {
			fprintf(stderr, "tcpguard: cannot allocate the flow table\n");
			status = 2;
			goto out;
		}
		p->e = e;
		if (p->x && ecfg.detect.enabled && (rc = tg_xdp_samples(p->x, on_sample, p)))
			fprintf(stderr, "tcpguard: warning: no SYN samples from XDP (%s): "
				"the detector does not see floods that cookies answer\n",
				strerror(-rc));
	}
	if (p->cfg.mode == TG_PT_AUTO && !p->cfg.syn_pps && (!e || !ecfg.detect.enabled)) {
		fprintf(stderr, "tcpguard: mode auto follows the detector: it needs the "
			"capture and detection on, or [auto] syn_pps\n");
		status = 2;
		goto out;
	}
	status = loop(p, have_src ? &src : NULL, e, sfd);
	if (e) {
		tg_engine_finish(e);
		/* Live: the alerts still open end here, unmeasured. */
		tg_cli_detect_finish(&p->det, e, NULL, NULL, 0, NULL);
	}
	for (int i = 0; i < p->nsinks; i++)
		p->sinks[i].ops->finish(&p->sinks[i], tg_engine_stats(e));
	if (!quiet) {
		print_counters(p);
		tg_cli_detect_summary(&p->det, stderr);
	}
out:
	tg_engine_free(e);
	if (have_src)
		tg_source_close(&src);
	for (int i = 0; i < p->nsinks; i++)
		tg_sink_free(&p->sinks[i]);
	tg_xdp_close(p->x);
	tg_nft_close(p->nft);
	tg_jail_free(p->jail);
	tg_bans_free(&p->bans);
	tg_cli_detect_free(&p->det);
	if (p->events && p->events != stderr)
		fclose(p->events);
	if (sfd >= 0)
		close(sfd);
	free(p);
	return status;
}
