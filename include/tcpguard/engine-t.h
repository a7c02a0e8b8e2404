/* SPDX-License-Identifier: MIT */
/*
 * Types of the engine: its configuration, the callback through which ended
 * sessions leave it, and the counters it keeps. The engine is the whole
 * core behind one handle; cli/ builds a tg_engine_cfg, feeds frames, and
 * receives each session exactly once through on_end.
 */
#ifndef TG_ENGINE_T_H
#define TG_ENGINE_T_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpguard/cause-t.h"
#include "tcpguard/decode-t.h"
#include "tcpguard/detect-t.h"
#include "tcpguard/session-t.h"

struct tg_engine;

/* Called once per session when it ends (closed and lingered, timed out,
 * evicted, or flushed at the end), with the evidence kept for it and the
 * diagnosed cause. All three are valid only during the call. */
typedef void (*tg_session_cb)(void *ctx, const struct tg_session *s,
			      const struct tg_evidence *ev,
			      const struct tg_cause_info *cause);

/* Called for every tracked packet right after tracking, where the
 * engine's own detector sees it (after any session that the packet's
 * time or its SYN ended): @s is its session, borrowed for the call,
 * @created when the packet made it. Lets a caller run detection
 * elsewhere, on the same calls in the same order. */
typedef void (*tg_packet_cb)(void *ctx, const struct tg_pkt *p,
			     const struct tg_session *s, bool from_orig,
			     bool created);

/* Default idle timeouts, PAN-OS style (seconds). */
#define TG_DEFAULT_TIMEOUT_INIT_S        5
#define TG_DEFAULT_TIMEOUT_HANDSHAKE_S   10
#define TG_DEFAULT_TIMEOUT_ESTABLISHED_S 3600
#define TG_DEFAULT_TIMEOUT_HALF_CLOSED_S 120
#define TG_DEFAULT_TIMEOUT_TIME_WAIT_S   15
/* Room for 1 M concurrent sessions by default. */
#define TG_DEFAULT_MAX_FLOWS (1u << 20)

struct tg_engine_cfg {
	struct tg_decode_cfg decode;
	uint32_t max_flows;               /* 0: TG_DEFAULT_MAX_FLOWS */
	/* Nonzero: a byte budget for the engine and its tables; the flow
	 * table gets the most sessions that fit (max_flows is ignored). */
	uint64_t max_memory;
	uint32_t timeout_ms[TG_TIMER__COUNT]; /* 0: the default for that timer */
	uint64_t uid_seed;                /* makes uids differ between runs */
	/* Ports Zeek would call likely server ports: a session whose first
	 * packet is not a plain SYN and comes from such a port is taken to
	 * come from the responder. NULL: Zeek's default set (all base
	 * protocol scripts); with n_server_ports 0 and a non-NULL pointer:
	 * none, as Zeek run bare (-b). */
	const uint16_t *server_ports;
	uint32_t n_server_ports;
	tg_session_cb on_end;
	void *cb_ctx;
	/* Attack detection (detect-t.h): off unless detect.enabled; alerts
	 * reach on_alert(cb_ctx, alert) when tg_detect_flush is called on
	 * tg_engine_detect(). */
	struct tg_detect_cfg detect;
	tg_alert_cb on_alert;
	tg_packet_cb on_packet;           /* optional */
	/* Detection is configured (detect) but the caller runs it on what
	 * on_packet and on_end hand over: the engine keeps no detector of
	 * its own, and max_memory still leaves room for one, so the table
	 * is the one the engine would have with its detector. */
	bool detect_elsewhere;
	/* Track sessions only: no reset evidence, every cause "unknown"
	 * (for an engine whose sessions feed a detector and nothing else). */
	bool no_evidence;
};

struct tg_stats {
	uint64_t frames;
	uint64_t tcp_packets;             /* frames that reached TCP tracking */
	uint64_t decode[TG_DEC__COUNT];   /* frames by decode verdict */
	uint64_t tcp_opts[TG_OPT__COUNT]; /* TCP option parse outcomes */
	uint64_t ts_backwards;            /* frames older than the one before */
	uint64_t sessions;                /* sessions created */
	uint64_t ended[TG_END__COUNT];
	uint64_t conn_state[TG_CS__COUNT];
	uint64_t cause[TG_CAUSE__COUNT];
	uint64_t evicted;                 /* sessions ended by table pressure */
	uint64_t rare_full;               /* times the side pool ran out */
	uint64_t reused;                  /* new SYN on a closed tuple */
	uint32_t active;                  /* sessions in the table now */
	uint32_t active_peak;
	uint32_t max_flows;
	uint32_t session_bytes;           /* flow-table bytes per flow, all
	                                   * arrays (tg_flow_bytes / cap) */
};

#endif
