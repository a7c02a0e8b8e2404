// SPDX-License-Identifier: MIT
/*
 * Ban list, state file and the fail2ban-style jail (see bans.h). The
 * state file is plain text, one ban per line, so an operator can read it:
 *
 *   # tcpguard bans v1: prefix since until count reason
 *   10.94.3.7 1760000000 1760000600 1 brute-force:22
 *
 * It is rewritten whole, through a temporary file in the same directory,
 * fsync and rename, so a crash leaves the old or the new list, never half
 * of one. Writers (protect and `tcpguard bans`) serialise on PATH.lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "bans.h"

static const uint8_t v4map[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void clear_host_bits(uint8_t *a, unsigned bytes, unsigned plen)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = plen > i * 8 ? plen - i * 8 : 0;

		if (keep < 8)
			a[i] &= (uint8_t)(0xff00 >> keep);
	}
}

int tg_pfx_parse(const char *s, struct tg_pfx *p)
{
	char buf[128], *slash, *end;
	long plen = -1;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		errno = 0;
		plen = strtol(slash, &end, 10);
		if (errno || *end || end == slash || plen < 0)
			return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->v4 = true;
		if (plen > 32)
			return -EINVAL;
		p->plen = plen < 0 ? 32 : (uint8_t)plen;
		clear_host_bits(p->addr, 4, p->plen);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		if (plen > 128)
			return -EINVAL;
		if (!memcmp(p->addr, v4map, 12)) {
			/* ::ffff:a.b.c.d is IPv4 */
			memmove(p->addr, p->addr + 12, 4);
			memset(p->addr + 4, 0, 12);
			p->v4 = true;
			p->plen = plen < 0 ? 32 : (uint8_t)(plen >= 96 ? plen - 96 : 0);
		} else {
			p->plen = plen < 0 ? 128 : (uint8_t)plen;
		}
		clear_host_bits(p->addr, p->v4 ? 4 : 16, p->plen);
		return 0;
	}
	return -EINVAL;
}

void tg_pfx_format(const struct tg_pfx *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->v4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	if (p->plen == (p->v4 ? 32 : 128))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, p->plen);
}

void tg_pfx_host(struct tg_pfx *p, const uint8_t addr[16])
{
	memset(p, 0, sizeof(*p));
	if (!memcmp(addr, v4map, 12)) {
		p->v4 = true;
		p->plen = 32;
		memcpy(p->addr, addr + 12, 4);
	} else {
		p->plen = 128;
		memcpy(p->addr, addr, 16);
	}
}

bool tg_pfx_contains(const struct tg_pfx *p, const uint8_t addr[16])
{
	const uint8_t *a = addr;
	unsigned full, rest;

	if (p->v4) {
		if (memcmp(addr, v4map, 12))
			return false;
		a = addr + 12;
	} else if (!memcmp(addr, v4map, 12)) {
		return false;
	}
	full = p->plen / 8;
	rest = p->plen % 8;
	if (memcmp(a, p->addr, full))
		return false;
	return !rest || !((a[full] ^ p->addr[full]) & (0xff00 >> rest));
}

int tg_bans_lock(const char *path)
{
	char lp[4096];
	int fd;

	snprintf(lp, sizeof(lp), "%s.lock", path);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

void tg_bans_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static struct tg_ban *grow(struct tg_bans *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct tg_ban *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		b->v = v;
		b->cap = cap;
	}
	memset(&b->v[b->n], 0, sizeof(b->v[0]));
	return &b->v[b->n++];
}

int tg_bans_load(struct tg_bans *b, const char *path, char *err, size_t errlen)
{
	struct tg_bans nb = { 0 };
	char line[512];
	unsigned num = 0;
	int rc = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT) {
			b->n = 0;
			return 0;
		}
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char pfx[128], reason[48] = "";
		int64_t since, until;
		unsigned count;
		struct tg_ban *ban;
		struct tg_pfx p;

		num++;
		/* Every record the writer makes ends in a newline: a line
		 * without one was cut short (or is too long to be a record). */
		if (!strchr(line, '\n')) {
			snprintf(err, errlen, "%s:%u: %s", path, num, feof(f) ?
				 "truncated record (no newline at the end)" :
				 "line too long for a ban record");
			rc = -EINVAL;
			goto out;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%127s %" SCNd64 " %" SCNd64 " %u %47s", pfx,
			   &since, &until, &count, reason) < 4 ||
		    tg_pfx_parse(pfx, &p)) {
			snprintf(err, errlen, "%s:%u: not a ban record", path, num);
			rc = -EINVAL;
			goto out;
		}
		ban = grow(&nb);
		if (!ban) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		ban->pfx = p;
		ban->since_s = since;
		ban->until_s = until;
		ban->count = count;
		snprintf(ban->reason, sizeof(ban->reason), "%s", reason);
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
out:
	fclose(f);
	if (rc) {
		/* All or nothing: @b keeps the list it had. */
		tg_bans_free(&nb);
		return rc;
	}
	tg_bans_free(b);
	*b = nb;
	return 0;
}

int tg_bans_save(const struct tg_bans *b, const char *path, char *err,
		 size_t errlen)
{
	char tmp[4096];
	FILE *f;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	fputs("# tcpguard bans v1: prefix since until count reason\n", f);
	for (size_t i = 0; i < b->n; i++) {
		char p[64];

		tg_pfx_format(&b->v[i].pfx, p, sizeof(p));
		fprintf(f, "%s %" PRId64 " %" PRId64 " %u %s\n", p, b->v[i].since_s,
			b->v[i].until_s, b->v[i].count,
			b->v[i].reason[0] ? b->v[i].reason : "-");
	}
	if (fflush(f) || fsync(fd))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

static bool same(const struct tg_pfx *a, const struct tg_pfx *b)
{
	return a->v4 == b->v4 && a->plen == b->plen &&
	       !memcmp(a->addr, b->addr, 16);
}

struct tg_ban *tg_bans_find(struct tg_bans *b, const struct tg_pfx *p)
{
	for (size_t i = 0; i < b->n; i++)
		if (same(&b->v[i].pfx, p))
			return &b->v[i];
	return NULL;
}

struct tg_ban *tg_bans_put(struct tg_bans *b, const struct tg_pfx *p,
			   int64_t now_s, int64_t until_s, const char *reason)
{
	struct tg_ban *ban = tg_bans_find(b, p);

	if (!ban) {
		ban = grow(b);
		if (!ban)
			return NULL;
		ban->pfx = *p;
	}
	ban->since_s = now_s;
	ban->until_s = until_s;
	ban->count++;
	snprintf(ban->reason, sizeof(ban->reason), "%s",
		 reason && *reason ? reason : "-");
	return ban;
}

bool tg_bans_del(struct tg_bans *b, const struct tg_pfx *p)
{
	struct tg_ban *ban = tg_bans_find(b, p);

	if (!ban)
		return false;
	*ban = b->v[--b->n];
	return true;
}

bool tg_ban_active(const struct tg_ban *ban, int64_t now_s)
{
	return !ban->until_s || ban->until_s > now_s;
}

void tg_bans_purge(struct tg_bans *b, int64_t now_s, int64_t forget_s)
{
	for (size_t i = 0; i < b->n;) {
		if (!tg_ban_active(&b->v[i], now_s) &&
		    now_s - b->v[i].until_s > forget_s)
			b->v[i] = b->v[--b->n];
		else
			i++;
	}
}

void tg_bans_free(struct tg_bans *b)
{
	free(b->v);
	memset(b, 0, sizeof(*b));
}

void tg_jail_cfg_default(struct tg_jail_cfg *c)
{
	memset(c, 0, sizeof(*c));
	/* fail2ban's defaults (jail.conf): 5 failures in 10 min, 10 min
	 * ban; bantime.increment doubles up to a week. */
	c->maxretry = 5;
	c->findtime_s = 600;
	c->bantime_s = 600;
	c->increment = true;
	c->factor = 2;
	c->maxtime_s = 7 * 86400;
	c->forget_s = 86400;
}

struct slot {
	uint8_t addr[16];
	int64_t last_s;
	uint32_t n;
	int64_t t[32];          /* ring of failure times */
};

struct tg_jail {
	struct tg_jail_cfg cfg;
	struct slot *s;
	size_t n;
};

struct tg_jail *tg_jail_new(const struct tg_jail_cfg *c, size_t slots)
{
	struct tg_jail *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->cfg = *c;
	if (j->cfg.maxretry < 1)
		j->cfg.maxretry = 1;
	if (j->cfg.maxretry > 32)
		j->cfg.maxretry = 32;
	j->n = slots ? slots : 1;
	j->s = calloc(j->n, sizeof(*j->s));
	if (!j->s) {
		free(j);
		return NULL;
	}
	return j;
}

void tg_jail_free(struct tg_jail *j)
{
	if (!j)
		return;
	free(j->s);
	free(j);
}

int64_t tg_jail_bantime(const struct tg_jail_cfg *c, uint32_t prior)
{
	int64_t t = c->bantime_s;

	if (c->increment)
		for (uint32_t i = 0; i < prior && t < c->maxtime_s; i++)
			t *= c->factor ? c->factor : 2;
	if (c->maxtime_s && t > c->maxtime_s)
		t = c->maxtime_s;
	return t;
}

bool tg_jail_fail(struct tg_jail *j, const uint8_t addr[16], int64_t now_s,
		  uint32_t prior, int64_t *ban_s)
{
	struct slot *s = NULL, *old = &j->s[0];
	uint32_t in_window = 0;

	for (int i = 0; i < j->cfg.nignore; i++)
		if (tg_pfx_contains(&j->cfg.ignore[i], addr))
			return false;
	for (size_t i = 0; i < j->n; i++) {
		if (j->s[i].n && !memcmp(j->s[i].addr, addr, 16)) {
			s = &j->s[i];
			break;
		}
		if (!j->s[i].n || j->s[i].last_s < old->last_s)
			old = &j->s[i];
	}
	if (!s) {
		s = old;
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, addr, 16);
	}
	s->t[s->n % 32] = now_s;
	s->n++;
	s->last_s = now_s;
	for (uint32_t i = 0; i < s->n && i < 32; i++)
		if (now_s - s->t[i] < j->cfg.findtime_s)
			in_window++;
	if (in_window < j->cfg.maxretry)
		return false;
	memset(s, 0, sizeof(*s));       /* start over after a ban */
	*ban_s = tg_jail_bantime(&j->cfg, prior);
	return true;
}

bool tg_jail_counts(const struct tg_session *s, bool cookie_verified,
		    uint32_t max_duration_ms)
{
	bool handshake = false;

	for (int i = 0; i < s->hist_len && i < TG_HIST_MAX; i++)
		if (s->hist[i] == 'h')
			handshake = (s->d[0].hist_seen & TG_HS_ACK) != 0;
	if (!handshake && !cookie_verified)
		return false;
	return (s->last_ns - s->first_ns) / 1000000 < max_duration_ms;
}
