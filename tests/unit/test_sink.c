// SPDX-License-Identifier: MIT
/*
 * The conn.log and JSON sinks (src/out): conn.log rows against the same
 * row written with printf, column by column as Zeek's ASCII writer lays
 * it out (IPv4 and IPv6, sessions with and without a duration, counters
 * past 32 bits); the record buffer across its megabyte boundary; and log
 * rotation, where the old file keeps every row written before it (and
 * its #close) and the new file starts with its own header. Sessions come
 * from packet timelines fed through the engine, as in test_cause.c.
 * Files go to a fresh directory under $TMPDIR.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "harness.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"
#include "../../src/out/sink.h"

static char dir[256];

/* Three sessions: a graceful IPv4 one with data, a lone IPv4 SYN, and an
 * IPv6 one reset by the server. */
static void sessions(struct h_ended *o)
{
	struct tg_engine *e = h_engine(o, 0);
	struct h_conv a = h_conv(40000, 80), b = h_conv(40001, 443), c = h_conv(40002, 22);

	c.cli.b[0] = 0x20;                      /* 2001:db8::1 -> 2001:db8::2 */
	c.cli.b[1] = 0x01;
	c.cli.b[2] = 0x0d;
	c.cli.b[3] = 0xb8;
	memset(c.cli.b + 4, 0, 11);
	c.cli.b[15] = 1;
	c.srv = c.cli;
	c.srv.b[15] = 2;
	assert_non_null(e);
	h_handshake(e, &a, 0, 1000, 5000);
	h_tx(e, &a, H_C2S, 10, H_PA, 1001, 5001, 300);
	h_tx(e, &a, H_S2C, 1234, H_PA, 5001, 1301, 70000);
	h_tx(e, &a, H_C2S, 1300, H_FA, 1301, 75001, 0);
	h_tx(e, &a, H_S2C, 1301, H_FA, 75001, 1302, 0);
	h_tx(e, &a, H_C2S, 1302, H_A, 1302, 75002, 0);
	h_tx(e, &b, H_C2S, 2000, H_S, 7, 0, 0);
	h_handshake(e, &c, 3000, 9, 90);
	h_tx(e, &c, H_S2C, 3500, H_RA, 91, 10, 0);
	tg_engine_finish(e);
	tg_engine_free(e);
	assert_int_equal(o->n, 3);
}

/* The row as the Zeek sink wrote it with printf. */
static void printf_row(char *buf, size_t len, const struct tg_session *s,
		       const struct tg_evidence *ev, uint64_t seed)
{
	char a[64], b[64], uid[24], d[96] = "-\t-\t-";
	uint64_t dur = s->last_ns - s->first_ns;
	/* The test's IPv4 addresses are private (local), its IPv6 ones not. */
	char local = tg_addr_is_v4(&s->orig_h) ? 'T' : 'F';

	if (dur / 1000 > 0)
		snprintf(d, sizeof(d), "%" PRIu64 ".%06" PRIu64 "\t%" PRIu64 "\t%" PRIu64,
			 dur / 1000000000u, (dur % 1000000000u) / 1000u,
			 tg_session_bytes(s, 0), tg_session_bytes(s, 1));
	snprintf(buf, len,
		 "%" PRIu64 ".%06" PRIu64 "\t%s\t%s\t%u\t%s\t%u\ttcp\t-\t%s\t%s\t%c\t%c\t%" PRIu64
		 "\t%.*s\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu64 "\t-\t6\n",
		 s->first_ns / 1000000000u, (s->first_ns % 1000000000u) / 1000u,
		 tg_session_uid(s, seed, uid), tg_addr_str(&s->orig_h, a, sizeof(a)), s->orig_p,
		 tg_addr_str(&s->resp_h, b, sizeof(b)), s->resp_p, d,
		 tg_conn_state_str[tg_session_conn_state(s)], local, local,
		 (uint64_t)ev->d[0].missed + ev->d[1].missed,
		 s->hist_len ? s->hist_len : 1, s->hist_len ? s->hist : "-",
		 s->d[0].pkts, tg_dir_ip_bytes(&s->d[0]), s->d[1].pkts, tg_dir_ip_bytes(&s->d[1]));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *b;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* Rows of the 3 sessions, then the first again with its counters pushed
 * past 32 bits and its times to the far side of 2038. */
static void test_zeek_rows_match_printf(void **state)
{
	struct h_ended o;
	struct tg_sink k;
	char want[512], got[TG_SINK_RECORD_MAX];
	size_t n;

	(void)state;
	sessions(&o);
	memset(&k, 0, sizeof(k));
	assert_int_equal(tg_sink_zeek_new(&k, "/dev/null", 42), 0);
	for (unsigned i = 0; i <= o.n; i++) {
		struct tg_session s = o.s[i < o.n ? i : 0];
		struct tg_evidence ev = o.ev[i < o.n ? i : 0];

		if (i == o.n) {
			s.d[0].ip_bytes_hi = 3;
			s.d[1].pkts = 4000000000u;
			ev.d[0].missed = 123456;
			s.first_ns += 3000000000ull * 1000000000ull;
			s.last_ns += 3000000000ull * 1000000000ull + 987654321012ull;
		}
		printf_row(want, sizeof(want), &s, &ev, 42);
		n = k.ops->format(&k, &s, &ev, &o.cause[0], got);
		got[n] = '\0';
		assert_string_equal(got, want);
		if (i == 2)
			assert_non_null(strstr(got, "\t2001:db8::1\t40002\t2001:db8::2\t22\t"));
	}
	tg_sink_free(&k);
}

/* More rows than the record buffer holds: every one arrives, in order,
 * between the header and #close. */
static void test_zeek_buffer_boundary(void **state)
{
	struct h_ended o;
	struct tg_sink k;
	char path[PATH_MAX], row[512];
	const unsigned rows = 12000;    /* ~1.3 MB of rows */
	char *text, *p;
	unsigned seen = 0;

	(void)state;
	sessions(&o);
	snprintf(path, sizeof(path), "%s/many.log", dir);
	memset(&k, 0, sizeof(k));
	assert_int_equal(tg_sink_zeek_new(&k, path, 1), 0);
	for (unsigned i = 0; i < rows; i++)
		k.ops->session(&k, &o.s[i % o.n], &o.ev[i % o.n], &o.cause[i % o.n]);
	assert_int_equal(k.ops->finish(&k, NULL), 0);
	tg_sink_free(&k);
	text = slurp(path);
	assert_true(strncmp(text, "#separator \\x09\n", 16) == 0);
	p = strstr(text, "#types\t");
	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	for (; seen < rows; seen++) {
		size_t l;

		printf_row(row, sizeof(row), &o.s[seen % o.n], &o.ev[seen % o.n], 1);
		l = strlen(row);
		if (strncmp(p, row, l) != 0)
			break;
		p += l;
	}
	assert_int_equal(seen, rows);
	assert_true(strncmp(p, "#close\t", 7) == 0);
	assert_non_null(strchr(p, '\n'));
	assert_int_equal(strchr(p, '\n')[1], '\0');
	free(text);
	unlink(path);
}

/* Rotation: a sink made by @make on @name writes the sessions of
 * @before, its file is renamed away (to @name.1), the sink reopens its
 * path and writes those of @after (index lists ending in -1). The old
 * and new files' contents come back in *@a and *@b. */
static void rotate(int (*make)(struct tg_sink *, const char *, uint64_t), const char *name,
		   const struct h_ended *o, const int *before, const int *after,
		   char **a, char **b)
{
	struct tg_sink k;
	char path[PATH_MAX], old[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(old, sizeof(old), "%s/%s.1", dir, name);
	memset(&k, 0, sizeof(k));
	assert_int_equal(make(&k, path, 7), 0);
	for (; *before >= 0; before++)
		k.ops->session(&k, &o->s[*before], &o->ev[*before], &o->cause[*before]);
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(tg_sink_reopen(&k), 0);
	for (; *after >= 0; after++)
		k.ops->session(&k, &o->s[*after], &o->ev[*after], &o->cause[*after]);
	assert_int_equal(k.ops->finish(&k, NULL), 0);
	tg_sink_free(&k);
	*a = slurp(old);
	*b = slurp(path);
	unlink(old);
	unlink(path);
}

/* conn.log: the old file keeps its row and gets its #close; the new one
 * starts with a header of its own. */
static void test_zeek_rotation(void **state)
{
	static const int before[] = { 0, -1 }, after[] = { 1, -1 };
	struct h_ended o;
	char row[512];
	char *a, *b;

	(void)state;
	sessions(&o);
	rotate(tg_sink_zeek_new, "conn.log", &o, before, after, &a, &b);
	printf_row(row, sizeof(row), &o.s[0], &o.ev[0], 7);
	assert_non_null(strstr(a, row));
	assert_non_null(strstr(strstr(a, row), "\n#close\t"));
	assert_null(strstr(b, row));
	printf_row(row, sizeof(row), &o.s[1], &o.ev[1], 7);
	assert_null(strstr(a, row));
	assert_true(strncmp(b, "#separator \\x09\n", 16) == 0);
	assert_non_null(strstr(b, row));
	assert_non_null(strstr(strstr(b, row), "\n#close\t"));
	free(a);
	free(b);
}

/* JSON lines: no line lost or moved by the rotation. */
static void test_json_rotation(void **state)
{
	static const int before[] = { 0, 2, -1 }, after[] = { 1, -1 };
	struct h_ended o;
	struct tg_sink k;
	char line[2 * TG_SINK_RECORD_MAX + 1];
	char *a, *b;
	size_t n;

	(void)state;
	sessions(&o);
	rotate(tg_sink_json_new, "conn.json", &o, before, after, &a, &b);
	memset(&k, 0, sizeof(k));
	assert_int_equal(tg_sink_json_new(&k, "/dev/null", 7), 0);
	n = k.ops->format(&k, &o.s[0], &o.ev[0], &o.cause[0], line);
	n += k.ops->format(&k, &o.s[2], &o.ev[2], &o.cause[2], line + n);
	line[n] = '\0';
	assert_string_equal(a, line);
	n = k.ops->format(&k, &o.s[1], &o.ev[1], &o.cause[1], line);
	line[n] = '\0';
	assert_string_equal(b, line);
	tg_sink_free(&k);
	free(a);
	free(b);
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tg-sink-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zeek_rows_match_printf),
		cmocka_unit_test(test_zeek_buffer_boundary),
		cmocka_unit_test(test_zeek_rotation),
		cmocka_unit_test(test_json_rotation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
