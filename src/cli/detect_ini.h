/* SPDX-License-Identifier: MIT */
/*
 * The detection thresholds file (analyze --config PATH): an INI file whose
 * keys are the fields of struct tg_detect_cfg, by name, grouped in
 * sections for the reader only. docs/detection.md documents every key;
 * analyze --detect-defaults writes the defaults in this format.
 */
#ifndef TG_CLI_DETECT_INI_H
#define TG_CLI_DETECT_INI_H

#include <stdio.h>

#include "tcpguard/detect-t.h"

/* Reads @path into @cfg (keys absent from the file keep their value).
 * Returns 0, or -1 after writing "PATH:LINE: reason" into @err. */
int tg_cli_detect_ini(struct tg_detect_cfg *cfg, const char *path, char *err,
		      size_t errlen);

/* The same, for a file other sections share (protect's --config): with
 * @skip_foreign, lines under a section that holds no detection key are
 * left to the other reader. */
int tg_cli_detect_ini_shared(struct tg_detect_cfg *cfg, const char *path,
			     bool skip_foreign, char *err, size_t errlen);

/* Whether @name is one of the detection sections ([syn-flood], ...). */
bool tg_cli_detect_ini_section(const char *name);

/* Writes @cfg as an INI file that tg_cli_detect_ini reads back. */
void tg_cli_detect_ini_write(FILE *f, const struct tg_detect_cfg *cfg);

#endif
