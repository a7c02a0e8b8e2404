// SPDX-License-Identifier: MIT
/*
 * Real-time signatures: from the header fields of an attack's packets and
 * of the rest of the traffic, the predicate an operator can paste into
 * tcpdump or nftables. The detector keeps, per alert, a histogram of its
 * attack packets (TTL, window, IP length, TCP header length, IP ID, source
 * port range, flags, destination port, option layout) and one of the
 * other packets of the same kind (SYNs, SYN-ACKs, RSTs); sig_derive keeps
 * a field when one value (or one narrow range) covers nearly all attack
 * packets and little of the rest. Every field means the same here
 * (tg_sig_match) as in the rendered BPF and nftables text (src/out/alerts.c),
 * so what the measurement counts is what the rule would do.
 *
 * Called only by detect.c; no allocation, no I/O.
 */
#include <string.h>

#include "tcpguard/decode.h"
#include "tcpguard/detect.h"
#include "sig.h"

void sig_mg_add(struct sig_mg *m, uint32_t key)
{
	int free_slot = -1;

	for (int i = 0; i < SIG_MG; i++) {
		if (m->cnt[i] && m->key[i] == key) {
			m->cnt[i]++;
			return;
		}
		if (!m->cnt[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0) {
		m->key[free_slot] = key;
		m->cnt[free_slot] = 1;
		return;
	}
	for (int i = 0; i < SIG_MG; i++)
		m->cnt[i]--;
}

/* Adds @n of @key; a new key takes the smallest slot when it outweighs
 * it (a merge in the space-saving manner). */
static void mg_add_n(struct sig_mg *m, uint32_t key, uint32_t n)
{
	int min = 0;

	for (int i = 0; i < SIG_MG; i++) {
		if (m->cnt[i] && m->key[i] == key) {
			m->cnt[i] += n;
			return;
		}
		if (m->cnt[i] < m->cnt[min])
			min = i;
	}
	if (n > m->cnt[min]) {
		m->key[min] = key;
		m->cnt[min] = n;
	}
}

static void mg_merge(struct sig_mg *into, const struct sig_mg *from)
{
	for (int i = 0; i < SIG_MG; i++)
		if (from->cnt[i])
			mg_add_n(into, from->key[i], from->cnt[i]);
}

void sig_hist_merge(struct sig_hist *into, const struct sig_hist *from)
{
	into->n += from->n;
	for (int i = 0; i < 256; i++)
		into->ttl[i] += from->ttl[i];
	for (int i = 0; i < SIG_SPORT_BUCKETS; i++)
		into->sport[i] += from->sport[i];
	mg_merge(&into->win, &from->win);
	mg_merge(&into->len, &from->len);
	mg_merge(&into->doff, &from->doff);
	mg_merge(&into->ipid, &from->ipid);
	mg_merge(&into->flags, &from->flags);
	mg_merge(&into->dport, &from->dport);
	mg_merge(&into->layout, &from->layout);
}

uint32_t sig_mg_top(const struct sig_mg *m, uint32_t *cnt)
{
	uint32_t best = 0, key = 0;

	for (int i = 0; i < SIG_MG; i++) {
		if (m->cnt[i] > best || (m->cnt[i] == best && best && m->key[i] < key)) {
			best = m->cnt[i];
			key = m->key[i];
		}
	}
	*cnt = best;
	return key;
}

uint32_t sig_mg_count(const struct sig_mg *m, uint32_t key)
{
	for (int i = 0; i < SIG_MG; i++)
		if (m->cnt[i] && m->key[i] == key)
			return m->cnt[i];
	return 0;
}

unsigned sig_mg_distinct(const struct sig_mg *m)
{
	unsigned n = 0;

	for (int i = 0; i < SIG_MG; i++)
		n += m->cnt[i] != 0;
	return n;
}

void sig_hist_add(struct sig_hist *h, const struct tg_pkt *p)
{
	h->n++;
	h->ttl[p->ttl]++;
	h->sport[p->sport >> SIG_SPORT_SHIFT]++;
	sig_mg_add(&h->win, p->win);
	sig_mg_add(&h->len, p->ip_len);
	sig_mg_add(&h->doff, p->tcp_hdr_len);
	sig_mg_add(&h->ipid, p->ip_ver == 4 ? p->ip_id : 0x10000u);
	sig_mg_add(&h->flags, p->tcp_flags & (TG_TCP_FIN | TG_TCP_SYN |
					      TG_TCP_RST | TG_TCP_ACK));
	sig_mg_add(&h->dport, p->dport);
	sig_mg_add(&h->layout, p->opts.layout);
}

static double share(uint64_t part, uint64_t n)
{
	return n ? (double)part / (double)n : 0.0;
}

/* One exact-value field: the attack's top value, kept when it is dominant
 * there and rare in @other. */
static bool exact_field(const struct sig_mg *atk, uint64_t an,
			const struct sig_mg *other, uint64_t on,
			const struct tg_detect_cfg *cfg, uint32_t *val)
{
	uint32_t cnt, v = sig_mg_top(atk, &cnt);

	if (share(cnt, an) < cfg->sig_min_share)
		return false;
	if (share(sig_mg_count(other, v), on) > cfg->sig_max_other)
		return false;
	*val = v;
	return true;
}

/* Narrowest run of bins [*lo, *hi] of @h (@nb bins) holding at least
 * @need items; false when none is narrower than @max_width bins. */
static bool narrow_range(const uint32_t *h, unsigned nb, uint64_t need,
			 unsigned max_width, unsigned *lo, unsigned *hi)
{
	unsigned best_w = nb + 1, l = 0;
	uint64_t sum = 0;

	if (!need)
		return false;
	for (unsigned r = 0; r < nb; r++) {
		sum += h[r];
		while (l < r && sum - h[l] >= need) {
			sum -= h[l];
			l++;
		}
		if (sum >= need && r - l + 1 < best_w) {
			best_w = r - l + 1;
			*lo = l;
			*hi = r;
		}
	}
	return best_w <= max_width;
}

static uint64_t range_sum(const uint32_t *h, unsigned lo, unsigned hi)
{
	uint64_t s = 0;

	for (unsigned i = lo; i <= hi; i++)
		s += h[i];
	return s;
}

void sig_derive(struct tg_sig *sig, const struct sig_hist *atk,
		const struct sig_hist *other, const struct tg_detect_cfg *cfg)
{
	uint64_t an = atk->n, on = other->n;
	uint64_t need = (uint64_t)((double)an * cfg->sig_min_share + 0.999999);
	unsigned lo, hi;
	uint32_t v;

	if (!an)
		return;
	if (narrow_range(atk->ttl, 256, need, 64, &lo, &hi) &&
	    share(range_sum(other->ttl, lo, hi), on) <= cfg->sig_max_other) {
		sig->fields |= TG_SIG_TTL;
		sig->ttl_lo = (uint8_t)lo;
		sig->ttl_hi = (uint8_t)hi;
	}
	if (exact_field(&atk->win, an, &other->win, on, cfg, &v)) {
		sig->fields |= TG_SIG_WIN;
		sig->win = (uint16_t)v;
	}
	if (exact_field(&atk->len, an, &other->len, on, cfg, &v)) {
		sig->fields |= TG_SIG_LEN;
		sig->len = (uint16_t)v;
	}
	if (exact_field(&atk->doff, an, &other->doff, on, cfg, &v)) {
		sig->fields |= TG_SIG_DOFF;
		sig->doff = (uint8_t)v;
	}
	if (sig->ip_ver == 4 && exact_field(&atk->ipid, an, &other->ipid, on, cfg, &v) &&
	    v <= 0xffff) {
		sig->fields |= TG_SIG_IPID;
		sig->ip_id = (uint16_t)v;
	}
	/* Tools that walk their source ports make a range learnt from part
	 * of an attack miss the rest: only one narrow block is trusted. */
	if (narrow_range(atk->sport, SIG_SPORT_BUCKETS, need, 1, &lo, &hi) &&
	    share(range_sum(other->sport, lo, hi), on) <= cfg->sig_max_other) {
		sig->fields |= TG_SIG_SPORT;
		sig->sport_lo = (uint16_t)(lo << SIG_SPORT_SHIFT);
		sig->sport_hi = (uint16_t)(((hi + 1) << SIG_SPORT_SHIFT) - 1);
	}
}

bool tg_addr_in_prefix(const struct tg_addr *a, const struct tg_addr *pfx,
		       unsigned plen)
{
	/* IPv4 lengths count from the mapped part (::ffff:0:0/96). */
	unsigned bits = tg_addr_is_v4(pfx) ? 96 + plen : plen;
	unsigned full, rest;

	if (bits > 128)
		bits = 128;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(a->b, pfx->b, full) != 0)
		return false;
	if (rest && ((a->b[full] ^ pfx->b[full]) & (0xff00u >> rest) & 0xff))
		return false;
	return true;
}

bool tg_sig_match(const struct tg_sig *g, const struct tg_pkt *p)
{
	uint32_t f = g->fields;

	if (p->ip_ver != g->ip_ver)
		return false;
	if ((f & TG_SIG_FLAGS) &&
	    (p->tcp_flags & (TG_TCP_FIN | TG_TCP_SYN | TG_TCP_RST | TG_TCP_ACK)) != g->flags)
		return false;
	if ((f & TG_SIG_DPORT) && p->dport != g->dport)
		return false;
	if ((f & TG_SIG_TTL) && (p->ttl < g->ttl_lo || p->ttl > g->ttl_hi))
		return false;
	if ((f & TG_SIG_WIN) && p->win != g->win)
		return false;
	if ((f & TG_SIG_LEN) && p->ip_len != g->len)
		return false;
	if ((f & TG_SIG_DOFF) && p->tcp_hdr_len != g->doff)
		return false;
	if ((f & TG_SIG_IPID) && p->ip_id != g->ip_id)
		return false;
	if ((f & TG_SIG_SPORT) && (p->sport < g->sport_lo || p->sport > g->sport_hi))
		return false;
	if ((f & TG_SIG_DST) && !tg_addr_in_prefix(&p->dst, &g->dst, g->dst_plen))
		return false;
	if ((f & TG_SIG_SRC) && !tg_addr_in_prefix(&p->src, &g->src, g->src_plen))
		return false;
	return true;
}
