/* Normaliser: turns one text block into the tokens every later step compares, so that
 * the same article saved differently (NFC or NFD, other case, old or new Vietnamese
 * tone placement, typographic punctuation, stray soft hyphens) gives identical bytes. */
#include "norm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---- character tables ---- */

/* Byte map for the ASCII fast path: 0 separator, 1 any byte >= 0x80 (slow path),
 * otherwise the lowercased letter or digit itself. */
static const unsigned char amap[256] = {
#define R4(a) a, a, a, a
#define R16(a) R4(a), R4(a), R4(a), R4(a)
    R16(0), R16(0), /* controls */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* space, punctuation */
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
    R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1),
#undef R16
#undef R4
};

/* Scripts written without spaces between words: each letter or digit is a token.
 * Hangul is absent on purpose (Korean separates words with spaces). Sorted, disjoint;
 * gaps of unassigned code points inside a range are harmless (they are no letters). */
static const struct {
    uint32_t lo, hi;
} nospace[] = {
    {0x0E00, 0x0EFF},   /* Thai, Lao */
    {0x1000, 0x109F},   /* Myanmar */
    {0x1780, 0x17FF},   /* Khmer */
    {0x19E0, 0x19FF},   /* Khmer symbols */
    {0x2E80, 0x2FDF},   /* CJK radicals, Kangxi radicals */
    {0x3005, 0x3007},   /* ideographic iteration mark, closing mark, number zero */
    {0x3021, 0x3029},   /* Hangzhou numerals */
    {0x3038, 0x303B},   /* more Hangzhou numerals, vertical iteration mark */
    {0x3040, 0x30FF},   /* Hiragana, Katakana */
    {0x31F0, 0x31FF},   /* Katakana phonetic extensions */
    {0x3400, 0x4DBF},   /* CJK extension A */
    {0x4E00, 0x9FFF},   /* CJK unified ideographs */
    {0xA9E0, 0xA9FF},   /* Myanmar extended-B */
    {0xAA60, 0xAA7F},   /* Myanmar extended-A */
    {0xF900, 0xFAFF},   /* CJK compatibility ideographs */
    {0xFF66, 0xFF9F},   /* halfwidth Katakana */
    {0x1AFF0, 0x1B16F}, /* Kana extended-B, supplement, extended-A, small Kana */
    {0x20000, 0x323AF}, /* CJK extensions B-I, compatibility supplement */
};

static int is_nospace(uint32_t c)
{
    if (c < 0x0E00)
        return 0;
    size_t lo = 0, hi = sizeof nospace / sizeof *nospace;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < nospace[mid].lo)
            hi = mid;
        else if (c > nospace[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

enum { C_SEP, C_WORD, C_MARK };

static int classify(int32_t c)
{
    if (c < 0x80)
        return amap[c] > 1 ? C_WORD : C_SEP;
    if (c == 0x02BC) /* MODIFIER LETTER APOSTROPHE is a letter but used as a quote */
        return C_SEP;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return C_WORD;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    default:
        return C_SEP;
    }
}

/* ---- per-thread state ---- */

/* Raw span -> normalised tokens cache. Most non-ASCII words recur (every Vietnamese
 * syllable with a diacritic is one), and a hit costs a hash and two copies instead of
 * a decomposition per character. Four-way set associative (a set is four neighbouring
 * slots; a span looks first in its own slot of the set). 16384 slots (1 MB a thread):
 * Vietnamese alone has some 7000 syllables in use, and with 4096 a tenth of all spans
 * missed on a 10k-page crawl; with 16384 and four ways, 2.3% of the large crawl's
 * Vietnamese spans (0.7% are first sightings, which no size avoids). Four ways against two, on the
 * large crawl's Vietnamese pages (bench/extract, three alternating runs): their
 * normalisation 0.26-0.28 s -> 0.24-0.26 s. */
#define CACHE_SLOTS 16384u
#define CACHE_WAYS 4u
#define CACHE_KEY 27
#define CACHE_OUT 28
#define CACHE_TOKS 8

/* One 64-byte cache line, the four ways of a set in 256 aligned bytes: a hit touches
 * one line (a 104-byte entry took two or three). Keys up to 27 bytes still hold all
 * Vietnamese syllables and nearly all accented European words. */
struct centry {
    uint32_t h;
    uint8_t klen;      /* 0: empty */
    uint8_t olen;
    uint8_t ntok;
    uint8_t nospace;   /* bit i: token i is ND_TOK_NOSPACE */
    uint8_t invalid;
    char key[CACHE_KEY];
    char out[CACHE_OUT];
};
_Static_assert(sizeof(struct centry) == 64, "cache entry is one cache line");
#define CACHE_BYTES ((size_t)CACHE_SLOTS * sizeof(struct centry))
/* Aligned to a huge page, so that (transparent huge pages on) one TLB entry covers the
 * memo that every syllable looks up: Vietnamese extraction+normalisation 178 -> 184 MB/s
 * (bench/extract, three runs each). */
#define ND_NORM_CACHE_ALIGN ((size_t)2 << 20)

struct nd_norm {
    int32_t *tb, *tb2;       /* current token's code points; sort scratch */
    size_t tn, tcap, t2cap;
    int tok_ns;              /* current token is a no-space character */
    int tok_tone;            /* saw a Vietnamese tone mark */
    int tok_ypo;             /* holds U+0345, to fold after canonical ordering */
    int32_t tok_max;         /* largest code point in the token */
    size_t tok_marks;
    /* per call */
    nd_buf *out;
    nd_toks *toks;
    size_t tok0;
    size_t invalid;
    struct centry *cache;
    /* BMP bitmaps built from utf8proc at nd_norm_new (see build_fast): fast[c] when
     * c alone is a complete no-space token whose normal form is itself; follow[c]
     * when c after such a character cannot join its token (no mark, not ignorable). */
    uint64_t fast[1024], follow[1024];
    int slow_only;           /* test hook: never take the fast path */
};

void nd_toks_free(nd_toks *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

static int bit(const uint64_t *m, uint32_t c)
{
    return c < 0x10000 && (m[c >> 6] >> (c & 63)) & 1u;
}

/* What slow_span feeds for c: the decomposed, case-folded code points (0 when c is
 * ignorable), with the same shortcuts it takes. */
static int slow_expansion(int32_t c, int32_t *d)
{
    if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x0E00 && c <= 0x0EFF) || c == 0x345) {
        d[0] = c;
        return 1;
    }
    /* Most code points map to themselves: skip the call (Hangul syllables decompose
     * algorithmically, without a sequence index). */
    const utf8proc_property_t *pr = utf8proc_get_property(c);
    if (pr->decomp_seqindex == UINT16_MAX && pr->casefold_seqindex == UINT16_MAX &&
        !pr->ignorable && (c < 0xAC00 || c > 0xD7A3)) {
        d[0] = c;
        return 1;
    }
    utf8proc_ssize_t k = utf8proc_decompose_char(
        c, d, 32, UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE, NULL);
    return k < 0 || k > 32 ? -1 : (int)k;
}

/* The sets are derived from the very calls the slow path makes, so they follow the
 * installed utf8proc's Unicode version (test_norm checks every BMP code point). */
static void build_fast(nd_norm *n)
{
    for (int32_t c = 0x80; c < 0x10000; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        int32_t d[32];
        int k = slow_expansion(c, d);
        if (k < 1 || c == 0x345)
            continue;
        if (classify(d[0]) != C_MARK)
            n->follow[c >> 6] |= 1ull << (c & 63);
        if (k == 1 && d[0] == c && is_nospace((uint32_t)c) && classify(c) == C_WORD)
            n->fast[c >> 6] |= 1ull << (c & 63);
    }
}

int nd_norm_new(nd_norm **out)
{
    nd_norm *n = calloc(1, sizeof *n);
    if (!n)
        return nd_fail(ND_ENOMEM, "out of memory");
    /* C11: the size must be a multiple of the alignment (the huge page is whole anyway) */
    size_t bytes = (CACHE_BYTES + ND_NORM_CACHE_ALIGN - 1) / ND_NORM_CACHE_ALIGN *
                   ND_NORM_CACHE_ALIGN;
    n->cache = aligned_alloc(ND_NORM_CACHE_ALIGN, bytes);
#ifdef MADV_HUGEPAGE
    /* Where transparent huge pages are given only on request (THP "madvise", as on
     * the CI machine), the alignment alone gets none. Before the first touch. */
    if (n->cache)
        madvise(n->cache, bytes, MADV_HUGEPAGE);
#endif
    if (n->cache)
        memset(n->cache, 0, CACHE_BYTES);
    n->tcap = 256;
    n->tb = malloc(n->tcap * sizeof *n->tb);
    if (!n->cache || !n->tb) {
        nd_norm_free(n);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    build_fast(n);
    *out = n;
    return ND_OK;
}

void nd_norm_free(nd_norm *n)
{
    if (!n)
        return;
    free(n->cache);
    free(n->tb2);
    free(n->tb);
    free(n);
}

/* ---- output ---- */

static int grow_toks(nd_toks *t, size_t end)
{
    if (end > UINT32_MAX)
        return nd_fail(ND_ELIMIT, "normalised text over 4 GB in one buffer");
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        nd_tok *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return nd_fail(ND_ENOMEM, "out of memory");
        t->v = v;
        t->cap = cap;
    }
    return ND_OK;
}

static inline int push_tok(nd_toks *t, size_t off, size_t len, uint32_t flags)
{
    int rc;
    if ((t->n == t->cap || off + len > UINT32_MAX) && (rc = grow_toks(t, off + len)))
        return rc;
    t->v[t->n++] = (nd_tok){(uint32_t)off, (uint32_t)len, flags};
    return ND_OK;
}

/* Equality of two short byte strings of the same length (at most CACHE_KEY), with
 * overlapping word loads instead of a memcmp call. */
static inline int eq_short(const void *a, const void *b, size_t len)
{
    const unsigned char *x = a, *y = b;
    uint64_t p, q;
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&p, x + i, 8);
            memcpy(&q, y + i, 8);
            if (p != q)
                return 0;
        }
        memcpy(&p, x + len - 8, 8);
        memcpy(&q, y + len - 8, 8);
        return p == q;
    }
    if (len >= 4) {
        uint32_t p4, q4, r4, t4;
        memcpy(&p4, x, 4);
        memcpy(&q4, y, 4);
        memcpy(&r4, x + len - 4, 4);
        memcpy(&t4, y + len - 4, 4);
        return p4 == q4 && r4 == t4;
    }
    for (size_t i = 0; i < len; i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}

static int room(nd_buf *b, size_t n)
{
    return b->cap - b->len >= n + 1 ? ND_OK : nd_buf_reserve(b, n);
}

static char *put_utf8(char *w, uint32_t c)
{
    if (c < 0x80) {
        *w++ = (char)c;
    } else if (c < 0x800) {
        *w++ = (char)(0xC0 | (c >> 6));
        *w++ = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *w++ = (char)(0xE0 | (c >> 12));
        *w++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *w++ = (char)(0x80 | (c & 0x3F));
    } else {
        *w++ = (char)(0xF0 | (c >> 18));
        *w++ = (char)(0x80 | ((c >> 12) & 0x3F));
        *w++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *w++ = (char)(0x80 | (c & 0x3F));
    }
    return w;
}

/* ---- canonical ordering ---- */

static int ccc(int32_t c)
{
    return c < 0x300 ? 0 : utf8proc_get_property(c)->combining_class;
}

/* Stable sort of each run of non-starters by combining class (the canonical ordering
 * of NFD). Short runs by insertion; long ones by counting sort, so a pathological run
 * of a million marks stays linear. */
static int canon_order(nd_norm *n)
{
    int32_t *t = n->tb;
    size_t len = n->tn, i = 0;
    while (i < len) {
        if (ccc(t[i]) == 0) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && ccc(t[j]) != 0)
            j++;
        size_t run = j - i;
        if (run <= 16) {
            for (size_t k = i + 1; k < j; k++) {
                int32_t c = t[k];
                int cc = ccc(c);
                size_t m = k;
                while (m > i && ccc(t[m - 1]) > cc) {
                    t[m] = t[m - 1];
                    m--;
                }
                t[m] = c;
            }
        } else {
            if (n->t2cap < run) {
                int32_t *v = realloc(n->tb2, run * sizeof *v);
                if (!v)
                    return nd_fail(ND_ENOMEM, "out of memory");
                n->tb2 = v;
                n->t2cap = run;
            }
            size_t cnt[257] = {0};
            for (size_t k = i; k < j; k++)
                cnt[ccc(t[k]) + 1]++;
            for (int k = 1; k < 257; k++)
                cnt[k] += cnt[k - 1];
            for (size_t k = i; k < j; k++)
                n->tb2[cnt[ccc(t[k])]++] = t[k];
            memcpy(t + i, n->tb2, run * sizeof *t);
        }
        i = j;
    }
    return ND_OK;
}

/* ---- Vietnamese tone placement ---- */

/* Convention (the "new style", kiểu mới, as in Vietnamese school books since 1980 and
 * most current news sites): in the syllable's vowel nucleus (the u of "qu" and the i
 * of "gi" + vowel belong to the initial),
 *   1. the tone goes on the vowel with a quality mark (â ă ê ô ơ ư), the last one if
 *      two ("ươ": on ơ);
 *   2. else a single vowel carries it;
 *   3. else for three vowels, the middle one ("oài", "khuỷu");
 *   4. else for two vowels, the second one when a final consonant follows ("hoàng") or
 *      the nucleus is oa, oe or uy ("hoà", "khoẻ", "thuỷ"), otherwise the first ("mái",
 *      "múa", "kìa").
 * Tokens that do not parse as one Vietnamese syllable (initial, one vowel group, final,
 * exactly one tone mark, only Vietnamese quality marks) are left as they are. */

static int vn_tone(int32_t c)
{
    return c == 0x300 || c == 0x301 || c == 0x303 || c == 0x309 || c == 0x323;
}

static int vn_vowel(int32_t c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

static int vn_in(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static const char *const vn_initials[] = {
    "", "b", "c", "ch", "d", "D", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
    "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x", NULL};
static const char *const vn_finals[] = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t", NULL};
/* Vowel nuclei, the quality marks written ^ (circumflex), ( (breve), + (horn). */
static const char *const vn_nuclei[] = {
    "a", "a(", "a^", "e", "e^", "i", "o", "o^", "o+", "u", "u+", "y",
    "ai", "ao", "au", "ay", "a^u", "a^y", "eo", "e^u", "ia", "ie^", "iu", "oa", "oa(",
    "oe", "oi", "oo", "o^i", "o+i", "ua", "ua^", "ue^", "ui", "uo^", "uo+", "uy", "u+a",
    "u+i", "u+u", "u+o+", "ye^", "ie^u", "ye^u", "oai", "oay", "oeo", "ua^y", "uo^i",
    "u+o+i", "u+o+u", "uya", "uye^", "uyu", NULL};

static void vn_fix(int32_t *t, size_t len)
{
    struct {
        int32_t base, q;
    } L[8];
    size_t nl = 0, tone_at = 0;
    int32_t tone = 0;
    for (size_t i = 0; i < len; i++) {
        int32_t c = t[i];
        if ((c >= 'a' && c <= 'z') || c == 0x111) {
            if (nl == 8)
                return;
            L[nl].base = c;
            L[nl++].q = 0;
        } else if (vn_tone(c)) {
            if (tone || nl == 0 || !vn_vowel(L[nl - 1].base))
                return;
            tone = c;
            tone_at = nl - 1;
        } else if (c == 0x302 || c == 0x306 || c == 0x31B) {
            if (nl == 0 || L[nl - 1].q)
                return;
            int32_t b = L[nl - 1].base;
            if (!(c == 0x302 ? b == 'a' || b == 'e' || b == 'o'
                             : c == 0x306 ? b == 'a' : b == 'o' || b == 'u'))
                return;
            L[nl - 1].q = c;
        } else {
            return;
        }
    }
    if (!tone)
        return;
    size_t v0 = 0;
    while (v0 < nl && !vn_vowel(L[v0].base))
        v0++;
    size_t v1 = v0;
    while (v1 < nl && vn_vowel(L[v1].base))
        v1++;
    for (size_t k = v1; k < nl; k++)
        if (vn_vowel(L[k].base) || L[k].q)
            return;
    for (size_t k = 0; k < v0; k++)
        if (L[k].q)
            return;
    size_t nb = v0;
    if (v0 == 1 && L[0].base == 'q') {
        if (L[v0].base != 'u' || L[v0].q)
            return;
        nb++;
    } else if (v0 == 1 && L[0].base == 'g' && L[v0].base == 'i' && v1 - v0 >= 2) {
        nb++;
    }
    size_t nn = v1 - nb;
    if (nn < 1 || nn > 3 || v0 > 3 || nl - v1 > 2)
        return;
    char ini[5], fin[3];
    size_t k = 0;
    for (; k < nb; k++)
        ini[k] = L[k].base == 0x111 ? 'D' : (char)L[k].base;
    ini[k] = '\0';
    for (k = v1; k < nl; k++)
        fin[k - v1] = L[k].base == 0x111 ? 'D' : (char)L[k].base;
    fin[nl - v1] = '\0';
    char nuc[8], *np = nuc;
    for (k = nb; k < v1; k++) {
        *np++ = (char)L[k].base;
        if (L[k].q)
            *np++ = L[k].q == 0x302 ? '^' : L[k].q == 0x306 ? '(' : '+';
    }
    *np = '\0';
    if (!vn_in(ini, vn_initials) || !vn_in(fin, vn_finals) || !vn_in(nuc, vn_nuclei))
        return;

    size_t to = SIZE_MAX;
    for (k = nb; k < v1; k++)
        if (L[k].q)
            to = k;
    if (to == SIZE_MAX) {
        if (nn == 1) {
            to = nb;
        } else if (nn == 3) {
            to = nb + 1;
        } else {
            int32_t a = L[nb].base, b = L[nb + 1].base;
            int rising = (a == 'o' && (b == 'a' || b == 'e')) || (a == 'u' && b == 'y');
            to = rising || nl > v1 ? nb + 1 : nb;
        }
    }
    if (to == tone_at)
        return;
    /* Rewrite in canonical order: a mark of lower combining class first, the quality
     * mark first on a tie (NFD of "ố" is o, U+0302, U+0301). */
    size_t w = 0;
    for (k = 0; k < nl; k++) {
        t[w++] = L[k].base;
        int32_t q = L[k].q;
        if (k == to) {
            int ct = tone == 0x323 ? 220 : 230, cq = q == 0x31B ? 216 : 230;
            if (q && cq <= ct)
                t[w++] = q;
            t[w++] = tone;
            if (q && cq > ct)
                t[w++] = q;
        } else if (q) {
            t[w++] = q;
        }
    }
}

/* ---- slow path: decoded code points through a token state machine ---- */

static int end_token(nd_norm *n)
{
    if (!n->tn)
        return ND_OK;
    size_t len = n->tn;
    if (n->tok_max >= 0x300 && len > 1) { /* one code point is its own NFC */
        int rc;
        if (n->tok_marks >= 2 && (rc = canon_order(n)))
            return rc;
        if (n->tok_ypo)
            for (size_t i = 0; i < len; i++)
                if (n->tb[i] == 0x345)
                    n->tb[i] = 0x3B9;
        if (n->tok_tone && n->tok_max < 0x370)
            vn_fix(n->tb, len);
        utf8proc_ssize_t r =
            utf8proc_normalize_utf32(n->tb, (utf8proc_ssize_t)len, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0)
            return nd_fail(ND_EINTERNAL, "utf8proc: %s", utf8proc_errmsg(r));
        len = (size_t)r;
    }
    n->tn = 0;
    nd_buf *out = n->out;
    int rc = room(out, len * 4 + 1);
    if (rc)
        return rc;
    char *w = out->p + out->len;
    if (n->toks->n > n->tok0)
        *w++ = ' ';
    size_t off = (size_t)(w - out->p);
    for (size_t i = 0; i < len; i++)
        w = put_utf8(w, (uint32_t)n->tb[i]);
    out->len = (size_t)(w - out->p);
    return push_tok(n->toks, off, out->len - off, n->tok_ns ? ND_TOK_NOSPACE : 0);
}

static int add_cp(nd_norm *n, int32_t c)
{
    if (n->tn == n->tcap) {
        size_t cap = n->tcap * 2;
        int32_t *v = realloc(n->tb, cap * sizeof *v);
        if (!v)
            return nd_fail(ND_ENOMEM, "out of memory");
        n->tb = v;
        n->tcap = cap;
    }
    n->tb[n->tn++] = c;
    if (c > n->tok_max)
        n->tok_max = c;
    return ND_OK;
}

/* One code point of the decomposed, case-folded stream. */
static int feed(nd_norm *n, int32_t c)
{
    int rc;
    switch (classify(c)) {
    case C_WORD: {
        int ns = is_nospace((uint32_t)c);
        if (n->tn && (ns || n->tok_ns) && (rc = end_token(n)))
            return rc;
        if (!n->tn) {
            n->tok_ns = ns;
            n->tok_tone = 0;
            n->tok_ypo = 0;
            n->tok_max = 0;
            n->tok_marks = 0;
        }
        return add_cp(n, c);
    }
    case C_MARK:
        if (!n->tn) /* no base to carry it */
            return ND_OK;
        n->tok_marks++;
        if (vn_tone(c))
            n->tok_tone = 1;
        else if (c == 0x345)
            n->tok_ypo = 1;
        return add_cp(n, c);
    default:
        return end_token(n);
    }
}

/* WHATWG UTF-8 decoding: returns the code point and sets *used, or -1 for one maximal
 * invalid subpart of *used bytes. */
static int32_t decode(const unsigned char *p, size_t len, size_t *used)
{
    unsigned b = p[0];
    size_t need;
    uint32_t c;
    unsigned lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1, c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2, c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3, c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        *used = 1;
        return -1;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        if (i >= len || p[i] < lo || p[i] > hi) {
            *used = i;
            return -1;
        }
        c = (c << 6) | (p[i] & 0x3F);
        lo = 0x80, hi = 0xBF;
    }
    *used = i;
    return (int32_t)c;
}

/* decode with the three-byte sequences of CJK text inlined. */
static inline int32_t decode_fast(const unsigned char *p, size_t len, size_t *used)
{
    unsigned b = p[0];
    if (b >= 0xE1 && b <= 0xEF && b != 0xED && len >= 3 && (p[1] & 0xC0) == 0x80 &&
        (p[2] & 0xC0) == 0x80) {
        *used = 3;
        return (int32_t)(((b & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu));
    }
    return decode(p, len, used);
}

static int slow_span(nd_norm *n, const unsigned char *p, size_t len)
{
    int rc;
    size_t i = 0;
    size_t next_used = 0; /* > 0: next_c is the code point at i, already decoded */
    int32_t next_c = 0;
    n->tn = 0;
    while (i < len) {
        unsigned b = p[i];
        if (b < 0x80) {
            if ((rc = feed(n, amap[b])))
                return rc;
            i++;
            continue;
        }
        size_t used;
        int32_t c;
        if (next_used) {
            c = next_c;
            used = next_used;
            next_used = 0;
        } else {
            c = decode_fast(p + i, len - i, &used);
        }
        i += used;
        if (c < 0) {
            n->invalid++;
            if ((rc = end_token(n))) /* U+FFFD is a separator */
                return rc;
            continue;
        }
        if (bit(n->fast, (uint32_t)c) && !n->slow_only) {
            /* A Han or Kana character is a token of its own, unchanged by NFC and case
             * folding, unless a combining mark joins it: then the general path. */
            int alone = i == len || p[i] < 0x80;
            if (!alone) {
                next_c = decode_fast(p + i, len - i, &next_used);
                alone = next_c < 0 || bit(n->follow, (uint32_t)next_c);
            }
            if (alone) {
                /* Then as many such characters as follow, each alone, in one loop with
                 * one room check: Chinese text is mostly such runs, a sentence long.
                 * Each writes its 2 or 3 bytes and a space, at most twice what it
                 * reads, so twice the input left is room enough. */
                if ((rc = end_token(n)) || (rc = room(n->out, 2 * (len - i + used) + 1)))
                    return rc;
                nd_buf *out = n->out;
                char *w = out->p + out->len;
                for (;;) {
                    if (n->toks->n > n->tok0)
                        *w++ = ' ';
                    size_t off = (size_t)(w - out->p);
                    /* a fixed-size copy for the usual three bytes: Chinese pages'
                     * extract+normalise 0.213 -> 0.198 s (best of 6 alternating runs) */
                    if (used == 3)
                        memcpy(w, p + i - 3, 3);
                    else
                        memcpy(w, p + i - used, used);
                    w += used;
                    if ((rc = push_tok(n->toks, off, used, ND_TOK_NOSPACE)))
                        return rc;
                    /* The next character, decoded above: alone too? Else the loop
                     * above takes it, already decoded. */
                    if (!next_used || next_c < 0 || !bit(n->fast, (uint32_t)next_c))
                        break;
                    size_t j = i + next_used, after_used = 0;
                    int32_t after = 0;
                    if (j < len && p[j] >= 0x80) {
                        after = decode_fast(p + j, len - j, &after_used);
                        if (after >= 0 && !bit(n->follow, (uint32_t)after))
                            break;
                    }
                    used = next_used;
                    i = j;
                    next_c = after;
                    next_used = after_used;
                }
                out->len = (size_t)(w - out->p);
                continue;
            }
        }
        if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x0E00 && c <= 0x0EFF)) {
            /* Unified ideographs, Thai, Lao: no canonical decomposition, no case, not
             * ignorable, so the per-character utf8proc call is skipped. */
            if ((rc = feed(n, c)))
                return rc;
            continue;
        }
        if (c == 0x345) {
            /* COMBINING YPOGEGRAMMENI folds to a letter (iota), so folding it before
             * canonical ordering would make "α\u0345\u0301" and its NFD differ: it
             * is folded in end_token instead, as NFD(casefold(NFD(x))) prescribes. */
            if ((rc = feed(n, c)))
                return rc;
            continue;
        }
        int32_t d[32];
        utf8proc_ssize_t k = utf8proc_decompose_char(
            c, d, 32, UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE, NULL);
        if (k < 0 || k > 32)
            return nd_fail(ND_EINTERNAL, "utf8proc cannot decompose U+%04X", (unsigned)c);
        for (utf8proc_ssize_t j = 0; j < k; j++)
            if ((rc = feed(n, d[j])))
                return rc;
    }
    return end_token(n);
}

/* A span is a maximal run of ASCII letters/digits and non-ASCII bytes: ASCII
 * punctuation always separates, so a span's tokens do not depend on its context. */
static int span(nd_norm *n, const unsigned char *p, size_t len)
{
    nd_buf *out = n->out;
    nd_toks *toks = n->toks;
    struct centry *e = NULL;
    uint32_t h = 0;
    if (len <= CACHE_KEY) {
        uint64_t hh = XXH3_64bits(p, len);
        h = (uint32_t)(hh >> 32);
        struct centry *s = &n->cache[(uint32_t)hh & (CACHE_SLOTS - 1)];
        for (uint32_t way = 0; way < CACHE_WAYS; way++) {
            struct centry *c = &n->cache[((uint32_t)hh ^ way) & (CACHE_SLOTS - 1)];
            if (c->klen == len && c->h == h && eq_short(c->key, p, len)) {
                /* Room for the whole fixed-size field: one inlined copy, no memcpy call. */
                int rc = room(out, CACHE_OUT + 2u);
                if (rc)
                    return rc;
                if (way) { /* hit again: one way up, swapping with the entry there */
                    struct centry *up = &n->cache[((uint32_t)hh ^ (way - 1)) & (CACHE_SLOTS - 1)];
                    struct centry t = *up;
                    *up = *c;
                    *c = t;
                    c = up;
                }
                n->invalid += c->invalid;
                if (!c->ntok)
                    return ND_OK;
                char *w = out->p + out->len;
                if (toks->n > n->tok0)
                    *w++ = ' ';
                size_t base = (size_t)(w - out->p), s0 = 0;
                memcpy(w, c->out, CACHE_OUT);
                out->len = base + c->olen;
                if (c->ntok == 1)
                    return push_tok(toks, base, c->olen, c->nospace ? ND_TOK_NOSPACE : 0);
                for (unsigned t = 0; t < c->ntok; t++) {
                    size_t s1 = s0;
                    while (s1 < c->olen && c->out[s1] != ' ')
                        s1++;
                    if ((rc = push_tok(toks, base + s0, s1 - s0,
                                       (c->nospace >> t) & 1u ? ND_TOK_NOSPACE : 0)))
                        return rc;
                    s0 = s1 + 1;
                }
                return ND_OK;
            }
        }
        e = s;
    }
    size_t t0 = toks->n, inv0 = n->invalid;
    int rc = slow_span(n, p, len);
    if (rc || !e)
        return rc;
    size_t ntok = toks->n - t0;
    size_t o = ntok ? toks->v[t0].off : out->len, olen = out->len - o;
    if (ntok > CACHE_TOKS || olen > CACHE_OUT)
        return ND_OK;
    /* A new span takes the first free way, else the last one, and moves up a way each
     * time it is seen again: the many spans seen once (names, numbers, typos) then
     * churn the last way and leave the recurring syllables in place. */
    size_t own = (size_t)(e - n->cache);
    for (uint32_t way = 1; way < CACHE_WAYS && e->klen; way++)
        e = &n->cache[own ^ way];
    e->h = h;
    e->klen = (uint8_t)len;
    e->olen = (uint8_t)olen;
    e->ntok = (uint8_t)ntok;
    e->invalid = (uint8_t)(n->invalid - inv0);
    e->nospace = 0;
    for (size_t t = 0; t < ntok; t++)
        if (toks->v[t0 + t].flags & ND_TOK_NOSPACE)
            e->nospace |= (uint8_t)(1u << t);
    memcpy(e->key, p, len);
    if (olen)
        memcpy(e->out, out->p + o, olen);
    return ND_OK;
}

/* Word arithmetic on little-endian machines; ND_NO_SWAR builds the byte loops that
 * others run, which test_norm_portable tests here. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(ND_NO_SWAR)
#define ND_NORM_SWAR 1
#define ND_HI8 0x8080808080808080ull
#define ND_ONES8 0x0101010101010101ull

/* Eight bytes from u[k] (the tail padded with NUL, a separator as amap says). The
 * whole-word case apart: a copy of variable length went through the stack, a store
 * and a reload on every step of the word loops (Zen 3). */
static inline uint64_t load8(const unsigned char *u, size_t len, size_t k)
{
    uint64_t x = 0;
    if (__builtin_expect(len - k >= 8, 1))
        memcpy(&x, u + k, 8);
    else
        memcpy(&x, u + k, len - k);
    return x;
}

/* 0x80 in each byte of x that is an ASCII letter; in *digit, each ASCII digit. Per
 * byte, with no carry between bytes since v, t < 0x80: t >= 'a' and t <= 'z' for a
 * letter (either case), v in '0'..'9' for a digit. */
static inline uint64_t letters8(uint64_t x, uint64_t *digit)
{
    uint64_t v = x & ~ND_HI8, t = v | 0x20 * ND_ONES8;
    *digit = (v + 0x50 * ND_ONES8) & ~(v + 0x46 * ND_ONES8) & ND_HI8 & ~x;
    return (t + 0x1F * ND_ONES8) & ~(t + 0x05 * ND_ONES8) & ND_HI8 & ~x;
}
#endif

/* Copy the run of ASCII letters and digits at u[*i] to w, lowercased, and move *i past
 * it; returns the new end of w. Eight bytes at a time where the byte order allows:
 * the run's bytes are found and lowercased with word arithmetic, eight bytes are
 * stored whatever their class and w advances only over the run's, so a word costs
 * one iteration per eight bytes instead of a table lookup and a branch per byte
 * (the branch that ended each word was mispredicted once a word). May store up to 8
 * bytes past the returned end. A letter taken for a separator here would only send its
 * word down the general path (the caller checks amap at the stop); a separator taken
 * for a letter would change the tokens, which test_ascii_words_reference catches. */
static inline char *ascii_word(const unsigned char *u, size_t len, size_t *i, char *w)
{
    size_t k = *i;
#ifdef ND_NORM_SWAR
    for (;;) {
        uint64_t x = load8(u, len, k), digit, letter = letters8(x, &digit);
        uint64_t low = x | letter >> 2; /* 0x80 >> 2: the case bit of each letter */
        memcpy(w, &low, 8);
        uint64_t stop = ~(letter | digit) & ND_HI8;
        if (stop) {
            size_t n = (size_t)__builtin_ctzll(stop) / 8;
            *i = k + n;
            return w + n;
        }
        w += 8;
        k += 8;
    }
#else
    unsigned m;
    while (k < len && (m = amap[u[k]]) > 1) {
        *w++ = (char)m;
        k++;
    }
    *i = k;
    return w;
#endif
}

/* The end of the span at u[k]: the first ASCII byte from k on that is neither letter nor
 * digit, or len. Eight bytes at a time as in ascii_word; exact, since the span's end
 * decides what the memo is asked (test_ascii_words_reference cuts spans of every
 * length against the eight-byte steps; test_cache_consistency catches a span cut at
 * a digit). */
static inline size_t span_end(const unsigned char *u, size_t len, size_t k)
{
#ifdef ND_NORM_SWAR
    for (; k < len; k += 8) {
        uint64_t x = load8(u, len, k), digit, letter = letters8(x, &digit);
        uint64_t stop = ~(letter | digit | x) & ND_HI8; /* x: a byte >= 0x80 stays in */
        if (stop) {
            size_t e = k + (size_t)__builtin_ctzll(stop) / 8;
            return e < len ? e : len;
        }
    }
    return len;
#else
    while (k < len && amap[u[k]] != 0)
        k++;
    return k;
#endif
}

int nd_norm_block(nd_norm *n, const char *s, size_t len, nd_buf *out, nd_toks *toks,
                  nd_norm_stats *stats)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t out0 = out->len, tok0 = toks->n;
    n->out = out;
    n->toks = toks;
    n->tok0 = tok0;
    n->invalid = 0;
    int rc = room(out, len + 16);
    size_t i = 0;
    while (!rc && i < len) {
        unsigned m = amap[u[i]];
        if (m == 0) {
            i++;
            continue;
        }
        size_t st = i;
        if (m != 1) {
            /* ASCII word, written optimistically; abandoned if a non-ASCII byte joins
             * it. ASCII output never outgrows the input left, so one check suffices
             * (plus the 8 bytes ascii_word may store past the word's end). */
            if ((rc = room(out, len - i + 10)))
                break;
            char *w = out->p + out->len;
            if (toks->n > tok0)
                *w++ = ' ';
            char *w0 = w;
            w = ascii_word(u, len, &i, w);
            m = i < len ? amap[u[i]] : 0;
            if (m == 0) {
                rc = push_tok(toks, (size_t)(w0 - out->p), (size_t)(w - w0), 0);
                out->len = (size_t)(w - out->p);
                continue;
            }
        }
        size_t e = span_end(u, len, i); /* the bytes before i are ASCII letters or digits */
        rc = span(n, u + st, e - st);
        i = e;
    }
    if (rc) {
        out->len = out0;
        if (out->p)
            out->p[out0] = '\0';
        toks->n = tok0;
        n->tn = 0;
        return rc;
    }
    if (out->p)
        out->p[out->len] = '\0';
    if (stats)
        stats->invalid_utf8 += n->invalid;
    return ND_OK;
}

/* Test hook (norm.h): on forces the general path everywhere,
 * so test_norm can compare the fast paths against it code point by code point. */
void nd_norm_test_slow(nd_norm *n, int on)
{
    n->slow_only = on;
}

uint32_t nd_norm_token_flags(const char *tok, size_t len)
{
    if (!len || (unsigned char)tok[0] < 0x80)
        return 0;
    size_t used;
    int32_t c = decode((const unsigned char *)tok, len, &used);
    return c >= 0 && is_nospace((uint32_t)c) ? ND_TOK_NOSPACE : 0;
}
