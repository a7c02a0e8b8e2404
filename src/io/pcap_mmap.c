// SPDX-License-Identifier: MIT
/*
 * The fast path for classic pcap files: the file is mapped and its records
 * walked in place, so a frame costs no copy and no system call. Both byte
 * orders and both time resolutions are read. A BPF filter is compiled by
 * libpcap for the file's link type and run with pcap_offline_filter, so
 * filtering means exactly what it means to tcpdump.
 *
 * Anything this reader does not take (pcapng, stdin, a compressed or
 * non-regular file) goes to the libpcap reader in pcap_file.c; the caller
 * does not see the difference. A record whose length runs past the end of
 * the file or past any sane snap length ends the input with an error that
 * names the frame, after every complete frame before it was delivered.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"
#include "tcpguard/decode.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
#define SNAP_MAX (256u * 1024u)  /* libpcap's own ceiling for a record */

#define DROP_BEHIND (16u << 20)
#define DROP_EVERY (8u << 20)

struct pcap_map {
	const uint8_t *base;
	size_t size;
	size_t off;
	uint64_t num;
	bool swap;
	bool nsec;
	bool owned;             /* mapped by us: unmap on close */
	size_t dropped;         /* pages before this offset were given back */
	size_t drop_at;         /* give more back once past this offset */
	pcap_t *dead;           /* only for the filter */
	struct bpf_program prog;
	bool have_prog;
};

static inline uint32_t get32(const struct pcap_map *m, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return m->swap ? __builtin_bswap32(v) : v;
}

static int pm_next(struct tg_source *src, struct tg_frame *f)
{
	struct pcap_map *m = src->priv;

	for (;;) {
		const uint8_t *h = m->base + m->off;
		uint32_t sec, frac, cap, len;

		if (m->off == m->size)
			return 0;
		if (m->size - m->off < 16) {
			snprintf(src->err, sizeof(src->err),
				 "%s: truncated record header after frame %llu",
				 src->path, (unsigned long long)m->num);
			return -EIO;
		}
		/* Records are read in order: start loading the ones a few
		 * packets ahead (a hint; never faults, harmless past the end). */
		__builtin_prefetch(h + 1024);
		__builtin_prefetch(h + 1536);
		sec = get32(m, h);
		frac = get32(m, h + 4);
		cap = get32(m, h + 8);
		len = get32(m, h + 12);
		if (cap > SNAP_MAX) {
			snprintf(src->err, sizeof(src->err),
				 "%s: frame %llu claims %u captured bytes (corrupt record)",
				 src->path, (unsigned long long)m->num + 1, cap);
			return -EIO;
		}
		if (m->size - m->off - 16 < cap) {
			snprintf(src->err, sizeof(src->err),
				 "%s: frame %llu is cut off (file truncated)",
				 src->path, (unsigned long long)m->num + 1);
			return -EIO;
		}
		m->off += 16 + (size_t)cap;
		m->num++;
		f->data = h + 16;
		f->cap_len = cap;
		f->wire_len = len < cap ? cap : len;
		f->ts_ns = (uint64_t)sec * 1000000000ull +
			   (m->nsec ? frac : (uint64_t)frac * 1000u);
		f->num = m->num;
		f->link = src->link;
		if (m->have_prog) {
			struct pcap_pkthdr ph = { .caplen = cap, .len = f->wire_len };

			if (!pcap_offline_filter(&m->prog, &ph, f->data))
				continue;
		}
		/* Pages behind us are not needed again: every 8 MiB read, the
		 * mapping gives back what lies more than 16 MiB behind, so the
		 * file adds at most 24 MiB to the resident set. A frame still
		 * held (analyze -j's rings, the measuring pass) stays valid: a
		 * later touch reads it back from the page cache. */
		if (m->off > m->drop_at) {
			size_t upto = (m->off - DROP_BEHIND) & ~(size_t)4095;

			madvise((void *)(m->base + m->dropped), upto - m->dropped,
				MADV_DONTNEED);
			m->dropped = upto;
			m->drop_at = upto + DROP_BEHIND + DROP_EVERY;
		}
		return 1;
	}
}

static void pm_progress(struct tg_source *src, uint64_t *done, uint64_t *total)
{
	struct pcap_map *m = src->priv;

	*done = m->off;
	*total = m->size;
}

static void pm_close(struct tg_source *src)
{
	struct pcap_map *m = src->priv;

	if (!m)
		return;
	if (m->have_prog)
		pcap_freecode(&m->prog);
	if (m->dead)
		pcap_close(m->dead);
	if (m->base && m->owned)
		munmap((void *)m->base, m->size);
	free(m);
	src->priv = NULL;
}

static void pm_tell(struct tg_source *src, struct tg_source_pos *pos)
{
	const struct pcap_map *m = src->priv;

	pos->off = m->off;
	pos->num = m->num;
}

static int pm_seek(struct tg_source *src, const struct tg_source_pos *pos)
{
	struct pcap_map *m = src->priv;

	/* Past the file header, within the file: a place pm_tell gave. */
	if (pos->off < 24 || pos->off > m->size)
		return -EINVAL;
	m->off = pos->off;
	m->num = pos->num;
	/* Going back: what was given back comes back on touch; the next
	 * pages to give back start here. */
	if (m->owned && m->dropped > m->off) {
		m->dropped = m->off & ~(size_t)4095;
		m->drop_at = m->dropped + DROP_BEHIND + DROP_EVERY;
	}
	return 0;
}

static const struct tg_source_ops pcap_map_ops = {
	.name = "pcap-mmap",
	.next = pm_next,
	.progress = pm_progress,
	.close = pm_close,
	.tell = pm_tell,
	.seek = pm_seek,
};

static bool classic_magic(const void *base)
{
	uint32_t magic;

	memcpy(&magic, base, 4);
	return magic == MAGIC_US || magic == MAGIC_NS ||
	       __builtin_bswap32(magic) == MAGIC_US || __builtin_bswap32(magic) == MAGIC_NS;
}

static int pm_setup(struct tg_source *src, const char *path, const uint8_t *base,
		    size_t size, bool owned, const char *filter);

/* Returns 1 when @path was taken by this reader, 0 to let libpcap try,
 * or a negative errno with src->err set. */
int tg_source_open_mmap(struct tg_source *src, const char *path,
			const char *filter)
{
	struct stat st;
	void *base;
	int fd;

	if (!strcmp(path, "-"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) {
		close(fd);
		return 0;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return 0;
	if (!classic_magic(base)) {
		munmap(base, (size_t)st.st_size);
		return 0;
	}
	madvise(base, (size_t)st.st_size, MADV_SEQUENTIAL);
	return pm_setup(src, path, base, (size_t)st.st_size, true, filter);
}

int tg_source_open_buffer(struct tg_source *src, const char *name,
			  const uint8_t *data, size_t size, const char *filter)
{
	memset(src, 0, sizeof(*src));
	src->path = name;
	if (size < 24 || !classic_magic(data)) {
		snprintf(src->err, sizeof(src->err), "%s: not a classic pcap file%s",
			 name, size < 24 ? " (shorter than its header)" : " (bad magic)");
		return -EINVAL;
	}
	int rc = pm_setup(src, name, data, size, false, filter);

	return rc < 0 ? rc : 0;
}

/* Walks the classic pcap at @base (magic already checked). Returns 1, or
 * a negative errno with src->err set; @base is unmapped on failure when
 * @owned. */
static int pm_setup(struct tg_source *src, const char *path, const uint8_t *base,
		    size_t size, bool owned, const char *filter)
{
	struct pcap_map *m = calloc(1, sizeof(*m));
	uint32_t magic;
	int rc;

	if (!m) {
		if (owned)
			munmap((void *)base, size);
		snprintf(src->err, sizeof(src->err), "%s: out of memory", path);
		return -ENOMEM;
	}
	memcpy(&magic, base, 4);
	memset(src, 0, sizeof(*src));
	src->path = path;
	src->ops = &pcap_map_ops;
	src->priv = m;
	m->base = base;
	m->size = size;
	m->owned = owned;
	m->drop_at = owned ? DROP_BEHIND + DROP_EVERY : SIZE_MAX;
	m->off = 24;
	m->swap = magic != MAGIC_US && magic != MAGIC_NS;
	m->nsec = magic == MAGIC_NS || __builtin_bswap32(magic) == MAGIC_NS;
	/* The link type is the low 16 bits; the FCS bits above are ignored. */
	src->link = (int)(get32(m, m->base + 20) & 0xffff);

	if (!tg_decode_link_supported(src->link)) {
		const char *n = pcap_datalink_val_to_name(src->link);

		snprintf(src->err, sizeof(src->err), "%s: unsupported link type %d (%s)",
			 path, src->link, n ? n : "unknown");
		rc = -ENOTSUP;
		goto fail;
	}
	if (filter && *filter) {
		m->dead = pcap_open_dead(src->link, (int)SNAP_MAX);
		if (!m->dead || pcap_compile(m->dead, &m->prog, filter, 1,
					     PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(src->err, sizeof(src->err), "bad filter '%s': %s", filter,
				 m->dead ? pcap_geterr(m->dead) : "out of memory");
			rc = -EINVAL;
			goto fail;
		}
		m->have_prog = true;
	}
	return 1;
fail:
	pm_close(src);
	return rc;
}
