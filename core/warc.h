/* Private to the reader: the streaming WARC record parser (WARC 1.0/1.1, as stored or
 * through gzip), the HTTP payload decoding it needs, and the content sniffers it shares
 * with read.c. */
#ifndef ND_WARC_H
#define ND_WARC_H

#include <stddef.h>

#include "gz.h"
#include "read.h"

/* read.c: body looks like HTML (BOM/whitespace then a tag, or a block tag early). */
int nd_sniff_html(const char *p, size_t n);
/* read.c: a short name of the binary format met ("PNG image", "NUL bytes", ...), or
 * NULL when the first bytes look like text. */
const char *nd_sniff_binary(const char *p, size_t n);

/* Parse every record of s (nothing consumed yet) and call fn once per response or
 * resource record; other record types are counted (record indexes stay stable) but
 * not handed over. Memory: about 2 * cap plus small buffers, whatever the file size.
 * Returns 0, a negative status (out of memory) or fn's non-zero value. */
int nd_warc_read(nd_src *s, const char *path, size_t cap, nd_problems *pr, nd_doc_fn fn,
                 void *ctx);

#endif
