/* Normalisation: the same article saved differently must give the same tokens.
 * Invalid UTF-8 replaced (and counted), NFC, case folding, Vietnamese tone-mark
 * placement folded to one convention (tone marks themselves kept), typographic
 * quotes/dashes/no-break spaces folded; tokens are runs of letters and digits with
 * their combining marks, one character per token for scripts written without spaces. */
#ifndef ND_NORM_H
#define ND_NORM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ND_TOK_NOSPACE 1u   /* same value as ND_TOKEN_NOSPACE in the plugin ABI */

typedef struct nd_tok {
    uint32_t off;     /* into the output buffer given to nd_norm_block */
    uint32_t len;     /* bytes */
    uint32_t flags;   /* ND_TOK_* */
} nd_tok;

typedef struct nd_toks {
    nd_tok *v;
    size_t n, cap;
} nd_toks;

void nd_toks_free(nd_toks *t);

typedef struct nd_norm_stats {
    size_t invalid_utf8;   /* invalid sequences replaced */
} nd_norm_stats;

/* Per-thread scratch state (buffers reused across calls). */
typedef struct nd_norm nd_norm;
int nd_norm_new(nd_norm **out);
void nd_norm_free(nd_norm *n);

/* Normalise one block of text. Appends its tokens to out separated by single spaces
 * (no leading or trailing space; nothing when the block has no token) and appends one
 * nd_tok per token (offsets relative to out->p) to toks. Linear in len. stats may be
 * NULL. Returns 0 or negative (out of memory); on failure out and toks are unchanged. */
int nd_norm_block(nd_norm *n, const char *s, size_t len, nd_buf *out, nd_toks *toks,
                  nd_norm_stats *stats);

/* ND_TOK_NOSPACE if the (already normalised) UTF-8 token starts with a character of a
 * script written without spaces, else 0: lets a caller re-split normalised text on
 * spaces without redoing normalisation. */
uint32_t nd_norm_token_flags(const char *tok, size_t len);

/* Test hook: on != 0 sends every character through the general (utf8proc) path, so a
 * test can prove the fast paths give the same bytes. */
void nd_norm_test_slow(nd_norm *n, int on);

#endif
