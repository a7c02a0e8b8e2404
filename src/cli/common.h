/* SPDX-License-Identifier: MIT */
/*
 * What analyze and watch share on the command line: the options that
 * configure the engine (table size, timers, checksum validation, server
 * ports, uid seed) with one help text, and opening the JSON, conn.log and
 * summary sinks. Keeping them here is what makes the two commands mean the
 * same thing by the same option; neither owns a copy.
 */
#ifndef TG_CLI_COMMON_H
#define TG_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "tcpguard/engine-t.h"
#include "../out/sink.h"

#define TG_CLI_MAX_PORTS 1024

/* getopt_long codes of the engine options; no command may reuse them. */
#define TG_CLI_ENGINE_OPTIONS \
	{ "max-flows", required_argument, NULL, 'm' }, \
	{ "max-memory", required_argument, NULL, 'M' }, \
	{ "timers", required_argument, NULL, 'T' }, \
	{ "timeout", required_argument, NULL, 't' }, \
	{ "validate-checksums", no_argument, NULL, 'K' }, \
	{ "server-ports", required_argument, NULL, 'P' }, \
	{ "uid-seed", required_argument, NULL, 'u' }

#define TG_CLI_ENGINE_HELP \
	"  --max-flows N        flow table capacity (default 1048576)\n" \
	"  --max-memory SIZE    size the flow table to fit SIZE bytes (K, M, G\n" \
	"                       suffixes, e.g. 256M) instead of --max-flows\n" \
	"  --timers pan|zeek    timer profile (default pan: tcp-init 5,\n" \
	"                       tcp-handshake 10, tcp 3600, tcp-half-closed 120,\n" \
	"                       tcp-time-wait 15; zeek: 5, 60, 300, 300, 5)\n" \
	"  --timeout NAME=SEC   override one timer (names as above)\n" \
	"  --validate-checksums drop packets with bad IP/TCP checksums, as\n" \
	"                       Zeek does without -C (default: keep them)\n" \
	"  --server-ports LIST  likely server ports for orienting sessions\n" \
	"                       seen without their SYN: 'default' (Zeek's\n" \
	"                       set), 'none', or a comma-separated list\n" \
	"  --uid-seed N         seed for session uids (default 0)\n"

/* Applies engine option @c with argument @arg to @cfg; @ports (room for
 * TG_CLI_MAX_PORTS) backs a --server-ports list and must outlive the
 * engine. Returns 1 when @c was an engine option and applied, 0 when @c is
 * not an engine option, 2 after printing a message for a bad argument. */
int tg_cli_engine_opt(struct tg_engine_cfg *cfg, uint16_t *ports, int c,
		      const char *arg);

/* The words @argv[@first..@argc) joined by single spaces (a BPF filter
 * given as several arguments, as tcpdump takes it). Returns a string the
 * caller frees, or NULL when memory is short. */
char *tg_cli_join(int argc, char **argv, int first);

/* Opens the JSON (@json) and conn.log (@zeek) sinks that are not NULL,
 * then the summary unless @quiet (on stderr when either sink writes to
 * stdout), appending to @sinks (room for 3) and counting in *@n. Returns 0,
 * or 2 after printing a message. The caller frees the sinks it got. */
int tg_cli_open_sinks(struct tg_sink *sinks, int *n, const char *json,
		      const char *zeek, int quiet, uint64_t seed);

struct tg_cli_detect;

/* What tg_cli_shared_opt made of an option. */
enum tg_cli_opt {
	TG_CLI_OPT_NEXT = 0,    /* applied: go on parsing */
	TG_CLI_OPT_DONE,        /* it printed what was asked: exit 0 */
	TG_CLI_OPT_BAD,         /* it printed why the argument is wrong: exit 2 */
	TG_CLI_OPT_UNKNOWN,     /* not an engine or detection option */
};

/* The options analyze, watch and protect share: detection (@d) first,
 * then the engine's (@cfg, @ports as for tg_cli_engine_opt). */
enum tg_cli_opt tg_cli_shared_opt(struct tg_cli_detect *d, struct tg_engine_cfg *cfg,
				  uint16_t *ports, int c, const char *arg);

/* Finishes every sink with @st (trailers, the summary, and after the
 * summary the attacks section of @det unless it is NULL). Returns 0, or 2
 * after printing which output could not be written. */
int tg_cli_finish_sinks(struct tg_sink *sinks, int n, const struct tg_stats *st,
			struct tg_cli_detect *det);

#endif
