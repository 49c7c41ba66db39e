/* Turning a document body into text blocks: HTML block structure, or a block per
 * non-empty line of plain text. Blocks are what boilerplate detection counts. Output
 * is the text as found (not normalised), whitespace collapsed, entities decoded. */
#ifndef ND_EXTRACT_H
#define ND_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct nd_block {
    uint32_t off;    /* into nd_blocks.text */
    uint32_t len;    /* bytes, no surrounding whitespace, never 0 */
} nd_block;

typedef struct nd_blocks {
    nd_buf text;     /* block texts back to back, each followed by '\n' */
    nd_block *v;
    size_t n, cap;
    nd_buf title;    /* HTML <title> text, decoded and collapsed; empty for plain text */
} nd_blocks;

void nd_blocks_init(nd_blocks *b);
void nd_blocks_clear(nd_blocks *b);    /* keep memory for reuse */
void nd_blocks_free(nd_blocks *b);
/* Append one block (whitespace collapsed and trimmed here; all-space text is dropped). */
int nd_blocks_add(nd_blocks *b, const char *s, size_t len);
/* The blocks joined by '\n' are the text clean writes unstripped. Laid out as above,
 * that is text without its last newline: its length, else -1 (no extractor here lays
 * blocks out otherwise; test_html checks both). */
int64_t nd_blocks_joined_len(const nd_blocks *b);
/* XXH3-128 of the blocks joined by '\n', in one call when laid out as above. */
int nd_blocks_digest(const nd_blocks *b, uint64_t d[2]);

/* HTML to blocks: block-level elements (p, div, li, h1-h6, td, br, article, section,
 * header, footer, nav, ...) end a block; script, style, noscript, template, svg and
 * comments are dropped; every HTML5 named and numeric character reference is decoded.
 * Linear time in len whatever the input. Appends to out. */
int nd_html_extract(const char *html, size_t len, nd_blocks *out);

/* Plain text to blocks: one block per non-empty line. Appends to out. */
int nd_text_extract(const char *s, size_t len, nd_blocks *out);

#endif
