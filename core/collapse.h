/* Whitespace collapsing shared by the text and HTML extractors: runs of ASCII
 * whitespace (\t \n \v \f \r and space) become one space, in one pass over the bytes.
 * Header-only so both callers inline it with their own NUL rule. */
#ifndef ND_COLLAPSE_H
#define ND_COLLAPSE_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(ND_NO_SWAR)
#include <emmintrin.h>
#endif

static const unsigned char nd_collapse_space[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
};

/* Copy s[0..n) to w collapsing whitespace; *prev says the last byte written was a space
 * (1 at a block start drops leading whitespace) and is updated. drop_nul: NUL bytes are
 * dropped (as an HTML tree builder does). Returns the bytes written (at most n).
 *
 * Most of crawled text is words one plain space apart: a word of eight bytes with no
 * byte below 0x20 and no two spaces in a row (nor a space after the previous one) is
 * copied as it is; other words go byte by byte, branch-free. */
static inline size_t nd_collapse(char *w, const char *s, size_t n, unsigned *prev,
                                 int drop_nul)
{
    char *w0 = w;
    unsigned pv = *prev;
    size_t i = 0;
    while (i < n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(ND_NO_SWAR)
        /* ND_NO_SWAR: the byte loop alone, as on big-endian machines (tests). */
        const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull,
                       lo7 = 0x7F7F7F7F7F7F7F7Full, spaces = 0x2020202020202020ull;
#if defined(__SSE2__)
        /* Sixteen bytes at a time by the same rule (x86-64 always has SSE2). */
        if (n - i >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            unsigned ctl = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x)); /* bytes < 0x20 */
            unsigned sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
            if (!(ctl | (sp & (sp << 1)) | (pv ? sp & 1u : 0u))) {
                _mm_storeu_si128((__m128i *)(void *)w, x);
                w += 16;
                i += 16;
                pv = sp >> 15;
                continue;
            }
        }
#endif
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            uint64_t ctl = (x - ones * 0x20) & ~x & high; /* some byte < 0x20 */
            uint64_t y = x ^ spaces;
            uint64_t sp = ~(((y & lo7) + lo7) | y | lo7); /* 0x80 in each space byte */
            /* byte k and k+1 both spaces, or the first one after a space */
            uint64_t twice = (sp & (sp << 8)) | (pv ? sp & 0x80 : 0);
            if (!(ctl | twice)) {
                memcpy(w, &x, 8);
                w += 8;
                i += 8;
                pv = (unsigned)(sp >> 63);
                continue;
            }
        }
        size_t e = n - i < 8 ? n : i + 8;
#else
        size_t e = n;
#endif
        for (; i < e; i++) {
            unsigned char ch = (unsigned char)s[i];
            unsigned isp = nd_collapse_space[ch], nul = drop_nul && ch == 0;
            *w = isp ? ' ' : (char)ch;
            w += !(isp & pv) & !nul;
            pv = isp | (pv & nul);
        }
    }
    *prev = pv;
    return (size_t)(w - w0);
}

#endif
