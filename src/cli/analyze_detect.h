/* SPDX-License-Identifier: MIT */
/*
 * Attack detection as analyze drives it: the options (--config, --alerts,
 * --no-detect, --detect-defaults), the second pass over the inputs that
 * measures each signature, the alert JSON lines and the summary section.
 * Kept apart from cmd_analyze.c so that file only wires it in.
 */
#ifndef TG_CLI_ANALYZE_DETECT_H
#define TG_CLI_ANALYZE_DETECT_H

#include <stdio.h>

#include "tcpguard/detect-t.h"
#include "tcpguard/engine-t.h"

struct tg_engine;

struct tg_cli_detect {
	const char *config;     /* --config PATH */
	const char *alerts;     /* --alerts PATH ('-': stdout) */
	bool off;               /* --no-detect */
	FILE *f;
	struct tg_alert *v;     /* every alert, for the summary */
	size_t n;
	size_t cap;
};

#define TG_CLI_DETECT_OPTIONS \
	{ "alerts", required_argument, NULL, 'A' }, \
	{ "config", required_argument, NULL, 'C' }, \
	{ "no-detect", no_argument, NULL, 'N' }, \
	{ "detect-defaults", no_argument, NULL, 'D' }

#define TG_CLI_DETECT_HELP \
	"  --alerts PATH        attack alerts as JSON lines ('-' = stdout)\n" \
	"  --config PATH        detection thresholds (INI; docs/detection.md)\n" \
	"  --no-detect          no attack detection\n" \
	"  --detect-defaults    print the default thresholds as INI and exit\n"

/* Applies option @c; returns 1 when it was a detection option, 0 when
 * not, 2 after printing a message, 3 when the command should exit 0. */
int tg_cli_detect_opt(struct tg_cli_detect *d, int c, const char *arg);

/* Fills cfg->detect and opens the alerts file. 0, or 2 after a message. */
int tg_cli_detect_setup(struct tg_cli_detect *d, struct tg_engine_cfg *cfg);

/* The engine's on_alert: writes and keeps @a. */
void tg_cli_detect_alert(struct tg_cli_detect *d, const struct tg_alert *a);

/* After tg_engine_finish: reads the @n inputs again to measure the
 * signatures (when they are files that can be read twice), then has the
 * detector report every alert. */
void tg_cli_detect_finish(struct tg_cli_detect *d, struct tg_engine *e,
			  const struct tg_engine_cfg *cfg, char **files, int n,
			  const char *filter);

/* The summary's attacks section. */
void tg_cli_detect_summary(struct tg_cli_detect *d, FILE *f);

void tg_cli_detect_free(struct tg_cli_detect *d);

#endif
