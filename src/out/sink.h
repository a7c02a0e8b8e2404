/* SPDX-License-Identifier: MIT */
/*
 * Output sinks behind one ops table: JSON lines, Zeek conn.log (TSV) and
 * the text summary. The CLI opens the sinks the user asked for and passes
 * every ended session to each; sinks own their FILE and any aggregation
 * state, never the session (borrowed for one call).
 */
#ifndef TG_SINK_H
#define TG_SINK_H

#include <stdint.h>
#include <stdio.h>

#include "tcpguard/engine-t.h"

struct tg_sink;

/* The longest record a sink's format op writes. */
#define TG_SINK_RECORD_MAX 2048

struct tg_sink_ops {
	const char *name;
	void (*session)(struct tg_sink *k, const struct tg_session *s,
			const struct tg_evidence *ev, const struct tg_cause_info *c);
	/* Optional: the record session() would write, into @out (at least
	 * TG_SINK_RECORD_MAX bytes); returns its length. Lets analyze -j
	 * format straight into its output queue. */
	size_t (*format)(const struct tg_sink *k, const struct tg_session *s,
			 const struct tg_evidence *ev, const struct tg_cause_info *c,
			 char *out);
	/* Writes trailers / the report; returns 0 or -errno on write error. */
	int (*finish)(struct tg_sink *k, const struct tg_stats *st);
	void (*free)(struct tg_sink *k);
	/* Optional: writes what the sink holds back to its FILE (records
	 * a sink buffers itself); tg_sink_flush calls it before fflush. */
	void (*flush)(struct tg_sink *k);
	/* Optional, from tg_sink_reopen before @f replaces @old: @fresh when
	 * @f is an empty file other than @old (rotated away), so a sink can
	 * close the old file's format and start the new one's. */
	void (*reopened)(struct tg_sink *k, FILE *old, FILE *f, int fresh);
};

struct tg_sink {
	const struct tg_sink_ops *ops;
	FILE *f;
	const char *path;
	int owns_file;          /* close f on free */
	uint64_t uid_seed;
	void *priv;
};

/* Opens @path ("-" is stdout) for writing. Returns 0 or -errno. */
int tg_sink_open_file(struct tg_sink *k, const char *path);
int tg_sink_json_new(struct tg_sink *k, const char *path, uint64_t seed);
int tg_sink_zeek_new(struct tg_sink *k, const char *path, uint64_t seed);
/* @top: how many reset senders to list. */
int tg_sink_report_new(struct tg_sink *k, FILE *f, unsigned top);

/* A sink that writes @like's per-session records (JSON lines or conn.log
 * rows) to @f, which the caller keeps open and closes after
 * tg_sink_free; never call its finish (no header, no trailer). Used by
 * analyze -j, where each worker formats into its own stream. */
void tg_sink_rows_new(struct tg_sink *k, const struct tg_sink *like, FILE *f);

/* Adds the summary tables of report sink @from into report sink @into
 * (analyze -j: one report per worker, one summary). */
void tg_sink_report_merge(struct tg_sink *into, const struct tg_sink *from);

/* Everything written so far out to the file: 0, or -errno (EIO when the
 * stream had an error). */
int tg_sink_flush(struct tg_sink *k);

/* Reopens the file under the same path for appending (log rotation: the
 * old file may have been renamed); 0 or -errno, the old file kept then. */
int tg_sink_reopen(struct tg_sink *k);

void tg_sink_free(struct tg_sink *k);

/* Helpers shared by the sinks. */
void tg_fmt_time(char *buf, size_t len, uint64_t ns);  /* seconds.micro */

#endif
