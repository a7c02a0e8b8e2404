// SPDX-License-Identifier: MIT
/*
 * Loader and map access for the protect data path (see xdp.h). Every
 * failure is turned into one sentence that names the cause a user can act
 * on: not permitted, the kernel lacks a helper, another program holds the
 * interface. Built as stubs when the build found no clang/bpftool/libbpf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp.h"

const char *const tg_pt_counter_str[TG_PT_C__COUNT] = {
	[TG_PT_C_PACKETS] = "packets",
	[TG_PT_C_PASS] = "pass",
	[TG_PT_C_ALLOW] = "allowlisted",
	[TG_PT_C_DENY] = "denylist-drop",
	[TG_PT_C_BAN] = "ban-drop",
	[TG_PT_C_SYN_COOKIE] = "syn-cookie-sent",
	[TG_PT_C_SYN_PASS] = "syn-passed",
	[TG_PT_C_SYN_ODD] = "syn-passed-odd",
	[TG_PT_C_ACK_COOKIE_OK] = "ack-cookie-ok",
	[TG_PT_C_ACK_COOKIE_BAD] = "ack-cookie-bad-drop",
	[TG_PT_C_ACK_PASS] = "ack-passed",
	[TG_PT_C_META_FAIL] = "meta-fail",
	[TG_PT_C_BS_RST] = "backscatter-rst",
	[TG_PT_C_BS_DROP] = "backscatter-drop",
	[TG_PT_C_TC_ASSIGN] = "handshake-completed",
	[TG_PT_C_TC_FAIL] = "handshake-refused",
	[TG_PT_C_SAMPLE_LOST] = "syn-sample-lost",
};

const char *const tg_pt_mode_str[TG_PT__MODE_COUNT] = {
	[TG_PT_OFF] = "off",
	[TG_PT_ALWAYS] = "always",
	[TG_PT_AUTO] = "auto",
};

#ifndef TG_HAVE_BPF

bool tg_xdp_built_in(void)
{
	return false;
}

int tg_xdp_open(struct tg_xdp **out, const struct tg_xdp_opts *o, char *err,
		size_t errlen)
{
	(void)o;
	*out = NULL;
	snprintf(err, errlen, "this tcpguard was built without BPF support "
		 "(clang, bpftool and libbpf-dev were missing at build time)");
	return -EOPNOTSUPP;
}

const char *tg_xdp_attach_mode(const struct tg_xdp *x)
{
	(void)x;
	return "none";
}

int tg_xdp_set_port(struct tg_xdp *x, uint16_t port, bool on)
{
	(void)x, (void)port, (void)on;
	return -EOPNOTSUPP;
}

int tg_xdp_rule_add(struct tg_xdp *x, const struct tg_pfx *p, bool allow,
		    uint32_t id, bool ban, uint64_t expires_mono_ns)
{
	(void)x, (void)p, (void)allow, (void)id, (void)ban, (void)expires_mono_ns;
	return -EOPNOTSUPP;
}

int tg_xdp_rule_del(struct tg_xdp *x, const struct tg_pfx *p, bool allow)
{
	(void)x, (void)p, (void)allow;
	return -EOPNOTSUPP;
}

int tg_xdp_bans_each(struct tg_xdp *x,
		     void (*cb)(void *ctx, const struct tg_pfx *p), void *ctx)
{
	(void)x, (void)cb, (void)ctx;
	return -EOPNOTSUPP;
}

int tg_xdp_counters(struct tg_xdp *x, uint64_t out[TG_PT_C__COUNT])
{
	(void)x;
	memset(out, 0, sizeof(uint64_t) * TG_PT_C__COUNT);
	return -EOPNOTSUPP;
}

int tg_xdp_rule_hits(struct tg_xdp *x, uint32_t id, uint64_t *hits)
{
	(void)x, (void)id;
	*hits = 0;
	return -EOPNOTSUPP;
}

int tg_xdp_attack(struct tg_xdp *x, const uint8_t addr[16], uint16_t port,
		  uint64_t until)
{
	(void)x, (void)addr, (void)port, (void)until;
	return -EOPNOTSUPP;
}

int tg_xdp_samples(struct tg_xdp *x,
		   void (*cb)(void *ctx, const struct tg_pt_sample *s), void *ctx)
{
	(void)x, (void)cb, (void)ctx;
	return -EOPNOTSUPP;
}

int tg_xdp_synrate_each(struct tg_xdp *x,
			void (*cb)(void *ctx, const uint8_t addr[16], uint64_t syns),
			void *ctx)
{
	(void)x, (void)cb, (void)ctx;
	return -EOPNOTSUPP;
}

int tg_xdp_events_fd(struct tg_xdp *x)
{
	(void)x;
	return -1;
}

int tg_xdp_events_poll(struct tg_xdp *x,
		       void (*cb)(void *ctx, const struct tg_pt_event *ev),
		       void *ctx)
{
	(void)x, (void)cb, (void)ctx;
	return 0;
}

void tg_xdp_close(struct tg_xdp *x)
{
	(void)x;
}

#else /* TG_HAVE_BPF */

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protect.skel.h"

struct tg_xdp {
	struct tg_protect *skel;
	struct ring_buffer *rb;
	int ifindex;
	int link_fd;
	uint32_t xdp_flags;
	bool tc_hook_created;
	bool tc_attached;
	bool xdp_attached;
	bool pin;
	int ncpu;
	char iface[IF_NAMESIZE];
	void (*ev_cb)(void *ctx, const struct tg_pt_event *ev);
	void *ev_ctx;
	void (*sm_cb)(void *ctx, const struct tg_pt_sample *s);
	void *sm_ctx;
};

static char libbpf_msg[2048];

static int on_libbpf_print(enum libbpf_print_level lvl, const char *fmt,
			   va_list ap)
{
	size_t n = strlen(libbpf_msg);

	if (lvl == LIBBPF_DEBUG || n >= sizeof(libbpf_msg) - 1)
		return 0;
	return vsnprintf(libbpf_msg + n, sizeof(libbpf_msg) - n, fmt, ap);
}

bool tg_xdp_built_in(void)
{
	return true;
}

static long sysctl_long(const char *path, long dflt, int field)
{
	FILE *f = fopen(path, "re");
	long v[3] = { dflt, dflt, dflt };
	int n;

	if (!f)
		return dflt;
	n = fscanf(f, "%ld %ld %ld", &v[0], &v[1], &v[2]);
	fclose(f);
	return n > field ? v[field] : dflt;
}

/* The window scale this host's listeners announce: Linux's
 * tcp_select_initial_window() takes ilog2 of the largest receive buffer
 * a socket may grow to, minus 15 (net/ipv4/tcp_output.c). */
static uint8_t host_wscale(void)
{
	long rmem = sysctl_long("/proc/sys/net/ipv4/tcp_rmem", 6291456, 2);
	long rmax = sysctl_long("/proc/sys/net/core/rmem_max", 212992, 0);
	unsigned long space = (unsigned long)(rmem > rmax ? rmem : rmax);
	int lg = 0;

	while (space >>= 1)
		lg++;
	lg -= 15;
	return (uint8_t)(lg < 0 ? 0 : lg > 14 ? 14 : lg);
}

static int iface_mtu(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = 1500;

	if (fd < 0)
		return mtu;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (!ioctl(fd, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static bool kernel_has_func(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok;

	if (!btf)
		return false;
	ok = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return ok;
}

static int fill_cfg(struct tg_xdp *x, const struct tg_xdp_opts *o)
{
	struct tg_pt_cfg c = { 0 };
	uint32_t zero = 0;
	int mtu = iface_mtu(o->iface);

	if (getrandom(c.key, sizeof(c.key), 0) != sizeof(c.key))
		return -EIO;
	c.mode = o->mode;
	c.backscatter = o->backscatter;
	c.wscale = host_wscale();
	c.sack_ok = sysctl_long("/proc/sys/net/ipv4/tcp_sack", 1, 0) != 0;
	c.ts_ok = sysctl_long("/proc/sys/net/ipv4/tcp_timestamps", 1, 0) != 0;
	c.ecn_ok = sysctl_long("/proc/sys/net/ipv4/tcp_ecn", 2, 0) != 0;
	c.ws_ok = sysctl_long("/proc/sys/net/ipv4/tcp_window_scaling", 1, 0) != 0;
	c.mss4 = (uint16_t)(mtu - 40);
	c.mss6 = (uint16_t)(mtu - 60);
	c.bs_rate_pps = o->bs_rate_pps ? o->bs_rate_pps : 1000;
	c.bs_burst = o->bs_burst ? o->bs_burst : c.bs_rate_pps;
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.cfg), &zero, &c, 0))
		return -errno;
	return 0;
}

/* Through a BPF link, so the program goes away with this process even if
 * it dies without cleaning up; with --pin the link is pinned instead. */
static int attach_xdp(struct tg_xdp *x, const struct tg_xdp_opts *o,
		      char *err, size_t errlen)
{
	int fd = bpf_program__fd(x->skel->progs.tg_protect_xdp), rc = -EOPNOTSUPP;
	LIBBPF_OPTS(bpf_link_create_opts, lo);

	if (!o->force_generic) {
		x->xdp_flags = lo.flags = XDP_FLAGS_DRV_MODE;
		x->link_fd = bpf_link_create(fd, x->ifindex, BPF_XDP, &lo);
		rc = x->link_fd < 0 ? -errno : 0;
	}
	if (rc && rc != -EBUSY && rc != -EEXIST && rc != -EPERM) {
		x->xdp_flags = lo.flags = XDP_FLAGS_SKB_MODE;
		x->link_fd = bpf_link_create(fd, x->ifindex, BPF_XDP, &lo);
		rc = x->link_fd < 0 ? -errno : 0;
	}
	if (rc == -EBUSY || rc == -EEXIST)
		snprintf(err, errlen, "%s already has an XDP program attached "
			 "(see 'ip link show %s'); detach it first", o->iface,
			 o->iface);
	else if (rc == -EPERM)
		snprintf(err, errlen, "attaching XDP to %s is not permitted "
			 "(root or CAP_NET_ADMIN + CAP_BPF needed)", o->iface);
	else if (rc)
		snprintf(err, errlen, "cannot attach XDP to %s: %s", o->iface,
			 strerror(-rc));
	x->xdp_attached = !rc;
	return rc;
}

static int attach_tc(struct tg_xdp *x, const struct tg_xdp_opts *o, char *err,
		     size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = x->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = 0x7467, .priority = 1,
		    .prog_fd = bpf_program__fd(x->skel->progs.tg_protect_tc));
	int rc = bpf_tc_hook_create(&hook);

	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "cannot create the clsact qdisc on %s: %s",
			 o->iface, strerror(-rc));
		return rc;
	}
	x->tc_hook_created = !rc;
	rc = bpf_tc_attach(&hook, &to);
	if (rc) {
		snprintf(err, errlen, "cannot attach the TC ingress program to "
			 "%s: %s", o->iface, strerror(-rc));
		return rc;
	}
	x->tc_attached = true;
	return 0;
}

int tg_xdp_open(struct tg_xdp **out, const struct tg_xdp_opts *o, char *err,
		size_t errlen)
{
	struct tg_xdp *x = calloc(1, sizeof(*x));
	int rc;

	*out = NULL;
	if (!x)
		return -ENOMEM;
	snprintf(x->iface, sizeof(x->iface), "%s", o->iface);
	x->pin = o->pin;
	x->link_fd = -1;
	x->ifindex = (int)if_nametoindex(o->iface);
	if (!x->ifindex) {
		snprintf(err, errlen, "no interface %s", o->iface);
		rc = -ENODEV;
		goto out;
	}
	if (o->mode != TG_PT_OFF) {
		if (!kernel_has_func("bpf_sk_assign_tcp_reqsk")) {
			snprintf(err, errlen, "the kernel lacks the BPF kfunc "
				 "bpf_sk_assign_tcp_reqsk (Linux 6.9+ with "
				 "CONFIG_SYN_COOKIES) that SYN cookies need; use "
				 "mode = off for lists and bans only");
			rc = -EOPNOTSUPP;
			goto out;
		}
		if (sysctl_long("/proc/sys/net/ipv4/tcp_syncookies", 1, 0) == 0) {
			snprintf(err, errlen, "net.ipv4.tcp_syncookies is 0: the "
				 "kernel then refuses cookie handshakes; set it to 1");
			rc = -EINVAL;
			goto out;
		}
	}
	libbpf_msg[0] = 0;
	libbpf_set_print(on_libbpf_print);
	x->skel = tg_protect__open_and_load();
	if (!x->skel) {
		rc = -errno;
		if (rc == -EPERM || strstr(libbpf_msg, "Operation not permitted"))
			snprintf(err, errlen, "loading BPF programs is not "
				 "permitted (root, or CAP_BPF + CAP_NET_ADMIN, "
				 "needed)");
		else
			snprintf(err, errlen, "the kernel refused the XDP "
				 "program: %.900s", libbpf_msg);
		goto out;
	}
	x->ncpu = libbpf_num_possible_cpus();
	rc = fill_cfg(x, o);
	if (rc) {
		snprintf(err, errlen, "cannot configure the XDP program: %s",
			 strerror(-rc));
		goto out;
	}
	rc = attach_tc(x, o, err, errlen);
	if (rc)
		goto out;
	rc = attach_xdp(x, o, err, errlen);
	if (rc)
		goto out;
	if (o->pin) {
		char dir[256];

		mkdir("/sys/fs/bpf/tcpguard", 0700);
		snprintf(dir, sizeof(dir), "/sys/fs/bpf/tcpguard/%s", o->iface);
		rc = bpf_object__pin_maps(x->skel->obj, dir);
		if (!rc) {
			char lp[300];

			snprintf(lp, sizeof(lp), "%s/xdp_link", dir);
			rc = bpf_obj_pin(x->link_fd, lp) ? -errno : 0;
		}
		if (rc) {
			snprintf(err, errlen, "cannot pin maps under %s: %s", dir,
				 strerror(-rc));
			goto out;
		}
	}
	*out = x;
	return 0;
out:
	x->pin = false;
	tg_xdp_close(x);
	return rc;
}

const char *tg_xdp_attach_mode(const struct tg_xdp *x)
{
	return x->xdp_flags & XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

int tg_xdp_set_port(struct tg_xdp *x, uint16_t port, bool on)
{
	uint32_t k = port;
	uint8_t v = on;

	return bpf_map_update_elem(bpf_map__fd(x->skel->maps.ports), &k, &v, 0) ?
	       -errno : 0;
}

static int list_fd(struct tg_xdp *x, bool v4, bool allow)
{
	if (v4)
		return bpf_map__fd(allow ? x->skel->maps.allow4 : x->skel->maps.deny4);
	return bpf_map__fd(allow ? x->skel->maps.allow6 : x->skel->maps.deny6);
}

int tg_xdp_rule_add(struct tg_xdp *x, const struct tg_pfx *p, bool allow,
		    uint32_t id, bool ban, uint64_t expires_mono_ns)
{
	struct tg_pt_rule r = { .id = id, .flags = ban ? TG_PT_RULE_BAN : 0,
				.expires_ns = expires_mono_ns };
	struct tg_pt_key6 k = { .prefixlen = p->plen };

	memcpy(k.addr, p->addr, 16);
	return bpf_map_update_elem(list_fd(x, p->v4, allow), &k, &r, 0) ?
	       -errno : 0;
}

int tg_xdp_rule_del(struct tg_xdp *x, const struct tg_pfx *p, bool allow)
{
	struct tg_pt_key6 k = { .prefixlen = p->plen };

	memcpy(k.addr, p->addr, 16);
	return bpf_map_delete_elem(list_fd(x, p->v4, allow), &k) ? -errno : 0;
}

int tg_xdp_bans_each(struct tg_xdp *x,
		     void (*cb)(void *ctx, const struct tg_pfx *p), void *ctx)
{
	for (int v4 = 0; v4 < 2; v4++) {
		int fd = list_fd(x, v4, false);
		struct tg_pt_key6 k, next;
		struct tg_pt_rule r;
		void *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &next)) {
			k = next;
			prev = &k;
			if (!bpf_map_lookup_elem(fd, &k, &r) &&
			    (r.flags & TG_PT_RULE_BAN)) {
				struct tg_pfx p = { .plen = (uint8_t)k.prefixlen,
						    .v4 = v4 };

				memcpy(p.addr, k.addr, v4 ? 4 : 16);
				cb(ctx, &p);
			}
		}
	}
	return 0;
}

static int percpu_sum(struct tg_xdp *x, int fd, const void *key, uint64_t *sum)
{
	uint64_t *v = calloc((size_t)x->ncpu, sizeof(uint64_t));
	int rc = 0;

	if (!v)
		return -ENOMEM;
	*sum = 0;
	if (bpf_map_lookup_elem(fd, key, v))
		rc = -errno;
	else
		for (int i = 0; i < x->ncpu; i++)
			*sum += v[i];
	free(v);
	return rc;
}

int tg_xdp_counters(struct tg_xdp *x, uint64_t out[TG_PT_C__COUNT])
{
	int fd = bpf_map__fd(x->skel->maps.stats);

	for (uint32_t i = 0; i < TG_PT_C__COUNT; i++) {
		int rc = percpu_sum(x, fd, &i, &out[i]);

		if (rc)
			return rc;
	}
	return 0;
}

int tg_xdp_rule_hits(struct tg_xdp *x, uint32_t id, uint64_t *hits)
{
	return percpu_sum(x, bpf_map__fd(x->skel->maps.hits), &id, hits);
}

int tg_xdp_attack(struct tg_xdp *x, const uint8_t addr[16], uint16_t port,
		  uint64_t until)
{
	int fd = bpf_map__fd(x->skel->maps.attack);
	struct tg_pt_dst k = { .port = port };

	memcpy(k.addr, addr, 16);
	if (!until)
		return bpf_map_delete_elem(fd, &k) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, &k, &until, 0) ? -errno : 0;
}

int tg_xdp_synrate_each(struct tg_xdp *x,
			void (*cb)(void *ctx, const uint8_t addr[16], uint64_t syns),
			void *ctx)
{
	int fd = bpf_map__fd(x->skel->maps.synrate);
	struct tg_pt_addr keys[256], k, *prev = NULL;
	int n = 0;

	while (n < 256 && !bpf_map_get_next_key(fd, prev, &keys[n])) {
		k = keys[n];
		prev = &k;
		n++;
	}
	for (int i = 0; i < n; i++) {
		uint64_t s;

		if (!percpu_sum(x, fd, &keys[i], &s))
			cb(ctx, keys[i].addr, s);
		bpf_map_delete_elem(fd, &keys[i]);
	}
	return 0;
}

static int on_ring(void *ctx, void *data, size_t len)
{
	struct tg_xdp *x = ctx;

	if (len >= sizeof(struct tg_pt_event) && x->ev_cb)
		x->ev_cb(x->ev_ctx, data);
	return 0;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct tg_xdp *x = ctx;

	if (len >= sizeof(struct tg_pt_sample) && x->sm_cb)
		x->sm_cb(x->sm_ctx, data);
	return 0;
}

int tg_xdp_events_fd(struct tg_xdp *x)
{
	if (!x->rb)
		x->rb = ring_buffer__new(bpf_map__fd(x->skel->maps.events),
					 on_ring, x, NULL);
	return x->rb ? ring_buffer__epoll_fd(x->rb) : -1;
}

int tg_xdp_samples(struct tg_xdp *x,
		   void (*cb)(void *ctx, const struct tg_pt_sample *s), void *ctx)
{
	int fd = bpf_map__fd(x->skel->maps.cfg);
	struct tg_pt_cfg c;
	uint32_t zero = 0;

	if (tg_xdp_events_fd(x) < 0)
		return -ENOMEM;
	if (ring_buffer__add(x->rb, bpf_map__fd(x->skel->maps.synsample),
			     on_sample, x))
		return -errno;
	x->sm_cb = cb;
	x->sm_ctx = ctx;
	if (bpf_map_lookup_elem(fd, &zero, &c))
		return -errno;
	c.sample = 1;
	return bpf_map_update_elem(fd, &zero, &c, 0) ? -errno : 0;
}

int tg_xdp_events_poll(struct tg_xdp *x,
		       void (*cb)(void *ctx, const struct tg_pt_event *ev),
		       void *ctx)
{
	if (!x->rb && tg_xdp_events_fd(x) < 0)
		return -EIO;
	x->ev_cb = cb;
	x->ev_ctx = ctx;
	return ring_buffer__consume(x->rb);
}

void tg_xdp_close(struct tg_xdp *x)
{
	if (!x)
		return;
	ring_buffer__free(x->rb);
	if (!x->pin) {
		if (x->tc_attached) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = x->ifindex,
				    .attach_point = BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, to, .handle = 0x7467, .priority = 1);

			bpf_tc_detach(&hook, &to);
			if (x->tc_hook_created) {
				hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
				bpf_tc_hook_destroy(&hook);
			}
		}
	}
	if (x->link_fd >= 0)
		close(x->link_fd);
	tg_protect__destroy(x->skel);
	free(x);
}

#endif /* TG_HAVE_BPF */
