/* SPDX-License-Identifier: MIT */
/*
 * The command line: one entry per subcommand, each in cmd_<verb>.c.
 */
#ifndef TG_CLI_H
#define TG_CLI_H

int cmd_analyze(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_protect(int argc, char **argv);
int cmd_bans(int argc, char **argv);
int cmd_watch(int argc, char **argv);

#endif
