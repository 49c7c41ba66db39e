/* Normaliser tests: the same text saved differently (NFC/NFD, case, Vietnamese tone
 * placement, typographic punctuation, invisible characters) must give identical bytes,
 * while different words stay different. The seed pages in ../shared/corpora/seeds are
 * read from there when present (never copied into the repository). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "norm.h"

static nd_norm *N;

static int setup(void **state)
{
    (void)state;
    return nd_norm_new(&N);
}

static int teardown(void **state)
{
    (void)state;
    nd_norm_free(N);
    return 0;
}

/* Checks the token table against the text (offsets inside it, no spaces inside a
 * token, exactly one space between tokens, flags as nd_norm_token_flags says). */
static void check_layout(const nd_buf *out, size_t base, const nd_toks *t, size_t t0)
{
    size_t pos = base;
    for (size_t i = t0; i < t->n; i++) {
        const nd_tok *k = &t->v[i];
        if (i > t0) {
            assert_int_equal(out->p[pos], ' ');
            pos++;
        }
        assert_int_equal(k->off, pos);
        assert_true(k->len > 0);
        assert_true((size_t)k->off + k->len <= out->len);
        assert_null(memchr(out->p + k->off, ' ', k->len));
        assert_int_equal(k->flags, nd_norm_token_flags(out->p + k->off, k->len));
        pos += k->len;
    }
    assert_int_equal(pos, out->len);
    assert_int_equal(out->p ? out->p[out->len] : 0, 0);
}

/* Normalised text of s (caller frees); *ntok and *invalid when not NULL. */
static char *normn(const char *s, size_t len, size_t *ntok, size_t *invalid)
{
    nd_buf out = ND_BUF_INIT;
    nd_toks t = {0};
    nd_norm_stats st = {0};
    assert_int_equal(nd_norm_block(N, s, len, &out, &t, &st), 0);
    check_layout(&out, 0, &t, 0);
    if (ntok)
        *ntok = t.n;
    if (invalid)
        *invalid = st.invalid_utf8;
    char *r = strdup(out.p ? out.p : "");
    assert_non_null(r);
    nd_buf_free(&out);
    nd_toks_free(&t);
    return r;
}

static char *norm(const char *s)
{
    return normn(s, strlen(s), NULL, NULL);
}

#define EXPECT(in, want)                  \
    do {                                  \
        char *got_ = norm(in);            \
        assert_string_equal(got_, want);  \
        free(got_);                       \
    } while (0)

static void expect_same(const char *a, const char *b)
{
    char *x = norm(a), *y = norm(b);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

static char *nfd(const char *s)
{
    char *r = (char *)utf8proc_NFD((const utf8proc_uint8_t *)s);
    assert_non_null(r);
    return r;
}

static char *nfc(const char *s)
{
    char *r = (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
    assert_non_null(r);
    return r;
}

/* Uppercase of valid UTF-8, code point by code point. */
static char *upper(const char *s)
{
    size_t len = strlen(s);
    char *r = malloc(len * 4 + 1), *w = r;
    assert_non_null(r);
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)len, &c);
        assert_true(k > 0);
        w += utf8proc_encode_char(utf8proc_toupper(c), (utf8proc_uint8_t *)w);
        p += k;
        len -= (size_t)k;
    }
    *w = '\0';
    return r;
}

static void expect_nfd_same(const char *s)
{
    char *d = nfd(s);
    expect_same(s, d);
    free(d);
}

static void test_ascii(void **state)
{
    (void)state;
    EXPECT("Hello, World! 123abc", "hello world 123abc");
    EXPECT("  \t\r\n", "");
    EXPECT("", "");
    EXPECT("don't stop-me (now)...", "don t stop me now");
    EXPECT("MiXeD_case_09", "mixed case 09");
    size_t n;
    char *r = normn("one two  three", 14, &n, NULL);
    assert_int_equal(n, 3);
    free(r);
}

/* ASCII words are found and lowercased eight bytes at a time: every byte value, every
 * word length across the eight-byte steps and every end of block, against the
 * definition (runs of letters and digits, lowercased, one space apart). A non-ASCII
 * letter after the run must still join its word. */
static void test_ascii_words_reference(void **state)
{
    (void)state;
    char in[96], want[200];
    unsigned seed = 12345;
    for (unsigned iter = 0; iter < 20000; iter++) {
        size_t len = iter % 90, w = 0;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) & 0x7F;
            /* mostly letters and digits, so that long words occur */
            in[i] = (char)((seed >> 24) % 4 ? "aZq09xM7bY"[r % 10] + (r / 10) % 3 : r);
        }
        int intok = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)in[i];
            int an = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
            if (an && !intok && w)
                want[w++] = ' ';
            if (an)
                want[w++] = (char)(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
            intok = an;
        }
        want[w] = '\0';
        char *got = normn(in, len, NULL, NULL);
        assert_string_equal(got, want);
        free(got);
    }
    /* Mixed text: its tokens are those of its spans (runs between ASCII bytes that are
     * neither letter nor digit) normalised one by one, whatever the spans' lengths
     * against the eight-byte steps. */
    static const char *const piece[] = {"a", "Z", "7", " ", ",", "-", "\xC3\xA9", "\xE1\xBB\x87",
                                        "\xE4\xB8\xAD", "\xFF", "\xCC\x81", "Qu", "\xC3"};
    for (unsigned iter = 0; iter < 5000; iter++) {
        char mix[400];
        size_t len = 0, w = 0, ninv = 0;
        for (unsigned k = iter % 60; k > 0; k--) {
            seed = seed * 1103515245u + 12345u;
            const char *pc = piece[(seed >> 16) % (sizeof piece / sizeof *piece)];
            memcpy(mix + len, pc, strlen(pc));
            len += strlen(pc);
        }
        char ref[2000];
        for (size_t i = 0; i < len;) {
            size_t e = i;
            while (e < len && !(((unsigned char)mix[e] < 0x80) && !isalnum((unsigned char)mix[e])))
                e++;
            if (e > i) {
                size_t inv;
                char *one = normn(mix + i, e - i, NULL, &inv);
                ninv += inv;
                if (*one && w)
                    ref[w++] = ' ';
                memcpy(ref + w, one, strlen(one));
                w += strlen(one);
                free(one);
            }
            i = e + 1;
        }
        ref[w] = '\0';
        size_t inv;
        char *got = normn(mix, len, NULL, &inv);
        assert_string_equal(got, ref);
        assert_int_equal(inv, ninv);
        free(got);
    }
    for (size_t k = 0; k < 40; k++) {
        char a[64], b[64];
        memset(a, 'A', k);
        memcpy(a + k, "\xC3\x89x", 4); /* "AAA...Éx" */
        memset(b, 'a', k);
        memcpy(b + k, "\xC3\xA9x", 4);
        char *got = normn(a, k + 3, NULL, NULL);
        assert_string_equal(got, b);
        free(got);
    }
}

static void test_casefold(void **state)
{
    (void)state;
    EXPECT("Stra\u00DFe STRASSE strasse", "strasse strasse strasse");
    EXPECT("\u1E9E", "ss");                       /* capital sharp s */
    EXPECT("\uFB01le", "file");                   /* fi ligature */
    EXPECT("\u00B5", "\u03BC");                   /* micro sign -> mu */
    /* Greek: capital and final sigma both fold to sigma; tonos kept. */
    EXPECT("\u03A3\u038A\u03A3\u03A5\u03A6\u039F\u03A3", "\u03C3\u03AF\u03C3\u03C5\u03C6\u03BF\u03C3");
    expect_same("\u03A3\u03AF\u03C3\u03C5\u03C6\u03BF\u03C2", "\u03C3\u03AF\u03C3\u03C5\u03C6\u03BF\u03C3");
    /* Turkish, default (not Turkic) folding: dotted capital I keeps its dot as a
     * combining mark, dotless i stays dotless, ASCII I folds to i. */
    EXPECT("\u0130stanbul", "i\u0307stanbul");
    EXPECT("ISTANBUL", "istanbul");
    EXPECT("\u0131", "\u0131");
    EXPECT("K", "k");                             /* Kelvin sign: canonical K */
    EXPECT("\u00C9T\u00C9", "\u00E9t\u00E9");
    /* iota subscript folds to iota, whatever the order of the marks */
    EXPECT("\u1FB4", "\u03AC\u03B9");
    expect_same("\u1FB4", "\u03B1\u0301\u0345");
    expect_same("\u1FB4", "\u03B1\u0345\u0301");
    expect_same("\u1FB3", "\u0391\u0345");
}

static void test_nfc_nfd(void **state)
{
    (void)state;
    const char *s[] = {
        "\u00E9t\u00E9 caf\u00E9 na\u00EFve No\u00EBl \u00C7a fran\u00E7ais o\u00F9",
        "Vi\u1EC7t Nam \u0111\u1EB9p l\u1EAFm, ng\u01B0\u1EDDi H\u00E0 N\u1ED9i",
        "Tr\u01B0\u1EDDng \u0110\u1EA1i h\u1ECDc Qu\u1ED1c gia",
        "\uD55C\uAD6D\uC5B4 \uD14D\uC2A4\uD2B8",   /* Hangul: NFD is jamo */
        "\u304C\u30D1\u30FC\u30C8",                /* kana with voiced marks */
    };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        expect_nfd_same(s[i]);
    EXPECT("e\u0301te\u0301", "\u00E9t\u00E9");
    EXPECT("\u1100\u1161\u11A8", "\uAC01");        /* jamo compose to a syllable */
    /* Marks in non-canonical order are reordered before composing. */
    expect_same("a\u0302\u0323", "a\u0323\u0302");
    EXPECT("a\u0302\u0323", "\u1EAD");
    /* A mark with no base is dropped, not glued to the next word. */
    EXPECT(" \u0301abc", "abc");
}

static void test_long_mark_run(void **state)
{
    (void)state;
    /* 200 marks of mixed classes: the counting-sort path must agree with utf8proc. */
    char in[2048], *w = in;
    *w++ = 'x';
    for (int i = 0; i < 200; i++)
        w += sprintf(w, "%s", i % 3 == 0 ? "\u0301" : i % 3 == 1 ? "\u0323" : "\u031B");
    *w = '\0';
    utf8proc_uint8_t *want = NULL;
    assert_true(utf8proc_map((const utf8proc_uint8_t *)in, 0, &want,
                             UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                 UTF8PROC_CASEFOLD) > 0);
    char *got = norm(in);
    assert_string_equal(got, (char *)want);
    free(got);
    free(want);
}

static void test_huge_mark_run(void **state)
{
    (void)state;
    /* 100k pairs of marks on one base: linear time, canonical order (dot below, class
     * 220, before acute, 230), the first dot below composed with the base. */
    enum { K = 100000 };
    nd_buf in = ND_BUF_INIT, want = ND_BUF_INIT;
    assert_int_equal(nd_buf_putc(&in, 'A'), 0);
    for (int i = 0; i < K; i++)
        assert_int_equal(nd_buf_puts(&in, "\u0301\u0323"), 0);
    assert_int_equal(nd_buf_puts(&want, "\u1EA1"), 0);
    for (int i = 1; i < K; i++)
        assert_int_equal(nd_buf_puts(&want, "\u0323"), 0);
    for (int i = 0; i < K; i++)
        assert_int_equal(nd_buf_puts(&want, "\u0301"), 0);
    size_t n;
    char *got = normn(in.p, in.len, &n, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(got), want.len);
    assert_memory_equal(got, want.p, want.len);
    free(got);
    nd_buf_free(&in);
    nd_buf_free(&want);
}

static void test_cache_consistency(void **state)
{
    (void)state;
    /* Many more distinct non-ASCII spans than cache slots: a warm normaliser, the same
     * one again, and a fresh one agree byte for byte. */
    nd_buf in = ND_BUF_INIT;
    for (unsigned i = 0; i < 30000; i++) {
        char w[64];
        snprintf(w, sizeof w, "%c%c\u00E9%u\u2019s\u4E2D%c \xFF%c\u0301 ", 'A' + i % 26,
                 'a' + (i / 26) % 26, i % 977, 'a' + i % 7, 'a' + (i / 7) % 26);
        assert_int_equal(nd_buf_puts(&in, w), 0);
    }
    size_t n1, n2, n3, i1, i2, i3;
    char *a = normn(in.p, in.len, &n1, &i1), *b = normn(in.p, in.len, &n2, &i2);
    nd_norm *warm = N, *fresh;
    assert_int_equal(nd_norm_new(&fresh), 0);
    N = fresh;
    char *c = normn(in.p, in.len, &n3, &i3);
    N = warm;
    nd_norm_free(fresh);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    assert_int_equal(n1, n2);
    assert_int_equal(n1, n3);
    assert_int_equal(n1, 30000u * 5);
    assert_int_equal(i1, 30000);
    assert_int_equal(i2, 30000);
    assert_int_equal(i3, 30000);
    free(a);
    free(b);
    free(c);
    nd_buf_free(&in);
}

/* ---- Vietnamese ---- */

static void test_vietnamese_pairs(void **state)
{
    (void)state;
    /* old style (tone on the first vowel) == new style, the convention kept */
    EXPECT("h\u00F2a", "ho\u00E0");               /* hòa -> hoà */
    EXPECT("ho\u00E0", "ho\u00E0");
    EXPECT("th\u1EE7y", "thu\u1EF7");             /* thủy -> thuỷ */
    EXPECT("kh\u1ECFe", "kho\u1EBB");             /* khỏe -> khoẻ */
    EXPECT("q\u00FAy", "qu\u00FD");               /* qúy -> quý */
    EXPECT("qu\u00FD", "qu\u00FD");
    EXPECT("H\u00D2A", "ho\u00E0");
    EXPECT("TH\u1EE6Y", "thu\u1EF7");
    EXPECT("KHO\u1EBA", "kho\u1EBB");
    EXPECT("Q\u00DAY", "qu\u00FD");
    EXPECT("g\u00ECa", "gi\u00E0");               /* gi + a: the tone is on a */
    EXPECT("g\u00EC", "g\u00EC");                 /* gì: i is the nucleus */
    EXPECT("ho\u00E0ng h\u00F2ang", "ho\u00E0ng ho\u00E0ng");
    EXPECT("m\u00FAa mu\u00E1", "m\u00FAa m\u00FAa"); /* falling diphthong: first */
    EXPECT("ng\u01B0\u1EDDi ng\u1EEB\u01A1i", "ng\u01B0\u1EDDi ng\u01B0\u1EDDi");
    EXPECT("kh\u1EE7yu khuy\u1EE7", "khu\u1EF7u khu\u1EF7u"); /* khuỷu: the middle */
    EXPECT("ng\u00F3ai", "ngo\u00E1i");
    /* the six words on "ma" stay six */
    const char *ma[] = {"ma", "m\u00E1", "m\u00E0", "m\u1EA3", "m\u00E3", "m\u1EA1"};
    char *out[6];
    for (int i = 0; i < 6; i++) {
        out[i] = norm(ma[i]);
        assert_string_equal(out[i], ma[i]);
        char *d = nfd(ma[i]), *u = upper(ma[i]);
        expect_same(ma[i], d);
        expect_same(ma[i], u);
        free(d);
        free(u);
    }
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            assert_string_not_equal(out[i], out[j]);
    for (int i = 0; i < 6; i++)
        free(out[i]);
    /* not Vietnamese syllables: left alone (still NFC) */
    EXPECT("o\u00F9 \u00E9t\u00E9 caf\u00E9 cu\u00E1l", "o\u00F9 \u00E9t\u00E9 caf\u00E9 cu\u00E1l");
}

static const char *const tones[] = {"", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"};

/* Syllable with the tone placed on the v-th vowel letter (decomposed input base). */
static char *place(const char *base_nfd, const char *tone, int v)
{
    size_t len = strlen(base_nfd);
    char *r = malloc(len + 8), *w = r;
    assert_non_null(r);
    int seen = -1;
    const char *p = base_nfd;
    while (*p) {
        int vowel = strchr("aeiouy", *p) != NULL;
        *w++ = *p++;
        while (((unsigned char)*p & 0xC0) == 0x80)
            *w++ = *p++;
        /* copy the letter's quality marks (U+0302, U+0306, U+031B: 2 bytes each) */
        while ((unsigned char)*p == 0xCC) {
            *w++ = *p++;
            *w++ = *p++;
        }
        if (vowel && ++seen == v) {
            strcpy(w, tone);
            w += strlen(tone);
        }
    }
    *w = '\0';
    return r;
}

static void test_vietnamese_alphabet(void **state)
{
    (void)state;
    /* Every vowel letter with every tone, alone and after consonants, as NFC, NFD
     * and uppercase: identical outputs; the six tones of one vowel all different. */
    const char *vowels[] = {"a", "a\u0306", "a\u0302", "e", "e\u0302", "i",
                            "o", "o\u0302", "o\u031B", "u", "u\u031B", "y"};
    const char *cons[] = {"", "b", "c", "ch", "d", "\u0111", "g", "gh", "h", "k", "kh", "l",
                          "m", "n", "ng", "ngh", "nh", "p", "ph", "r", "s", "t", "th",
                          "tr", "v", "x"};
    char buf[64];
    for (size_t v = 0; v < 12; v++) {
        char *seen[6];
        for (int t = 0; t < 6; t++) {
            for (size_t c = 0; c < sizeof cons / sizeof *cons; c++) {
                snprintf(buf, sizeof buf, "%s%s%s", cons[c], vowels[v], tones[t]);
                char *composed = nfc(buf), *up = upper(composed);
                char *a = norm(composed), *b = norm(buf), *u = norm(up);
                assert_string_equal(a, composed); /* already canonical */
                assert_string_equal(a, b);
                assert_string_equal(a, u);
                if (c == 0)
                    seen[t] = a;
                else
                    free(a);
                free(b);
                free(u);
                free(composed);
                free(up);
            }
        }
        for (int t = 0; t < 6; t++)
            for (int k = t + 1; k < 6; k++)
                assert_string_not_equal(seen[t], seen[k]);
        for (int t = 0; t < 6; t++)
            free(seen[t]);
    }

    /* Multi-vowel syllables: the tone on any vowel of the nucleus (old style, new
     * style, misplaced), NFC or NFD, lower or upper: one output, with the tone on the
     * vowel the convention names (index `want` among the syllable's vowel letters). */
    const struct {
        const char *base;
        int want;
    } syl[] = {
        {"hoa", 1},           {"khoe", 1},           {"thuy", 1},
        {"quy", 1},           {"qua", 1},            {"gia", 1},
        {"hoang", 1},         {"hoach", 1},          {"huynh", 1},
        {"mua", 0},           {"mai", 0},            {"cao", 0},
        {"kia", 0},           {"tui", 0},            {"meo", 0},
        {"ngu\u031Bo\u031Bi", 1}, {"mu\u031Ba", 0},  {"cu\u031Bu", 0},
        {"thu\u031Bo\u031B", 1},  {"tuye\u0302n", 2}, {"khuyu", 1},
        {"ngoai", 1},         {"xoay", 1},           {"ngoeo", 1},
        {"khua\u0302y", 1},   {"muo\u0302i", 1},     {"hie\u0302u", 1},
        {"ye\u0302u", 1},     {"quye\u0302t", 2},    {"gie\u0302ng", 1},
        {"hoa\u0306c", 1},    {"nga\u0302n", 0},     {"\u0111oa", 1},
    };
    for (size_t s = 0; s < sizeof syl / sizeof *syl; s++) {
        int nv = 0;
        for (const char *p = syl[s].base; *p; p++)
            nv += strchr("aeiouy", *p) != NULL;
        for (int t = 1; t < 6; t++) {
            char *canon_nfd = place(syl[s].base, tones[t], syl[s].want);
            char *canon = nfc(canon_nfd);
            for (int v = 0; v < nv; v++) {
                char *d = place(syl[s].base, tones[t], v);
                char *c = nfc(d), *u = upper(c);
                char *a = norm(c), *b = norm(d), *x = norm(u);
                if (strcmp(a, canon) != 0)
                    fail_msg("%s tone %d on vowel %d: got %s want %s", syl[s].base, t, v, a,
                             canon);
                assert_string_equal(b, canon);
                assert_string_equal(x, canon);
                free(a);
                free(b);
                free(x);
                free(u);
                free(c);
                free(d);
            }
            free(canon);
            free(canon_nfd);
        }
    }
}

static void test_separators(void **state)
{
    (void)state;
    EXPECT("l\u2019\u00E9t\u00E9\u2014c\u2019est \u201Cbien\u201D\u00A0ok\u2009x\u202Fy\u3000z",
           "l \u00E9t\u00E9 c est bien ok x y z");
    expect_same("a-b", "a\u2013b");
    expect_same("a-b", "a\u2014b");
    expect_same("a-b", "a\u2212b");
    expect_same("it's", "it\u2019s");
    expect_same("it's", "it\u02BCs");
    expect_same("\"quoted\"", "\u00ABquoted\u00BB");
    expect_same("a b", "a\u00A0b");
    EXPECT("\u00BFQu\u00E9? \u00A1S\u00ED! \u2026fin\u2026 x\u2022y", "qu\u00E9 s\u00ED fin x y");
    EXPECT("\uFFFDa\uFFFD", "a");                 /* a real U+FFFD separates */
}

static void test_invisible(void **state)
{
    (void)state;
    expect_same("hy\u00ADphen", "hyphen");
    expect_same("zero\u200Bwidth", "zerowidth");
    expect_same("\uFEFFbom", "bom");
    expect_same("a\u200Cb\u200Dc\u2060d", "abcd");
    expect_same("vi\u00AD\u1EC7t", "vi\u1EC7t");
    EXPECT("\u00AD\u200B", "");
}

static void test_cjk(void **state)
{
    (void)state;
    nd_buf out = ND_BUF_INIT;
    nd_toks t = {0};
    const char *in = "\u4E2D\u6587abc\u5B57\u7B26 2024\u5E74";
    assert_int_equal(nd_norm_block(N, in, strlen(in), &out, &t, NULL), 0);
    check_layout(&out, 0, &t, 0);
    assert_string_equal(out.p, "\u4E2D \u6587 abc \u5B57 \u7B26 2024 \u5E74");
    assert_int_equal(t.n, 7);
    const uint32_t want[] = {1, 1, 0, 1, 1, 0, 1};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(t.v[i].flags, want[i]);
    nd_buf_free(&out);
    nd_toks_free(&t);
    /* Japanese: kana and kanji one per token; the voiced mark stays on its kana. */
    EXPECT("\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8\u3002",
           "\u65E5 \u672C \u8A9E \u306E \u30C6 \u30AD \u30B9 \u30C8");
    EXPECT("\u304B\u3099", "\u304C");
    assert_int_equal(nd_norm_token_flags("\u304C", 3), ND_TOK_NOSPACE);
    /* extension B and compatibility ideographs */
    EXPECT("\U00020000\U0002A700", "\U00020000 \U0002A700");
    assert_int_equal(nd_norm_token_flags("\U00020000", 4), ND_TOK_NOSPACE);
    EXPECT("\uF900", "\u8C48");                    /* canonical singleton */
    EXPECT("\u4E2D\u0301\u6587", "\u4E2D\u0301 \u6587"); /* a mark stays on its character */
    /* Hangul keeps words */
    size_t n;
    char *r = normn("\uD55C\uAD6D\uC5B4 \uD14D\uC2A4\uD2B8", 19, &n, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(nd_norm_token_flags(r, 9), 0);
    free(r);
    assert_int_equal(nd_norm_token_flags("abc", 3), 0);
    assert_int_equal(nd_norm_token_flags("\u00E9", 2), 0);
}

static void test_thai_and_others(void **state)
{
    (void)state;
    /* Thai: one token per character, combining vowels on their consonant. */
    size_t n;
    char *r = normn("\u0E01\u0E34\u0E19\u0E02\u0E49\u0E32\u0E27", 21, &n, NULL);
    assert_string_equal(r, "\u0E01\u0E34 \u0E19 \u0E02\u0E49 \u0E32 \u0E27");
    assert_int_equal(n, 5);
    free(r);
    assert_int_equal(nd_norm_token_flags("\u0E01", 3), ND_TOK_NOSPACE);
    assert_int_equal(nd_norm_token_flags("\u0E9A", 3), ND_TOK_NOSPACE);   /* Lao */
    assert_int_equal(nd_norm_token_flags("\u1780", 3), ND_TOK_NOSPACE);   /* Khmer */
    assert_int_equal(nd_norm_token_flags("\u1000", 3), ND_TOK_NOSPACE);   /* Myanmar */
    EXPECT("\u1780\u1798\u17D2\u1796\u17BB\u1787\u17B6", "\u1780 \u1798\u17D2 \u1796\u17BB \u1787\u17B6");
    /* Arabic and Cyrillic words stay words */
    EXPECT("\u041F\u0440\u0438\u0432\u0435\u0442, \u043C\u0438\u0440!",
           "\u043F\u0440\u0438\u0432\u0435\u0442 \u043C\u0438\u0440");
    EXPECT("\u0645\u0631\u062D\u0628\u0627 \u0661\u0662\u0663", "\u0645\u0631\u062D\u0628\u0627 \u0661\u0662\u0663");
}

static void test_digits(void **state)
{
    (void)state;
    EXPECT("3.14 1,000,000 v2 2024-01-05", "3 14 1 000 000 v2 2024 01 05");
    EXPECT("x\u00B2 \u00BD", "x\u00B2 \u00BD");  /* other numbers are token characters */
    EXPECT("\u2167", "\u2177");                   /* Roman numeral folds to lowercase */
}

struct bad {
    const char *s;
    size_t len, invalid;
    const char *want;
};

static void test_invalid_utf8(void **state)
{
    (void)state;
    const struct bad cases[] = {
        {"\x80", 1, 1, ""},
        {"a\x80" "b", 3, 1, "a b"},
        {"\xC0\xAF", 2, 2, ""},                    /* overlong '/' */
        {"\xC1\xBF", 2, 2, ""},
        {"\xE0\x80\xAF", 3, 3, ""},                /* overlong 3-byte */
        {"\xED\xA0\x80", 3, 3, ""},                /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", 4, 4, ""},            /* U+110000 */
        {"\xF5\x80", 2, 2, ""},
        {"\xFF\xFE", 2, 2, ""},
        {"\xE2\x82", 2, 1, ""},                    /* truncated at the end */
        {"\xE2\x82x", 3, 1, "x"},
        {"\xF0\x9F\x98", 3, 1, ""},
        {"\xF0\x9F\x98 ok", 6, 1, "ok"},
        {"ab\xFF" "cd", 5, 1, "ab cd"},
        {"\xF1\x80\x80\xE1\x80\xC2" "A", 7, 3, "a"},  /* WHATWG example */
        {"caf\xC3", 4, 1, "caf"},
        {"\xC3\xA9\xC3", 3, 1, "\u00E9"},
        {"x\xE0\xA0", 3, 1, "x"},
        {"\xEF\xBF\xBD", 3, 0, ""},                /* a valid U+FFFD is not invalid */
        {"\xF4\x8F\xBF\xBF", 4, 0, ""},            /* U+10FFFF: valid, not a letter */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t inv = 99;
        char *r = normn(cases[i].s, cases[i].len, NULL, &inv);
        if (inv != cases[i].invalid || strcmp(r, cases[i].want) != 0)
            fail_msg("case %zu: %zu invalid, \"%s\"", i, inv, r);
        free(r);
        /* again, now through the span cache */
        r = normn(cases[i].s, cases[i].len, NULL, &inv);
        assert_int_equal(inv, cases[i].invalid);
        assert_string_equal(r, cases[i].want);
        free(r);
    }
    /* A NUL byte is a separator, not an end. */
    char *r = normn("a\0b", 3, NULL, NULL);
    assert_string_equal(r, "a b");
    free(r);
}

static void test_append(void **state)
{
    (void)state;
    nd_buf out = ND_BUF_INIT;
    nd_toks t = {0};
    nd_norm_stats st = {0};
    assert_int_equal(nd_buf_puts(&out, "PREFIX"), 0);
    assert_int_equal(nd_norm_block(N, "Alpha b\u00C9ta", 11, &out, &t, &st), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(out.p, "PREFIXalpha b\u00E9ta");
    check_layout(&out, 6, &t, 0);
    /* a second block after it, toks kept */
    size_t base = out.len;
    assert_int_equal(nd_norm_block(N, "\u4E2D x", 5, &out, &t, &st), 0);
    assert_int_equal(t.n, 4);
    assert_string_equal(out.p + base, "\u4E2D x");
    check_layout(&out, base, &t, 2);
    assert_int_equal(t.v[2].off, base);
    /* a block with no token leaves both unchanged */
    base = out.len;
    assert_int_equal(nd_norm_block(N, " -- ", 4, &out, &t, &st), 0);
    assert_int_equal(out.len, base);
    assert_int_equal(t.n, 4);
    nd_buf_free(&out);
    nd_toks_free(&t);
}

static void test_big_block(void **state)
{
    (void)state;
    /* 2 MB in one call: English, Vietnamese, CJK, invalid bytes; must equal the
     * pieces normalised one by one and joined by spaces. */
    const char *piece[] = {
        "The quick brown fox, jumps over the lazy dog. ",
        "Ng\u01B0\u1EDDi H\u00E0 N\u1ED9i h\u00F2a b\u00ECnh, kh\u1ECFe m\u1EA1nh. ",
        "\u4E2D\u6587\u5B57\u7B26\u3002",
        "bad\xFF" "byte ",
    };
    nd_buf in = ND_BUF_INIT, want = ND_BUF_INIT;
    size_t k = 0, want_inv = 0;
    while (in.len < (2u << 20)) {
        const char *p = piece[k++ % 4];
        assert_int_equal(nd_buf_puts(&in, p), 0);
        size_t inv;
        char *r = normn(p, strlen(p), NULL, &inv);
        want_inv += inv;
        if (*r && want.len)
            assert_int_equal(nd_buf_putc(&want, ' '), 0);
        assert_int_equal(nd_buf_puts(&want, r), 0);
        free(r);
    }
    size_t ntok, inv;
    char *got = normn(in.p, in.len, &ntok, &inv);
    assert_int_equal(strlen(got), want.len);
    assert_memory_equal(got, want.p, want.len);
    assert_int_equal(inv, want_inv);
    assert_true(ntok > 200000);
    free(got);
    nd_buf_free(&in);
    nd_buf_free(&want);
}

static void test_idempotent(void **state)
{
    (void)state;
    const char *s[] = {
        "Ng\u01B0\u1EDDi H\u00E0 N\u1ED9i, H\u00D2A b\u00ECnh \u0130stanbul Stra\u00DFe",
        "\u4E2D\u6587 \u0E01\u0E34\u0E19 \u304B\u3099 \uD55C\uAD6D\uC5B4 x\u00B2",
    };
    for (size_t i = 0; i < 2; i++) {
        char *a = norm(s[i]), *b = norm(a);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
}

static char seeds[1024];

static void test_seed_pages(void **state)
{
    (void)state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls '%s'/*.txt 2>/dev/null", seeds);
    FILE *ls = popen(cmd, "r");
    assert_non_null(ls);
    char path[1200];
    int files = 0;
    while (fgets(path, sizeof path, ls)) {
        path[strcspn(path, "\n")] = '\0';
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char *line = NULL;
        size_t cap = 0, tokens = 0;
        ssize_t l;
        while ((l = getline(&line, &cap, f)) > 0) {
            size_t n, inv;
            char *a = normn(line, (size_t)l, &n, &inv);
            assert_int_equal(inv, 0);
            tokens += n;
            char *d = nfd(line);
            char *b = normn(d, strlen(d), NULL, NULL);
            assert_string_equal(a, b);
            char *c = norm(a);
            assert_string_equal(a, c);
            free(a);
            free(b);
            free(c);
            free(d);
        }
        free(line);
        fclose(f);
        assert_true(tokens > 0);
        files++;
    }
    pclose(ls);
    if (!files)
        skip();
}

/* ---- fast paths against the general path ---- */

/* Test hook in core/norm.c: forces the general path everywhere. */

/* The same block through two normalisers, one without its fast paths: text, token
 * table and invalid count must be identical. */
static void expect_fast_equals_slow(nd_norm *f, nd_norm *sl, const char *s, size_t len)
{
    nd_buf o1 = ND_BUF_INIT, o2 = ND_BUF_INIT;
    nd_toks t1 = {0}, t2 = {0};
    nd_norm_stats s1 = {0}, s2 = {0};
    assert_int_equal(nd_norm_block(f, s, len, &o1, &t1, &s1), 0);
    assert_int_equal(nd_norm_block(sl, s, len, &o2, &t2, &s2), 0);
    assert_true(o1.len > 0);
    assert_int_equal(o1.len, o2.len);
    /* Report the first difference readably, not as one huge string. */
    for (size_t i = 0; i < o1.len; i++)
        if (o1.p[i] != o2.p[i]) {
            size_t a = i > 40 ? i - 40 : 0;
            fail_msg("fast and slow differ at byte %zu: \"%.80s\" vs \"%.80s\"", i,
                     o1.p + a, o2.p + a);
        }
    assert_int_equal(t1.n, t2.n);
    assert_memory_equal(t1.v, t2.v, t1.n * sizeof *t1.v);
    assert_int_equal(s1.invalid_utf8, s2.invalid_utf8);
    nd_toks_free(&t2);
    nd_toks_free(&t1);
    nd_buf_free(&o2);
    nd_buf_free(&o1);
}

static size_t put_cp(char *w, uint32_t c)
{
    return (size_t)utf8proc_encode_char((utf8proc_int32_t)c, (utf8proc_uint8_t *)w);
}

/* Every BMP code point, alone and before each kind of neighbour that could join or
 * end its token (a mark, an ignorable then a mark, U+0345, Han, CJK punctuation,
 * ASCII, invalid and truncated UTF-8); then every BMP code point after a Han
 * character, bare and followed by a mark, since what follows decides the fast path. */
static void test_fast_paths_exhaustive(void **state)
{
    (void)state;
    static const char *const after[] = {
        "", "\xCC\x81", "\xC2\xAD\xCC\x81", "\xCD\x85", "\xE4\xB8\x80", "\xE3\x80\x82",
        "a", "\xFF", "\xE4\xB8", "\xE3\x82\x99",
    };
    size_t cap = 0x10000 * 24, len = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    nd_norm *f, *sl;
    assert_int_equal(nd_norm_new(&f), 0);
    assert_int_equal(nd_norm_new(&sl), 0);
    nd_norm_test_slow(sl, 1);
    for (size_t k = 0; k < sizeof after / sizeof *after; k++) {
        len = 0;
        for (uint32_t c = 0x80; c < 0x10000; c++) {
            if (c >= 0xD800 && c <= 0xDFFF)
                continue;
            b[len++] = ' ';
            len += put_cp(b + len, c);
            memcpy(b + len, after[k], strlen(after[k]));
            len += strlen(after[k]);
        }
        expect_fast_equals_slow(f, sl, b, len);
    }
    /* No spaces: one long span, past the cache, each character followed by the next. */
    len = 0;
    for (uint32_t c = 0x80; c < 0x10000; c++)
        if (c < 0xD800 || c > 0xDFFF)
            len += put_cp(b + len, c);
    expect_fast_equals_slow(f, sl, b, len);
    for (int mark = 0; mark < 2; mark++) {
        len = 0;
        for (uint32_t c = 0x80; c < 0x10000; c++) {
            if (c >= 0xD800 && c <= 0xDFFF)
                continue;
            len += put_cp(b + len, 0x4E2D);
            len += put_cp(b + len, c);
            if (mark)
                len += put_cp(b + len, 0x301);
        }
        expect_fast_equals_slow(f, sl, b, len);
    }
    nd_norm_free(sl);
    nd_norm_free(f);
    free(b);
}

/* Runs of Han and Kana, each character its own token, are taken in one loop: random
 * runs of them mixed with what may end a run or join its last character (marks, an
 * ignorable before a mark, Hangul, invalid and truncated UTF-8, ASCII, punctuation),
 * against the general path. */
static void test_fast_runs_random(void **state)
{
    (void)state;
    static const char *const piece[] = {
        "\xE4\xB8\xAD", "\xE6\x96\x87", "\xE3\x81\x8B", "\xE3\x82\xAB", /* Han, kana */
        "\xE4\xB8\xAD", "\xE6\x96\x87", "\xE3\x81\x8B", "\xE3\x82\xAB",
        "\xCC\x81", "\xE3\x82\x99", "\xC2\xAD\xCC\x81", "\xCD\x85", /* marks */
        "\xEA\xB0\x80", "\xE3\x80\x82", "\xC3\xA9", "\xE1\xBB\x87",
        "\xFF", "\xE4\xB8", "\xE4", "a", "7", " ", ",",
    };
    nd_norm *f, *sl;
    assert_int_equal(nd_norm_new(&f), 0);
    assert_int_equal(nd_norm_new(&sl), 0);
    nd_norm_test_slow(sl, 1);
    unsigned seed = 777;
    char b[400];
    for (unsigned iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        memcpy(b, "\xE4\xB8\x80", 3); /* never empty output */
        len = 3;
        for (unsigned k = 1 + iter % 50; k > 0; k--) {
            seed = seed * 1103515245u + 12345u;
            const char *pc = piece[(seed >> 16) % (sizeof piece / sizeof *piece)];
            memcpy(b + len, pc, strlen(pc));
            len += strlen(pc);
        }
        expect_fast_equals_slow(f, sl, b, len);
    }
    nd_norm_free(sl);
    nd_norm_free(f);
}

int main(void)
{
    snprintf(seeds, sizeof seeds, "%s/../shared/corpora/seeds", ND_SOURCE_DIR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_ascii_words_reference),
        cmocka_unit_test(test_casefold),
        cmocka_unit_test(test_nfc_nfd),
        cmocka_unit_test(test_long_mark_run),
        cmocka_unit_test(test_huge_mark_run),
        cmocka_unit_test(test_cache_consistency),
        cmocka_unit_test(test_vietnamese_pairs),
        cmocka_unit_test(test_vietnamese_alphabet),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_invisible),
        cmocka_unit_test(test_cjk),
        cmocka_unit_test(test_thai_and_others),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_big_block),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_seed_pages),
        cmocka_unit_test(test_fast_paths_exhaustive),
        cmocka_unit_test(test_fast_runs_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
