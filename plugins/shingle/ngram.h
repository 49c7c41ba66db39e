/* Token n-gram hashing shared by the shingle and simhash plugins (header-only: each
 * plugin is its own shared object). An n-gram is n consecutive tokens joined by single
 * spaces, hashed with XXH3-64 seed 0; it spans block boundaries. Include after
 * <xxhash.h> with XXH_INLINE_ALL. */
#ifndef ND_PLUGIN_NGRAM_H
#define ND_PLUGIN_NGRAM_H

#include <string.h>

#include <neardup/plugin.h>

#define NGRAM_JOIN_BUF 512

/* XXH3-64 of tokens t[0..n) joined by single spaces, built piecewise: for windows
 * whose bytes in the text are not exactly that (a block boundary in between, or a
 * host laying tokens out otherwise). */
static inline uint64_t ngram_hash_joined(const nd_token *t, size_t n)
{
    char buf[NGRAM_JOIN_BUF];
    size_t len = 0;
    for (size_t j = 0; j < n; j++)
        len += t[j].len + (j > 0);
    if (len <= sizeof buf) {
        char *p = buf;
        for (size_t j = 0; j < n; j++) {
            if (j)
                *p++ = ' ';
            memcpy(p, t[j].ptr, t[j].len);
            p += t[j].len;
        }
        return XXH3_64bits(buf, len);
    }
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    for (size_t j = 0; j < n; j++) {
        if (j)
            XXH3_64bits_update(&st, " ", 1);
        XXH3_64bits_update(&st, t[j].ptr, t[j].len);
    }
    return XXH3_64bits_digest(&st);
}

/* Walks the n-grams of a document with at least n tokens, in order. */
typedef struct ngram_iter {
    const nd_token *t;
    size_t n, i, count; /* count = n_tokens - n + 1 n-grams */
    size_t window;      /* bytes of tokens i .. i+n-2, separators not counted */
} ngram_iter;

static inline void ngram_init(ngram_iter *it, const nd_text *doc, size_t n)
{
    it->t = doc->tokens;
    it->n = n;
    it->i = 0;
    it->count = doc->n_tokens - n + 1;
    it->window = 0;
    for (size_t j = 0; j + 1 < n; j++)
        it->window += it->t[j].len;
}

/* Hash of n-gram it->i, then advance. Call it->count times. */
static inline uint64_t ngram_next(ngram_iter *it)
{
    const nd_token *first = &it->t[it->i], *last = first + it->n - 1;
    size_t bytes = it->window + last->len;
    const char *p0 = first->ptr, *p1 = last->ptr + last->len;
    uint64_t x;
    /* tokens of one block laid out one space apart: the joined n-gram is the text */
    if (first->block == last->block && (size_t)(p1 - p0) == bytes + it->n - 1)
        x = XXH3_64bits(p0, (size_t)(p1 - p0));
    else
        x = ngram_hash_joined(first, it->n);
    it->window = bytes - first->len;
    it->i++;
    return x;
}

#endif
