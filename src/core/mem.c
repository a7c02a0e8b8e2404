// SPDX-License-Identifier: MIT
/*
 * Big zeroed tables: anonymous mappings advised for huge pages when at
 * least one huge page long, calloc below that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mem.h"

#define HUGE_MIN ((size_t)2 << 20)

void *tg_mem_zalloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	if (n * size < HUGE_MIN)
		return calloc(n ? n : 1, size ? size : 1);
	p = mmap(NULL, n * size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Advice only: without THP the table still works, just slower. */
	(void)madvise(p, n * size, MADV_HUGEPAGE);
	return p;
}

void tg_mem_free(void *p, size_t n, size_t size)
{
	if (!p)
		return;
	if (n * size < HUGE_MIN)
		free(p);
	else
		munmap(p, n * size);
}
