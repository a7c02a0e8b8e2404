/* SPDX-License-Identifier: MIT */
/*
 * Attack detection as analyze and watch drive it: the options (--config,
 * --alerts, --alert-events, --no-detect, --detect-defaults), the second
 * pass over the inputs that measures each signature (analyze only), the
 * alert JSON lines and the summary section. Kept apart from cmd_analyze.c
 * and cmd_watch.c so that they only wire it in.
 */
#ifndef TG_CLI_ANALYZE_DETECT_H
#define TG_CLI_ANALYZE_DETECT_H

#include <stdint.h>
#include <stdio.h>

#include "../io/source.h"
#include "tcpguard/detect-t.h"
#include "tcpguard/engine-t.h"

struct tg_engine;

/* Frames per chunk of the index below. */
#define TG_CLI_CHUNK_FRAMES 65536

/* One stretch of an input: where it starts and the times its frames hold. */
struct tg_cli_chunk {
	struct tg_source_pos pos;
	uint64_t min_ts;
	uint64_t max_ts;
	uint32_t frames;
};

/* Where an input's frames lie in time, noted while it is read the first
 * time, so that the measuring pass reads only the stretches an alert's
 * time touches. Only for inputs whose source can tell and seek. */
struct tg_cli_chunks {
	struct tg_cli_chunk *v;
	size_t n;
	size_t cap;
	bool ok;                /* complete and usable */
	struct tg_cli_chunk cur;/* the stretch being read */
};

struct tg_cli_detect {
	const char *config;     /* --config PATH */
	const char *alerts;     /* --alerts PATH ('-': stdout) */
	const char *events;     /* --alert-events all|end (NULL: the command's) */
	bool live;              /* watch: events default to all, no measuring */
	bool off;               /* --no-detect */
	bool shared_config;     /* config also holds the command's own
	                         * sections (protect): those are skipped */
	bool all;               /* start and update events are written too */
	FILE *f;
	struct tg_alert *v;     /* every alert, for the summary */
	size_t n;
	size_t cap;
	uint64_t unkept;        /* ended alerts past TG_CLI_ALERTS_KEPT */
	struct tg_cli_chunks *chunks;   /* one per input, for measuring */
	int nchunks;
	unsigned measure_threads;       /* threads the measuring may use (0: 1) */
};

/* Ended alerts kept for the summary of a long watch. */
#define TG_CLI_ALERTS_KEPT 4096

#define TG_CLI_DETECT_OPTIONS \
	{ "alerts", required_argument, NULL, 'A' }, \
	{ "alert-events", required_argument, NULL, 'E' }, \
	{ "config", required_argument, NULL, 'C' }, \
	{ "no-detect", no_argument, NULL, 'N' }, \
	{ "detect-defaults", no_argument, NULL, 'D' }

#define TG_CLI_DETECT_HELP \
	"  --alerts PATH        attack alerts as JSON lines ('-' = stdout)\n" \
	"  --alert-events WHICH end: one record per alert, when it ended; all:\n" \
	"                       also when it starts and while it lasts\n" \
	"                       (default: end for analyze, all for watch)\n" \
	"  --config PATH        detection thresholds (INI; docs/detection.md)\n" \
	"  --no-detect          no attack detection\n" \
	"  --detect-defaults    print the default thresholds as INI and exit\n"

/* Input @i of @n is open in @src for its first reading: returns the index
 * to note its frames in (tg_cli_chunks_frame), or NULL when no measuring
 * pass will want one or the source cannot seek. */
struct tg_cli_chunks *tg_cli_chunks_open(struct tg_cli_detect *d, int i, int n,
					 struct tg_source *src);

void tg_cli_chunks_push(struct tg_cli_chunks *c, struct tg_source *src);

/* Notes one frame of time @ts_ns just read from @src. */
static inline void tg_cli_chunks_frame(struct tg_cli_chunks *c, struct tg_source *src,
				       uint64_t ts_ns)
{
	if (ts_ns < c->cur.min_ts)
		c->cur.min_ts = ts_ns;
	if (ts_ns > c->cur.max_ts)
		c->cur.max_ts = ts_ns;
	if (++c->cur.frames == TG_CLI_CHUNK_FRAMES)
		tg_cli_chunks_push(c, src);
}

/* The input was read to its end (@complete) or not: closes the index. */
void tg_cli_chunks_close(struct tg_cli_chunks *c, struct tg_source *src, bool complete);

/* Applies option @c; returns 1 when it was a detection option, 0 when
 * not, 2 after printing a message, 3 when the command should exit 0. */
int tg_cli_detect_opt(struct tg_cli_detect *d, int c, const char *arg);

/* Fills cfg->detect and opens the alerts file. 0, or 2 after a message. */
int tg_cli_detect_setup(struct tg_cli_detect *d, struct tg_engine_cfg *cfg);

/* The engine's on_alert: writes @a (ends only, unless all events were
 * asked for) and keeps the ends for the summary. */
void tg_cli_detect_alert(struct tg_cli_detect *d, const struct tg_alert *a);

/* After tg_engine_finish: reads the @n inputs again to measure the
 * signatures (when they are files that can be read twice), then has the
 * detector report every alert. */
void tg_cli_detect_finish(struct tg_cli_detect *d, struct tg_engine *e,
			  const struct tg_engine_cfg *cfg, char **files, int n,
			  const char *filter);

/* The same for a detector that no engine owns (NULL: nothing to do). */
void tg_cli_detect_finish_det(struct tg_cli_detect *d, struct tg_detect *det,
			      const struct tg_engine_cfg *cfg, char **files, int n,
			      const char *filter);

/* Live: has the detector report the alerts that ended (watch calls it
 * after each look at the capture). */
void tg_cli_detect_poll(struct tg_cli_detect *d, struct tg_engine *e);

/* Alerts active now (0 with detection off). */
unsigned tg_cli_detect_active(struct tg_cli_detect *d, struct tg_engine *e);

/* Flushes the alerts file: 0 or a negative errno. */
int tg_cli_detect_sync(struct tg_cli_detect *d);

/* Reopens the alerts file under its name (after log rotation): 0, or a
 * negative errno with the old file still in use. */
int tg_cli_detect_reopen(struct tg_cli_detect *d);

/* The summary's attacks section. */
void tg_cli_detect_summary(struct tg_cli_detect *d, FILE *f);

void tg_cli_detect_free(struct tg_cli_detect *d);

#endif
