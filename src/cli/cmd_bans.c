// SPDX-License-Identifier: MIT
/*
 * tcpguard bans list|add|del|flush [--state FILE]
 *
 * Edits the ban state file that `tcpguard protect` keeps (src/ctl/bans.c)
 * under its lock; a running protect notices the change within a second and
 * makes its deny map (or nftables set) match. Works whether or not protect
 * runs, so bans can be prepared before it starts.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpguard.h"
#include "../ctl/bans.h"

static void help(FILE *f)
{
	fputs("usage: tcpguard bans [--state FILE] list\n"
	      "       tcpguard bans [--state FILE] add PREFIX [--time SECONDS] [--reason WORD]\n"
	      "       tcpguard bans [--state FILE] del PREFIX\n"
	      "       tcpguard bans [--state FILE] flush\n"
	      "\n"
	      "The bans of 'tcpguard protect' (default state file\n"
	      "/var/lib/tcpguard/bans). add without --time bans for good.\n",
	      f);
}

int cmd_bans(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state = "/var/lib/tcpguard/bans", *verb, *reason = "manual";
	struct tg_bans b = { 0 };
	long secs = 0;
	int c, lk, rc = 0;
	int64_t now = time(NULL);
	char err[512];
	bool changed = false;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'r': reason = optarg; break;
		case 't':
			secs = strtol(optarg, NULL, 10);
			if (secs < 1) {
				fprintf(stderr, "tcpguard: --time '%s': seconds > 0\n", optarg);
				return 2;
			}
			break;
		case 'h': help(stdout); return 0;
		default: help(stderr); return 2;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return 2;
	}
	verb = argv[optind++];
	lk = tg_bans_lock(state);
	if (lk < 0) {
		fprintf(stderr, "tcpguard: %s.lock: %s\n", state, strerror(-lk));
		return 2;
	}
	if (tg_bans_load(&b, state, err, sizeof(err))) {
		fprintf(stderr, "tcpguard: %s\n", err);
		rc = 2;
		goto out;
	}
	if (!strcmp(verb, "list") && optind == argc) {
		for (size_t i = 0; i < b.n; i++) {
			char a[64];

			if (!tg_ban_active(&b.v[i], now))
				continue;
			tg_pfx_format(&b.v[i].pfx, a, sizeof(a));
			if (b.v[i].until_s)
				printf("%-40s %8" PRId64 " s left  ban #%u  %s\n", a,
				       b.v[i].until_s - now, b.v[i].count, b.v[i].reason);
			else
				printf("%-40s permanent     ban #%u  %s\n", a, b.v[i].count,
				       b.v[i].reason);
		}
	} else if ((!strcmp(verb, "add") || !strcmp(verb, "del")) && optind == argc - 1) {
		struct tg_pfx p;

		if (tg_pfx_parse(argv[optind], &p)) {
			fprintf(stderr, "tcpguard: '%s' is not an address or prefix\n",
				argv[optind]);
			rc = 2;
			goto out;
		}
		if (!strcmp(verb, "add")) {
			changed = tg_bans_put(&b, &p, now, secs ? now + secs : 0, reason);
		} else if (!(changed = tg_bans_del(&b, &p))) {
			fprintf(stderr, "tcpguard: %s is not banned\n", argv[optind]);
			rc = 1;
		}
	} else if (!strcmp(verb, "flush") && optind == argc) {
		changed = b.n > 0;
		b.n = 0;
	} else {
		help(stderr);
		rc = 2;
	}
	if (changed && tg_bans_save(&b, state, err, sizeof(err))) {
		fprintf(stderr, "tcpguard: %s\n", err);
		rc = 2;
	}
out:
	tg_bans_unlock(lk);
	tg_bans_free(&b);
	return rc;
}
