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

/* Measures the frames @src delivers next: @limit of them (or all), until
 * one comes after @stop. Returns false once past @stop or at the end. */
static bool measure_frames(struct tg_detect *det, const struct tg_decode_cfg *dc,
			   struct tg_source *src, uint64_t limit, uint64_t stop)
{
	struct tg_frame f;
	struct tg_pkt p;

	for (uint64_t k = 0; k < limit; k++) {
		if (tg_source_next(src, &f) != 1)
			return false;
		if (!tg_detect_measure_wants(det, f.ts_ns)) {
			if (f.ts_ns > stop)
				return false;
			continue;
		}
		/* Only SYNs and resets are measured: most frames can be
		 * passed over without decoding them. */
		if (!tg_decode_may_have_flags(f.link, f.data, f.cap_len,
					      TG_TCP_SYN | TG_TCP_RST))
			continue;
		p.ts_ns = f.ts_ns;
		p.num = f.num;
		if (tg_decode(dc, f.link, f.data, f.cap_len, f.wire_len, &p) == TG_DEC_TCP)
			tg_detect_measure(det, &p);
	}
	return true;
}

/* Decodes the frames of @path in the alerts' time again and lets the
 * detector measure: with an index of @path (@ck), only the stretches
 * whose frames' times meet an alert's; without, every frame up to the
 * end of the last alert. */
static void measure_file(struct tg_detect *det, const struct tg_decode_cfg *dc,
			 const char *path, const char *filter,
			 const struct tg_cli_chunks *ck)
{
	/* Past the end of every alert (captures run forward, give or take
	 * a second): nothing left to measure. */
	uint64_t stop = tg_detect_last_end(det) + 1000000000ull;
	struct tg_source src;
	bool at = true;         /* src is at the start of the next chunk */

	if (tg_source_open_file(&src, path, filter))
		return;
	/* TCPGUARD_MEASURE_INDEX=0: the plain walk, for the tests to compare
	 * with. */
	const char *env = getenv("TCPGUARD_MEASURE_INDEX");

	if (!ck || !ck->ok || !src.ops->seek || (env && !strcmp(env, "0"))) {
		measure_frames(det, dc, &src, UINT64_MAX, stop);
		tg_source_close(&src);
		return;
	}
	for (size_t i = 0; i < ck->n; i++) {
		const struct tg_cli_chunk *c = &ck->v[i];

		/* Read a stretch when a frame in it may be measured, or when
		 * one of its frames ends the walk (as the plain walk would
		 * end there, and measure what comes before it). */
		if (c->max_ts <= stop &&
		    !tg_detect_measure_span(det, c->min_ts, c->max_ts)) {
			at = false;
			continue;
		}
		if (!at && src.ops->seek(&src, &c->pos))
			break;
		at = true;
		if (!measure_frames(det, dc, &src, c->frames, stop))
			break;
	}
	tg_source_close(&src);
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
				     i < d->nchunks ? &d->chunks[i] : NULL);
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
