/* Growable byte buffer: doubling growth, NUL-terminated, all-or-nothing appends. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nd_buf_reserve(nd_buf *b, size_t extra)
{
    if (extra > (size_t)-1 / 2 - b->len)
        return nd_fail(ND_ENOMEM, "buffer of %zu bytes cannot grow by %zu", b->len, extra);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return ND_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return nd_fail(ND_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->p = p;
    b->cap = cap;
    return ND_OK;
}

int nd_buf_append(nd_buf *b, const void *data, size_t n)
{
    int rc = nd_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return ND_OK;
}

int nd_buf_putc(nd_buf *b, char c)
{
    return nd_buf_append(b, &c, 1);
}

int nd_buf_puts(nd_buf *b, const char *s)
{
    return nd_buf_append(b, s, strlen(s));
}

int nd_buf_printf(nd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return nd_fail(ND_EINTERNAL, "bad format string");
    int rc = nd_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ND_OK;
}

void nd_buf_clear(nd_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void nd_buf_free(nd_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *nd_buf_take(nd_buf *b)
{
    char *p = b->p;
    if (!p)
        p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
