// SPDX-License-Identifier: MIT
/*
 * The ban policy and its state file (src/ctl/bans.c): the fail2ban jail
 * (maxretry within findtime, bantime growth for repeat offenders, the
 * ignore list), ban expiry, the rule that decides which ended sessions
 * are failures at all (tg_jail_counts: only sources that completed a
 * handshake, so a spoofed SYN can never ban anyone), and the state file
 * (atomic rewrite, all-or-nothing reload). The session cases are packet
 * timelines fed through the engine, as in test_cause.c. Files go to a
 * fresh directory under $TMPDIR; nothing here needs root.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tcpguard/cause.h"
#include "../../src/ctl/bans.h"

#define CI 1000u
#define SI 5000u
#define NOW 1760000000ll
#define MAX_DUR_MS 10000u

static const uint8_t *addr_of(struct tg_addr *a)
{
	return a->b;
}

static struct tg_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return h_v4(a, b, c, d);
}

static void jail_cfg(struct tg_jail_cfg *c)
{
	tg_jail_cfg_default(c);
	c->maxretry = 3;
	c->findtime_s = 60;
	c->bantime_s = 600;
}

/* N-1 failures within findtime: no ban; the N-th: a ban of bantime. */
static void test_maxretry_within_findtime(void **state)
{
	struct tg_jail_cfg cfg;
	struct tg_jail *j;
	struct tg_addr a = v4(10, 94, 0, 3);
	int64_t len = -1;

	(void)state;
	jail_cfg(&cfg);
	j = tg_jail_new(&cfg, 16);
	assert_non_null(j);
	assert_false(tg_jail_fail(j, addr_of(&a), NOW, 0, &len));
	assert_false(tg_jail_fail(j, addr_of(&a), NOW + 20, 0, &len));
	assert_int_equal(len, -1);
	assert_true(tg_jail_fail(j, addr_of(&a), NOW + 59, 0, &len));
	assert_int_equal(len, 600);
	/* A ban starts the count over. */
	assert_false(tg_jail_fail(j, addr_of(&a), NOW + 60, 0, &len));
	tg_jail_free(j);
}

/* N failures spread beyond findtime never ban; each source counts alone. */
static void test_spread_beyond_findtime(void **state)
{
	struct tg_jail_cfg cfg;
	struct tg_jail *j;
	struct tg_addr a = v4(10, 94, 0, 3), b = v4(10, 94, 0, 4);
	int64_t len;

	(void)state;
	jail_cfg(&cfg);
	j = tg_jail_new(&cfg, 16);
	assert_non_null(j);
	/* At +60 the first failure is exactly findtime old: out. */
	for (int64_t t = 0; t <= 300; t += 30)
		assert_false(tg_jail_fail(j, addr_of(&a), NOW + t, 0, &len));
	/* Interleaved with another source: neither reaches 3 in a window. */
	for (int64_t t = 0; t < 100; t += 25) {
		assert_false(tg_jail_fail(j, addr_of(&b), NOW + 1000 + 2 * t, 0, &len));
		assert_false(tg_jail_fail(j, addr_of(&a), NOW + 1000 + 2 * t + 1, 0, &len));
	}
	tg_jail_free(j);
}

/* Repeat offenders: bantime * factor^(bans before), at most maxtime. */
static void test_bantime_growth(void **state)
{
	struct tg_jail_cfg cfg;
	struct tg_jail *j;
	struct tg_addr a = v4(10, 94, 0, 3);
	int64_t len = 0;

	(void)state;
	jail_cfg(&cfg);
	cfg.maxtime_s = 4000;
	assert_int_equal(tg_jail_bantime(&cfg, 0), 600);
	assert_int_equal(tg_jail_bantime(&cfg, 1), 1200);
	assert_int_equal(tg_jail_bantime(&cfg, 2), 2400);
	assert_int_equal(tg_jail_bantime(&cfg, 3), 4000);
	assert_int_equal(tg_jail_bantime(&cfg, 40), 4000);
	cfg.factor = 3;
	assert_int_equal(tg_jail_bantime(&cfg, 2), 4000);
	assert_int_equal(tg_jail_bantime(&cfg, 1), 1800);
	cfg.increment = false;
	assert_int_equal(tg_jail_bantime(&cfg, 5), 600);

	jail_cfg(&cfg);
	j = tg_jail_new(&cfg, 16);
	assert_non_null(j);
	for (int i = 0; i < 2; i++)
		assert_false(tg_jail_fail(j, addr_of(&a), NOW + i, 2, &len));
	assert_true(tg_jail_fail(j, addr_of(&a), NOW + 2, 2, &len));
	assert_int_equal(len, 2400);
	tg_jail_free(j);
}

/* [bans] ignore: an address and a prefix never reach maxretry. */
static void test_ignore_list(void **state)
{
	struct tg_jail_cfg cfg;
	struct tg_jail *j;
	struct tg_addr ign = v4(10, 94, 0, 9), in_pfx = v4(10, 95, 200, 1);
	struct tg_addr next = v4(10, 94, 0, 10), out_pfx = v4(10, 96, 0, 1);
	int64_t len;

	(void)state;
	jail_cfg(&cfg);
	assert_int_equal(tg_pfx_parse("10.94.0.9", &cfg.ignore[0]), 0);
	assert_int_equal(tg_pfx_parse("10.95.0.0/16", &cfg.ignore[1]), 0);
	cfg.nignore = 2;
	j = tg_jail_new(&cfg, 16);
	assert_non_null(j);
	for (int i = 0; i < 10; i++) {
		assert_false(tg_jail_fail(j, addr_of(&ign), NOW + i, 0, &len));
		assert_false(tg_jail_fail(j, addr_of(&in_pfx), NOW + i, 0, &len));
	}
	for (int i = 0; i < 2; i++) {
		assert_false(tg_jail_fail(j, addr_of(&next), NOW + i, 0, &len));
		assert_false(tg_jail_fail(j, addr_of(&out_pfx), NOW + i, 0, &len));
	}
	assert_true(tg_jail_fail(j, addr_of(&next), NOW + 2, 0, &len));
	assert_true(tg_jail_fail(j, addr_of(&out_pfx), NOW + 2, 0, &len));
	tg_jail_free(j);
}

/* A ban ends at its time; a permanent one never; expired ones are
 * remembered for forget_s so the next ban is longer. */
static void test_expiry(void **state)
{
	struct tg_bans b = { 0 };
	struct tg_pfx p, q;
	struct tg_ban *ban;

	(void)state;
	assert_int_equal(tg_pfx_parse("10.94.0.3", &p), 0);
	assert_int_equal(tg_pfx_parse("10.94.7.0/24", &q), 0);
	ban = tg_bans_put(&b, &p, NOW, NOW + 600, "brute-force:22");
	assert_non_null(ban);
	assert_int_equal(ban->count, 1);
	assert_true(tg_ban_active(ban, NOW));
	assert_true(tg_ban_active(ban, NOW + 599));
	assert_false(tg_ban_active(ban, NOW + 600));
	assert_non_null(tg_bans_put(&b, &q, NOW, 0, "manual"));
	assert_true(tg_ban_active(tg_bans_find(&b, &q), NOW + 100 * 86400));

	/* Expired but remembered: re-banning counts up. */
	tg_bans_purge(&b, NOW + 600 + 86400, 86400);
	ban = tg_bans_find(&b, &p);
	assert_non_null(ban);
	ban = tg_bans_put(&b, &p, NOW + 700, NOW + 1900, "brute-force:22");
	assert_int_equal(ban->count, 2);
	/* Forgotten after forget_s; the permanent ban stays. */
	tg_bans_purge(&b, NOW + 1900 + 86401, 86400);
	assert_null(tg_bans_find(&b, &p));
	assert_non_null(tg_bans_find(&b, &q));
	assert_true(tg_bans_del(&b, &q));
	assert_false(tg_bans_del(&b, &q));
	assert_int_equal(b.n, 0);
	tg_bans_free(&b);
}

/* The one session a timeline produced, with its cause checked. */
static const struct tg_session *only(struct h_ended *o, enum tg_cause want)
{
	assert_int_equal(o->n, 1);
	assert_string_equal(tg_cause_str[o->cause[0].cause], tg_cause_str[want]);
	return &o->s[0];
}

/* One packet of a timeline: direction, flags, seq, ack (no payload). */
struct step {
	bool c2s;
	uint8_t flags;
	uint32_t seq, ack;
};

/* SYN-only evidence never counts, whatever the duration limit: a spoofed
 * source cannot complete a handshake, and these are what it can cause. */
static void test_syn_only_never_counts(void **state)
{
	static const struct {
		const char *what;
		uint16_t sport;
		enum tg_cause cause;
		struct step pkt[3];
		int n;
	} cases[] = {
		{ "a spoofed SYN, answered; the owner stays silent", 22,
		  TG_CAUSE_NO_ANSWER,
		  { { H_C2S, H_S, CI, 0 } }, 1 },
		{ "the spoofed address's real owner resets the SYN-ACK", 22,
		  TG_CAUSE_HANDSHAKE_ABORT,
		  { { H_C2S, H_S, CI, 0 }, { H_S2C, H_SA, SI, CI + 1 },
		    { H_C2S, H_R, CI + 1, 0 } }, 3 },
		{ "backscatter: a SYN-ACK for a SYN nobody here sent", 41000,
		  TG_CAUSE_UNSOLICITED_SYNACK,
		  { { H_S2C, H_SA, SI, CI + 1 }, { H_C2S, H_R, CI + 1, 0 } }, 2 },
		{ "a closed port", 22, TG_CAUSE_PORT_CLOSED,
		  { { H_C2S, H_S, CI, 0 }, { H_S2C, H_RA, 0, CI + 1 } }, 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h_ended o;
		struct tg_engine *e = h_engine(&o, 0);
		struct h_conv c = h_conv(40000, cases[i].sport);

		for (int k = 0; k < cases[i].n; k++)
			h_tx(e, &c, cases[i].pkt[k].c2s, (uint64_t)k, cases[i].pkt[k].flags,
			     cases[i].pkt[k].seq, cases[i].pkt[k].ack, 0);
		/* Past every timer, so each one ends on its own. */
		tg_engine_advance(e, H_MS(3601000));
		if (tg_jail_counts(only(&o, cases[i].cause), false, UINT32_MAX))
			fail_msg("counted: %s", cases[i].what);
		tg_engine_free(e);
	}
}

/* A handshake, the client's 100 bytes at @data_ms, the server's reset a
 * millisecond later: whether that session counts. */
static bool login_reset(uint64_t data_ms, uint32_t max_duration_ms)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 22);
	bool counts;

	h_handshake(e, &c, 0, CI, SI);
	h_tx(e, &c, H_C2S, data_ms, H_PA, CI + 1, SI + 1, 100);
	h_tx(e, &c, H_S2C, data_ms + 1, H_RA, SI + 1, CI + 101, 0);
	tg_engine_finish(e);
	assert_int_equal(o.n, 1);
	counts = tg_jail_counts(&o.s[0], false, max_duration_ms);
	tg_engine_free(e);
	return counts;
}

/* Sessions that completed a handshake count when short: a login that
 * fails and is closed by the server, one the server resets. */
static void test_handshake_counts(void **state)
{
	struct h_ended o;
	struct tg_engine *e;
	struct h_conv c = h_conv(40000, 22);

	(void)state;
	e = h_engine(&o, 0);
	h_handshake(e, &c, 0, CI, SI);
	h_tx(e, &c, H_C2S, 3, H_PA, CI + 1, SI + 1, 100);
	h_tx(e, &c, H_S2C, 4, H_FA, SI + 1, CI + 101, 0);
	h_tx(e, &c, H_C2S, 5, H_FA, CI + 101, SI + 2, 0);
	h_tx(e, &c, H_S2C, 6, H_A, SI + 2, CI + 102, 0);
	tg_engine_finish(e);
	assert_int_equal(o.n, 1);
	assert_true(tg_jail_counts(&o.s[0], false, MAX_DUR_MS));
	/* Not when it lasted max_duration or longer (it ends at the second
	 * FIN: Zeek's duration stops once both sides closed). */
	assert_int_equal((o.s[0].last_ns - o.s[0].first_ns) / 1000000, 5);
	assert_false(tg_jail_counts(&o.s[0], false, 5));
	assert_true(tg_jail_counts(&o.s[0], false, 6));
	tg_engine_free(e);

	assert_true(login_reset(3, MAX_DUR_MS));
	/* A handshake, then twenty seconds of guessing: too long. */
	assert_false(login_reset(20000, MAX_DUR_MS));
}

/* With SYN cookies the capture never sees the handshake (XDP answered
 * it): only XDP's word that the cookie was valid makes it count. */
static void test_cookie_verified(void **state)
{
	struct h_ended o;
	struct tg_engine *e = h_engine(&o, 0);
	struct h_conv c = h_conv(40000, 22);

	(void)state;
	h_tx(e, &c, H_C2S, 0, H_PA, CI + 1, SI + 1, 100);
	h_tx(e, &c, H_S2C, 1, H_RA, SI + 1, CI + 101, 0);
	tg_engine_finish(e);
	assert_int_equal(o.n, 1);
	assert_false(tg_jail_counts(&o.s[0], false, MAX_DUR_MS));
	assert_true(tg_jail_counts(&o.s[0], true, MAX_DUR_MS));
	assert_false(tg_jail_counts(&o.s[0], true, 1));
	tg_engine_free(e);
}

/* A fresh directory under $TMPDIR for one test's files. */
static void tmpdir(char *dir, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, len, "%s/tg-bans-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static void rmdir_all(const char *dir)
{
	char p[PATH_MAX];
	struct dirent *d;
	DIR *dh = opendir(dir);

	if (dh) {
		while ((d = readdir(dh)))
			if (d->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", dir, d->d_name);
				if (rmdir(p))
					unlink(p);
			}
		closedir(dh);
	}
	rmdir(dir);
}

/* How many entries @dir holds (without . and ..). */
static int entries(const char *dir)
{
	struct dirent *d;
	DIR *dh = opendir(dir);
	int n = 0;

	assert_non_null(dh);
	while ((d = readdir(dh)))
		n += strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
	closedir(dh);
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

static void put(struct tg_bans *b, const char *pfx, int64_t until, const char *why)
{
	struct tg_pfx p;

	assert_int_equal(tg_pfx_parse(pfx, &p), 0);
	assert_non_null(tg_bans_put(b, &p, NOW, until, why));
}

/* Written, reloaded: the same bans. The write replaces the file through
 * a temporary one and rename: a reader holding the old file keeps the
 * old list whole, and nothing else is left in the directory. */
static void test_state_roundtrip(void **state)
{
	struct tg_bans b = { 0 }, r = { 0 };
	char dir[256], path[PATH_MAX], old[PATH_MAX], err[512] = "";
	char before[4096], after[4096];
	struct stat st0, st1;

	(void)state;
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/bans", dir);
	snprintf(old, sizeof(old), "%s/old", dir);
	put(&b, "10.94.0.3", NOW + 600, "brute-force:22");
	put(&b, "10.94.7.0/24", 0, "manual");
	put(&b, "fd00:94::2", NOW + 1200, "brute-force:2222");
	put(&b, "10.94.0.3", NOW + 1200, "brute-force:22");   /* count 2 */
	assert_int_equal(tg_bans_save(&b, path, err, sizeof(err)), 0);
	assert_int_equal(entries(dir), 1);

	assert_int_equal(tg_bans_load(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.n, b.n);
	for (size_t i = 0; i < b.n; i++) {
		struct tg_ban *x = tg_bans_find(&r, &b.v[i].pfx);

		assert_non_null(x);
		assert_int_equal(x->since_s, b.v[i].since_s);
		assert_int_equal(x->until_s, b.v[i].until_s);
		assert_int_equal(x->count, b.v[i].count);
		assert_string_equal(x->reason, b.v[i].reason);
	}
	assert_int_equal(tg_bans_find(&r, &b.v[0].pfx)->count, 2);

	/* Rewrite with a hard link on the old file: rename gives the path a
	 * new inode and leaves the old one untouched. */
	read_file(path, before, sizeof(before));
	assert_int_equal(link(path, old), 0);
	assert_int_equal(stat(path, &st0), 0);
	put(&b, "10.94.0.8", NOW + 600, "brute-force:22");
	assert_int_equal(tg_bans_save(&b, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_not_equal(st0.st_ino, st1.st_ino);
	read_file(old, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(entries(dir), 2);     /* bans, old: no temporary left */
	assert_int_equal(tg_bans_load(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.n, 4);

	/* A missing file is an empty list. */
	unlink(path);
	assert_int_equal(tg_bans_load(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	tg_bans_free(&b);
	tg_bans_free(&r);
	rmdir_all(dir);
}

/* A write that cannot complete (the path is a directory, so the rename
 * fails) reports it and leaves no temporary behind. */
static void test_state_write_fails_cleanly(void **state)
{
	struct tg_bans b = { 0 };
	char dir[256], path[PATH_MAX], err[512] = "";

	(void)state;
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/bans", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	put(&b, "10.94.0.3", NOW + 600, "brute-force:22");
	assert_true(tg_bans_save(&b, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, path));
	assert_int_equal(entries(dir), 1);
	tg_bans_free(&b);
	rmdir_all(dir);
}

/* A corrupt or truncated file: a clear error naming file and line, and
 * the list loaded before stays as it was (no partial load). */
static void test_state_corrupt(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "# tcpguard bans v1: prefix since until count reason\n"
		  "10.94.0.4 1760000000 1760000600 1 brute-force:22\n"
		  "not a ban\n"
		  "10.94.0.5 1760000000 1760000600 1 brute-force:22\n",
		  ":3: not a ban record" },
		{ "10.94.0.4 1760000000 1760000600 1 brute-force:22\n"
		  "10.94.0.300 1760000000 1760000600 1 brute-force:22\n",
		  ":2: not a ban record" },
		{ "10.94.0.4 1760000000 1760000600 1 brute-force:22\n"
		  "10.94.0.5 1760000000 17600",
		  ":2: truncated record" },
		/* Cut inside the reason: every field parses, the newline is gone. */
		{ "10.94.0.4 1760000000 1760000600 1 brute-force:22\n"
		  "10.94.0.5 1760000000 1760000600 1 brute-fo",
		  ":2: truncated record" },
		{ "10.94.0.4 1760000000 1760000600 1 brute-force:22\n"
		  "10.94.0.5 1760000000 x 1 brute-force:22\n",
		  ":2: not a ban record" },
	};
	struct tg_bans b = { 0 };
	char dir[256], path[PATH_MAX], err[512];

	(void)state;
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/bans", dir);
	write_file(path, "10.94.0.1 1760000000 1760000600 1 brute-force:22\n"
			 "10.94.0.2 1760000000 0 3 manual\n");
	assert_int_equal(tg_bans_load(&b, path, err, sizeof(err)), 0);
	assert_int_equal(b.n, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[PATH_MAX + 64];

		write_file(path, bad[i].text);
		err[0] = 0;
		assert_int_equal(tg_bans_load(&b, path, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "%s%s", path, bad[i].why);
		if (strncmp(err, want, strlen(want)))
			fail_msg("case %zu: error '%s', want '%s...'", i, err, want);
		assert_int_equal(b.n, 2);
		assert_int_equal(b.v[0].pfx.addr[3], 1);
		assert_int_equal(b.v[1].pfx.addr[3], 2);
		assert_int_equal(b.v[1].count, 3);
	}
	tg_bans_free(&b);
	rmdir_all(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maxretry_within_findtime),
		cmocka_unit_test(test_spread_beyond_findtime),
		cmocka_unit_test(test_bantime_growth),
		cmocka_unit_test(test_ignore_list),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_syn_only_never_counts),
		cmocka_unit_test(test_handshake_counts),
		cmocka_unit_test(test_cookie_verified),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_write_fails_cleanly),
		cmocka_unit_test(test_state_corrupt),
	};

	return cmocka_run_group_tests_name("bans", tests, NULL, NULL);
}
