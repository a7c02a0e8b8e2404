/* SPDX-License-Identifier: MIT */
/*
 * Alert output: JSON lines (analyze --alerts PATH), the attacks section of
 * the summary, and the text forms of a signature (a tcpdump/BPF expression
 * and an nftables rule). The CLI passes each alert that leaves the
 * detector to tg_alerts_write and keeps a copy for the summary.
 */
#ifndef TG_OUT_ALERTS_H
#define TG_OUT_ALERTS_H

#include <stddef.h>
#include <stdio.h>

#include "tcpguard/detect-t.h"

/* @sig as a BPF filter expression (tcpdump -r FILE 'EXPR'), in @buf. */
char *tg_sig_bpf(const struct tg_sig *sig, char *buf, size_t len);

/* @sig as one nftables rule for an inet-family chain; it drops only when
 * sig->block_ok, otherwise it logs and counts. */
char *tg_sig_nft(const struct tg_sig *sig, uint32_t alert_id, char *buf, size_t len);

/* Writes @a as one JSON object and a newline. */
void tg_alerts_write(FILE *f, const struct tg_alert *a);

/* The summary's attacks section for @n alerts (nothing when @n is 0). */
void tg_alerts_summary(FILE *f, const struct tg_alert *a, size_t n);

#endif
