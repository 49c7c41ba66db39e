/* The JSON reader: what the writers in json.c produce reads back identically, escapes
 * and surrogate pairs decode, and malformed or hostile input fails with an offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "jsonr.h"

static void test_object_members(void **state)
{
    (void)state;
    const char *s = " {\"cluster\":3,\"size\":2,\"similarity\":0.91,\"exact\":true,"
                    "\"uri\":null,\"members\":[{\"path\":\"a/b.txt\"},{\"path\":\"c\"}],"
                    "\"neg\":-1.5e2} ";
    nd_jdoc *d = NULL;
    assert_int_equal(nd_json_parse(s, strlen(s), &d), 0);
    const nd_jval *r = nd_jdoc_root(d);
    assert_int_equal(r->type, ND_JOBJ);
    assert_int_equal(r->n, 7);
    assert_true(nd_jget_num(r, "cluster", -1) == 3);
    assert_true(nd_jget_num(r, "similarity", -1) == 0.91);
    assert_true(nd_jget_num(r, "neg", 0) == -150);
    assert_true(nd_jget_num(r, "absent", 7) == 7);
    assert_int_equal(nd_jget(r, "exact")->type, ND_JBOOL);
    assert_true(nd_jget(r, "exact")->boolean);
    assert_int_equal(nd_jget(r, "uri")->type, ND_JNULL);
    assert_null(nd_jget_str(r, "uri", NULL));
    const nd_jval *m = nd_jget(r, "members");
    assert_int_equal(m->type, ND_JARR);
    assert_int_equal(m->n, 2);
    assert_string_equal(nd_jget_str(&m->items[0], "path", ""), "a/b.txt");
    assert_string_equal(nd_jget_str(&m->items[1], "path", ""), "c");
    assert_null(nd_jget(m, "path"));
    nd_jdoc_free(d);
}

static void test_roundtrip_with_writer(void **state)
{
    (void)state;
    /* Bytes that need escaping, Vietnamese text, a control char and invalid UTF-8
     * (which the writer turns into U+FFFD). */
    const char raw[] = "quote \" back \\ tab \t nl \n Vi\xe1\xbb\x87t \x01 bad \xff end";
    nd_buf b = ND_BUF_INIT;
    assert_int_equal(nd_json_str(&b, raw, sizeof raw - 1), 0);
    nd_jdoc *d = NULL;
    assert_int_equal(nd_json_parse(b.p, b.len, &d), 0);
    const nd_jval *r = nd_jdoc_root(d);
    assert_int_equal(r->type, ND_JSTR);
    const char want[] = "quote \" back \\ tab \t nl \n Vi\xe1\xbb\x87t \x01 bad \xef\xbf\xbd end";
    assert_int_equal(r->len, sizeof want - 1);
    assert_memory_equal(r->str, want, sizeof want - 1);
    nd_jdoc_free(d);
    nd_buf_free(&b);
}

static void test_unicode_escapes(void **state)
{
    (void)state;
    const char *s = "[\"\\u00e9\\u4e2d\\ud83d\\ude00\\ud800x\\/\"]";
    nd_jdoc *d = NULL;
    assert_int_equal(nd_json_parse(s, strlen(s), &d), 0);
    const nd_jval *v = &nd_jdoc_root(d)->items[0];
    assert_string_equal(v->str, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xef\xbf\xbdx/");
    nd_jdoc_free(d);
}

static void test_malformed_fails_with_offset(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "\"abc",
                                      "tru", "01x", "1.", "-", "[1] 2", "{1:2}",
                                      "\"a\\qb\"", "\"\\u12\"", "\"a\nb\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nd_jdoc *d = (nd_jdoc *)1;
        int rc = nd_json_parse(bad[i], strlen(bad[i]), &d);
        if (rc == 0)
            fail_msg("accepted malformed JSON: %s", bad[i]);
        assert_null(d);
        assert_non_null(strstr(nd_errmsg(), "offset "));
    }
}

static void test_depth_capped(void **state)
{
    (void)state;
    size_t n = 100000;
    char *s = malloc(2 * n);
    memset(s, '[', n);
    memset(s + n, ']', n);
    nd_jdoc *d = NULL;
    assert_true(nd_json_parse(s, 2 * n, &d) < 0);
    assert_non_null(strstr(nd_errmsg(), "nesting too deep"));
    /* Within the cap it parses. */
    size_t k = ND_JSON_MAX_DEPTH;
    assert_int_equal(nd_json_parse(s + n - k, 2 * k, &d), 0);
    nd_jdoc_free(d);
    free(s);
}

static void test_large_array(void **state)
{
    (void)state;
    nd_buf b = ND_BUF_INIT;
    nd_buf_putc(&b, '[');
    for (int i = 0; i < 50000; i++)
        nd_buf_printf(&b, "%s{\"i\":%d,\"s\":\"x%d\"}", i ? "," : "", i, i);
    nd_buf_putc(&b, ']');
    nd_jdoc *d = NULL;
    assert_int_equal(nd_json_parse(b.p, b.len, &d), 0);
    const nd_jval *r = nd_jdoc_root(d);
    assert_int_equal(r->n, 50000);
    assert_true(nd_jget_num(&r->items[49999], "i", 0) == 49999);
    assert_string_equal(nd_jget_str(&r->items[1234], "s", ""), "x1234");
    nd_jdoc_free(d);
    nd_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_members),
        cmocka_unit_test(test_roundtrip_with_writer),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_malformed_fails_with_offset),
        cmocka_unit_test(test_depth_capped),
        cmocka_unit_test(test_large_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
