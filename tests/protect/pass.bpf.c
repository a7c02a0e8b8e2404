// SPDX-License-Identifier: MIT
/* XDP_PASS for the client end of the test veth: a veth takes the frames
 * its peer sends with XDP_TX only when it runs an XDP program itself. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int xpass(struct xdp_md *c) { return XDP_PASS; }
char _l[] SEC("license") = "GPL";
