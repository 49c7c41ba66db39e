/* Tests of the gzip members every clean output is made of: each level (libdeflate)
 * round-trips through zlib, members are deterministic and carry
 * no name or time, and concatenated members read back as one stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "archive.h"
#include "buf.h"

/* Every member in p[0..n) inflated and concatenated (zlib restarted per member, as
 * zcat and gzread do). */
static void gunzip_all(const char *p, size_t n, nd_buf *out)
{
    size_t used = 0;
    while (used < n) {
        z_stream s;
        memset(&s, 0, sizeof s);
        assert_int_equal(inflateInit2(&s, 16 + MAX_WBITS), Z_OK);
        s.next_in = (Bytef *)(uintptr_t)(p + used);
        s.avail_in = (uInt)(n - used);
        int r;
        do {
            assert_int_equal(nd_buf_reserve(out, 65536), 0);
            s.next_out = (Bytef *)out->p + out->len;
            s.avail_out = 65536;
            r = inflate(&s, Z_NO_FLUSH);
            assert_true(r == Z_OK || r == Z_STREAM_END);
            out->len = (size_t)((char *)s.next_out - out->p);
        } while (r != Z_STREAM_END);
        used = n - s.avail_in;
        inflateEnd(&s);
    }
}

/* Bytes that look like news text (compressible) or like noise (not), by seed. */
static char *make_input(size_t n, int text, unsigned seed)
{
    static const char *const words[] = {"tin ", "tức ", "thành phố ", "the ", "news ",
                                        "article ", "Hà Nội ", "2026 ", ".\n", "Việt "};
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (!text) {
            p[i++] = (char)(x >> 24);
            continue;
        }
        const char *w = words[x % 10];
        size_t k = strlen(w);
        if (k > n - i)
            k = n - i;
        memcpy(p + i, w, k);
        i += k;
    }
    return p;
}

static void round_trip(int level, size_t n, int text)
{
    char *in = make_input(n, text, (unsigned)(n + (size_t)level));
    nd_gzip *z;
    assert_int_equal(nd_gzip_new(level, &z), 0);
    nd_buf a = ND_BUF_INIT, b = ND_BUF_INIT, back = ND_BUF_INIT;
    assert_int_equal(nd_gzip_member(z, in, n, &a), 0);
    assert_int_equal(nd_gzip_member(z, in, n, &b), 0);
    /* Deterministic: the same bytes twice from the same compressor. */
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.p, b.p, a.len);
    /* A plain member: magic, deflate, no FNAME/FCOMMENT/FEXTRA, mtime 0. */
    assert_true(a.len >= 18);
    assert_int_equal((unsigned char)a.p[0], 0x1f);
    assert_int_equal((unsigned char)a.p[1], 0x8b);
    assert_int_equal(a.p[2], 8);
    assert_int_equal(a.p[3] & 0x1c, 0);
    assert_memory_equal(a.p + 4, "\0\0\0\0", 4);
    gunzip_all(a.p, a.len, &back);
    assert_int_equal(back.len, n);
    if (n)
        assert_memory_equal(back.p, in, n);
    /* Levels above 0 really compress text. */
    if (level > 0 && text && n >= 4096)
        assert_true(a.len < n / 2);
    nd_buf_free(&back);
    nd_buf_free(&b);
    nd_buf_free(&a);
    nd_gzip_free(z);
    free(in);
}

static void test_every_level_round_trips(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 7000, 100000, 1u << 20};
    for (int level = 0; level <= 9; level++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            for (int text = 0; text <= 1; text++)
                round_trip(level, sizes[i], text);
}

static void test_out_of_range_levels_clamped(void **state)
{
    (void)state;
    round_trip(-3, 5000, 1);
    round_trip(42, 5000, 1);
}

/* Members appended to one buffer (the jsonl and warc outputs) read as one stream, and
 * a member is appended after what the buffer held. */
static void test_concatenated_members(void **state)
{
    (void)state;
    nd_gzip *z;
    assert_int_equal(nd_gzip_new(1, &z), 0);
    nd_buf out = ND_BUF_INIT, back = ND_BUF_INIT;
    char *x = make_input(20000, 1, 1), *y = make_input(300, 0, 2), *w = make_input(9000, 1, 3);
    assert_int_equal(nd_gzip_member(z, x, 20000, &out), 0);
    assert_int_equal(nd_gzip_member(z, y, 300, &out), 0);
    assert_int_equal(nd_gzip_member(z, "", 0, &out), 0);
    assert_int_equal(nd_gzip_member(z, w, 9000, &out), 0);
    gunzip_all(out.p, out.len, &back);
    assert_int_equal(back.len, 29300);
    assert_memory_equal(back.p, x, 20000);
    assert_memory_equal(back.p + 20000, y, 300);
    assert_memory_equal(back.p + 20300, w, 9000);
    free(w);
    free(y);
    free(x);
    nd_buf_free(&back);
    nd_buf_free(&out);
    nd_gzip_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_level_round_trips),
        cmocka_unit_test(test_out_of_range_levels_clamped),
        cmocka_unit_test(test_concatenated_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
