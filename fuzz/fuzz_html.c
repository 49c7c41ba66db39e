/* libFuzzer target: HTML (and plain text) extraction followed by normalisation of
 * every block, i.e. everything a crawled page's bytes go through before hashing.
 * Checks the contracts the rest of the pipeline relies on, not just "no crash". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "fuzz.h"
#include "norm.h"

static void check_blocks(const nd_blocks *b, nd_norm *n)
{
    nd_buf out = ND_BUF_INIT;
    nd_toks toks = {0};
    for (size_t i = 0; i < b->n; i++) {
        const nd_block *bl = &b->v[i];
        ND_FUZZ_ASSERT(bl->len > 0 && bl->off + bl->len <= b->text.len);
        const char *s = b->text.p + bl->off;
        ND_FUZZ_ASSERT(s[0] != ' ' && s[bl->len - 1] != ' ');
        nd_buf_clear(&out);
        toks.n = 0;
        if (nd_norm_block(n, s, bl->len, &out, &toks, NULL) != 0)
            continue; /* out of memory under the fuzzer's limit: allowed */
        for (size_t t = 0; t < toks.n; t++) {
            ND_FUZZ_ASSERT(toks.v[t].len > 0 && toks.v[t].off + toks.v[t].len <= out.len);
            ND_FUZZ_ASSERT(memchr(out.p + toks.v[t].off, ' ', toks.v[t].len) == NULL);
        }
    }
    nd_toks_free(&toks);
    nd_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nd_norm *norm;
    if (!norm && nd_norm_new(&norm) != 0)
        abort();
    nd_blocks b;
    nd_blocks_init(&b);
    if (nd_html_extract((const char *)data, size, &b) == 0)
        check_blocks(&b, norm);
    nd_blocks_clear(&b);
    if (nd_text_extract((const char *)data, size, &b) == 0)
        check_blocks(&b, norm);
    nd_blocks_free(&b);
    return 0;
}
