/* Tests of declared legacy charsets: where the label is found (Content-Type first, then
 * <meta> in the first 1024 bytes), WHATWG aliases, conversion of windows-1252,
 * windows-1258 (Vietnamese with combining tone marks), GBK and Shift_JIS to the same
 * tokens as the UTF-8 page, bad bytes and the size cap, valid UTF-8 never converted
 * whatever it declares, an unknown label noted, and WARC records by their HTTP header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "error.h"
#include "norm.h"
#include "read.h"
#include "scratch_harness.h"

static void test_declared(void **state)
{
    (void)state;
    char l[ND_CHARSET_LABEL];
    const char *ct = "text/html; Charset=\"Windows-1252\"";
    assert_int_equal(nd_charset_declared(ct, strlen(ct), "", 0, 1, l), 12);
    assert_string_equal(l, "windows-1252");
    const char *m1 = "<html><head><META CHARSET=Shift_JIS></head>";
    assert_true(nd_charset_declared(NULL, 0, m1, strlen(m1), 1, l) > 0);
    assert_string_equal(l, "shift_jis");
    const char *m2 = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset = gb2312\">";
    assert_true(nd_charset_declared(NULL, 0, m2, strlen(m2), 1, l) > 0);
    assert_string_equal(l, "gb2312");
    /* Content-Type comes first; a header without a charset falls back to the meta. */
    const char *ct2 = "text/html; charset=utf-8";
    assert_true(nd_charset_declared(ct2, strlen(ct2), m2, strlen(m2), 1, l) > 0);
    assert_string_equal(l, "utf-8");
    assert_true(nd_charset_declared("text/html", 9, m2, strlen(m2), 1, l) > 0);
    assert_string_equal(l, "gb2312");
    /* Not in a meta tag, not HTML, or past the first 1024 bytes: not a declaration. */
    const char *p = "<p>set charset=latin1 in your editor</p>";
    assert_int_equal(nd_charset_declared(NULL, 0, p, strlen(p), 1, l), 0);
    assert_int_equal(nd_charset_declared(NULL, 0, m1, strlen(m1), 0, l), 0);
    char late[1200];
    memset(late, ' ', sizeof late);
    memcpy(late + 1100, "<meta charset=latin1>", 21);
    assert_int_equal(nd_charset_declared(NULL, 0, late, sizeof late, 1, l), 0);
    /* A meta without a usable label, then one with it. */
    const char *m3 = "<meta name=x><meta charset=\"\"><meta charset='koi8-r'>";
    assert_true(nd_charset_declared(NULL, 0, m3, strlen(m3), 1, l) > 0);
    assert_string_equal(l, "koi8-r");
}

static void test_names(void **state)
{
    (void)state;
    char n[ND_CHARSET_LABEL];
    assert_null(nd_charset_iconv_name("utf-8", n));
    assert_null(nd_charset_iconv_name("utf8", n));
    assert_string_equal(nd_charset_iconv_name("iso-8859-1", n), "WINDOWS-1252");
    assert_string_equal(nd_charset_iconv_name("us-ascii", n), "WINDOWS-1252");
    assert_string_equal(nd_charset_iconv_name("gb2312", n), "GB18030");
    assert_string_equal(nd_charset_iconv_name("shift_jis", n), "CP932");
    assert_string_equal(nd_charset_iconv_name("windows-1258", n), "WINDOWS-1258");
}

/* from -> UTF-8 of the whole input, no cap to speak of. */
static char *conv(const char *from, const char *in, size_t *bad)
{
    nd_buf b = ND_BUF_INIT;
    *bad = 0;
    assert_int_equal(nd_charset_convert(from, in, strlen(in), 1 << 20, &b, bad), 0);
    return b.p ? b.p : strdup("");
}

/* Normalised text of a UTF-8 string. */
static char *norm(const char *s)
{
    nd_norm *n;
    assert_int_equal(nd_norm_new(&n), 0);
    nd_buf out = ND_BUF_INIT;
    nd_toks t = {0};
    assert_int_equal(nd_norm_block(n, s, strlen(s), &out, &t, NULL), 0);
    nd_toks_free(&t);
    nd_norm_free(n);
    return out.p ? out.p : strdup("");
}

static void same_tokens(const char *from, const char *legacy, const char *utf8)
{
    size_t bad;
    char *c = conv(from, legacy, &bad);
    assert_int_equal(bad, 0);
    char *a = norm(c), *b = norm(utf8);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(c);
}

static void test_convert_same_tokens(void **state)
{
    (void)state;
    same_tokens("WINDOWS-1252", "Le caf\xe9 r\xe9ouvre apr\xe8s l'\xe9t\xe9 \x96 \x93vite\x94",
                "Le caf\xc3\xa9 r\xc3\xa9ouvre apr\xc3\xa8s l'\xc3\xa9t\xc3\xa9 \xe2\x80\x93 "
                "\xe2\x80\x9cvite\xe2\x80\x9d");
    /* windows-1258 writes tone marks as combining characters after the letter. */
    same_tokens("WINDOWS-1258", "Vi\xea\xf2t Nam, H\xe0 N\xf4\xf2i, ng\xfd\xf5\xcci",
                "Vi\xe1\xbb\x87t Nam, H\xc3\xa0 N\xe1\xbb\x99i, ng\xc6\xb0\xe1\xbb\x9di");
    same_tokens("GB18030", "\xd6\xd0\xce\xc4", "\xe4\xb8\xad\xe6\x96\x87");
    same_tokens("CP932", "\x93\xfa\x96\x7b", "\xe6\x97\xa5\xe6\x9c\xac");
}

static void test_bad_bytes_cap_unknown(void **state)
{
    (void)state;
    size_t bad = 0;
    /* 0x81 is not a character of windows-1252; a lone GBK lead byte at the end is cut. */
    char *c = conv("WINDOWS-1252", "a\x81z", &bad);
    assert_string_equal(c, "a\xef\xbf\xbdz");
    assert_int_equal(bad, 1);
    free(c);
    c = conv("GB18030", "\xd6\xd0\xd6", &bad);
    assert_string_equal(c, "\xe4\xb8\xad\xef\xbf\xbd");
    assert_int_equal(bad, 1);
    free(c);
    /* The cap cuts between characters: 3 e-acute are 6 bytes, a cap of 5 keeps 2. */
    nd_buf b = ND_BUF_INIT;
    bad = 0;
    assert_int_equal(nd_charset_convert("WINDOWS-1252", "\xe9\xe9\xe9", 3, 5, &b, &bad), 1);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.p, "\xc3\xa9\xc3\xa9", 4);
    nd_buf_free(&b);
    assert_int_equal(nd_charset_convert("NO-SUCH-CHARSET-X", "abc", 3, 100, &b, &bad), ND_EFORMAT);
    nd_buf_free(&b);
}

struct one {
    int n;
    char body[512];
    unsigned flags;
};

static int keep_body(void *ctx, const nd_rawdoc *d)
{
    struct one *o = ctx;
    o->n++;
    assert_true(d->body_len < sizeof o->body);
    memcpy(o->body, d->body, d->body_len);
    o->body[d->body_len] = '\0';
    o->flags = d->flags;
    return 0;
}

static struct one read_one(const char *name, nd_problems *pr, size_t cap)
{
    struct one o = {0};
    nd_read_opts ro = {.max_doc_bytes = cap};
    assert_int_equal(nd_read_file(dir, name, &ro, pr, keep_body, &o), 0);
    assert_int_equal(o.n, 1);
    return o;
}

static void test_files(void **state)
{
    (void)state;
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    /* Declared and not UTF-8: converted. */
    const char *l1 = "<html><head><meta charset=\"iso-8859-1\"></head><body><p>caf\xe9</p></body></html>";
    put("latin1.html", l1, strlen(l1));
    struct one o = read_one("latin1.html", pr, 0);
    assert_non_null(strstr(o.body, "<p>caf\xc3\xa9</p>"));
    /* Declared latin1 but valid UTF-8 (a common mislabel): left as it is. */
    const char *u = "<html><head><meta charset=\"iso-8859-1\"></head><body><p>caf\xc3\xa9</p></body></html>";
    put("mislabel.html", u, strlen(u));
    o = read_one("mislabel.html", pr, 0);
    assert_string_equal(o.body, u);
    /* Plain text declares nothing: invalid bytes stay for the normaliser to replace. */
    put("plain.txt", "caf\xe9\n", 5);
    o = read_one("plain.txt", pr, 0);
    assert_string_equal(o.body, "caf\xe9\n");
    assert_int_equal(nd_problems_count(pr, ND_NOTE), 0);
    /* An unknown label: noted, read as it is. */
    const char *x = "<meta charset=\"x-klingon\"><p>caf\xe9</p>";
    put("unknown.html", x, strlen(x));
    o = read_one("unknown.html", pr, 0);
    assert_string_equal(o.body, x);
    assert_int_equal(nd_problems_kind(pr, "unknown charset"), 1);
    /* The cap holds for the converted body too. */
    char big[400];
    int n = snprintf(big, sizeof big, "<meta charset=latin1><p>");
    memset(big + n, 0xe9, 300);
    put("big.html", big, (size_t)n + 300);
    o = read_one("big.html", pr, 200);
    assert_true(strlen(o.body) <= 200);
    assert_true(o.flags & ND_RAW_TRUNCATED);
    assert_int_equal(nd_problems_kind(pr, "too large"), 1);
    nd_problems_free(pr);
}

static void test_warc_http_charset(void **state)
{
    (void)state;
    const char *http = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=windows-1258\r\n\r\n"
                       "<html><body><p>Vi\xea\xf2t Nam</p></body></html>";
    char rec[1024];
    int n = snprintf(rec, sizeof rec,
                     "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://vn.example/a\r\n"
                     "Content-Type: application/http; msgtype=response\r\nContent-Length: %zu\r\n\r\n"
                     "%s\r\n\r\n",
                     strlen(http), http);
    put("one.warc", rec, (size_t)n);
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    struct one o = read_one("one.warc", pr, 0);
    /* UTF-8 now, the tone mark maybe still combining: the same tokens either way. */
    assert_non_null(strstr(o.body, "<p>Vi"));
    char *a = norm("Vi\xe1\xbb\x87t Nam");
    char *p = strstr(o.body, "<p>") + 3;
    *strstr(p, "</p>") = '\0';
    char *b = norm(p);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(nd_problems_count(pr, ND_NOTE), 0);
    nd_problems_free(pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_convert_same_tokens),
        cmocka_unit_test(test_bad_bytes_cap_unknown),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_warc_http_charset),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
