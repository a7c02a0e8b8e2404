// SPDX-License-Identifier: MIT
/*
 * tcpguard analyze FILE [FILE...] [BPF filter]
 *
 * Reads captures in order through one engine (time runs on across files),
 * writes each session as it ends to the sinks the user asked for (JSON
 * lines, Zeek conn.log) and prints the summary at the end. Positional
 * arguments are files for as long as they name existing paths; what
 * follows is the BPF filter, as with tcpdump.
 *
 * Exit status: 0 when every input was read to its end, 1 when an input
 * ended in an error (a truncated file: everything before the error is
 * still reported), 2 for usage errors and inputs that cannot be opened.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tcpguard.h"
#include "tcpguard/engine.h"
#include "../io/source.h"
#include "../out/sink.h"

#define MAX_SINKS 3
#define MAX_PORTS 1024

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct analyze {
	struct tg_sink sinks[MAX_SINKS];
	int nsinks;
	uint16_t ports[MAX_PORTS];
};

static void on_end(void *ctx, const struct tg_session *s)
{
	struct analyze *a = ctx;

	for (int i = 0; i < a->nsinks; i++)
		a->sinks[i].ops->session(&a->sinks[i], s);
}

static void help(FILE *f)
{
	fputs("usage: tcpguard analyze [options] FILE [FILE...] [BPF filter]\n"
	      "\n"
	      "Tracks every TCP session in pcap/pcapng captures and reports how\n"
	      "each ended (PAN-OS end reason, Zeek conn_state and history).\n"
	      "\n"
	      "  --json PATH          one JSON object per session ('-' = stdout)\n"
	      "  --zeek PATH          Zeek conn.log (TSV) ('-' = stdout)\n"
	      "  -q, --quiet          no summary\n"
	      "  --max-flows N        flow table capacity (default 1048576)\n"
	      "  --timers pan|zeek    timer profile (default pan: tcp-init 5,\n"
	      "                       tcp-handshake 10, tcp 3600, tcp-half-closed 120,\n"
	      "                       tcp-time-wait 15; zeek: 5, 60, 300, 300, 5)\n"
	      "  --timeout NAME=SEC   override one timer (names as above)\n"
	      "  --validate-checksums drop packets with bad IP/TCP checksums, as\n"
	      "                       Zeek does without -C (default: keep them)\n"
	      "  --server-ports LIST  likely server ports for orienting sessions\n"
	      "                       seen without their SYN: 'default' (Zeek's\n"
	      "                       set), 'none', or a comma-separated list\n"
	      "  --uid-seed N         seed for session uids (default 0)\n"
	      "  --progress           progress on stderr (default: when a terminal)\n",
	      f);
}

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

static int set_ports(struct analyze *a, struct tg_engine_cfg *cfg, const char *arg)
{
	char *copy, *tok, *save = NULL;
	uint32_t n = 0;

	if (!strcmp(arg, "default")) {
		cfg->server_ports = NULL;
		return 0;
	}
	cfg->server_ports = a->ports;
	cfg->n_server_ports = 0;
	if (!strcmp(arg, "none"))
		return 0;
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long p = strtol(tok, &end, 10);

		if (*end || p <= 0 || p > 65535 || n >= MAX_PORTS) {
			free(copy);
			return -EINVAL;
		}
		a->ports[n++] = (uint16_t)p;
	}
	free(copy);
	cfg->n_server_ports = n;
	return 0;
}

static void progress(struct tg_source *src, int *shown)
{
	uint64_t done = 0, total = 0;

	src->ops->progress(src, &done, &total);
	if (total)
		fprintf(stderr, "\r%s: %3.0f%%", src->path, 100.0 * (double)done / (double)total);
	*shown = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one input to its end; returns 0, 1 (read error) or 2 (open error). */
static int run_file(struct tg_engine *e, const char *path, const char *filter,
		    int want_progress)
{
	struct tg_source src;
	struct tg_frame f;
	int rc, shown = 0;
	double next = mono_s() + 0.5;

	rc = tg_source_open_file(&src, path, filter);
	if (rc) {
		fprintf(stderr, "tcpguard: %s\n", src.err);
		return 2;
	}
	/* Frames go to the engine in small batches; the source keeps each
	 * frame's bytes valid until the file is closed only for the mmap
	 * reader, so libpcap's frames are fed one at a time. */
	bool batch = !strcmp(src.ops->name, "pcap-mmap");
	struct tg_frame_in in[TG_BATCH_MAX];
	unsigned n = 0;

	while (!stop_requested && (rc = tg_source_next(&src, &f)) == 1) {
		if (!batch) {
			tg_engine_feed(e, f.link, f.ts_ns, f.num, f.data, f.cap_len,
				       f.wire_len);
		} else {
			in[n++] = (struct tg_frame_in){ f.data, f.cap_len, f.wire_len,
							 f.ts_ns, f.num };
			if (n == TG_BATCH_MAX) {
				tg_engine_feed_batch(e, src.link, in, n);
				n = 0;
			}
		}
		if (want_progress && (f.num & 0xffff) == 0 && mono_s() >= next) {
			progress(&src, &shown);
			next = mono_s() + 0.5;
		}
	}
	if (n)
		tg_engine_feed_batch(e, src.link, in, n);
	if (shown)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		fprintf(stderr, "tcpguard: warning: %s (the sessions read so far are reported)\n",
			src.err);
	tg_source_close(&src);
	return rc < 0 ? 1 : 0;
}

int cmd_analyze(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "zeek", required_argument, NULL, 'z' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-flows", required_argument, NULL, 'm' },
		{ "timers", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 't' },
		{ "validate-checksums", no_argument, NULL, 'K' },
		{ "server-ports", required_argument, NULL, 'P' },
		{ "uid-seed", required_argument, NULL, 'u' },
		{ "progress", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct analyze *a = calloc(1, sizeof(*a));
	struct tg_engine_cfg cfg = { 0 };
	struct tg_engine *e = NULL;
	const char *json = NULL, *zeek = NULL;
	int quiet = 0, want_progress = isatty(STDERR_FILENO), status = 0;
	int c, nfiles, first;
	char *filter = NULL;
	struct sigaction sa = { .sa_handler = on_signal };

	if (!a)
		return 2;
	cfg.on_end = on_end;
	cfg.cb_ctx = a;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = optarg; break;
		case 'z': zeek = optarg; break;
		case 'q': quiet = 1; break;
		case 'p': want_progress = 1; break;
		case 'K': cfg.decode.validate_csum = true; break;
		case 'u': {
			char *end;

			errno = 0;
			cfg.uid_seed = strtoull(optarg, &end, 0);
			if (*end || errno) {
				fprintf(stderr, "tcpguard: --uid-seed: expected a number\n");
				status = 2;
				goto out;
			}
			break;
		}
		case 'm': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 0);

			if (*end || v == 0 || v > (1ul << 30)) {
				fprintf(stderr, "tcpguard: --max-flows: expected 1..%lu\n", 1ul << 30);
				status = 2;
				goto out;
			}
			cfg.max_flows = (uint32_t)v;
			break;
		}
		case 'T':
			if (!strcmp(optarg, "zeek")) {
				/* Zeek's attempt delay, handshake-phase inactivity,
				 * tcp_inactivity_timeout and tcp_close_delay. */
				static const uint32_t z[TG_TIMER__COUNT] = {
					5000, 60000, 300000, 300000, 5000 };
				memcpy(cfg.timeout_ms, z, sizeof(z));
			} else if (!strcmp(optarg, "pan")) {
				memset(cfg.timeout_ms, 0, sizeof(cfg.timeout_ms));
			} else {
				fprintf(stderr, "tcpguard: --timers: 'pan' or 'zeek'\n");
				status = 2;
				goto out;
			}
			break;
		case 't':
			if (set_timer(&cfg, optarg)) {
				fprintf(stderr, "tcpguard: --timeout '%s': expected NAME=SECONDS "
					"with NAME one of tcp-init, tcp-handshake, tcp, "
					"tcp-half-closed, tcp-time-wait\n", optarg);
				status = 2;
				goto out;
			}
			break;
		case 'P':
			if (set_ports(a, &cfg, optarg)) {
				fprintf(stderr, "tcpguard: --server-ports '%s': expected "
					"default, none or a list of ports\n", optarg);
				status = 2;
				goto out;
			}
			break;
		case 'h':
			help(stdout);
			goto out;
		default:
			help(stderr);
			status = 2;
			goto out;
		}
	}
	first = optind;
	for (nfiles = 0; first + nfiles < argc; nfiles++) {
		struct stat st;
		const char *arg = argv[first + nfiles];

		if (strcmp(arg, "-") != 0 && stat(arg, &st) != 0)
			break;
	}
	if (nfiles == 0) {
		if (first < argc)
			fprintf(stderr, "tcpguard: %s: %s\n", argv[first], strerror(ENOENT));
		else
			help(stderr);
		status = 2;
		goto out;
	}
	if (first + nfiles < argc) {
		size_t len = 0;

		for (int i = first + nfiles; i < argc; i++)
			len += strlen(argv[i]) + 1;
		filter = calloc(1, len + 1);
		if (!filter) {
			status = 2;
			goto out;
		}
		for (int i = first + nfiles; i < argc; i++) {
			strcat(filter, argv[i]);
			if (i + 1 < argc)
				strcat(filter, " ");
		}
	}

	if (json) {
		int rc = tg_sink_json_new(&a->sinks[a->nsinks], json, cfg.uid_seed);

		if (rc) {
			fprintf(stderr, "tcpguard: %s: %s\n", json, strerror(-rc));
			status = 2;
			goto out;
		}
		a->nsinks++;
	}
	if (zeek) {
		int rc = tg_sink_zeek_new(&a->sinks[a->nsinks], zeek, cfg.uid_seed);

		if (rc) {
			fprintf(stderr, "tcpguard: %s: %s\n", zeek, strerror(-rc));
			status = 2;
			goto out;
		}
		a->nsinks++;
	}
	if (!quiet) {
		FILE *rf = (json && !strcmp(json, "-")) || (zeek && !strcmp(zeek, "-"))
			   ? stderr : stdout;

		if (tg_sink_report_new(&a->sinks[a->nsinks], rf, 10)) {
			status = 2;
			goto out;
		}
		a->nsinks++;
	}

	e = tg_engine_new(&cfg);
	if (!e) {
		fprintf(stderr, "tcpguard: cannot allocate a flow table for %u sessions\n",
			cfg.max_flows ? cfg.max_flows : TG_DEFAULT_MAX_FLOWS);
		status = 2;
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (int i = 0; i < nfiles && !stop_requested; i++) {
		int rc = run_file(e, argv[first + i], filter, want_progress);

		if (rc > status)
			status = rc;
		if (rc == 2 && i == 0 && nfiles == 1)
			goto out;
	}
	if (stop_requested)
		fputs("tcpguard: interrupted: writing every session seen so far\n", stderr);
	tg_engine_finish(e);
	for (int i = 0; i < a->nsinks; i++) {
		int rc = a->sinks[i].ops->finish(&a->sinks[i], tg_engine_stats(e));

		if (rc) {
			fprintf(stderr, "tcpguard: writing %s output: %s\n",
				a->sinks[i].ops->name, strerror(-rc));
			status = 2;
		}
	}
out:
	tg_engine_free(e);
	for (int i = 0; i < a->nsinks; i++)
		tg_sink_free(&a->sinks[i]);
	free(filter);
	free(a);
	return status;
}
