// SPDX-License-Identifier: MIT
/*
 * nftables ban backend (see nft.h): each change is one `nft -f -`
 * transaction written to the nft binary's standard input.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "nft.h"

struct tg_nft {
	int unused;
};

static int run_nft(const char *script)
{
	FILE *f = popen("nft -f - 2>&1", "w");
	int st;

	if (!f)
		return -errno;
	fputs(script, f);
	st = pclose(f);
	return st == 0 ? 0 : -EIO;
}

int tg_nft_open(struct tg_nft **out, char *err, size_t errlen)
{
	static const char *setup =
		"table inet tcpguard {\n"
		" set ban4 { type ipv4_addr; flags interval, timeout; }\n"
		" set ban6 { type ipv6_addr; flags interval, timeout; }\n"
		" chain input { type filter hook input priority -10; policy accept;\n"
		"  ip saddr @ban4 drop\n  ip6 saddr @ban6 drop\n }\n"
		"}\n";
	int rc = run_nft(setup);

	*out = NULL;
	if (rc) {
		snprintf(err, errlen, "cannot create nftables table inet tcpguard "
			 "(nft missing, or CAP_NET_ADMIN needed)");
		return rc;
	}
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

int tg_nft_ban(struct tg_nft *n, const struct tg_pfx *p, int64_t seconds)
{
	char buf[256], a[64];

	(void)n;
	tg_pfx_format(p, a, sizeof(a));
	if (seconds > 0)
		snprintf(buf, sizeof(buf), "add element inet tcpguard %s { %s timeout %" PRId64 "s }\n",
			 p->v4 ? "ban4" : "ban6", a, seconds);
	else
		snprintf(buf, sizeof(buf), "add element inet tcpguard %s { %s }\n",
			 p->v4 ? "ban4" : "ban6", a);
	return run_nft(buf);
}

int tg_nft_sync(struct tg_nft *n, const struct tg_bans *b, int64_t now_s)
{
	int rc = run_nft("flush set inet tcpguard ban4\nflush set inet tcpguard ban6\n");

	for (size_t i = 0; i < b->n && !rc; i++)
		if (tg_ban_active(&b->v[i], now_s))
			rc = tg_nft_ban(n, &b->v[i].pfx,
					b->v[i].until_s ? b->v[i].until_s - now_s : 0);
	return rc;
}

void tg_nft_close(struct tg_nft *n)
{
	if (!n)
		return;
	run_nft("delete table inet tcpguard\n");
	free(n);
}
