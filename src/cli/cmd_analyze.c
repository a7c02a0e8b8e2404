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

#include "analyze_detect.h"
#include "analyze_par.h"
#include "common.h"
#include "handoff.h"
#include "tcpguard.h"
#include "tcpguard/engine.h"
#include "../io/source.h"
#include "../out/sink.h"

#define MAX_SINKS 3

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct analyze {
	struct tg_sink sinks[MAX_SINKS];
	int nsinks;
	uint16_t ports[TG_CLI_MAX_PORTS];
	struct tg_cli_detect det;
};

static void on_alert(void *ctx, const struct tg_alert *al)
{
	tg_cli_detect_alert(&((struct analyze *)ctx)->det, al);
}

static void on_end(void *ctx, const struct tg_session *s,
		   const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct analyze *a = ctx;

	for (int i = 0; i < a->nsinks; i++)
		a->sinks[i].ops->session(&a->sinks[i], s, ev, c);
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
	      "  -j, --jobs N         analyze on N worker threads (default 1)\n"
	      TG_CLI_ENGINE_HELP
	      TG_CLI_DETECT_HELP
	      "  --progress           progress on stderr (default: when a terminal)\n",
	      f);
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
		    int want_progress, struct tg_cli_detect *det, int i, int nfiles)
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
	struct tg_cli_chunks *ck = tg_cli_chunks_open(det, i, nfiles, &src);

	while (!stop_requested && (rc = tg_source_next(&src, &f)) == 1) {
		if (ck)
			tg_cli_chunks_frame(ck, &src, f.ts_ns);
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
	if (ck)
		tg_cli_chunks_close(ck, &src, rc == 0 && !stop_requested);
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
		{ "json", required_argument, NULL, 'J' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "zeek", required_argument, NULL, 'z' },
		{ "quiet", no_argument, NULL, 'q' },
		TG_CLI_ENGINE_OPTIONS,
		TG_CLI_DETECT_OPTIONS,
		{ "progress", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct analyze *a = calloc(1, sizeof(*a));
	struct tg_engine_cfg cfg = { 0 };
	struct tg_engine *e = NULL;
	struct tg_handoff *h = NULL;
	const char *json = NULL, *zeek = NULL;
	int quiet = 0, want_progress = isatty(STDERR_FILENO), status = 0;
	int c, nfiles, first;
	unsigned long jobs = 1;
	char *filter = NULL;
	struct sigaction sa = { .sa_handler = on_signal };

	if (!a)
		return 2;
	cfg.on_end = on_end;
	cfg.cb_ctx = a;
	cfg.on_alert = on_alert;
	/* TCPGUARD_FAST_PATHS=0: decoding and tracking by their general paths
	 * only, for the tests to compare with. */
	const char *fast = getenv("TCPGUARD_FAST_PATHS");

	cfg.decode.no_fast_path = fast && !strcmp(fast, "0");
	optind = 1;
	while ((c = getopt_long(argc, argv, "qhj:", opts, NULL)) != -1) {
		switch (c) {
		case 'J': json = optarg; break;
		case 'j': {
			char *end;

			jobs = strtoul(optarg, &end, 10);
			if (*end || jobs < 1 || jobs > TG_PAR_MAX_JOBS) {
				fprintf(stderr, "tcpguard: -j: expected 1..%d\n", TG_PAR_MAX_JOBS);
				status = 2;
				goto out;
			}
			break;
		}
		case 'z': zeek = optarg; break;
		case 'q': quiet = 1; break;
		case 'p': want_progress = 1; break;
		case 'h':
			help(stdout);
			goto out;
		default: {
			enum tg_cli_opt r = tg_cli_shared_opt(&a->det, &cfg, a->ports, c, optarg);

			if (r == TG_CLI_OPT_NEXT)
				break;
			if (r == TG_CLI_OPT_UNKNOWN)
				help(stderr);
			status = r == TG_CLI_OPT_DONE ? 0 : 2;
			goto out;
		}
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
	if (first + nfiles < argc && !(filter = tg_cli_join(argc, argv, first + nfiles))) {
		status = 2;
		goto out;
	}

	status = tg_cli_open_sinks(a->sinks, &a->nsinks, json, zeek, quiet,
				   cfg.uid_seed);
	if (status || (status = tg_cli_detect_setup(&a->det, &cfg)))
		goto out;
	/* -j N: the signatures' measuring after the run on two threads. */
	a->det.measure_threads = jobs > 1 ? 2 : 1;

	if (jobs > 1 && !tg_cli_par_pipelined(&cfg, (unsigned)jobs)) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		status = tg_cli_analyze_par(&(struct tg_par_run){
			.jobs = (unsigned)jobs, .cfg = &cfg, .sinks = a->sinks,
			.nsinks = a->nsinks, .det = &a->det, .files = argv + first,
			.nfiles = nfiles, .filter = filter, .want_progress = want_progress,
			.stop = &stop_requested });
		goto out;
	}
	/* -j N short of CPUs for N workers beside detection: two threads,
	 * one reading and tracking, one detecting and writing (handoff.h). */
	if (jobs > 1) {
		h = tg_handoff_new(&cfg.detect, on_alert, on_end, a);
		if (!h) {
			fputs("tcpguard: out of memory\n", stderr);
			status = 2;
			goto out;
		}
		tg_handoff_hook(h, &cfg);
	}
	e = tg_engine_new(&cfg);
	if (!e) {
		fprintf(stderr, "tcpguard: cannot allocate a flow table for %u sessions\n",
			cfg.max_flows ? cfg.max_flows : TG_DEFAULT_MAX_FLOWS);
		status = 2;
		goto out;
	}
	if (h)
		tg_handoff_prefault(h, e);
	if (h && tg_handoff_start(h)) {
		fputs("tcpguard: cannot start the output thread\n", stderr);
		status = 2;
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (int i = 0; i < nfiles && !stop_requested; i++) {
		int rc = run_file(e, argv[first + i], filter, want_progress, &a->det, i, nfiles);

		if (rc > status)
			status = rc;
		if (rc == 2 && i == 0 && nfiles == 1)
			goto out;
	}
	if (stop_requested)
		fputs("tcpguard: interrupted: writing every session seen so far\n", stderr);
	tg_engine_finish(e);
	if (h)
		tg_handoff_finish(h);
	tg_cli_detect_finish_det(&a->det, h ? tg_handoff_detect(h) : tg_engine_detect(e),
				 &cfg, argv + first, nfiles, filter);
	if (tg_cli_finish_sinks(a->sinks, a->nsinks, tg_engine_stats(e), &a->det))
		status = 2;
out:
	tg_handoff_free(h);
	tg_engine_free(e);
	for (int i = 0; i < a->nsinks; i++)
		tg_sink_free(&a->sinks[i]);
	tg_cli_detect_free(&a->det);
	free(filter);
	free(a);
	return status;
}
