/* SPDX-License-Identifier: MIT */
/*
 * analyze -j N: the same analysis on N worker threads, each with its own
 * engine and a 1/N share of the flow table. analyze_par.c explains the
 * data path; docs/design.md ("Parallel analysis") why it is built so.
 */
#ifndef TG_CLI_ANALYZE_PAR_H
#define TG_CLI_ANALYZE_PAR_H

#include <signal.h>
#include <stdbool.h>

#include "analyze_detect.h"
#include "tcpguard/engine-t.h"
#include "../out/sink.h"

/* Most workers analyze -j takes. */
#define TG_PAR_MAX_JOBS 64

struct tg_par_run {
	unsigned jobs;                  /* workers, 2..TG_PAR_MAX_JOBS */
	const struct tg_engine_cfg *cfg;/* as for one engine: -j 1 */
	struct tg_sink *sinks;          /* opened by the caller: json, zeek, report */
	int nsinks;
	struct tg_cli_detect *det;
	char **files;
	int nfiles;
	const char *filter;
	int want_progress;
	volatile sig_atomic_t *stop;    /* set by SIGINT/SIGTERM */
};

/* Whether analyze -j @jobs runs as two threads instead (cmd_analyze.c,
 * handoff.h): one reads and tracks as -j 1 does, the other detects and
 * writes the sessions. Chosen when detection is on and the CPUs are too
 * few for the reader, @jobs workers and the detection thread; the
 * environment's TCPGUARD_PIPELINE=0|1 decides otherwise. */
bool tg_cli_par_pipelined(const struct tg_engine_cfg *cfg, unsigned jobs);

/* Reads @r->files through @r->jobs workers and writes every session to
 * the caller's sinks, the alerts and the summary, as analyze does with
 * one engine. Returns analyze's exit status: 0, 1 (an input ended in a
 * read error), 2 (an input could not be opened, memory, or output). */
int tg_cli_analyze_par(const struct tg_par_run *r);

#endif
