// SPDX-License-Identifier: MIT
/*
 * tcpguard watch -i IFACE [options] [BPF filter]
 *
 * The analyze engine on live traffic. Frames come from a libpcap ring
 * (src/io/pcap_live.c) with their kernel timestamps; sessions are written
 * to the sinks as they end, and flushed within a tick, so a log reader
 * sees a session at most about 0.2 s after the engine ended it.
 *
 * The engine runs on packet time and reads no clock, so when traffic stops
 * this loop moves it on: the monotonic clock is mapped to packet time by
 * the smallest delay yet seen between a frame's timestamp and its reading,
 * and whenever the ring is empty the engine is advanced to that mapped
 * "now" less a guard (frames timestamped but not yet readable must not find
 * their session already expired). One poll() waits on the capture and a
 * signalfd with a 100 ms timeout, which bounds how late a timer fires.
 *
 * Attack detection runs as in analyze (analyze_detect.c): every alert
 * event (start, update, end) goes to --alerts as it happens, flushed with
 * the sessions; signatures are not measured (that needs a second read).
 *
 * Signals: SIGHUP reopens the output files under their names (after
 * logrotate renamed them); SIGINT and SIGTERM drain the ring, end every
 * open session as a final record (tg_engine_finish), write the summary
 * and exit 0.
 *
 * Privileges: the capture and the output files are opened first, then
 * the process becomes --user (default nobody: supplementary groups,
 * gid, uid), so the analysis of hostile traffic never runs as root. Run
 * without root but with CAP_NET_RAW (file capabilities, systemd's
 * AmbientCapabilities), it keeps its user and drops every capability
 * instead. Reopening on SIGHUP therefore needs the output directory to be
 * writable by that user.
 *
 * Exit status: 0 after a signal, 1 when the capture failed mid-run (every
 * session seen is still written), 2 for usage errors and for a capture or
 * output that cannot be opened, capture not permitted included.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "analyze_detect.h"
#include "common.h"
#include "tcpguard.h"
#include "tcpguard/engine.h"
#include "../io/live.h"
#include "../out/sink.h"

#define MAX_SINKS 3
#define TICK_MS 100
#define FLUSH_NS (100 * 1000000ll)
#define DRAIN_MAX 4096          /* frames between two looks at the clock */
#define GUARD_NS (50 * 1000000ll) /* plus the block timeout */
#define BLOCK_MS_DEFAULT 10

struct watch {
	struct tg_sink sinks[MAX_SINKS];
	int nsinks;
	int dirty;              /* sessions written since the last flush */
	int write_err;          /* reported once */
	uint16_t ports[TG_CLI_MAX_PORTS];
	struct tg_cli_detect det;
};

static void on_alert(void *ctx, const struct tg_alert *a)
{
	struct watch *w = ctx;

	tg_cli_detect_alert(&w->det, a);
	w->dirty = 1;
}

static void on_end(void *ctx, const struct tg_session *s,
		   const struct tg_evidence *ev, const struct tg_cause_info *c)
{
	struct watch *w = ctx;

	for (int i = 0; i < w->nsinks; i++)
		w->sinks[i].ops->session(&w->sinks[i], s, ev, c);
	w->dirty = 1;
}

static void help(FILE *f)
{
	fputs("usage: tcpguard watch -i IFACE [options] [BPF filter]\n"
	      "\n"
	      "Tracks every TCP session seen on a network interface and writes\n"
	      "each as it ends (same engine and records as analyze).\n"
	      "\n"
	      "  -i, --interface IFACE  capture on IFACE (required)\n"
	      "  --json PATH          one JSON object per session ('-' = stdout)\n"
	      "  --zeek PATH          Zeek conn.log (TSV) ('-' = stdout)\n"
	      "  -q, --quiet          no summary at exit\n"
	      "  --status N           one status line on stderr every N seconds\n"
	      "  --buffer-size MIB    kernel capture ring (default 32)\n"
	      "  --snaplen N          bytes kept per frame (default 262144)\n"
	      "  --block-ms N         TPACKET_V3 ring: frames are handed over in\n"
	      "                       blocks, each at most N ms after its first\n"
	      "                       frame (default 10); 0: immediate mode, a\n"
	      "                       wake-up per frame (libpcap uses TPACKET_V2)\n"
	      "  --no-promisc         do not put IFACE in promiscuous mode\n"
	      "  --user USER          run as USER once the capture and outputs are\n"
	      "                       open (default nobody; only when started as root)\n"
	      TG_CLI_ENGINE_HELP
	      TG_CLI_DETECT_HELP
	      "\n"
	      "SIGHUP reopens the output files (log rotation); SIGINT or SIGTERM\n"
	      "writes every open session and the summary, then exits.\n",
	      f);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* A whole number in [lo, hi] or -1. */
static long number(const char *arg, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < lo || v > hi)
		return -1;
	return v;
}

/* Clears every capability set of this process (not root, but possibly
 * given CAP_NET_RAW to open the capture). */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -errno;
}

/* Becomes @user when root; returns 0 or 2 after a message. */
static int drop_privileges(const char *user)
{
	struct passwd *pw;
	gid_t gid;

	if (geteuid() != 0) {
		int rc = drop_capabilities();

		if (rc) {
			fprintf(stderr, "tcpguard: dropping capabilities: %s\n", strerror(-rc));
			return 2;
		}
		return 0;
	}
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "tcpguard: --user %s: %s\n", user,
			errno ? strerror(errno) : "no such user");
		return 2;
	}
	gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "tcpguard: becoming user %s: %s\n", user, strerror(errno));
		return 2;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "tcpguard: could regain root after becoming %s\n", user);
		return 2;
	}
	return 0;
}

static void flush_sinks(struct watch *w)
{
	for (int i = 0; i < w->nsinks; i++) {
		int rc = tg_sink_flush(&w->sinks[i]);

		if (rc && !w->write_err) {
			w->write_err = 1;
			fprintf(stderr, "tcpguard: writing %s output: %s\n",
				w->sinks[i].ops->name, strerror(-rc));
		}
	}
	if (tg_cli_detect_sync(&w->det) && !w->write_err) {
		w->write_err = 1;
		fprintf(stderr, "tcpguard: writing alerts: %s\n", strerror(errno));
	}
	w->dirty = 0;
}

static void reopen_sinks(struct watch *w)
{
	int rc;

	for (int i = 0; i < w->nsinks; i++) {
		rc = tg_sink_reopen(&w->sinks[i]);

		if (rc)
			fprintf(stderr, "tcpguard: reopening %s: %s (still writing to "
				"the old file)\n", w->sinks[i].path, strerror(-rc));
	}
	rc = tg_cli_detect_reopen(&w->det);
	if (rc)
		fprintf(stderr, "tcpguard: reopening %s: %s (still writing to the old "
			"file)\n", w->det.alerts, strerror(-rc));
	w->write_err = 0;
}

struct status {
	int64_t every_ns;
	int64_t next_ns;
	int64_t last_ns;
	uint64_t last_frames;
};

static void status_line(struct status *st, struct tg_source *src,
			struct tg_engine *e, unsigned alerts, int64_t now)
{
	const struct tg_stats *es = tg_engine_stats(e);
	struct tg_live_stats ls = { 0 };
	double secs = (double)(now - st->last_ns) / 1e9;

	tg_source_live_stats(src, &ls);
	fprintf(stderr, "tcpguard: %.0f pkt/s, %" PRIu32 " active, %" PRIu32
		" half-open, %u alerts active, %" PRIu64 " dropped by kernel, %" PRIu64
		" by interface\n",
		secs > 0 ? (double)(es->frames - st->last_frames) / secs : 0.0,
		es->active,
		tg_engine_active_in(e, TG_TIMER_INIT) +
		tg_engine_active_in(e, TG_TIMER_HANDSHAKE), alerts,
		ls.dropped, ls.if_dropped);
	st->last_frames = es->frames;
	st->last_ns = now;
	st->next_ns = now + st->every_ns;
}

/* Feeds what the ring holds (up to DRAIN_MAX frames). Returns 1 when it
 * stopped with frames left, 0 when the ring is empty, <0 on error; the
 * newest timestamp fed goes to *last_ts. */
static int drain(struct tg_source *src, struct tg_engine *e, uint64_t *last_ts,
		 unsigned *got)
{
	struct tg_frame f;
	int rc = 1;

	*got = 0;
	while (*got < DRAIN_MAX && (rc = tg_source_next(src, &f)) == 1) {
		tg_engine_feed(e, f.link, f.ts_ns, f.num, f.data, f.cap_len, f.wire_len);
		*last_ts = f.ts_ns;
		(*got)++;
	}
	return rc;
}

/* The capture loop; returns 0 after a stop signal, 1 on capture error. */
static int run(struct watch *w, struct tg_source *src, struct tg_engine *e,
	       int sfd, int64_t status_every_ns, int64_t guard_ns)
{
	struct pollfd pf[2] = {
		{ .fd = tg_source_live_fd(src), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	struct status st = { .every_ns = status_every_ns };
	int64_t skew = 0, last_flush = mono_ns();
	int have_skew = 0;
	uint64_t last_ts = 0;

	st.last_ns = last_flush;
	st.next_ns = last_flush + status_every_ns;
	for (;;) {
		unsigned got;
		int rc = drain(src, e, &last_ts, &got);
		int64_t now = mono_ns(), timeout = TICK_MS;

		if (rc < 0) {
			fprintf(stderr, "tcpguard: %s\n", src->err);
			return 1;
		}
		if (got && (!have_skew || now - (int64_t)last_ts < skew)) {
			skew = now - (int64_t)last_ts;
			have_skew = 1;
		}
		/* Only with the ring empty: every frame stamped before the
		 * guard has been fed, so no timer can fire under its feet. */
		if (rc == 0 && have_skew && now - skew - guard_ns > 0)
			tg_engine_advance(e, (uint64_t)(now - skew - guard_ns));
		tg_cli_detect_poll(&w->det, e);
		if (w->dirty && (rc == 0 || now - last_flush >= FLUSH_NS)) {
			flush_sinks(w);
			last_flush = now;
		}
		if (status_every_ns && now >= st.next_ns)
			status_line(&st, src, e, tg_cli_detect_active(&w->det, e), now);
		if (status_every_ns && (st.next_ns - now) / 1000000 < timeout)
			timeout = (st.next_ns - now) / 1000000;
		if (poll(pf, 2, rc == 0 ? (int)timeout : 0) < 0 && errno != EINTR) {
			fprintf(stderr, "tcpguard: poll: %s\n", strerror(errno));
			return 1;
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					flush_sinks(w);
					reopen_sinks(w);
				} else {
					return 0;
				}
			}
		}
	}
}

/* After a stop: what the ring still holds goes in before the end,
 * including a TPACKET_V3 block the kernel retires only at its timeout. */
static void drain_all(struct tg_source *src, struct tg_engine *e,
		      uint32_t block_ms)
{
	struct pollfd pf = { .fd = tg_source_live_fd(src), .events = POLLIN };
	uint64_t ts;
	unsigned got;

	do {
		while (drain(src, e, &ts, &got) == 1)
			;
	} while (block_ms && poll(&pf, 1, (int)block_ms + 20) > 0 &&
		 (pf.revents & POLLIN));
}

static int finish(struct watch *w, struct tg_source *src, struct tg_engine *e)
{
	struct tg_live_stats ls = { 0 };
	int status = 0;

	tg_engine_finish(e);
	/* No second read: the alerts still open end here, unmeasured. */
	tg_cli_detect_finish(&w->det, e, NULL, NULL, 0, NULL);
	status = tg_cli_finish_sinks(w->sinks, w->nsinks, tg_engine_stats(e), &w->det);
	if (tg_source_live_stats(src, &ls) == 0)
		fprintf(stderr, "tcpguard: %s: %" PRIu64 " frames captured, %" PRIu64
			" dropped by kernel, %" PRIu64 " by interface\n", src->path,
			ls.received, ls.dropped, ls.if_dropped);
	return status;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "json", required_argument, NULL, 'j' },
		{ "zeek", required_argument, NULL, 'z' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "status", required_argument, NULL, 's' },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "snaplen", required_argument, NULL, 'S' },
		{ "block-ms", required_argument, NULL, 'b' },
		{ "no-promisc", no_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'U' },
		TG_CLI_ENGINE_OPTIONS,
		TG_CLI_DETECT_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch *w = calloc(1, sizeof(*w));
	struct tg_engine_cfg cfg = { 0 };
	struct tg_live_cfg lc = { 0 };
	struct tg_source src = { 0 };
	struct tg_engine *e = NULL;
	const char *json = NULL, *zeek = NULL, *user = "nobody";
	int quiet = 0, status = 0, c, sfd = -1;
	long status_s = 0, v;
	char *filter = NULL;
	sigset_t sigs;

	if (!w)
		return 2;
	lc.block_ms = BLOCK_MS_DEFAULT;
	cfg.on_end = on_end;
	cfg.on_alert = on_alert;
	cfg.cb_ctx = w;
	w->det.live = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': lc.iface = optarg; break;
		case 'j': json = optarg; break;
		case 'z': zeek = optarg; break;
		case 'q': quiet = 1; break;
		case 'p': lc.no_promisc = true; break;
		case 'U': user = optarg; break;
		case 's':
		case 'B':
		case 'S':
		case 'b':
			v = number(optarg, c == 'B' || c == 'S' ? 1 : 0,
				   c == 'B' ? 2047 : c == 'S' ? 262144 : 86400);
			if (v < 0) {
				fprintf(stderr, "tcpguard: --%s '%s': out of range\n",
					c == 's' ? "status" : c == 'B' ? "buffer-size" :
					c == 'S' ? "snaplen" : "block-ms", optarg);
				status = 2;
				goto out;
			}
			if (c == 's')
				status_s = v;
			else if (c == 'B')
				lc.buffer_bytes = (uint32_t)v << 20;
			else if (c == 'S')
				lc.snaplen = (uint32_t)v;
			else
				lc.block_ms = (uint32_t)v;
			break;
		case 'h':
			help(stdout);
			goto out;
		default: {
			enum tg_cli_opt r = tg_cli_shared_opt(&w->det, &cfg, w->ports, c, optarg);

			if (r == TG_CLI_OPT_NEXT)
				break;
			if (r == TG_CLI_OPT_UNKNOWN)
				help(stderr);
			status = r == TG_CLI_OPT_DONE ? 0 : 2;
			goto out;
		}
		}
	}
	if (!lc.iface) {
		fprintf(stderr, "tcpguard: watch: -i IFACE is required\n");
		help(stderr);
		status = 2;
		goto out;
	}
	if (optind < argc && !(filter = tg_cli_join(argc, argv, optind))) {
		status = 2;
		goto out;
	}
	lc.filter = filter;

	/* Signals are taken through a descriptor from here on, so none can
	 * slip between a check and poll(). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "tcpguard: signalfd: %s\n", strerror(errno));
		status = 2;
		goto out;
	}

	/* Privileged part: the capture, then the files, then nothing. */
	if (tg_source_open_live(&src, &lc)) {
		fprintf(stderr, "tcpguard: %s\n", src.err);
		status = 2;
		goto out;
	}
	status = tg_cli_open_sinks(w->sinks, &w->nsinks, json, zeek, quiet,
				   cfg.uid_seed);
	if (status || (status = tg_cli_detect_setup(&w->det, &cfg)))
		goto out;
	status = drop_privileges(user);
	if (status)
		goto out;

	e = tg_engine_new(&cfg);
	if (!e) {
		fprintf(stderr, "tcpguard: cannot allocate a flow table for %u sessions\n",
			cfg.max_flows ? cfg.max_flows : TG_DEFAULT_MAX_FLOWS);
		status = 2;
		goto out;
	}
	fprintf(stderr, "tcpguard: listening on %s (%s), uid %u\n", lc.iface,
		tg_source_live_ring(&src), (unsigned)getuid());
	status = run(w, &src, e, sfd, status_s * 1000000000ll,
		     GUARD_NS + (int64_t)lc.block_ms * 1000000);
	drain_all(&src, e, lc.block_ms);
	{
		int rc = finish(w, &src, e);

		if (rc > status)
			status = rc;
	}
out:
	tg_engine_free(e);
	tg_source_close(&src);
	for (int i = 0; i < w->nsinks; i++)
		tg_sink_free(&w->sinks[i]);
	tg_cli_detect_free(&w->det);
	if (sfd >= 0)
		close(sfd);
	free(filter);
	free(w);
	return status;
}
