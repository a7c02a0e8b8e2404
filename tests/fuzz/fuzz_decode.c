// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the decoder: the first byte picks one of the link
 * types we accept (and whether checksums are validated), the rest is one
 * frame. Any crash, out-of-bounds read or undefined behaviour here is a
 * bug in tg_decode. So is any difference between the fast path for plain
 * Ethernet/IPv4/TCP and the general walk, or a flags peek that rules out
 * a segment that has the flags.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpguard/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int links[] = {
		TG_LINK_ETHERNET, TG_LINK_RAW, TG_LINK_NULL, TG_LINK_LOOP,
		TG_LINK_LINUX_SLL, TG_LINK_LINUX_SLL2, TG_LINK_IPV4, TG_LINK_IPV6,
	};
	struct tg_decode_cfg cfg = { 0 };
	struct tg_pkt p = { 0 };

	if (size < 1)
		return 0;
	struct tg_decode_cfg slow;
	struct tg_pkt q = { 0 };
	enum tg_decode_verdict v;
	int link = links[data[0] % 8];
	uint32_t len = (uint32_t)(size - 1);

	cfg.validate_csum = data[0] & 0x80;
	v = tg_decode(&cfg, link, data + 1, len, len, &p);
	slow = cfg;
	slow.no_fast_path = true;
	if (tg_decode(&slow, link, data + 1, len, len, &q) != v ||
	    memcmp(&p, &q, sizeof(p)) != 0)
		abort();
	for (unsigned fl = 1; fl < 0x100; fl <<= 1)
		if (!tg_decode_may_have_flags(link, data + 1, len, (uint8_t)fl) &&
		    v == TG_DEC_TCP && (p.tcp_flags & fl))
			abort();
	return 0;
}
