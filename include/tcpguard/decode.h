/* SPDX-License-Identifier: MIT */
/*
 * Packet decoder: one captured frame in, one struct tg_pkt and a verdict
 * out. Pure function of its inputs: no allocation, no globals, never reads
 * past cap_len. Used by the engine, by tests and by the fuzzers.
 */
#ifndef TG_DECODE_H
#define TG_DECODE_H

#include <stddef.h>
#include <string.h>

#include "tcpguard/decode-t.h"

/* Decodes one frame of link type @link. @data holds @cap_len bytes that the
 * caller keeps valid for the call; @wire_len is the original frame length.
 * Fills @out (which borrows @data) and returns the verdict; on any verdict
 * other than TG_DEC_TCP only the fields decoded so far are meaningful. */
enum tg_decode_verdict tg_decode(const struct tg_decode_cfg *cfg, int link,
				 const uint8_t *data, uint32_t cap_len,
				 uint32_t wire_len, struct tg_pkt *out);

/* False only when the frame is certainly a TCP segment whose flags hold
 * none of @flags (TG_TCP_*): a look at one byte of a plain Ethernet/IPv4
 * frame, for callers that want only some segments. True for any other
 * frame (decode it to know). */
bool tg_decode_may_have_flags(int link, const uint8_t *data, uint32_t cap_len,
			      uint8_t flags);

/* True when tg_decode understands link type @link. */
bool tg_decode_link_supported(int link);

/* Name of a link type we support, or NULL. */
const char *tg_decode_link_name(int link);

extern const char *const tg_decode_verdict_str[TG_DEC__COUNT];
extern const char *const tg_opt_verdict_str[TG_OPT__COUNT];

/* Parses the TCP option bytes @opt (@len bytes) into @o; exposed for tests. */
void tg_decode_tcp_opts(const uint8_t *opt, size_t len, struct tg_tcp_opts *o);

/* Formats @a as text (dotted quad for IPv4-mapped, RFC 5952 for IPv6) into
 * @buf of @len bytes (46 is always enough). Returns @buf. */
char *tg_addr_str(const struct tg_addr *a, char *buf, size_t len);

/* "00" "01" ... "99": two decimal digits at 2 * n, for writers that take
 * two digits per division (addresses here, evidence words, JSON). */
extern const char tg_digit_pairs[201];

/* The longest text tg_addr_put writes. */
#define TG_ADDR_STR_MAX 45

/* Writes @a as tg_addr_str does, without a terminating NUL, at @out
 * (TG_ADDR_STR_MAX bytes of room). Returns the length written. IPv6
 * text is the same as inet_ntop's (checked against it in the tests). */
size_t tg_addr_put(const struct tg_addr *a, char *out);

static inline bool tg_addr_is_v4(const struct tg_addr *a)
{
	static const uint8_t pfx[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};

	/* A fixed-size memcmp: two loads and compares, not a byte loop. */
	return memcmp(a->b, pfx, sizeof(pfx)) == 0;
}

/* Whether two addresses are the same: two 8-byte compares. (A 16-byte
 * memcmp stayed a call to the library wherever the profile found its
 * caller cold, and the detector's top-talker tables call it in a loop.) */
static inline bool tg_addr_eq(const struct tg_addr *x, const struct tg_addr *y)
{
	uint64_t a[2], b[2];

	memcpy(a, x->b, 16);
	memcpy(b, y->b, 16);
	return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

#endif
