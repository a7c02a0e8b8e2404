// SPDX-License-Identifier: MIT
/*
 * The command line's side of attack detection, for analyze and watch.
 * The engine detects while it reads;
 * at the end, the signatures are measured on a second read of the same
 * files, when every input is a file that can be read again (not standard
 * input): each TCP packet is decoded once more and handed to
 * tg_detect_measure, which counts the attack packets each signature
 * matches and misses and the other packets it matches. Only then do the
 * alerts leave the detector, so every alert line carries its signature's
 * precision and recall. A second pass costs about one more decode of
 * the capture and runs only when there is an alert.
 *
 * watch cannot read its input twice: its alerts carry the signature as
 * derived, unmeasured (so a flood rule is only logged, never proposed for
 * dropping). It writes every event (start, update, end) as it happens,
 * and polls the detector for ends after each look at the capture.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_detect.h"
#include "detect_ini.h"
#include "tcpguard/decode.h"
#include "tcpguard/detect.h"
#include "tcpguard/engine.h"
#include "../io/source.h"
#include "../out/alerts.h"

int tg_cli_detect_opt(struct tg_cli_detect *d, int c, const char *arg)
{
	struct tg_detect_cfg def;

	switch (c) {
	case 'A': d->alerts = arg; return 1;
	case 'C': d->config = arg; return 1;
	case 'E':
		if (strcmp(arg, "all") && strcmp(arg, "end")) {
			fprintf(stderr, "tcpguard: --alert-events '%s': 'all' or 'end'\n", arg);
			return 2;
		}
		d->events = arg;
		return 1;
	case 'N': d->off = true; return 1;
	case 'D':
		tg_detect_cfg_default(&def);
		tg_cli_detect_ini_write(stdout, &def);
		return 3;
	default:
		return 0;
	}
}

int tg_cli_detect_setup(struct tg_cli_detect *d, struct tg_engine_cfg *cfg)
{
	char err[512];

	tg_detect_cfg_default(&cfg->detect);
	if (d->config && tg_cli_detect_ini_shared(&cfg->detect, d->config,
						  d->shared_config, err, sizeof(err))) {
		fprintf(stderr, "tcpguard: %s\n", err);
		return 2;
	}
	if (d->off)
		cfg->detect.enabled = false;
	d->all = d->events ? !strcmp(d->events, "all") : d->live;
	cfg->detect.events = d->all;
	if (d->alerts && !cfg->detect.enabled) {
		fputs("tcpguard: --alerts needs detection (drop --no-detect)\n", stderr);
		return 2;
	}
	if (d->alerts) {
		d->f = strcmp(d->alerts, "-") ? fopen(d->alerts, "w") : stdout;
		if (!d->f) {
			fprintf(stderr, "tcpguard: %s: %s\n", d->alerts, strerror(errno));
			return 2;
		}
	}
	return 0;
}

void tg_cli_detect_alert(struct tg_cli_detect *d, const struct tg_alert *a)
{
	if (d->f && (d->all || a->event == TG_AE_END))
		tg_alerts_write(d->f, a);
	if (a->event != TG_AE_END)
		return;
	if (d->n >= TG_CLI_ALERTS_KEPT) {
		d->unkept++;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct tg_alert *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = *a;
}

struct tg_cli_chunks *tg_cli_chunks_open(struct tg_cli_detect *d, int i, int n,
					 struct tg_source *src)
{
	struct tg_cli_chunks *c;

	if (d->off || d->live || !src->ops->tell || !src->ops->seek || i < 0 || i >= n)
		return NULL;
	if (!d->chunks) {
		d->chunks = calloc((size_t)n, sizeof(*d->chunks));
		if (!d->chunks)
			return NULL;
		d->nchunks = n;
	}
	if (i >= d->nchunks)
		return NULL;
	c = &d->chunks[i];
	free(c->v);
	memset(c, 0, sizeof(*c));
	c->ok = true;
	c->cur.min_ts = UINT64_MAX;
	src->ops->tell(src, &c->cur.pos);
	return c;
}

void tg_cli_chunks_push(struct tg_cli_chunks *c, struct tg_source *src)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct tg_cli_chunk *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->ok = false;  /* measured by a full walk then */
			c->n = 0;
		} else {
			c->v = v;
			c->cap = cap;
		}
	}
	if (c->n < c->cap)
		c->v[c->n++] = c->cur;
	c->cur.frames = 0;
	c->cur.min_ts = UINT64_MAX;
	c->cur.max_ts = 0;
	src->ops->tell(src, &c->cur.pos);
}

void tg_cli_chunks_close(struct tg_cli_chunks *c, struct tg_source *src, bool complete)
{
	if (c->cur.frames)
		tg_cli_chunks_push(c, src);
	if (!complete)
		c->ok = false;
}

/* One thread's share of a file's measuring: a tally of its own (m), the
 * chunks [from, to) of the file's index (all of the file, walked
 * frame by frame, without one). */
struct measure_job {
	struct tg_measure *m;
	const struct tg_detect *det;
	const struct tg_decode_cfg *dc;
	const char *path;
	const char *filter;
	const struct tg_cli_chunks *ck;
	size_t from, to;
	uint64_t stop;
	pthread_t th;
};

/* Packets decoded before any is measured, so that their loads from the
 * detector's tables overlap. */
#define MEASURE_BATCH 8

/* Measures the frames @src delivers next: @limit of them (or all), until
 * one comes after j->stop. Returns false once past it or at the end. */
static bool measure_frames(struct measure_job *j, struct tg_source *src, uint64_t limit)
{
	struct tg_frame f;
	struct tg_pkt p[MEASURE_BATCH];
	unsigned n = 0;
	bool more = true;

	for (uint64_t k = 0; k < limit; k++) {
		if (tg_source_next(src, &f) != 1) {
			more = false;
			break;
		}
		if (!tg_measure_wants(j->m, f.ts_ns)) {
			if (f.ts_ns > j->stop) {
				more = false;
				break;
			}
			continue;
		}
		/* Only SYNs and resets are measured: most frames can be
		 * passed over without decoding them. */
		if (!tg_decode_may_have_flags(f.link, f.data, f.cap_len,
					      TG_TCP_SYN | TG_TCP_RST))
			continue;
		p[n].ts_ns = f.ts_ns;
		p[n].num = f.num;
		if (tg_decode(j->dc, f.link, f.data, f.cap_len, f.wire_len, &p[n]) != TG_DEC_TCP)
			continue;
		tg_measure_prefetch(j->m, &p[n]);
		if (++n == MEASURE_BATCH) {
			for (unsigned i = 0; i < n; i++)
				tg_measure_packet(j->m, &p[i]);
			n = 0;
		}
	}
	for (unsigned i = 0; i < n; i++)
		tg_measure_packet(j->m, &p[i]);
	return more;
}

/* Whether the walk reads chunk @c: when a frame in it may be measured,
 * or when one of its frames ends the walk (as the plain walk would end
 * there, and measure what comes before it). */
static bool chunk_read(const struct measure_job *j, const struct tg_cli_chunk *c)
{
	return c->max_ts > j->stop || tg_detect_measure_span(j->det, c->min_ts, c->max_ts);
}

static void *measure_run(void *arg)
{
	struct measure_job *j = arg;
	struct tg_source src;
	bool at;                /* src is at the start of the next chunk */

	if (tg_source_open_file(&src, j->path, j->filter))
		return NULL;
	if (!j->ck || !src.ops->seek) {
		/* The plain walk reads it all: the first share's to do. */
		if (j->from == 0)
			measure_frames(j, &src, UINT64_MAX);
		tg_source_close(&src);
		return NULL;
	}
	at = j->from == 0;
	for (size_t i = j->from; i < j->to; i++) {
		const struct tg_cli_chunk *c = &j->ck->v[i];

		if (!chunk_read(j, c)) {
			at = false;
			continue;
		}
		if (!at && src.ops->seek(&src, &c->pos))
			break;
		at = true;
		if (!measure_frames(j, &src, c->frames))
			break;
	}
	tg_source_close(&src);
	return NULL;
}

/* Decodes the frames of @path in the alerts' time again and lets the
 * detector measure: with an index of @path (@ck), only the stretches
 * whose frames' times meet an alert's, split between @threads threads
 * (at most two); without, every frame up to the end of the last alert. */
static void measure_file(struct tg_detect *det, const struct tg_decode_cfg *dc,
			 const char *path, const char *filter,
			 const struct tg_cli_chunks *ck, unsigned threads)
{
	struct measure_job j[2] = { {
		.det = det, .dc = dc, .path = path, .filter = filter, .ck = ck,
		/* Past the end of every alert (captures run forward, give or
		 * take a second): nothing left to measure. */
		.stop = tg_detect_last_end(det) + 1000000000ull,
	} };
	unsigned n = 1;
	/* TCPGUARD_MEASURE_INDEX=0: the plain walk, for the tests to compare
	 * with. */
	const char *env = getenv("TCPGUARD_MEASURE_INDEX");

	if (!ck || !ck->ok || (env && !strcmp(env, "0")))
		j[0].ck = NULL;
	if (j[0].ck) {
		uint64_t total = 0, half = 0;
		size_t end = 0, mid;

		/* The walk ends in the first chunk with a frame past the stop
		 * (frames past it are never measured): the chunks up to that
		 * one are all it reads. */
		while (end < ck->n && ck->v[end].max_ts <= j[0].stop)
			end++;
		if (end < ck->n)
			end++;
		for (size_t i = 0; i < end; i++)
			if (chunk_read(&j[0], &ck->v[i]))
				total += ck->v[i].frames;
		/* A second thread for the second half of those frames. */
		for (mid = 0; mid < end && half * 2 < total; mid++)
			if (chunk_read(&j[0], &ck->v[mid]))
				half += ck->v[mid].frames;
		j[0].to = end;
		if (threads > 1 && mid > 0 && mid < end) {
			j[1] = j[0];
			j[0].to = mid;
			j[1].from = mid;
			n = 2;
		}
	}
	/* Out of memory: the alerts leave unmeasured, as from standard input. */
	if (!(j[0].m = tg_measure_new(det)))
		return;
	if (n == 2 && (!(j[1].m = tg_measure_new(det)) ||
		       pthread_create(&j[1].th, NULL, measure_run, &j[1]))) {
		/* No second thread: this one reads the whole of it. */
		j[0].to = j[1].to;
		tg_measure_free(j[1].m);
		n = 1;
	}
	measure_run(&j[0]);
	if (n == 2)
		pthread_join(j[1].th, NULL);
	for (unsigned i = 0; i < n; i++) {
		tg_measure_merge(det, j[i].m);
		tg_measure_free(j[i].m);
	}
}

void tg_cli_detect_finish(struct tg_cli_detect *d, struct tg_engine *e,
			  const struct tg_engine_cfg *cfg, char **files, int n,
			  const char *filter)
{
	tg_cli_detect_finish_det(d, tg_engine_detect(e), cfg, files, n, filter);
}

void tg_cli_detect_finish_det(struct tg_cli_detect *d, struct tg_detect *det,
			      const struct tg_engine_cfg *cfg, char **files, int n,
			      const char *filter)
{
	bool rereadable = true;

	if (!det)
		return;
	for (int i = 0; i < n; i++)
		if (!strcmp(files[i], "-"))
			rereadable = false;
	if (rereadable && n > 0 && tg_detect_wants_measure(det))
		for (int i = 0; i < n; i++)
			measure_file(det, &cfg->decode, files[i], filter,
				     i < d->nchunks ? &d->chunks[i] : NULL, d->measure_threads);
	tg_detect_flush(det, true);
	if (d->f)
		fflush(d->f);
}

void tg_cli_detect_poll(struct tg_cli_detect *d, struct tg_engine *e)
{
	struct tg_detect *det = tg_engine_detect(e);

	(void)d;
	if (det)
		tg_detect_flush(det, false);
}

unsigned tg_cli_detect_active(struct tg_cli_detect *d, struct tg_engine *e)
{
	struct tg_detect *det = tg_engine_detect(e);

	(void)d;
	return det ? tg_detect_stats(det)->alerts_open : 0;
}

int tg_cli_detect_sync(struct tg_cli_detect *d)
{
	if (d->f && (fflush(d->f) != 0 || ferror(d->f)))
		return -(errno ? errno : EIO);
	return 0;
}

int tg_cli_detect_reopen(struct tg_cli_detect *d)
{
	FILE *f;

	if (!d->f || d->f == stdout)
		return 0;
	fflush(d->f);
	f = fopen(d->alerts, "a");
	if (!f)
		return -errno;
	fclose(d->f);
	d->f = f;
	return 0;
}

void tg_cli_detect_summary(struct tg_cli_detect *d, FILE *f)
{
	tg_alerts_summary(f, d->v, d->n);
	if (d->unkept)
		fprintf(f, "  (%" PRIu64 " more not shown)\n", d->unkept);
}

void tg_cli_detect_free(struct tg_cli_detect *d)
{
	if (d->f && d->f != stdout)
		fclose(d->f);
	else if (d->f)
		fflush(d->f);
	free(d->v);
	for (int i = 0; i < d->nchunks; i++)
		free(d->chunks[i].v);
	free(d->chunks);
	memset(d, 0, sizeof(*d));
}
