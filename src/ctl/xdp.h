/* SPDX-License-Identifier: MIT */
/*
 * The protect data path's control plane: loads src/bpf/protect.bpf.c
 * through its libbpf skeleton, attaches the XDP program (native mode when
 * the driver has it, generic otherwise) and the TC ingress program, and
 * fills and reads the maps. Without BPF support at build time every call
 * returns -EOPNOTSUPP and tg_xdp_built_in() says so.
 *
 * Detach is explicit (tg_xdp_close); with opts.pin the programs stay
 * attached and the maps pinned under /sys/fs/bpf/tcpguard/IFACE.
 */
#ifndef TG_CTL_XDP_H
#define TG_CTL_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/protect.h"
#include "bans.h"

struct tg_xdp;

struct tg_xdp_opts {
	const char *iface;
	uint8_t mode;           /* enum tg_pt_mode */
	bool backscatter;
	uint32_t bs_rate_pps;
	uint32_t bs_burst;
	bool force_generic;     /* skip native mode */
	bool pin;
};

/* Whether this binary was built with BPF support. */
bool tg_xdp_built_in(void);

/* Loads, configures and attaches. On failure returns a negative errno and
 * writes a message for the user into @err (what failed and what to do). */
int tg_xdp_open(struct tg_xdp **out, const struct tg_xdp_opts *o, char *err,
		size_t errlen);

/* "native" or "generic". */
const char *tg_xdp_attach_mode(const struct tg_xdp *x);

int tg_xdp_set_port(struct tg_xdp *x, uint16_t port, bool on);

/* Adds @p to the allow or deny list; @id indexes the hit counters (0 for
 * bans), @ban marks a ban, @expires_mono_ns 0 = never. */
int tg_xdp_rule_add(struct tg_xdp *x, const struct tg_pfx *p, bool allow,
		    uint32_t id, bool ban, uint64_t expires_mono_ns);
int tg_xdp_rule_del(struct tg_xdp *x, const struct tg_pfx *p, bool allow);

/* Every ban entry in the deny maps, for the control plane to reconcile
 * with its list: @cb(@ctx, prefix) for each. */
int tg_xdp_bans_each(struct tg_xdp *x,
		     void (*cb)(void *ctx, const struct tg_pfx *p), void *ctx);

int tg_xdp_counters(struct tg_xdp *x, uint64_t out[TG_PT_C__COUNT]);
int tg_xdp_rule_hits(struct tg_xdp *x, uint32_t id, uint64_t *hits);

/* Auto mode: @port of @addr (16 bytes, IPv4 mapped; port 0: all its
 * protected ports) gets cookies until @until_mono_ns; 0 clears it. */
int tg_xdp_attack(struct tg_xdp *x, const uint8_t addr[16], uint16_t port,
		  uint64_t until_mono_ns);

/* Has XDP copy the head of every SYN it answers with a cookie to the
 * sample ring (those never reach a capture after XDP); tg_xdp_events_poll
 * then also calls @cb(@ctx, sample) for each. 0 or a negative errno. */
int tg_xdp_samples(struct tg_xdp *x,
		   void (*cb)(void *ctx, const struct tg_pt_sample *s), void *ctx);

/* Reads and clears the per-destination SYN counts. */
int tg_xdp_synrate_each(struct tg_xdp *x,
			void (*cb)(void *ctx, const uint8_t addr[16], uint64_t syns),
			void *ctx);

/* The ring buffer's fd for poll(), and its consumer: @cb per event. */
int tg_xdp_events_fd(struct tg_xdp *x);
int tg_xdp_events_poll(struct tg_xdp *x,
		       void (*cb)(void *ctx, const struct tg_pt_event *ev),
		       void *ctx);

/* Detaches (unless pinned) and frees; accepts NULL. */
void tg_xdp_close(struct tg_xdp *x);

extern const char *const tg_pt_counter_str[TG_PT_C__COUNT];
extern const char *const tg_pt_mode_str[TG_PT__MODE_COUNT];

#endif
