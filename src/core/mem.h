/* SPDX-License-Identifier: MIT */
/*
 * Start-up allocation of the core's big tables. Tables that lookups hit
 * at random (flow table, buckets, detector entities and sketches) are
 * backed by transparent huge pages where the kernel allows it: with
 * 4 KiB pages almost every such lookup would also miss the TLB. Memory
 * comes zeroed and is committed by the kernel as it is first touched.
 */
#ifndef TG_CORE_MEM_H
#define TG_CORE_MEM_H

#include <stddef.h>

/* @n zeroed elements of @size bytes; NULL when memory is short or the
 * product overflows. Free with tg_mem_free and the same @n and @size. */
void *tg_mem_zalloc(size_t n, size_t size);

void tg_mem_free(void *p, size_t n, size_t size);

#endif
