#include "base/alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/errno.h"

void *
weft__malloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *
weft__calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

void *
weft__realloc(void *p, size_t size)
{
	return realloc(p, size ? size : 1);
}

void
weft__free(void *p)
{
	int saved = errno;
	free(p);
	errno = saved;
}

void *
weft__calloc_aligned(size_t n, size_t size, size_t align)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = NULL;
	size_t bytes = n * size;
	if (posix_memalign(&p, align, bytes ? bytes : 1) != 0)
		return NULL;
	memset(p, 0, bytes);
	return p;
}

char *
weft__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = weft__malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

int
weft__grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return WEFT_OK;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return WEFT_ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return WEFT_ENOMEM;
	void *nb = weft__realloc(*buf, ncap * elem);
	if (!nb)
		return WEFT_ENOMEM;
	*buf = nb;
	*cap = ncap;
	return WEFT_OK;
}
