/* SPDX-License-Identifier: MIT */
/*
 * Types of the attack detector: its configuration (every threshold, with
 * a named default that docs/detection.md explains), the alert record that
 * leaves it through a callback, and the real-time signature attached to
 * an alert. The detector lives inside the engine (engine-t.h carries a
 * tg_detect_cfg); cli/ reads the thresholds from an INI file and out/
 * turns alerts into JSON lines and the summary section.
 *
 * An alert is a plain value: no pointers, fixed size, so the sinks may
 * copy it and the core never allocates one per event.
 */
#ifndef TG_DETECT_T_H
#define TG_DETECT_T_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpguard/decode-t.h"

struct tg_detect;

/* What was detected. Keep tg_alert_kind_str in step. */
enum tg_alert_kind {
	TG_AK_SYN_FLOOD = 0,    /* SYNs to one address (and its main port) */
	TG_AK_CARPET,           /* SYN flood spread over one destination prefix */
	TG_AK_BACKSCATTER,      /* unsolicited SYN-ACKs/RSTs to a victim prefix */
	TG_AK_REFLECTOR,        /* this host answers spoofed SYNs of one victim */
	TG_AK_SCAN_VERTICAL,    /* one source, many ports of one host */
	TG_AK_SCAN_HORIZONTAL,  /* one source, many hosts */
	TG_AK_BRUTE_FORCE,      /* one source, many short sessions to one service */
	TG_AK__COUNT
};

/* Where an alert is in its life (tg_alert.event). Keep
 * tg_alert_event_str in step. */
enum tg_alert_event {
	TG_AE_START = 0,        /* the threshold was crossed: first report */
	TG_AE_UPDATE,           /* still active: the running numbers so far */
	TG_AE_END,              /* ended (or the input did): final numbers */
	TG_AE__COUNT
};

/* PAN-OS zone-protection levels: alarm logs, activate would turn the
 * defence on (SYN cookies, the signature's rule), maximum drops all. */
enum tg_alert_level {
	TG_AL_ALARM = 0,
	TG_AL_ACTIVATE,
	TG_AL_MAXIMUM,
	TG_AL__COUNT
};

/* Signature fields (tg_sig.fields). */
#define TG_SIG_DST     0x0001  /* dst within dst/dst_plen */
#define TG_SIG_DPORT   0x0002
#define TG_SIG_SRC     0x0004  /* src within src/src_plen */
#define TG_SIG_TTL     0x0008  /* ttl_lo <= TTL <= ttl_hi */
#define TG_SIG_WIN     0x0010
#define TG_SIG_LEN     0x0020  /* IP length as Zeek counts it */
#define TG_SIG_DOFF    0x0040  /* TCP header length: the option layout's size */
#define TG_SIG_SPORT   0x0080  /* sport_lo <= sport <= sport_hi */
#define TG_SIG_IPID    0x0100  /* IPv4 identification equals ip_id */
#define TG_SIG_FLAGS   0x0200  /* (flags & FIN|SYN|RST|ACK) == flags */

/* A header predicate that matches attack packets, rendered as a BPF
 * expression and an nftables rule by the outputs, and measured on the
 * capture: tp attack packets matched, fn attack packets missed, fp other
 * packets matched (fp_completed of them from sources whose handshake
 * completed). */
struct tg_sig {
	uint32_t fields;
	struct tg_addr dst;
	struct tg_addr src;
	uint8_t dst_plen;       /* prefix length on the address's own family */
	uint8_t src_plen;
	uint8_t ttl_lo;
	uint8_t ttl_hi;
	uint8_t flags;          /* over TG_TCP_FIN|SYN|RST|ACK */
	uint8_t doff;           /* TCP header bytes */
	uint8_t ip_ver;
	bool measured;
	bool block_ok;          /* false: it would also block sources that
	                         * completed a handshake; log, do not drop */
	uint16_t dport;
	uint16_t win;
	uint16_t len;
	uint16_t sport_lo;
	uint16_t sport_hi;
	uint16_t ip_id;
	uint64_t tp;
	uint64_t fn;
	uint64_t fp;
	uint64_t fp_completed;
};

#define TG_ALERT_TOP 5

/* One address (with a port where it matters) and how many attack packets
 * or sessions it accounts for. */
struct tg_alert_top {
	struct tg_addr addr;
	uint16_t port;
	uint64_t count;
};

struct tg_alert {
	uint32_t id;            /* 1, 2, ... in order of start; the same in
	                         * every event of one alert */
	uint8_t event;          /* enum tg_alert_event */
	uint8_t kind;           /* enum tg_alert_kind */
	uint8_t level;          /* highest enum tg_alert_level reached */
	uint8_t target_plen;    /* 0 for a single address (or a source) */
	bool open;              /* still active when reported */
	struct tg_addr target;  /* victim, prefix, or the reflecting host */
	uint16_t target_port;   /* 0: many ports */
	struct tg_addr source;  /* scans, brute force, reflector: the source
	                         * (for a reflector: the spoofed victim) */
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t level_ns[TG_AL__COUNT]; /* when each level was first reached, 0: never */
	double peak_pps;        /* highest event rate over one window */
	double baseline_pps;    /* the target's learned normal rate */
	uint64_t packets;       /* attack packets */
	uint64_t bytes;         /* their IP bytes */
	uint64_t sessions;      /* sessions (scans, brute force) */
	uint64_t distinct_src;  /* estimated (HyperLogLog) */
	uint64_t distinct_dst;  /* hosts (carpet, horizontal scan) */
	uint64_t distinct_ports;/* vertical scan */
	/* SYN flood and carpet bombing */
	uint64_t completed;     /* handshakes that completed to the target */
	uint64_t synack_rexmit; /* SYN-ACK retransmissions by the target */
	uint64_t half_open_peak;
	uint64_t single_syn;    /* ended sessions whose source never retried */
	uint64_t retried;       /* ended sessions with SYN retransmissions */
	uint64_t never_answered;/* SYN-ACK sent, nothing came back */
	uint8_t ttl_min;
	uint8_t ttl_max;
	uint16_t ttl_distinct;
	uint16_t layouts;       /* distinct TCP option layouts */
	/* Reflection: what the reflector sent to the victim and received. */
	uint64_t out_pkts;
	uint64_t out_bytes;
	uint64_t in_pkts;
	uint64_t in_bytes;
	struct tg_alert_top top_src[TG_ALERT_TOP];
	struct tg_alert_top top_dst[TG_ALERT_TOP];
	bool has_sig;
	struct tg_sig sig;
};

/* Called for each alert event: the end of every alert (tg_detect_flush)
 * and, with tg_detect_cfg.events, its start and updates as they happen.
 * @a is valid during the call. */
typedef void (*tg_alert_cb)(void *ctx, const struct tg_alert *a);

/* Detector configuration. tg_detect_cfg_default fills the documented
 * defaults; every field is a threshold or a table size the INI file can
 * set (docs/detection.md). Rates are events per second over one window. */
struct tg_detect_cfg {
	bool enabled;
	uint32_t window_ms;           /* rate window */
	uint32_t quiet_ms;            /* an alert ends after this long below alarm */
	uint32_t update_ms;           /* events: an active alert reports its
	                               * running numbers at most this often (0: never) */
	bool events;                  /* report start and update events too, not
	                               * only the end: live use (set by the caller,
	                               * not by the INI file) */
	/* SYN flood, per destination address (and carpet, per prefix). */
	uint32_t syn_alarm_pps;
	uint32_t syn_activate_pps;
	uint32_t syn_maximum_pps;
	uint32_t syn_min_sources;     /* distinct sources at alarm */
	double syn_max_completion;    /* a window completing more is normal load */
	double baseline_alpha;        /* EWMA weight of one window */
	double baseline_factor;       /* alarm needs rate > factor x baseline */
	uint32_t baseline_windows;    /* windows before the baseline counts */
	uint32_t carpet_alarm_pps;    /* per prefix */
	uint32_t carpet_min_hosts;
	uint8_t prefix4;              /* carpet aggregation, IPv4 */
	uint8_t prefix6;              /* IPv6, first level */
	uint8_t prefix6_wide;         /* IPv6, second level (0: off) */
	/* Reflection. */
	uint32_t backscatter_alarm_pps; /* unsolicited SYN-ACK/RST per victim prefix */
	uint32_t reflector_min_rexmit;  /* SYN-ACK retransmissions to one source */
	double reflector_min_amp;       /* packets out / in */
	/* Scans and brute force (per source, over a window of sessions). */
	uint32_t scan_window_ms;
	uint32_t scan_min_ports;
	uint32_t scan_min_hosts;
	double scan_min_fail;         /* share of sessions REJ/S0-like */
	uint32_t brute_window_ms;
	uint32_t brute_min_sessions;
	uint32_t brute_max_duration_ms;
	uint16_t brute_ports[16];     /* 0-terminated */
	uint32_t admit_min;           /* count-min estimate before a source gets state */
	/* Signatures. */
	double sig_min_share;         /* a field value must cover this share of attack packets */
	double sig_max_other;         /* ... and at most this share of other traffic */
	/* Tables (fixed at start). */
	uint32_t max_entities;        /* tracked targets/sources, power of two */
	uint32_t max_alerts;
	uint32_t sketch_width;        /* count-min columns per row, power of two */
	uint32_t bloom_bits_log2;     /* completed-source filter */
};

/* Counters of the detector itself. */
struct tg_detect_stats {
	uint64_t packets;          /* packets examined */
	uint64_t entities_evicted; /* entity replaced because its table was full */
	uint64_t admitted;         /* sources given state after the sketch said so */
	uint64_t alerts;
	uint64_t alerts_dropped;   /* alert table full */
	uint32_t alerts_open;      /* alerts active now */
	uint32_t entities_used;
	uint32_t entities_max;
	uint64_t memory_bytes;     /* all tables, fixed at start */
};

#endif
