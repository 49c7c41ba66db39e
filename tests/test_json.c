/* Tests of the shared output helpers: JSON escaping (any bytes in, valid JSON out),
 * numbers, digests, the growable buffer and the problem summary line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "problems.h"

static void check_str(const char *in, size_t len, const char *want)
{
    nd_buf b = ND_BUF_INIT;
    assert_int_equal(nd_json_str(&b, in, len), 0);
    assert_string_equal(b.p, want);
    assert_int_equal(b.len, strlen(want));
    nd_buf_free(&b);
}

static void test_escapes(void **state)
{
    (void)state;
    check_str("plain", 5, "\"plain\"");
    check_str("a\"b\\c\n\t\r", 8, "\"a\\\"b\\\\c\\n\\t\\r\"");
    check_str("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    check_str("nul\0in", 6, "\"nul\\u0000in\"");
    check_str("ti\xe1\xba\xbfng Vi\xe1\xbb\x87t", 14, "\"ti\xe1\xba\xbfng Vi\xe1\xbb\x87t\"");
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    /* Lone continuation byte, truncated sequence, overlong '/', surrogate. */
    check_str("a\x80" "b", 3, "\"a\xef\xbf\xbd" "b\"");
    check_str("\xe1\xba", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    check_str("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    check_str("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_numbers_and_digest(void **state)
{
    (void)state;
    nd_buf b = ND_BUF_INIT;
    assert_int_equal(nd_json_num(&b, 1.0), 0);
    assert_int_equal(nd_buf_putc(&b, ' '), 0);
    assert_int_equal(nd_json_num(&b, 0.97312), 0);
    assert_int_equal(nd_buf_putc(&b, ' '), 0);
    assert_int_equal(nd_json_num(&b, 0.5), 0);
    assert_int_equal(nd_buf_putc(&b, ' '), 0);
    assert_int_equal(nd_json_num(&b, -0.00001), 0);
    assert_string_equal(b.p, "1 0.9731 0.5 0");
    nd_buf_clear(&b);
    uint64_t d[2] = {0x0123456789abcdefull, 0xfedcba9876543210ull};
    assert_int_equal(nd_json_digest(&b, d), 0);
    assert_string_equal(b.p, "\"fedcba98765432100123456789abcdef\"");
    assert_int_equal(nd_json_cstr(&b, NULL), 0);
    assert_string_equal(b.p + 34, "null");
    nd_buf_free(&b);
}

static void test_buf_growth_and_take(void **state)
{
    (void)state;
    nd_buf b = ND_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        assert_int_equal(nd_buf_printf(&b, "%d,", i % 10), 0);
    assert_int_equal(b.len, 20000);
    assert_int_equal(b.p[b.len], '\0');
    char *p = nd_buf_take(&b);
    assert_null(b.p);
    assert_int_equal(strlen(p), 20000);
    free(p);
    char *empty = nd_buf_take(&b);
    assert_string_equal(empty, "");
    free(empty);
}

static void test_problem_summary(void **state)
{
    (void)state;
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    nd_problems *p;
    assert_int_equal(nd_problems_new(log, &p), 0);
    nd_problem(p, ND_SKIPPED, "a.bin", "binary", NULL);
    nd_problem(p, ND_SKIPPED, "b.html", "unreadable", "permission denied");
    nd_problem(p, ND_SKIPPED, "c.bin", "binary", NULL);
    nd_problem(p, ND_PARTIAL, "d.gz", "truncated gzip", "truncated gzip stream, %d bytes used", 42);
    nd_buf s = ND_BUF_INIT;
    assert_int_equal(nd_problems_summary(p, &s), 0);
    assert_string_equal(s.p, "skipped 3: 2 binary, 1 unreadable; partly used 1: 1 truncated gzip");
    assert_int_equal(nd_problems_count(p, ND_SKIPPED), 3);
    assert_int_equal(nd_problems_kind(p, "binary"), 2);
    fflush(log);
    assert_non_null(strstr(logbuf, "neardup: b.html: permission denied (skipped)\n"));
    assert_non_null(strstr(logbuf, "neardup: d.gz: truncated gzip stream, 42 bytes used (partly used)\n"));
    nd_buf_free(&s);
    nd_problems_free(p);
    fclose(log);
    free(logbuf);
}

/* The fast writer for valid UTF-8 gives nd_json_str's bytes on valid input. */
static void test_str_utf8_same_bytes(void **state)
{
    (void)state;
    static const char *const pieces[] = {"a", "Vi\xe1\xbb\x87t", "\"", "\\", "\n", "\t",
                                         "\x01", "\x1f", " ", "\xe4\xb8\xad", "0123456789",
                                         "\xf0\x9f\x98\x80", "/", "\x7f"};
    uint64_t x = 88172645463325252ull;
    nd_buf in = ND_BUF_INIT, a = ND_BUF_INIT, b = ND_BUF_INIT;
    for (int round = 0; round < 2000; round++) {
        nd_buf_clear(&in);
        int n = (int)(x % 40);
        for (int k = 0; k < n; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            nd_buf_puts(&in, pieces[x % (sizeof pieces / sizeof *pieces)]);
        }
        nd_buf_clear(&a);
        nd_buf_clear(&b);
        assert_int_equal(nd_json_str(&a, in.p ? in.p : "", in.len), 0);
        assert_int_equal(nd_json_str_utf8(&b, in.p ? in.p : "", in.len), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.p, b.p, a.len);
    }
    nd_buf_free(&in);
    nd_buf_free(&a);
    nd_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_str_utf8_same_bytes),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_numbers_and_digest),
        cmocka_unit_test(test_buf_growth_and_take),
        cmocka_unit_test(test_problem_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
