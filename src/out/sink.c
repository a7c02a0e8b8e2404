// SPDX-License-Identifier: MIT
/*
 * What every sink shares: opening its file ("-" is stdout), reopening it
 * for log rotation, freeing, and the one time format Zeek uses (seconds
 * with six decimals, truncated, never rounded up past a second).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sink.h"

int tg_sink_open_file(struct tg_sink *k, const char *path)
{
	k->path = path;
	if (strcmp(path, "-") == 0) {
		k->f = stdout;
		k->owns_file = 0;
		return 0;
	}
	k->f = fopen(path, "w");
	if (!k->f)
		return -errno;
	k->owns_file = 1;
	return 0;
}

int tg_sink_flush(struct tg_sink *k)
{
	if (!k->f)
		return 0;
	if (k->ops && k->ops->flush)
		k->ops->flush(k);
	if (fflush(k->f) != 0)
		return errno ? -errno : -EIO;
	return ferror(k->f) ? -EIO : 0;
}

int tg_sink_reopen(struct tg_sink *k)
{
	FILE *f;

	if (!k->owns_file)
		return 0;
	f = fopen(k->path, "a");
	if (!f)
		return -errno;
	if (k->ops->reopened) {
		struct stat a, b;
		int fresh = fstat(fileno(f), &b) == 0 && b.st_size == 0 &&
			    (fstat(fileno(k->f), &a) != 0 || a.st_ino != b.st_ino ||
			     a.st_dev != b.st_dev);

		k->ops->reopened(k, k->f, f, fresh);
	}
	fclose(k->f);
	k->f = f;
	return 0;
}

void tg_sink_rows_new(struct tg_sink *k, const struct tg_sink *like, FILE *f)
{
	/* The record formats keep no state of their own (priv is unused). */
	*k = *like;
	k->f = f;
	k->path = NULL;
	k->owns_file = 0;
	k->priv = NULL;
}

void tg_sink_free(struct tg_sink *k)
{
	if (!k || !k->ops)
		return;
	if (k->ops->free)
		k->ops->free(k);
	if (k->f && k->owns_file)
		fclose(k->f);
	else if (k->f)
		fflush(k->f);
	memset(k, 0, sizeof(*k));
}

void tg_fmt_time(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u,
		 (ns % 1000000000u) / 1000u);
}
