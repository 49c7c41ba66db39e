/* A growable byte buffer with one owner. A failed append leaves the buffer as it was
 * (never half-written), so callers can bail out and free once. */
#ifndef ND_BUF_H
#define ND_BUF_H

#include <stddef.h>

#include "error.h"

typedef struct nd_buf {
    char *p;      /* always NUL-terminated when non-NULL (the NUL is not counted in len) */
    size_t len;
    size_t cap;
} nd_buf;

#define ND_BUF_INIT {NULL, 0, 0}

int nd_buf_reserve(nd_buf *b, size_t extra);            /* room for len+extra+1 */
int nd_buf_append(nd_buf *b, const void *data, size_t n);
int nd_buf_putc(nd_buf *b, char c);
int nd_buf_puts(nd_buf *b, const char *s);
int nd_buf_printf(nd_buf *b, const char *fmt, ...) ND_PRINTF(2, 3);
void nd_buf_clear(nd_buf *b);                           /* len = 0, keeps memory */
void nd_buf_free(nd_buf *b);                            /* back to ND_BUF_INIT */
/* Hand the bytes to the caller (who frees them with free()); buffer becomes empty.
 * Returns an allocated "" for an empty buffer, NULL only when out of memory. */
char *nd_buf_take(nd_buf *b);

#endif
