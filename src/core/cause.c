// SPDX-License-Identifier: MIT
/*
 * Why a session ended. The engine calls tg_cause_classify as each session
 * ends; the rules below read only the session record and the evidence the
 * TCP tracker photographed at the first reset, so every verdict can be
 * checked against the packets it names. The rules, in the order applied,
 * are the table in docs/end-reasons.md; change one and that table and the
 * golden expectations in tests/data/expected change with it.
 *
 * Sessions ended by a reset are judged on the reset: first whether the
 * endpoint whose address it carries can have sent it at all (it kept
 * talking afterwards, or its TTL does not match its own packets), then by
 * what the reset answered (a SYN, a SYN-ACK nobody asked for, a handshake
 * in progress), where its sequence number fell, and what came before it
 * (both FINs, data after a FIN, a shut window, a silent peer, unanswered
 * data). Sessions without a reset are judged by their FINs and timers.
 *
 * Pure: no I/O, no allocation. The evidence line is formatted into the
 * caller's buffer by say() below: every ended session that goes to JSON
 * gets one, and the C library's printf machinery cost more per session
 * than tracking all of its packets.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "tcpguard/cause.h"
#include "tcpguard/decode.h"
#include "tcpguard/engine.h"
#include "names.h"

/* Each name once, for the string and its length (the JSON writer's). */
#define CAUSES(X) \
	X(TG_CAUSE_GRACEFUL, "graceful") \
	X(TG_CAUSE_PORT_CLOSED, "port-closed") \
	X(TG_CAUSE_MIDDLEBOX_RESET, "middlebox-reset") \
	X(TG_CAUSE_ABORTIVE_CLOSE, "abortive-close") \
	X(TG_CAUSE_CLOSE_WITH_UNREAD_DATA, "close-with-unread-data") \
	X(TG_CAUSE_RESET_AFTER_CLOSE, "reset-after-close") \
	X(TG_CAUSE_RESET_AFTER_FIN, "reset-after-fin") \
	X(TG_CAUSE_HALF_OPEN_PEER_LOST, "half-open-peer-lost") \
	X(TG_CAUSE_ZERO_WINDOW_STALL, "zero-window-stall") \
	X(TG_CAUSE_IDLE_TIMEOUT, "idle-timeout") \
	X(TG_CAUSE_HANDSHAKE_ABORT, "handshake-abort") \
	X(TG_CAUSE_UNSOLICITED_SYNACK, "unsolicited-synack") \
	X(TG_CAUSE_OUT_OF_WINDOW_RESET, "out-of-window-reset") \
	X(TG_CAUSE_SERVER_CLOSED_IMMEDIATELY, "server-closed-immediately") \
	X(TG_CAUSE_HALF_CLOSED, "half-closed") \
	X(TG_CAUSE_NO_ANSWER, "no-answer") \
	X(TG_CAUSE_AGED_OUT, "aged-out") \
	X(TG_CAUSE_STILL_OPEN, "still-open") \
	X(TG_CAUSE_EVICTED, "evicted") \
	X(TG_CAUSE_REUSED, "reused") \
	X(TG_CAUSE_UNKNOWN, "unknown")

const char *const tg_cause_str[TG_CAUSE__COUNT] = { CAUSES(TG_NAME_STR) };
const uint8_t tg_cause_len[TG_CAUSE__COUNT] = { CAUSES(TG_NAME_LEN) };

const char *const tg_cause_meaning[TG_CAUSE__COUNT] = {
	[TG_CAUSE_GRACEFUL] = "both sides closed with FIN",
	[TG_CAUSE_PORT_CLOSED] = "the SYN was answered with a reset: nothing listening, or a reject rule",
	[TG_CAUSE_MIDDLEBOX_RESET] = "the reset did not come from the endpoint whose address it carries",
	[TG_CAUSE_ABORTIVE_CLOSE] = "an endpoint closed with a reset instead of FIN (SO_LINGER 0, pool or health-check close)",
	[TG_CAUSE_CLOSE_WITH_UNREAD_DATA] = "an endpoint closed while its peer's last data sat unanswered (RFC 2525 2.17)",
	[TG_CAUSE_RESET_AFTER_CLOSE] = "data arrived after the endpoint had closed, so it reset (RFC 1122 4.2.2.13)",
	[TG_CAUSE_RESET_AFTER_FIN] = "a stray reset after both FINs: the transfer had completed",
	[TG_CAUSE_HALF_OPEN_PEER_LOST] = "the endpoint no longer knew the connection (restart, crash, lost state)",
	[TG_CAUSE_ZERO_WINDOW_STALL] = "it ended while a receiver advertised a zero window",
	[TG_CAUSE_IDLE_TIMEOUT] = "established, then silent until the idle timer expired",
	[TG_CAUSE_HANDSHAKE_ABORT] = "reset before the handshake completed (aborted connect or half-open scan)",
	[TG_CAUSE_UNSOLICITED_SYNACK] = "a SYN-ACK arrived for a SYN nobody here sent (backscatter of spoofing)",
	[TG_CAUSE_OUT_OF_WINDOW_RESET] = "the reset's sequence number was outside the receiver's window (blind reset)",
	[TG_CAUSE_SERVER_CLOSED_IMMEDIATELY] = "the server closed right after the handshake without sending data",
	[TG_CAUSE_HALF_CLOSED] = "one side closed; the other never did before the timer expired",
	[TG_CAUSE_NO_ANSWER] = "the SYN was never answered",
	[TG_CAUSE_AGED_OUT] = "the session timer expired before the session closed",
	[TG_CAUSE_STILL_OPEN] = "still open when the capture ended",
	[TG_CAUSE_EVICTED] = "pushed out of a full flow table",
	[TG_CAUSE_REUSED] = "a new SYN on the same ports replaced it",
	[TG_CAUSE_UNKNOWN] = "the packets do not show why",
};

const char *const tg_cause_next[TG_CAUSE__COUNT] = {
	[TG_CAUSE_GRACEFUL] = "Nothing: the session closed normally.",
	[TG_CAUSE_PORT_CLOSED] = "Is the service listening on that port (ss -ltn)? Is a host firewall "
		"or a reject rule (nft/iptables 'reject with tcp reset') answering for it?",
	[TG_CAUSE_MIDDLEBOX_RESET] = "Look for a firewall, IPS, load balancer or proxy on the path: its "
		"policy or threat logs for this session (App-ID deny, threat, policy-deny).",
	[TG_CAUSE_ABORTIVE_CLOSE] = "Usually benign (SO_LINGER 0, connection pools, health checks). If the "
		"reset came mid-transfer, check the application's logs for an error or crash.",
	[TG_CAUSE_CLOSE_WITH_UNREAD_DATA] = "The application closed without reading what the peer sent: "
		"check it for rejected requests (400/413), timeouts, or a crash.",
	[TG_CAUSE_RESET_AFTER_CLOSE] = "The peer kept sending after the close: check for pipelined or "
		"late requests and whether the application closes too early.",
	[TG_CAUSE_RESET_AFTER_FIN] = "Benign: the data was delivered; the reset only tore down what "
		"was left (common with clients that exit right after closing).",
	[TG_CAUSE_HALF_OPEN_PEER_LOST] = "The endpoint lost the connection: check it for a restart, crash, "
		"failover, or a NAT/conntrack entry that expired during the silence.",
	[TG_CAUSE_ZERO_WINDOW_STALL] = "The receiving application stopped reading: check its CPU, locks, "
		"disk, or a downstream it was waiting on.",
	[TG_CAUSE_IDLE_TIMEOUT] = "Idle longer than the session timeout: use TCP keep-alives shorter than "
		"the firewall/load-balancer idle timers, or raise those timers.",
	[TG_CAUSE_HANDSHAKE_ABORT] = "A connect aborted before completion, or a half-open (SYN) scan: "
		"check the source for scanning across ports or hosts.",
	[TG_CAUSE_UNSOLICITED_SYNACK] = "Backscatter: someone spoofed this address in SYNs to the server. "
		"Check for a reflection attack aimed at this host or prefix.",
	[TG_CAUSE_OUT_OF_WINDOW_RESET] = "A blind reset attempt or a badly behaved middlebox: the receiver "
		"drops such resets (RFC 5961); look for many of them across sessions.",
	[TG_CAUSE_SERVER_CLOSED_IMMEDIATELY] = "The server refused after accepting: TCP wrappers "
		"(hosts.allow/deny), fail2ban, sshd MaxStartups, or a connection limit.",
	[TG_CAUSE_HALF_CLOSED] = "One side never finished closing: check the application that kept its "
		"side open, or a middlebox that dropped the last FIN.",
	[TG_CAUSE_NO_ANSWER] = "No reply to the SYN: is the host up, is a firewall dropping (not "
		"rejecting) the port, is the route back broken?",
	[TG_CAUSE_AGED_OUT] = "The handshake or close never completed before the timer: look for packet "
		"loss or asymmetric routing (the capture may see one direction only).",
	[TG_CAUSE_STILL_OPEN] = "The capture ended first: capture longer to see how it ends.",
	[TG_CAUSE_EVICTED] = "The flow table was full: raise --max-flows or --max-memory.",
	[TG_CAUSE_REUSED] = "A client reused the port with a new connection: check for port exhaustion "
		"or aggressive reconnects.",
	[TG_CAUSE_UNKNOWN] = "Look at the timeline around the last packets.",
};

const char *const tg_rst_seq_str[TG_RST_SEQ__COUNT] = {
	"unknown", "exact", "in-window", "out-of-window",
};

/* A bounded writer into a caller's buffer: always NUL-terminated,
 * silently cut at the end like snprintf. */
struct out {
	char *p;
	char *end;      /* last byte, kept for the NUL */
};

/* Starts writing into @why, @len bytes with the NUL (false when there
 * is nowhere to write: @why NULL or @len 0). */
static inline bool out_begin(struct out *o, char *why, size_t len)
{
	if (!why || !len)
		return false;
	o->p = why;
	o->end = why + len - 1;
	return true;
}

static inline __attribute__((always_inline))
void out_mem(struct out *o, const char *str, size_t n)
{
	if (n > (size_t)(o->end - o->p))
		n = (size_t)(o->end - o->p);
	memcpy(o->p, str, n);
	o->p += n;
}

static inline __attribute__((always_inline))
void out_str(struct out *o, const char *str)
{
	out_mem(o, str, strlen(str));
}

static inline __attribute__((always_inline))
void out_u64(struct out *o, uint64_t v, int width)
{
	char t[24];
	int i = 24;

	/* Two digits per division. */
	while (v >= 100) {
		i -= 2;
		memcpy(t + i, tg_digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		i -= 2;
		memcpy(t + i, tg_digit_pairs + 2 * v, 2);
	} else {
		t[--i] = (char)('0' + v);
	}
	while (24 - i < width)
		t[--i] = '0';
	out_mem(o, t + i, (size_t)(24 - i));
}

/* The subset of printf the evidence words use: %s, %u, %d, %llu and
 * %0Nu, checked against the arguments by the format attribute. */
static size_t vfmt(char *buf, size_t len, const char *f, va_list ap)
{
	struct out o;

	if (!out_begin(&o, buf, len))
		return 0;
	for (; *f && o.p < o.end; f++) {
		int width = 0;

		if (*f != '%') {
			const char *pct = strchr(f, '%');
			size_t n = pct ? (size_t)(pct - f) : strlen(f);

			out_mem(&o, f, n);
			f += n - 1;
			continue;
		}
		f++;
		if (*f == '0')
			for (f++; *f >= '0' && *f <= '9'; f++)
				width = width * 10 + (*f - '0');
		if (*f == 's') {
			out_str(&o, va_arg(ap, const char *));
		} else if (*f == 'u') {
			out_u64(&o, va_arg(ap, unsigned), width);
		} else if (*f == 'd') {
			int v = va_arg(ap, int);

			if (v < 0) {
				*o.p++ = '-';
				out_u64(&o, (uint64_t)-(int64_t)v, width);
			} else {
				out_u64(&o, (uint64_t)v, width);
			}
		} else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'u') {
			out_u64(&o, va_arg(ap, unsigned long long), width);
			f += 2;
		} else if (*f == '%') {
			*o.p++ = '%';
		} else {
			break;  /* not used here; the attribute keeps it so */
		}
	}
	*o.p = '\0';
	return (size_t)(o.p - buf);
}

/* Formats the evidence words only when someone will read them: the
 * verdict itself needs none, and most sessions are never printed. */
__attribute__((format(printf, 3, 4)))
static size_t say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!why)
		return 0;
	va_start(ap, fmt);
	n = vfmt(why, len, fmt, ap);
	va_end(ap);
	return n;
}

static const char *side(int dir)
{
	return dir ? "server" : "client";
}

/* The reset's own facts, appended after the cause-specific words:
 * "frame %u: %s from the %s, TTL %u%s, IP ID %u, seq %s, %u.%03u ms after
 * the %s's last packet" written piece by piece (every reset session
 * prints it, and parsing that format cost as much as the rest of the
 * record). */
#define OUT_LIT(o, lit) out_mem((o), (lit), sizeof(lit) - 1)

static size_t rst_facts(const struct tg_session *s, const struct tg_evidence *ev,
			char *buf, size_t len)
{
	int x = ev->r.rst_dir;
	struct out o;

	(void)s;
	if (!out_begin(&o, buf, len))
		return 0;
	OUT_LIT(&o, "frame ");
	out_u64(&o, ev->r.rst_pkt, 0);
	OUT_LIT(&o, ": ");
	out_str(&o, ev->flags & TG_EV_RST_ACK ? "RST+ACK" : "RST");
	OUT_LIT(&o, " from the ");
	out_str(&o, side(x));
	OUT_LIT(&o, ", TTL ");
	out_u64(&o, ev->r.rst_ttl, 0);
	if (ev->r.sent_before) {
		OUT_LIT(&o, " (its packets before: ");
		out_u64(&o, ev->r.ttl_min_before, 0);
		OUT_LIT(&o, "-");
		out_u64(&o, ev->r.ttl_max_before, 0);
		OUT_LIT(&o, ")");
	} else {
		OUT_LIT(&o, " (nothing else from it)");
	}
	OUT_LIT(&o, ", IP ID ");
	out_u64(&o, ev->r.rst_ipid, 0);
	OUT_LIT(&o, ", seq ");
	out_str(&o, tg_rst_seq_str[ev->r.rst_seq_class]);
	OUT_LIT(&o, ", ");
	out_u64(&o, ev->r.rst_gap_us / 1000, 0);
	OUT_LIT(&o, ".");
	out_u64(&o, ev->r.rst_gap_us % 1000, 3);
	OUT_LIT(&o, " ms after the ");
	out_str(&o, ev->flags & TG_EV_PREV_FROM_PEER ? side(!x) : side(x));
	OUT_LIT(&o, "'s last packet");
	*o.p = '\0';
	return (size_t)(o.p - buf);
}

static bool ttl_mismatch(const struct tg_evidence *ev)
{
	if (!ev->r.sent_before)
		return false;
	if (ev->r.ttl_min_before == ev->r.ttl_max_before)
		return ev->r.rst_ttl != ev->r.ttl_min_before;
	return ev->r.rst_ttl + 1 < ev->r.ttl_min_before || ev->r.rst_ttl > ev->r.ttl_max_before + 1;
}

static enum tg_cause reset_cause(const struct tg_session *s, const struct tg_evidence *ev,
				 char *why, size_t len)
{
	int x = ev->r.rst_dir;
	const struct tg_dir *xd = &s->d[x], *yd = &s->d[!x];
	bool established = ev->flags & TG_EV_ESTABLISHED;

	/* A reset the receiver must drop says nothing about the endpoint,
	 * and the connection survives it: a blind reset. */
	if (ev->r.rst_seq_class == TG_RST_SEQ_OUT_OF_WINDOW) {
		say(why, len, "reset seq is %d bytes from what the %s expected, window %u",
			 ev->r.rst_seq_off, side(!x), ev->r.rst_rcv_win);
		return TG_CAUSE_OUT_OF_WINDOW_RESET;
	}
	if (ev->r.after_pkts) {
		say(why, len, "the %s sent %u more packet%s after the reset",
			 side(x), ev->r.after_pkts, ev->r.after_pkts > 1 ? "s" : "");
		return TG_CAUSE_MIDDLEBOX_RESET;
	}
	/* A sender that had sent nothing but SYNs may have built them itself
	 * (a raw-socket scanner with its own TTL) while its kernel sent the
	 * reset: the TTL proves nothing then. */
	if (ttl_mismatch(ev) && (ev->r.flags_before & ~(unsigned)TG_TCP_SYN)) {
		say(why, len, "reset TTL %u does not match the %s's own TTL %u-%u",
			 ev->r.rst_ttl, side(x), ev->r.ttl_min_before, ev->r.ttl_max_before);
		return TG_CAUSE_MIDDLEBOX_RESET;
	}
	/* A stack that stamps every segment with a timestamp stamps the
	 * resets of its sockets too (Linux tcp_send_active_reset); only its
	 * socketless resets (bare RST) go without. */
	if (established && (ev->flags & TG_EV_RST_ACK) && !(ev->flags & TG_EV_RST_TS) &&
	    (ev->flags & (x ? TG_EV_TS_1 : TG_EV_TS_0)) &&
	    !(ev->flags & (x ? TG_EV_TS_GAP_1 : TG_EV_TS_GAP_0))) {
		say(why, len, "the reset has no timestamp option though every other "
			 "packet of the %s carried one", side(x));
		return TG_CAUSE_MIDDLEBOX_RESET;
	}
	if ((ev->flags & TG_EV_SYNACK_FIRST) && !(xd->flags_seen & TG_TCP_SYN)) {
		say(why, len, "the %s reset a SYN-ACK it never asked for", side(x));
		return TG_CAUSE_UNSOLICITED_SYNACK;
	}
	if (x == 1 && !(xd->flags_seen & TG_TCP_SYN) && (yd->flags_seen & TG_TCP_SYN)) {
		say(why, len, "the server answered the SYN with a reset");
		return TG_CAUSE_PORT_CLOSED;
	}
	if (!established) {
		say(why, len, "the %s reset before the handshake completed", side(x));
		return TG_CAUSE_HANDSHAKE_ABORT;
	}
	if (ev->flags & TG_EV_FIN_BOTH_BEFORE) {
		say(why, len, "both sides had closed with FIN before the reset");
		return TG_CAUSE_RESET_AFTER_FIN;
	}
	if ((ev->flags & TG_EV_FIN_SENDER_BEFORE) &&
	    (ev->flags & (x ? TG_EV_DATA_AFTER_FIN_1 : TG_EV_DATA_AFTER_FIN_0))) {
		say(why, len, "the %s had closed, then the %s sent more data",
			 side(x), side(!x));
		return TG_CAUSE_RESET_AFTER_CLOSE;
	}
	if (ev->flags & TG_EV_ZW_AT_RST) {
		say(why, len, "a zero window was open at the reset (%u probes)",
			 ev->d[0].zw_probes + ev->d[1].zw_probes);
		return TG_CAUSE_ZERO_WINDOW_STALL;
	}
	if ((ev->flags & TG_EV_PREV_FROM_PEER) && !(ev->flags & TG_EV_RST_ACK)) {
		say(why, len, "a bare reset answering the %s's packet after "
			 "%u.%03u s of silence: the %s had no connection", side(!x),
			 ev->r.trig_gap_us / 1000000, ev->r.trig_gap_us / 1000 % 1000, side(x));
		return TG_CAUSE_HALF_OPEN_PEER_LOST;
	}
	/* A server that resets right after the client's data never answered
	 * it. (A client resetting after the server's data is the ordinary
	 * end of a response read in full: abortive, below.) */
	if (x == 1 && (ev->flags & TG_EV_ANY_DATA) && !(ev->flags & TG_EV_LAST_DATA_1)) {
		say(why, len, "the %s's last data was acknowledged but never answered",
			 side(!x));
		return TG_CAUSE_CLOSE_WITH_UNREAD_DATA;
	}
	say(why, len, "the %s reset instead of closing with FIN%s", side(x),
		 ev->flags & TG_EV_ANY_DATA ? " after its own data" : ", no data exchanged");
	return TG_CAUSE_ABORTIVE_CLOSE;
}

/* The words of a session that ended without a reset, written piece by
 * piece like a reset's facts: every session of a SYN flood prints one. */
static enum tg_cause quiet_cause(const struct tg_session *s, const struct tg_evidence *ev,
				 char *why, size_t len, size_t *n)
{
	const struct tg_dir *o = &s->d[0], *r = &s->d[1];
	bool ofin = o->dflags & TG_DF_FIN_SEEN, rfin = r->dflags & TG_DF_FIN_SEEN;
	bool established = ev->flags & TG_EV_ESTABLISHED;
	enum tg_cause c;
	struct out w;

	/* "Immediately": the client had nothing to say, or the FIN came within
	 * a second of the SYN, as refusals by TCP wrappers or sshd MaxStartups
	 * do; a server that took the client's data, sat on it and closed
	 * later ended like any other. */
	if (rfin && (s->flags & TG_SF_RESP_CLOSED_FIRST) && established &&
	    tg_session_bytes(s, 1) == 0 && ev->resp_fin_ms &&
	    (ev->resp_fin_ms <= 1001 || tg_session_bytes(s, 0) == 0)) {
		c = TG_CAUSE_SERVER_CLOSED_IMMEDIATELY;
		if (!out_begin(&w, why, len))
			return c;
		OUT_LIT(&w, "server FIN ");
		out_u64(&w, ev->resp_fin_ms - 1, 0);
		OUT_LIT(&w, " ms after the SYN with no data of its own (client sent ");
		out_u64(&w, tg_session_bytes(s, 0), 0);
		OUT_LIT(&w, " bytes)");
	} else if (ofin && rfin) {
		c = TG_CAUSE_GRACEFUL;
		if (!out_begin(&w, why, len))
			return c;
		out_str(&w, s->flags & TG_SF_RESP_CLOSED_FIRST ? "server" : "client");
		OUT_LIT(&w, " closed first");
	} else if ((o->dflags | r->dflags) & TG_DF_ZW_OPEN) {
		c = s->end == TG_END_OPEN ? TG_CAUSE_STILL_OPEN : TG_CAUSE_ZERO_WINDOW_STALL;
		if (!out_begin(&w, why, len))
			return c;
		OUT_LIT(&w, "the ");
		out_str(&w, o->dflags & TG_DF_ZW_OPEN ? "client" : "server");
		OUT_LIT(&w, "'s window was still zero at the end");
	} else if (s->end == TG_END_OPEN) {
		c = TG_CAUSE_STILL_OPEN;
		if (!out_begin(&w, why, len))
			return c;
		OUT_LIT(&w, "last packet ");
		out_str(&w, ofin || rfin ? "half-closed before" : "open before");
		OUT_LIT(&w, " the end of the capture");
	} else if (ofin || rfin) {
		c = TG_CAUSE_HALF_CLOSED;
		if (!out_begin(&w, why, len))
			return c;
		OUT_LIT(&w, "only the ");
		out_str(&w, ofin ? "client" : "server");
		OUT_LIT(&w, " sent FIN");
	} else if (o->state == TG_EP_SYN_SENT && r->state == TG_EP_INACTIVE) {
		c = TG_CAUSE_NO_ANSWER;
		if (!out_begin(&w, why, len))
			return c;
		out_u64(&w, o->pkts, 0);
		if (o->pkts > 1)
			OUT_LIT(&w, " SYNs, no reply");
		else
			OUT_LIT(&w, " SYN, no reply");
	} else if (established) {
		c = TG_CAUSE_IDLE_TIMEOUT;
		if (!out_begin(&w, why, len))
			return c;
		OUT_LIT(&w, "no packet for the idle timeout after the last one");
	} else {
		c = TG_CAUSE_AGED_OUT;
		if (!out_begin(&w, why, len))
			return c;
		OUT_LIT(&w, "timer expired with the client ");
		out_str(&w, tg_ep_state_str[o->state]);
		OUT_LIT(&w, " and the server ");
		out_str(&w, tg_ep_state_str[r->state]);
	}
	*w.p = '\0';
	*n = (size_t)(w.p - why);
	return c;
}

void tg_cause_classify(const struct tg_session *s, const struct tg_evidence *ev,
		       struct tg_cause_info *out)
{
	if (s->end == TG_END_EVICTED)
		out->cause = TG_CAUSE_EVICTED;
	else if (ev->flags & TG_EV_HAVE_RST)
		out->cause = reset_cause(s, ev, NULL, 0);
	else if (s->end == TG_END_TCP_REUSE)
		out->cause = TG_CAUSE_REUSED;
	else
		out->cause = quiet_cause(s, ev, NULL, 0, NULL);
}

size_t tg_cause_describe(const struct tg_session *s, const struct tg_evidence *ev,
			 char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return 0;
	if (s->end == TG_END_EVICTED) {
		n = say(buf, len, "flow table full");
	} else if (ev->flags & TG_EV_HAVE_RST) {
		/* The cause's words, "; ", the reset's facts: written in
		 * place, each part cut at the end of @buf as a whole would be. */
		reset_cause(s, ev, buf, len);
		n = strlen(buf);
		if (n + 3 < len) {
			memcpy(buf + n, "; ", 3);
			n += 2 + rst_facts(s, ev, buf + n + 2, len - n - 2);
		}
	} else if (s->end == TG_END_TCP_REUSE) {
		n = say(buf, len, "a SYN with a new sequence number started another session");
	} else {
		quiet_cause(s, ev, buf, len, &n);
	}
	return n;
}
