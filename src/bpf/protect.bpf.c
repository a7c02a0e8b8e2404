// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tcpguard protect: the inline data path. Two programs share the maps:
 *
 *   tg_protect_xdp  (XDP, native where the driver has it) sees every
 *     frame first. In order: the allowlist (a match passes at once, as
 *     hosts.allow wins over hosts.deny), the denylist and the bans (drop);
 *     then, for TCP:
 *     - a SYN to a protected port, when the mode says so, is turned into a
 *       SYN-ACK in place and sent back (XDP_TX). Its ISN is a cookie that
 *       carries MSS index, window scale, SACK and ECN (protect.h), so
 *       nothing is stored and the options survive even without timestamps.
 *     - an ACK to a listening socket must carry a valid cookie: the decoded
 *       options go into the packet's metadata and the ACK goes up; an ACK
 *       with a bad cookie is dropped. ACKs of existing sockets pass.
 *     - a SYN-ACK for which no local socket exists (backscatter of someone
 *       spoofing our address) is answered with a rate-limited RST.
 *   tg_protect_tc  (TC ingress, clsact) picks up an ACK that XDP validated
 *     and asks the kernel to create the request socket from the decoded
 *     options (bpf_sk_assign_tcp_reqsk, Linux 6.9+): the listener then
 *     completes the handshake exactly as if it had sent the SYN-ACK.
 *
 * Never: per-connection state in BPF, trust in a SYN's source address, or
 * a drop of anything this program does not understand (it passes).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* libbpf matches a kfunc's prototype against the kernel's BTF by name. */
#define tg_pt_req_attrs bpf_tcp_req_attrs
#include "protect.h"

/* Opaque here; a definition (not a declaration) because libbpf wants the
 * same BTF kind as the kernel's for the kfunc's arguments. */
struct sock {
	__u64 opaque;
};
struct tcp_sock;

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct tg_pt_req_attrs *attrs,
				   int attrs__sz) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_pt_cfg);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tg_pt_key4);
	__type(value, struct tg_pt_rule);
} allow4 SEC(".maps"), deny4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tg_pt_key6);
	__type(value, struct tg_pt_rule);
} allow6 SEC(".maps"), deny6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_PT_MAX_RULES);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_PT_C__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Destinations under attack (auto mode): value = until, monotonic ns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tg_pt_dst);
	__type(value, __u64);
} attack SEC(".maps");

/* SYNs to protected ports per destination, read by the control plane. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tg_pt_addr);
	__type(value, __u64);
} synrate SEC(".maps");

struct bucket {
	__u64 tokens_milli;
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bucket);
} bsbucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Heads of cookie SYNs for the control plane's detector (cfg.sample). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} synsample SEC(".maps");

/* MSS the cookie can carry, by index (3 bits). A client's MSS is rounded
 * down to the nearest entry, as Linux does with its 4-entry tables. A
 * switch, not an array: no .rodata section to relocate. */
static __always_inline __u16 msstab(int v4, __u32 i)
{
	switch (i & 7) {
	case 0: return v4 ? 536 : 1220;
	case 1: return v4 ? 1220 : 1280;
	case 2: return v4 ? 1300 : 1340;
	case 3: return v4 ? 1360 : 1380;
	case 4: return v4 ? 1400 : 1400;
	case 5: return v4 ? 1440 : 1420;
	case 6: return v4 ? 1460 : 1440;
	default: return v4 ? 8960 : 8940;
	}
}

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline void count_rule(__u32 id)
{
	__u64 *v;

	if (!id || id >= TG_PT_MAX_RULES)
		return;
	v = bpf_map_lookup_elem(&hits, &id);
	if (v)
		*v += 1;
}

/* ---- SipHash-2-4 over n 64-bit words (n a compile-time constant) ---- */
#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                          \
	do {                                                              \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                    \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                    \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static __always_inline __u64 siphash(const __u64 *m, const int n,
				     const struct tg_pt_cfg *c)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ c->key[0];
	__u64 v1 = 0x646f72616e646f6dULL ^ c->key[1];
	__u64 v2 = 0x6c7967656e657261ULL ^ c->key[0];
	__u64 v3 = 0x7465646279746573ULL ^ c->key[1];
	__u64 b = (__u64)(n * 8) << 56;

#pragma unroll
	for (int i = 0; i < n; i++) {
		v3 ^= m[i];
		SIPROUND;
		SIPROUND;
		v0 ^= m[i];
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- checksums ---- */
static __always_inline __u16 fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* ---- parsed packet ---- */
struct pkt {
	struct tcphdr *tcp;
	void *l3;               /* struct iphdr or ipv6hdr, by v4 */
	struct tg_pt_addr dst;  /* v4-mapped for IPv4 */
	__u32 l4off;            /* from the start of the frame */
};

#define P4(p) ((struct iphdr *)(p)->l3)
#define P6(p) ((struct ipv6hdr *)(p)->l3)

struct opts {
	__u32 tsval;
	__u32 tsecr;
	__u16 mss;
	__u8 ws;
	__u8 ws_ok;
	__u8 sack;
	__u8 ts;
};

struct optwalk {
	__u8 *base;
	void *end;
	__u32 off;
	__u32 optlen;
	struct opts o;
};

/* One option at walk->off; 1 stops the walk (bpf_loop callback, so the
 * verifier checks the body once instead of once per iteration). */
static int opt_step(__u32 i, struct optwalk *w)
{
	__u8 *p;
	__u8 kind, len;

	(void)i;
	if (w->off >= w->optlen || w->off >= 40)
		return 1;
	p = w->base + (w->off & 63);
	if ((void *)(p + 1) > w->end)
		return 1;
	kind = p[0];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		w->off++;
		return 0;
	}
	if ((void *)(p + 2) > w->end)
		return 1;
	len = p[1];
	if (len < 2)
		return 1;
	if (kind == 2 && len == 4) {
		if ((void *)(p + 4) > w->end)
			return 1;
		w->o.mss = (__u16)p[2] << 8 | p[3];
	} else if (kind == 3 && len == 3) {
		if ((void *)(p + 3) > w->end)
			return 1;
		w->o.ws = p[2];
		w->o.ws_ok = 1;
	} else if (kind == 4 && len == 2) {
		w->o.sack = 1;
	} else if (kind == 8 && len == 10) {
		if ((void *)(p + 10) > w->end)
			return 1;
		w->o.tsval = (__u32)p[2] << 24 | (__u32)p[3] << 16 |
			     (__u32)p[4] << 8 | p[5];
		w->o.tsecr = (__u32)p[6] << 24 | (__u32)p[7] << 16 |
			     (__u32)p[8] << 8 | p[9];
		w->o.ts = 1;
	}
	w->off += len;
	return 0;
}

/* TCP options of @tcp (RFC 9293 §3.1, RFC 7323, RFC 2018), at most 40
 * bytes; unknown kinds are skipped by their length. */
static __always_inline void parse_opts(struct tcphdr *tcp, void *end,
				       struct opts *o)
{
	struct optwalk w = { .base = (__u8 *)(tcp + 1), .end = end };
	__u32 doff = tcp->doff * 4;

	if (doff <= 20)
		return;
	w.optlen = doff - 20;
	bpf_loop(40, opt_step, &w, 0);
	*o = w.o;
}

/* The cookie hash for this packet's tuple, seen from the client:
 * saddr/sport are the client's, @isn its initial sequence number. */
static __always_inline __u64 cookie_hash(struct pkt *p, const int v4,
					 __u32 isn, __u64 t,
					 const struct tg_pt_cfg *c)
{
	__u64 w[6];
	__u64 ports = (__u64)isn << 32 | (__u32)p->tcp->source << 16 |
		      p->tcp->dest;

	if (v4) {
		w[0] = (__u64)P4(p)->saddr << 32 | P4(p)->daddr;
		w[1] = ports;
		w[2] = t;
		return siphash(w, 3, c);
	}
	__builtin_memcpy(w, &P6(p)->saddr, 32);
	w[4] = ports;
	w[5] = t;
	return siphash(w, 6, c);
}

/* Whether @port of the destination, or the whole address, is under
 * attack (auto mode). */
static __always_inline int under_attack(struct pkt *p, __u32 port)
{
	struct tg_pt_dst k = { .port = (__u16)port };
	__u64 *until, now = bpf_ktime_get_ns();

	__builtin_memcpy(k.addr, &p->dst, 16);
	until = bpf_map_lookup_elem(&attack, &k);
	if (until && *until > now)
		return 1;
	k.port = 0;
	until = bpf_map_lookup_elem(&attack, &k);
	return until && *until > now;
}

/* Copies the head of the SYN about to be answered with a cookie (so
 * before it is rewritten) to the sample ring. */
static __always_inline void sample_syn(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u64 n = len;
	struct tg_pt_sample *s;
	long rc;

	if (len < 1)
		return;
	s = bpf_ringbuf_reserve(&synsample, sizeof(*s), 0);
	if (!s) {
		count(TG_PT_C_SAMPLE_LOST);
		return;
	}
	s->ts_ns = bpf_ktime_get_ns();
	s->len = len;
	/* The compiler knows len < 128 after a clamp and would drop a plain
	 * mask; the verifier needs one, so it is written in asm. */
	asm volatile("%[n] &= 0xffff" : [n] "+r"(n));
	if (n > TG_PT_SAMPLE_LEN)
		n = TG_PT_SAMPLE_LEN;
	s->cap = (__u32)n;
	rc = n ? bpf_xdp_load_bytes(ctx, 0, s->data, (__u32)n) : -1;
	if (rc) {
		bpf_ringbuf_discard(s, 0);
		return;
	}
	bpf_ringbuf_submit(s, 0);
}

static __always_inline void count_syn(struct pkt *p)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(&synrate, &p->dst);

	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&synrate, &p->dst, &one, BPF_ANY);
}

/* @v in network order at @q, which need not be aligned. */
static __always_inline void put32(__u8 *q, __u32 v)
{
	q[0] = v >> 24;
	q[1] = v >> 16;
	q[2] = v >> 8;
	q[3] = v;
}

/* A reply goes back where the request came from. */
static __always_inline void swap_mac(struct ethhdr *eth)
{
	__u8 mac[ETH_ALEN];

	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
}

/* The IPv4 header of a reply built in place: DF, TTL 64, IP ID 0, the
 * given addresses and total length, checksum computed. */
static __always_inline void reply_ip4(struct iphdr *ip, __be32 saddr, __be32 daddr,
				      __u16 len)
{
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(len);
	ip->id = 0;
	ip->frag_off = bpf_htons(0x4000);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->check = 0;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = fold(bpf_csum_diff(0, 0, (void *)ip, 20, 0));
}

/* The IPv6 header of a reply built in place over the request's: addresses
 * swapped, hop limit 64, TCP payload of @len bytes. */
static __always_inline void reply_ip6(struct ipv6hdr *ip6, __u16 len)
{
	struct in6_addr a = ip6->saddr;

	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(len);
	ip6->nexthdr = IPPROTO_TCP;
	ip6->hop_limit = 64;
	ip6->saddr = ip6->daddr;
	ip6->daddr = a;
}

/* Answers the SYN of @p with a cookie SYN-ACK in place. */
static __always_inline int syn_cookie(struct xdp_md *ctx, struct pkt *p,
				      const struct tg_pt_cfg *c, const int v4)
{
	struct opts o = {};
	void *end = (void *)(long)ctx->data_end;
	__u32 isn, cookie, mssidx = 0, ws = TG_PT_CK_WS_MASK, optlen, iplen;
	__u32 saddr4 = 0, daddr4 = 0, tsval = 0;
	__u16 sport, dport, mss, win, eff;
	__u8 ecn, sack;
	__u64 t, h;
	int delta, cur, want;
	__u8 *data;

	parse_opts(p->tcp, end, &o);
	isn = bpf_ntohl(p->tcp->seq);
	sport = p->tcp->source;
	dport = p->tcp->dest;
	if (!o.mss)
		o.mss = v4 ? 536 : 1220;
	for (int i = 7; i > 0; i--) {
		__u16 m = msstab(v4, i);

		if (o.mss >= m) {
			mssidx = i;
			break;
		}
	}
	if (o.ws_ok && c->ws_ok)
		ws = o.ws > 14 ? 14 : o.ws;
	sack = o.sack && c->sack_ok;
	ecn = p->tcp->ece && p->tcp->cwr && c->ecn_ok;
	if (!c->ts_ok)
		o.ts = 0;
	t = bpf_ktime_get_ns() >> TG_PT_CK_EPOCH_SHIFT;
	h = cookie_hash(p, v4, isn, t, c);
	if (v4) {
		saddr4 = P4(p)->saddr;
		daddr4 = P4(p)->daddr;
	}
	mss = v4 ? c->mss4 : c->mss6;

	/* Resize to headers + our options. A short SYN (a flood tool's,
	 * often without options) may leave no tailroom to grow into: then
	 * the SYN-ACK offers only what fits, MSS alone or nothing, and the
	 * cookie says so; such a client did not offer more anyway. */
	optlen = o.ts ? 20 : 12;
	want = (int)p->l4off + 20 + (int)optlen;
	cur = (int)(end - (void *)(long)ctx->data);
	delta = want - cur;
	if (delta > 0 && bpf_xdp_adjust_tail(ctx, delta)) {
		int room = cur - (int)p->l4off - 20;

		optlen = room >= 12 ? 12 : room >= 4 ? 4 : 0;
		o.ts = 0;
		if (optlen < 12) {
			ws = TG_PT_CK_WS_MASK;
			sack = 0;
		}
		want = (int)p->l4off + 20 + (int)optlen;
		delta = want - cur;
		if (delta && bpf_xdp_adjust_tail(ctx, delta)) {
			count(TG_PT_C_SYN_ODD);
			return XDP_PASS;
		}
	} else if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta)) {
		count(TG_PT_C_SYN_ODD);
		return XDP_PASS;
	}
	cookie = ((__u32)h & 0x1fffff) << TG_PT_CK_HASH_SHIFT |
		 ((__u32)t & TG_PT_CK_T_MASK) << TG_PT_CK_T_SHIFT |
		 mssidx << TG_PT_CK_MSS_SHIFT | (ecn ? TG_PT_CK_ECN : 0) |
		 (sack ? TG_PT_CK_SACK : 0) | ws;
	if (o.ts)
		tsval = (bpf_get_prandom_u32() & ~TG_PT_TS_HASH_MASK) |
			((__u32)(h >> 32) & TG_PT_TS_HASH_MASK);
	eff = msstab(v4, mssidx);
	if (eff > mss)
		eff = mss;
	if (o.ts)
		eff -= 12;
	win = eff ? (65535 / eff) * eff : 65535;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	{
		struct ethhdr *eth = (void *)data;
		struct tcphdr *tcp;
		__u8 *q;
		__u64 s;

		if ((void *)(eth + 1) > end)
			return XDP_DROP;
		swap_mac(eth);
		if (v4) {
			struct iphdr *ip = (void *)(eth + 1);

			tcp = (void *)(ip + 1);
			if ((void *)(tcp + 1) > end)
				return XDP_DROP;
			iplen = 20 + 20 + optlen;
			reply_ip4(ip, daddr4, saddr4, iplen);
		} else {
			struct ipv6hdr *ip6 = (void *)(eth + 1);

			tcp = (void *)(ip6 + 1);
			if ((void *)(tcp + 1) > end)
				return XDP_DROP;
			reply_ip6(ip6, 20 + optlen);
		}
		tcp->source = dport;
		tcp->dest = sport;
		tcp->seq = bpf_htonl(cookie);
		tcp->ack_seq = bpf_htonl(isn + 1);
		*((__u8 *)tcp + 12) = (__u8)((20 + optlen) / 4) << 4;
		*((__u8 *)tcp + 13) = 0x12 | (ecn ? 0x40 : 0); /* SYN|ACK|ECE */
		tcp->window = bpf_htons(win);
		tcp->check = 0;
		tcp->urg_ptr = 0;
		/* The options: the TS layout (20 bytes) or the plain one (12
		 * bytes); unused slots are NOPs so both have a fixed size. */
		q = (__u8 *)(tcp + 1);
		if (optlen == 20) {
			if ((void *)tcp + 40 > end)
				return XDP_DROP;
			put32(q, 0x02040000u | mss);
			put32(q + 4, sack ? 0x0402080au : 0x0101080au);
			put32(q + 8, tsval);
			put32(q + 12, o.tsval);
			put32(q + 16, ws != TG_PT_CK_WS_MASK ?
				      0x01030300u | c->wscale : 0x01010101u);
			s = bpf_csum_diff(0, 0, (void *)tcp, 40, 0);
		} else if (optlen == 12) {
			if ((void *)tcp + 32 > end)
				return XDP_DROP;
			put32(q, 0x02040000u | mss);
			put32(q + 4, sack ? 0x01010402u : 0x01010101u);
			put32(q + 8, ws != TG_PT_CK_WS_MASK ?
				     0x01030300u | c->wscale : 0x01010101u);
			s = bpf_csum_diff(0, 0, (void *)tcp, 32, 0);
		} else if (optlen == 4) {
			if ((void *)tcp + 24 > end)
				return XDP_DROP;
			put32(q, 0x02040000u | mss);
			s = bpf_csum_diff(0, 0, (void *)tcp, 24, 0);
		} else {
			s = bpf_csum_diff(0, 0, (void *)tcp, 20, 0);
		}
		if (v4) {
			s += daddr4;
			s += saddr4;
			s += bpf_htonl(IPPROTO_TCP << 16 | (20 + optlen));
		} else {
			struct ipv6hdr *ip6 = (void *)(eth + 1);

			if ((void *)(ip6 + 1) > end)
				return XDP_DROP;
			s += bpf_csum_diff(0, 0, (void *)&ip6->saddr, 32, 0);
			s += bpf_htonl(20 + optlen);
			s += bpf_htonl(IPPROTO_TCP);
		}
		tcp->check = fold(s);
	}
	count(TG_PT_C_SYN_COOKIE);
	return XDP_TX;
}

/* The ACK of @p completes a cookie handshake? 0 and @m filled if so. */
static __always_inline int check_cookie(struct pkt *p, void *end,
					const struct tg_pt_cfg *c,
					struct tg_pt_meta *m, const int v4)
{
	struct opts o = {};
	__u32 cookie = bpf_ntohl(p->tcp->ack_seq) - 1;
	__u32 isn = bpf_ntohl(p->tcp->seq) - 1;
	__u64 now_t = bpf_ktime_get_ns() >> TG_PT_CK_EPOCH_SHIFT;
	__u64 t = now_t - ((now_t - ((cookie >> TG_PT_CK_T_SHIFT) &
				    TG_PT_CK_T_MASK)) & TG_PT_CK_T_MASK);
	__u32 ws = cookie & TG_PT_CK_WS_MASK, idx;
	__u64 h;

	if (now_t - t > 1)
		return -1;
	h = cookie_hash(p, v4, isn, t, c);
	if (((__u32)h & 0x1fffff) != cookie >> TG_PT_CK_HASH_SHIFT)
		return -1;
	parse_opts(p->tcp, end, &o);
	if (o.ts && c->ts_ok &&
	    (o.tsecr & TG_PT_TS_HASH_MASK) != ((__u32)(h >> 32) & TG_PT_TS_HASH_MASK))
		return -1;
	if (ws != TG_PT_CK_WS_MASK && ws > 14)
		return -1;
	idx = (cookie >> TG_PT_CK_MSS_SHIFT) & TG_PT_CK_MSS_MASK;
	m->magic = TG_PT_META_MAGIC;
	m->mss = msstab(v4, idx);
	m->wscale_ok = ws != TG_PT_CK_WS_MASK;
	m->snd_wscale = m->wscale_ok ? ws : 0;
	m->rcv_wscale = m->wscale_ok ? c->wscale : 0;
	m->sack_ok = !!(cookie & TG_PT_CK_SACK);
	m->ecn_ok = !!(cookie & TG_PT_CK_ECN);
	m->tstamp_ok = o.ts && c->ts_ok;
	m->tsval = o.tsval;
	m->tsecr = o.tsecr;
	return 0;
}

/* Looks the packet's tuple up among local sockets. 1: a listener only,
 * 2: another socket (established, request, SYN-sent...), 0: none. */
static __always_inline int sock_kind(void *ctx, struct pkt *p, const int v4)
{
	struct bpf_sock_tuple tu = {};
	struct bpf_sock *sk;
	__u32 sz;
	int r;

	if (v4) {
		tu.ipv4.saddr = P4(p)->saddr;
		tu.ipv4.daddr = P4(p)->daddr;
		tu.ipv4.sport = p->tcp->source;
		tu.ipv4.dport = p->tcp->dest;
		sz = sizeof(tu.ipv4);
	} else {
		__builtin_memcpy(tu.ipv6.saddr, &P6(p)->saddr, 16);
		__builtin_memcpy(tu.ipv6.daddr, &P6(p)->daddr, 16);
		tu.ipv6.sport = p->tcp->source;
		tu.ipv6.dport = p->tcp->dest;
		sz = sizeof(tu.ipv6);
	}
	sk = bpf_skc_lookup_tcp(ctx, &tu, sz, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	r = sk->state == BPF_TCP_LISTEN ? 1 : 2;
	bpf_sk_release(sk);
	return r;
}

/* Backscatter guard: a SYN-ACK nobody here asked for gets a RST
 * (RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>), within the rate. */
static __always_inline int backscatter(struct xdp_md *ctx, struct pkt *p,
				       const struct tg_pt_cfg *c, const int v4)
{
	__u32 zero = 0, ack = p->tcp->ack_seq, saddr4 = 0, daddr4 = 0;
	struct bucket *b = bpf_map_lookup_elem(&bsbucket, &zero);
	__u64 now = bpf_ktime_get_ns(), el;
	__u16 sport = p->tcp->source, dport = p->tcp->dest;
	int want, delta;
	void *data, *end;

	if (!b)
		return XDP_DROP;
	el = now - b->last_ns;
	if (el > 1000000000ull)
		el = 1000000000ull;
	b->last_ns = now;
	b->tokens_milli += el * c->bs_rate_pps / 1000000ull;
	if (b->tokens_milli > (__u64)c->bs_burst * 1000)
		b->tokens_milli = (__u64)c->bs_burst * 1000;
	if (b->tokens_milli < 1000) {
		count(TG_PT_C_BS_DROP);
		return XDP_DROP;
	}
	b->tokens_milli -= 1000;
	if (v4) {
		saddr4 = P4(p)->saddr;
		daddr4 = P4(p)->daddr;
	}
	want = (int)p->l4off + 20;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	delta = want - (int)(end - data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	{
		struct ethhdr *eth = data;
		struct tcphdr *tcp;
		__u64 s;

		if ((void *)(eth + 1) > end)
			return XDP_DROP;
		swap_mac(eth);
		if (v4) {
			struct iphdr *ip = (void *)(eth + 1);

			tcp = (void *)(ip + 1);
			if ((void *)(tcp + 1) > end)
				return XDP_DROP;
			reply_ip4(ip, daddr4, saddr4, 40);
		} else {
			struct ipv6hdr *ip6 = (void *)(eth + 1);

			tcp = (void *)(ip6 + 1);
			if ((void *)(tcp + 1) > end)
				return XDP_DROP;
			reply_ip6(ip6, 20);
		}
		tcp->source = dport;
		tcp->dest = sport;
		tcp->seq = ack;
		tcp->ack_seq = 0;
		*((__u8 *)tcp + 12) = 5 << 4;
		*((__u8 *)tcp + 13) = 0x04; /* RST */
		tcp->window = 0;
		tcp->check = 0;
		tcp->urg_ptr = 0;
		s = bpf_csum_diff(0, 0, (void *)tcp, 20, 0);
		if (v4) {
			s += daddr4;
			s += saddr4;
			s += bpf_htonl(IPPROTO_TCP << 16 | 20);
		} else {
			struct ipv6hdr *ip6 = (void *)(eth + 1);

			if ((void *)(ip6 + 1) > end)
				return XDP_DROP;
			s += bpf_csum_diff(0, 0, (void *)&ip6->saddr, 32, 0);
			s += bpf_htonl(20);
			s += bpf_htonl(IPPROTO_TCP);
		}
		tcp->check = fold(s);
	}
	count(TG_PT_C_BS_RST);
	return XDP_TX;
}

/* Allow/deny for a source; XDP_PASS for "allowed, stop here", XDP_DROP,
 * or -1 for "no list matched". */
static __always_inline int lists(void *allow, void *deny, void *key)
{
	struct tg_pt_rule *r = bpf_map_lookup_elem(allow, key);

	if (r) {
		count_rule(r->id);
		count(TG_PT_C_ALLOW);
		return XDP_PASS;
	}
	r = bpf_map_lookup_elem(deny, key);
	if (r && (!r->expires_ns || r->expires_ns > bpf_ktime_get_ns())) {
		count_rule(r->id);
		count(r->flags & TG_PT_RULE_BAN ? TG_PT_C_BAN : TG_PT_C_DENY);
		return XDP_DROP;
	}
	return -1;
}

/* Whether the ACK completes a handshake the kernel answered with its own
 * SYN cookie (before protection switched on for this port): the kernel's
 * secret decides, through the same check the kernel makes. */
static __always_inline int kernel_cookie(struct pkt *p, void *end, const int v4)
{
	struct tcphdr *th = p->tcp;

	if ((void *)(th + 1) > end)
		return 0;
	if (v4) {
		struct iphdr *ip = P4(p);

		if ((void *)(ip + 1) > end)
			return 0;
		return bpf_tcp_raw_check_syncookie_ipv4(ip, th) == 0;
	} else {
		struct ipv6hdr *ip6 = P6(p);

		if ((void *)(ip6 + 1) > end)
			return 0;
		return bpf_tcp_raw_check_syncookie_ipv6(ip6, th) == 0;
	}
}

static __always_inline int handle_tcp(struct xdp_md *ctx, struct pkt *p,
				      int ip_simple, const int v4)
{
	void *end = (void *)(long)ctx->data_end;
	__u32 zero = 0, port;
	struct tg_pt_cfg *c = bpf_map_lookup_elem(&cfg, &zero);
	__u8 *prot, fl;
	struct tcphdr *tcp = p->tcp;

	if (!c || (void *)(tcp + 1) > end)
		return XDP_PASS;
	fl = *((__u8 *)tcp + 13);
	port = bpf_ntohs(tcp->dest);
	prot = bpf_map_lookup_elem(&ports, &port);
	if ((fl & 0x17) == 0x02) {                      /* SYN, no ACK/RST/FIN */
		if (!prot || !*prot || c->mode == TG_PT_OFF)
			return XDP_PASS;
		count_syn(p);
		if (c->mode == TG_PT_AUTO && !under_attack(p, port)) {
			count(TG_PT_C_SYN_PASS);
			return XDP_PASS;
		}
		if (!ip_simple) {
			count(TG_PT_C_SYN_ODD);
			return XDP_PASS;
		}
		if (c->sample)
			sample_syn(ctx);
		return syn_cookie(ctx, p, c, v4);
	}
	if ((fl & 0x16) == 0x12) {                      /* SYN-ACK */
		if (!c->backscatter || sock_kind(ctx, p, v4))
			return XDP_PASS;
		return backscatter(ctx, p, c, v4);
	}
	if ((fl & 0x17) == 0x10 && prot && *prot && c->mode != TG_PT_OFF) {
		struct tg_pt_meta m = {};
		int k = sock_kind(ctx, p, v4);

		if (k != 1) {
			count(TG_PT_C_ACK_PASS);
			return XDP_PASS;
		}
		if (check_cookie(p, end, c, &m, v4)) {
			if ((c->mode == TG_PT_AUTO && !under_attack(p, port)) ||
			    kernel_cookie(p, end, v4)) {
				count(TG_PT_C_ACK_PASS);
				return XDP_PASS;
			}
			count(TG_PT_C_ACK_COOKIE_BAD);
			return XDP_DROP;
		}
		{
			struct tg_pt_event ev = { .dport = port, .kind = 1 };

			if (v4) {
				ev.addr[10] = 0xff;
				ev.addr[11] = 0xff;
				__builtin_memcpy(&ev.addr[12], &P4(p)->saddr, 4);
			} else {
				__builtin_memcpy(ev.addr, &P6(p)->saddr, 16);
			}
			bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
		}
		count(TG_PT_C_ACK_COOKIE_OK);
		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(m))) {
			count(TG_PT_C_META_FAIL);
			return XDP_PASS;
		}
		{
			void *data = (void *)(long)ctx->data;
			struct tg_pt_meta *mp = (void *)(long)ctx->data_meta;

			if ((void *)(mp + 1) > data)
				return XDP_PASS;
			*mp = m;
		}
		return XDP_PASS;
	}
	return XDP_PASS;
}

SEC("xdp")
int tg_protect_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct pkt p = {};
	int v;

	count(TG_PT_C_PACKETS);
	if ((void *)(eth + 1) > end)
		goto pass;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct tg_pt_key4 k = { .prefixlen = 32 };
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			goto pass;
		__builtin_memcpy(k.addr, &ip->saddr, 4);
		v = lists(&allow4, &deny4, &k);
		if (v >= 0)
			return v;
		if (ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			goto pass;
		ihl = ip->ihl * 4;
		if (ihl < 20 || ihl > 60)
			goto pass;
		p.l3 = ip;
		p.tcp = (void *)ip + ihl;
		p.l4off = 14 + ihl;
		p.dst.addr[10] = 0xff;
		p.dst.addr[11] = 0xff;
		__builtin_memcpy(&p.dst.addr[12], &ip->daddr, 4);
		if ((void *)(p.tcp + 1) > end)
			goto pass;
		return handle_tcp(ctx, &p, ihl == 20, 1);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct tg_pt_key6 k = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > end)
			goto pass;
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
		v = lists(&allow6, &deny6, &k);
		if (v >= 0)
			return v;
		if (ip6->nexthdr != IPPROTO_TCP)
			goto pass;
		p.l3 = ip6;
		p.tcp = (void *)(ip6 + 1);
		p.l4off = 14 + 40;
		__builtin_memcpy(p.dst.addr, &ip6->daddr, 16);
		if ((void *)(p.tcp + 1) > end)
			goto pass;
		return handle_tcp(ctx, &p, 1, 0);
	}
pass:
	count(TG_PT_C_PASS);
	return XDP_PASS;
}

/* TC ingress: an ACK that XDP validated becomes a request socket of the
 * listener, so the kernel completes the handshake with the options the
 * cookie carried. */
SEC("tc")
int tg_protect_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tg_pt_meta *m = (void *)(long)skb->data_meta;
	struct tg_pt_req_attrs a = {};
	struct bpf_sock_tuple tu = {};
	struct ethhdr *eth = data;
	struct bpf_sock *skc;
	struct tcp_sock *tp;
	struct tcphdr *tcp;
	__u32 sz;
	int ret;

	if ((void *)(m + 1) > data || m->magic != TG_PT_META_MAGIC)
		return TC_ACT_OK;
	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return TC_ACT_OK;
		tcp = (void *)ip + ip->ihl * 4;
		if ((void *)(tcp + 1) > end)
			return TC_ACT_OK;
		tu.ipv4.saddr = ip->saddr;
		tu.ipv4.daddr = ip->daddr;
		tu.ipv4.sport = tcp->source;
		tu.ipv4.dport = tcp->dest;
		sz = sizeof(tu.ipv4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return TC_ACT_OK;
		tcp = (void *)(ip6 + 1);
		if ((void *)(tcp + 1) > end)
			return TC_ACT_OK;
		__builtin_memcpy(tu.ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(tu.ipv6.daddr, &ip6->daddr, 16);
		tu.ipv6.sport = tcp->source;
		tu.ipv6.dport = tcp->dest;
		sz = sizeof(tu.ipv6);
	} else {
		return TC_ACT_OK;
	}
	a.rcv_tsval = m->tsval;
	a.rcv_tsecr = m->tsecr;
	a.mss = m->mss;
	a.rcv_wscale = m->rcv_wscale;
	a.snd_wscale = m->snd_wscale;
	a.ecn_ok = m->ecn_ok;
	a.wscale_ok = m->wscale_ok;
	a.sack_ok = m->sack_ok;
	a.tstamp_ok = m->tstamp_ok;
	skc = bpf_skc_lookup_tcp(skb, &tu, sz, BPF_F_CURRENT_NETNS, 0);
	if (!skc) {
		count(TG_PT_C_TC_FAIL);
		return TC_ACT_OK;
	}
	if (skc->state != BPF_TCP_LISTEN) {
		bpf_sk_release(skc);
		return TC_ACT_OK;
	}
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp || !bpf_sk_assign_tcp_reqsk) {
		bpf_sk_release(skc);
		count(TG_PT_C_TC_FAIL);
		return TC_ACT_OK;
	}
	ret = bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, &a, sizeof(a));
	bpf_sk_release(skc);
	count(ret ? TG_PT_C_TC_FAIL : TG_PT_C_TC_ASSIGN);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual MIT/GPL";
