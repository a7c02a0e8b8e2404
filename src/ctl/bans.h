/* SPDX-License-Identifier: MIT */
/*
 * Bans: the fail2ban-style policy that turns verified failures into bans,
 * the ban list itself and its state file. Used by `tcpguard protect`
 * (which applies bans to the XDP deny map or an nftables set) and by
 * `tcpguard bans` (which edits the state file and tells protect to
 * reload). Pure bookkeeping plus file I/O: no BPF here, so it builds and
 * is tested without BPF support (tests/unit/test_bans.c). tg_jail_counts
 * is the rule that decides which ended sessions are failures at all.
 *
 * Times are wall-clock seconds (time(NULL)) so bans survive a restart;
 * the XDP side converts them to monotonic deadlines when applying them.
 * Expired bans stay in the list (inactive) for `forget_s` so a repeat
 * offender's next ban is longer (bantime increment).
 */
#ifndef TG_CTL_BANS_H
#define TG_CTL_BANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpguard/session-t.h"

/* An address prefix, IPv4 (v4, plen <= 32, addr[0..3]) or IPv6. */
struct tg_pfx {
	uint8_t addr[16];
	uint8_t plen;
	bool v4;
};

/* Parses "a.b.c.d[/n]" or "x::y[/n]"; 0 or -EINVAL. Host bits are
 * cleared. */
int tg_pfx_parse(const char *s, struct tg_pfx *p);

/* Formats @p ("10.94.0.0/16", a bare address for a host prefix) into
 * @buf (at least 64 bytes). */
void tg_pfx_format(const struct tg_pfx *p, char *buf, size_t len);

/* Whether @addr (16 bytes, IPv4 as ::ffff:a.b.c.d) lies in @p. */
bool tg_pfx_contains(const struct tg_pfx *p, const uint8_t addr[16]);

/* The host prefix of @addr (16 bytes, IPv4 mapped). */
void tg_pfx_host(struct tg_pfx *p, const uint8_t addr[16]);

struct tg_ban {
	struct tg_pfx pfx;
	int64_t since_s;
	int64_t until_s;        /* 0: permanent */
	uint32_t count;         /* times banned so far (1 for the first) */
	char reason[48];
};

struct tg_bans {
	struct tg_ban *v;
	size_t n;
	size_t cap;
};

/* Reads @path into @b, replacing its list. A missing file is an empty
 * list. Returns 0 or a negative errno with @err set ("FILE:LINE: why");
 * on error @b is left as it was: a corrupt or truncated file never loads
 * in part. */
int tg_bans_load(struct tg_bans *b, const char *path, char *err, size_t errlen);

/* Writes @b to @path atomically (temporary file, fsync, rename). */
int tg_bans_save(const struct tg_bans *b, const char *path, char *err,
		 size_t errlen);

/* Takes the advisory lock beside @path (PATH.lock); returns the fd or a
 * negative errno. tg_bans_unlock(fd) releases it. */
int tg_bans_lock(const char *path);
void tg_bans_unlock(int fd);

/* The record for exactly @p, or NULL. */
struct tg_ban *tg_bans_find(struct tg_bans *b, const struct tg_pfx *p);

/* Adds or re-arms the ban of @p until @until_s (0: permanent); count
 * goes up by one. Returns the record or NULL when memory is short. */
struct tg_ban *tg_bans_put(struct tg_bans *b, const struct tg_pfx *p,
			   int64_t now_s, int64_t until_s, const char *reason);

/* Removes @p; true if it was there. */
bool tg_bans_del(struct tg_bans *b, const struct tg_pfx *p);

/* Whether @ban is in force at @now_s. */
bool tg_ban_active(const struct tg_ban *ban, int64_t now_s);

/* Drops records inactive for longer than @forget_s. */
void tg_bans_purge(struct tg_bans *b, int64_t now_s, int64_t forget_s);

void tg_bans_free(struct tg_bans *b);

/* The fail2ban policy: maxretry failures within findtime ban for bantime,
 * times factor^(bans before) with increment, at most maxtime. */
struct tg_jail_cfg {
	uint32_t maxretry;
	int64_t findtime_s;
	int64_t bantime_s;
	bool increment;
	uint32_t factor;
	int64_t maxtime_s;
	int64_t forget_s;       /* how long an expired ban is remembered */
	struct tg_pfx ignore[64];
	int nignore;
};

void tg_jail_cfg_default(struct tg_jail_cfg *c);

struct tg_jail;

/* A failure table of @slots sources (oldest replaced when full). */
struct tg_jail *tg_jail_new(const struct tg_jail_cfg *c, size_t slots);
void tg_jail_free(struct tg_jail *j);

/* One verified failure of @addr at @now_s. Returns true, with the ban's
 * duration in @ban_s (0: permanent never happens here), when it reaches
 * maxretry; @prior is how many bans @addr had before (from the ban
 * list). Ignored addresses never reach maxretry. */
bool tg_jail_fail(struct tg_jail *j, const uint8_t addr[16], int64_t now_s,
		  uint32_t prior, int64_t *ban_s);

/* The ban length for the (prior+1)-th ban. */
int64_t tg_jail_bantime(const struct tg_jail_cfg *c, uint32_t prior);

/* Whether the ended session @s may count as one failure of its
 * originator: it is verified and shorter than @max_duration_ms. Verified
 * means the originator completed a handshake, which a spoofed source
 * cannot: the engine saw the responder's SYN-ACK ('h') and an ACK from
 * the originator, or @cookie_verified (XDP validated the originator's
 * SYN cookie, whose handshake the capture never sees). So SYN-only
 * evidence (a SYN never answered, a reset before the handshake, a
 * SYN-ACK nobody asked for, a closed port) never counts. Pure: reads @s
 * only. */
bool tg_jail_counts(const struct tg_session *s, bool cookie_verified,
		    uint32_t max_duration_ms);

#endif
