/* SPDX-License-Identifier: MIT */
/*
 * Packet sources behind one ops table: a capture file today, live capture
 * and faster readers later. A source hands out frames with their link
 * type, timestamp and number; the bytes stay valid until the next call.
 * Errors carry a message for the user in src->err.
 */
#ifndef TG_SOURCE_H
#define TG_SOURCE_H

#include <stdint.h>
#include <stdio.h>

struct tg_frame {
	const uint8_t *data;
	uint32_t cap_len;
	uint32_t wire_len;
	uint64_t ts_ns;
	uint64_t num;           /* 1-based, per source */
	int link;               /* LINKTYPE_* */
};

/* Where a source is between two frames, for tell and seek. */
struct tg_source_pos {
	uint64_t off;           /* byte offset of the next record */
	uint64_t num;           /* frames numbered so far */
};

struct tg_source;

struct tg_source_ops {
	const char *name;
	/* 1: a frame in *f; 0: end of input; <0: error, message in src->err. */
	int (*next)(struct tg_source *src, struct tg_frame *f);
	/* Bytes consumed so far and total (0 when unknown), for progress. */
	void (*progress)(struct tg_source *src, uint64_t *done, uint64_t *total);
	void (*close)(struct tg_source *src);
	/* Optional (NULL when the input cannot be re-positioned): where the
	 * next frame starts, and going back (or ahead) to such a place of
	 * the same file, read by the same kind of source. */
	void (*tell)(struct tg_source *src, struct tg_source_pos *pos);
	int (*seek)(struct tg_source *src, const struct tg_source_pos *pos);
};

struct tg_source {
	const struct tg_source_ops *ops;
	const char *path;
	int link;
	char err[512];
	void *priv;
};

/* Opens capture file @path (pcap or pcapng, "-" for stdin) with optional
 * BPF @filter (NULL for none). Returns 0 or a negative errno-style code
 * with a message in src->err. */
int tg_source_open_file(struct tg_source *src, const char *path,
			const char *filter);

/* The mmap reader for classic pcap files, tried first by
 * tg_source_open_file: 1 when it took @path, 0 when libpcap should. */
int tg_source_open_mmap(struct tg_source *src, const char *path,
			const char *filter);

/* The same record walk over a classic pcap file already in memory
 * (@data, @size bytes, borrowed until close; @name is used in messages).
 * Returns 0, or a negative errno-style code with src->err set (also when
 * the buffer is not classic pcap). For tests and fuzzing. */
int tg_source_open_buffer(struct tg_source *src, const char *name,
			  const uint8_t *data, size_t size, const char *filter);

/* A capture read by libpcap from @fp (pcap or pcapng; an fmemopen stream
 * in the fuzzer), which the source owns from the call on, also on error.
 * @name is used in messages. Returns 0 or a negative errno-style code
 * with src->err set. */
int tg_source_open_stream(struct tg_source *src, const char *name, FILE *fp,
			  const char *filter);

static inline int tg_source_next(struct tg_source *s, struct tg_frame *f)
{
	return s->ops->next(s, f);
}

static inline void tg_source_close(struct tg_source *s)
{
	if (s->ops)
		s->ops->close(s);
	s->ops = NULL;
}

#endif
