// SPDX-License-Identifier: MIT
/*
 * tcpguard's entry point: finds the subcommand and hands it the rest of
 * the arguments. Everything the user sees about usage starts here.
 */
#include <stdio.h>
#include <string.h>

#include "tcpguard.h"

#ifndef TG_VERSION
#define TG_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "analyze", cmd_analyze,
	  "track every TCP session in captures and log how each ended" },
	{ "explain", cmd_explain,
	  "tell the story of one session (or every reset) and why it ended" },
	{ "protect", cmd_protect,
	  "inline defence with XDP: SYN cookies, allow/deny lists, bans" },
	{ "bans", cmd_bans, "list, add, delete or flush the bans of protect" },
	{ "watch", cmd_watch,
	  "the same on live traffic: log each session as it ends" },
};

static void usage(FILE *f)
{
	fputs("usage: tcpguard COMMAND [options] ...\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\n'tcpguard COMMAND --help' shows a command's options.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("tcpguard %s\n", TG_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tcpguard: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
