// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the decoder: the first byte picks one of the link
 * types we accept (and whether checksums are validated), the rest is one
 * frame. Any crash, out-of-bounds read or undefined behaviour here is a
 * bug in tg_decode.
 */
#include <stddef.h>
#include <stdint.h>

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
	cfg.validate_csum = data[0] & 0x80;
	tg_decode(&cfg, links[data[0] % 8], data + 1, (uint32_t)(size - 1),
		  (uint32_t)(size - 1), &p);
	return 0;
}
