/* SPDX-License-Identifier: MIT */
/*
 * The nftables ban backend, for hosts where XDP cannot be attached: table
 * inet tcpguard with two timeout sets (ban4, ban6) and an input chain at
 * priority -10 that drops their members. Driven through `nft -f -`, so
 * it needs the nft binary and CAP_NET_ADMIN. Bans carry their own
 * timeout in the set, and are re-added from the state file on start, so a
 * firewall reload that flushed the table loses nothing for long.
 */
#ifndef TG_CTL_NFT_H
#define TG_CTL_NFT_H

#include <stddef.h>
#include <stdint.h>

#include "bans.h"

struct tg_nft;

/* Creates the table (idempotent). 0 or a negative errno with @err set. */
int tg_nft_open(struct tg_nft **out, char *err, size_t errlen);

/* Adds @p for @seconds (0: no timeout). */
int tg_nft_ban(struct tg_nft *n, const struct tg_pfx *p, int64_t seconds);

/* Flushes both sets and re-adds every active ban of @b. */
int tg_nft_sync(struct tg_nft *n, const struct tg_bans *b, int64_t now_s);

/* Deletes the table and frees; accepts NULL. */
void tg_nft_close(struct tg_nft *n);

#endif
