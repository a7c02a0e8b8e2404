// SPDX-License-Identifier: MIT
/*
 * Engine options and sink opening shared by analyze and watch (see
 * common.h). Only the CLI prints; these functions print one message per
 * bad argument, naming the option, and leave exit codes to the command.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_detect.h"
#include "common.h"
#include "tcpguard/engine.h"

static int set_timer(struct tg_engine_cfg *cfg, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *end;
	double sec;

	if (!eq)
		return -EINVAL;
	sec = strtod(eq + 1, &end);
	/* Milliseconds in 32 bits: up to about 49 days. */
	if (*end || sec < 0.001 || sec > 4000000.0)
		return -EINVAL;
	for (int i = 0; i < TG_TIMER__COUNT; i++) {
		if (strlen(tg_timer_str[i]) == (size_t)(eq - arg) &&
		    !strncmp(tg_timer_str[i], arg, (size_t)(eq - arg))) {
			cfg->timeout_ms[i] = (uint32_t)(sec * 1000.0);
			return 0;
		}
	}
	return -EINVAL;
}

static int set_ports(uint16_t *ports, struct tg_engine_cfg *cfg, const char *arg)
{
	char *copy, *tok, *save = NULL;
	uint32_t n = 0;

	if (!strcmp(arg, "default")) {
		cfg->server_ports = NULL;
		return 0;
	}
	cfg->server_ports = ports;
	cfg->n_server_ports = 0;
	if (!strcmp(arg, "none"))
		return 0;
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long p = strtol(tok, &end, 10);

		if (*end || p <= 0 || p > 65535 || n >= TG_CLI_MAX_PORTS) {
			free(copy);
			return -EINVAL;
		}
		ports[n++] = (uint16_t)p;
	}
	free(copy);
	cfg->n_server_ports = n;
	return 0;
}

int tg_cli_engine_opt(struct tg_engine_cfg *cfg, uint16_t *ports, int c,
		      const char *arg)
{
	switch (c) {
	case 'K':
		cfg->decode.validate_csum = true;
		return 1;
	case 'u': {
		char *end;

		errno = 0;
		cfg->uid_seed = strtoull(arg, &end, 0);
		if (*end || errno) {
			fprintf(stderr, "tcpguard: --uid-seed: expected a number\n");
			return 2;
		}
		return 1;
	}
	case 'm': {
		char *end;
		unsigned long v = strtoul(arg, &end, 0);

		if (*end || v == 0 || v > (1ul << 30)) {
			fprintf(stderr, "tcpguard: --max-flows: expected 1..%lu\n", 1ul << 30);
			return 2;
		}
		cfg->max_flows = (uint32_t)v;
		return 1;
	}
	case 'M': {
		char *end;
		double v = strtod(arg, &end);
		int shift = 0;

		switch (*end) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		}
		if (*end == 'B' || *end == 'b')
			end++;
		v *= (double)(1ull << shift);
		if (*end || v < 65536.0 || v > 1e15) {
			fprintf(stderr, "tcpguard: --max-memory '%s': expected a size such "
				"as 256M (at least 64K)\n", arg);
			return 2;
		}
		cfg->max_memory = (uint64_t)v;
		return 1;
	}
	case 'T':
		if (!strcmp(arg, "zeek")) {
			/* Zeek's attempt delay, handshake-phase inactivity,
			 * tcp_inactivity_timeout and tcp_close_delay. */
			static const uint32_t z[TG_TIMER__COUNT] = {
				5000, 60000, 300000, 300000, 5000 };
			memcpy(cfg->timeout_ms, z, sizeof(z));
		} else if (!strcmp(arg, "pan")) {
			memset(cfg->timeout_ms, 0, sizeof(cfg->timeout_ms));
		} else {
			fprintf(stderr, "tcpguard: --timers: 'pan' or 'zeek'\n");
			return 2;
		}
		return 1;
	case 't':
		if (set_timer(cfg, arg)) {
			fprintf(stderr, "tcpguard: --timeout '%s': expected NAME=SECONDS "
				"with NAME one of tcp-init, tcp-handshake, tcp, "
				"tcp-half-closed, tcp-time-wait\n", arg);
			return 2;
		}
		return 1;
	case 'P':
		if (set_ports(ports, cfg, arg)) {
			fprintf(stderr, "tcpguard: --server-ports '%s': expected "
				"default, none or a list of ports\n", arg);
			return 2;
		}
		return 1;
	default:
		return 0;
	}
}

int tg_cli_open_sinks(struct tg_sink *sinks, int *n, const char *json,
		      const char *zeek, int quiet, uint64_t seed)
{
	if (json) {
		int rc = tg_sink_json_new(&sinks[*n], json, seed);

		if (rc) {
			fprintf(stderr, "tcpguard: %s: %s\n", json, strerror(-rc));
			return 2;
		}
		(*n)++;
	}
	if (zeek) {
		int rc = tg_sink_zeek_new(&sinks[*n], zeek, seed);

		if (rc) {
			fprintf(stderr, "tcpguard: %s: %s\n", zeek, strerror(-rc));
			return 2;
		}
		(*n)++;
	}
	if (!quiet) {
		FILE *rf = (json && !strcmp(json, "-")) || (zeek && !strcmp(zeek, "-"))
			   ? stderr : stdout;

		if (tg_sink_report_new(&sinks[*n], rf, 10))
			return 2;
		(*n)++;
	}
	return 0;
}

char *tg_cli_join(int argc, char **argv, int first)
{
	size_t len = 1;
	char *s;

	for (int i = first; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = first; i < argc; i++) {
		strcat(s, argv[i]);
		if (i + 1 < argc)
			strcat(s, " ");
	}
	return s;
}

int tg_cli_finish_sinks(struct tg_sink *sinks, int n, const struct tg_stats *st,
			struct tg_cli_detect *det)
{
	int status = 0;

	for (int i = 0; i < n; i++) {
		int rc = sinks[i].ops->finish(&sinks[i], st);

		if (rc) {
			fprintf(stderr, "tcpguard: writing %s output: %s\n",
				sinks[i].ops->name, strerror(-rc));
			status = 2;
		}
		if (det && !strcmp(sinks[i].ops->name, "report"))
			tg_cli_detect_summary(det, sinks[i].f);
	}
	return status;
}

enum tg_cli_opt tg_cli_shared_opt(struct tg_cli_detect *d, struct tg_engine_cfg *cfg,
				  uint16_t *ports, int c, const char *arg)
{
	switch (tg_cli_detect_opt(d, c, arg)) {
	case 1: return TG_CLI_OPT_NEXT;
	case 2: return TG_CLI_OPT_BAD;
	case 3: return TG_CLI_OPT_DONE;
	default: break;
	}
	switch (tg_cli_engine_opt(cfg, ports, c, arg)) {
	case 1: return TG_CLI_OPT_NEXT;
	case 2: return TG_CLI_OPT_BAD;
	default: return TG_CLI_OPT_UNKNOWN;
	}
}
