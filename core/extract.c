/* Block storage (nd_blocks_*) and plain-text extraction: a block per non-empty line.
 * Whitespace is collapsed while copying (collapse.h), in one pass, so a block costs one
 * read of its bytes whatever its length. HTML extraction lives in html.c. */
#include "extract.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "collapse.h"
#include "error.h"

void nd_blocks_init(nd_blocks *b)
{
    memset(b, 0, sizeof *b);
}

void nd_blocks_clear(nd_blocks *b)
{
    nd_buf_clear(&b->text);
    nd_buf_clear(&b->title);
    b->n = 0;
}

void nd_blocks_free(nd_blocks *b)
{
    nd_buf_free(&b->title);
    free(b->v);
    nd_buf_free(&b->text);
    nd_blocks_init(b);
}

/* Append s[0..len) to the block being built at b->text[start..), collapsing whitespace
 * runs to one space and dropping leading ones; then close the block (trailing space
 * trimmed, '\n' after it). An empty result leaves b as it was. */
static int add_collapsed(nd_blocks *b, const char *s, size_t len)
{
    int rc = nd_buf_reserve(&b->text, len + 1);
    if (rc)
        return rc;
    size_t start = b->text.len;
    unsigned prev = 1;   /* "after a space": drops leading whitespace */
    size_t end = start + nd_collapse(b->text.p + start, s, len, &prev, 0);
    if (end > start && b->text.p[end - 1] == ' ')
        end--;
    if (end == start) {
        b->text.p[start] = '\0';
        return ND_OK;
    }
    if (end > UINT32_MAX) {
        b->text.p[start] = '\0';
        return nd_fail(ND_ELIMIT, "extracted text over 4 GiB");
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        nd_block *v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            b->text.p[start] = '\0';
            return nd_fail(ND_ENOMEM, "out of memory for %zu blocks", cap);
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n].off = (uint32_t)start;
    b->v[b->n].len = (uint32_t)(end - start);
    b->n++;
    b->text.p[end] = '\n';
    b->text.len = end + 1;
    b->text.p[b->text.len] = '\0';
    return ND_OK;
}

int nd_blocks_add(nd_blocks *b, const char *s, size_t len)
{
    return add_collapsed(b, s, len);
}

int nd_text_extract(const char *s, size_t len, nd_blocks *out)
{
    const char *p = s, *end = s + len;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        p += 3;   /* a BOM glued to the first word would make its line unlike others */
    /* Next '\n' and next '\r', each searched once per occurrence: a file with only one
     * kind of line end never rescans for the other. */
    const char *nl = NULL, *cr = NULL;
    while (p < end) {
        if (!nl || nl < p)
            nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        if (!cr || cr < p)
            cr = memchr(p, '\r', (size_t)(end - p));
        if (!cr)
            cr = end;
        const char *eol = nl < cr ? nl : cr;
        int rc = add_collapsed(out, p, (size_t)(eol - p));
        if (rc)
            return rc;
        p = eol + 1;
        if (eol == cr && p < end && *p == '\n')
            p++;
    }
    return ND_OK;
}

int64_t nd_blocks_joined_len(const nd_blocks *b)
{
    if (!b->n)
        return 0;
    size_t at = 0;
    for (size_t i = 0; i < b->n; i++) {
        size_t e = at + b->v[i].len;
        if (b->v[i].off != at || e >= b->text.len || b->text.p[e] != '\n')
            return -1;
        at = e + 1;
    }
    return at == b->text.len ? (int64_t)(at - 1) : -1;
}

int nd_blocks_digest(const nd_blocks *b, uint64_t d[2])
{
    int64_t jl = nd_blocks_joined_len(b);
    XXH128_hash_t h;
    if (jl >= 0) {
        h = XXH3_128bits(b->n ? b->text.p : "", (size_t)jl);
    } else {
        XXH3_state_t *st = XXH3_createState();
        if (!st)
            return nd_fail(ND_ENOMEM, "out of memory");
        XXH3_128bits_reset(st);
        for (size_t i = 0; i < b->n; i++) {
            if (i)
                XXH3_128bits_update(st, "\n", 1);
            XXH3_128bits_update(st, b->text.p + b->v[i].off, b->v[i].len);
        }
        h = XXH3_128bits_digest(st);
        XXH3_freeState(st);
    }
    d[0] = h.low64;
    d[1] = h.high64;
    return ND_OK;
}
