/* Tests of nd_read_file on single documents: text, HTML sniffing, gzip (one and many
 * members, truncated, trailing garbage), binary detection, empty files, the size cap
 * with the digest over the whole file, unreadable files. Inputs are written by the
 * test into a private temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#include <zlib.h>

#include "buf.h"
#include "warc.h"
#include "read.h"
#include "scratch_harness.h"

struct doc {
    char *body;
    size_t len;
    char *skip;
    int html;
    unsigned flags;
    uint64_t dg[2];
};

struct got {
    size_t n;
    struct doc d[4];
};

static int collect(void *ctx, const nd_rawdoc *r)
{
    struct got *g = ctx;
    assert_true(g->n < 4);
    struct doc *d = &g->d[g->n++];
    d->body = malloc(r->body_len + 1);
    memcpy(d->body, r->body, r->body_len);
    d->body[r->body_len] = '\0';
    d->len = r->body_len;
    d->skip = r->skip_reason ? strdup(r->skip_reason) : NULL;
    d->html = r->is_html;
    d->flags = r->flags;
    d->dg[0] = r->digest[0];
    d->dg[1] = r->digest[1];
    assert_null(r->record_bytes);
    assert_null(r->uri);
    return 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->d[i].body);
        free(g->d[i].skip);
    }
    g->n = 0;
}

/* Read dir/name with the given cap into g; returns the problems (caller frees). */
static nd_problems *read1(const char *name, size_t cap, struct got *g)
{
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    nd_read_opts o = {.max_doc_bytes = cap};
    assert_int_equal(nd_read_file(dir, name, &o, pr, collect, g), 0);
    return pr;
}

static void assert_digest_of(const struct doc *d, const void *p, size_t n)
{
    XXH128_hash_t h = XXH3_128bits(p, n);
    assert_true(d->dg[0] == h.low64 && d->dg[1] == h.high64);
}

static void test_text(void **state)
{
    (void)state;
    const char *t = "Just some words.\nA second line, no markup.\n";
    put("note.txt", t, strlen(t));
    struct got g = {0};
    nd_problems *pr = read1("note.txt", 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.d[0].body, t);
    assert_false(g.d[0].html);
    assert_null(g.d[0].skip);
    assert_int_equal(g.d[0].flags, 0);
    assert_digest_of(&g.d[0], t, strlen(t));
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED) + nd_problems_count(pr, ND_PARTIAL), 0);
    got_free(&g);
    nd_problems_free(pr);
}

static void test_html_sniffing(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        int html;
    } cases[] = {
        {"p1", "\xef\xbb\xbf  \n<!DOCTYPE html><html><body>x</body></html>", 1},
        {"p2", "<HTML><p>upper case</p>", 1},
        {"p3", "some text first, then <div class=a>a block</div>", 1},
        {"p4", "<!-- comment --> words", 1},
        {"p5", "plain words with a < sign and a > sign", 0},
        {"words.html", "no markup at all, but named .html", 1},
        {"words.txt", "no markup at all, named .txt", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        put(cases[i].name, cases[i].text, strlen(cases[i].text));
        struct got g = {0};
        nd_problems *pr = read1(cases[i].name, 0, &g);
        assert_int_equal(g.n, 1);
        if (g.d[0].html != cases[i].html)
            fail_msg("%s: is_html %d, want %d", cases[i].name, g.d[0].html, cases[i].html);
        assert_string_equal(g.d[0].body, cases[i].text);
        got_free(&g);
        nd_problems_free(pr);
    }
}

static void test_gzip_single_and_multi(void **state)
{
    (void)state;
    const char *a = "<html><body><p>first member</p>", *b = "<p>second member</p></body></html>";
    nd_buf z = ND_BUF_INIT;
    gz(&z, a, strlen(a));
    put("one.gz", z.p, z.len);
    struct got g = {0};
    nd_problems *pr = read1("one.gz", 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.d[0].body, a);
    assert_true(g.d[0].html);
    assert_digest_of(&g.d[0], z.p, z.len);   /* over the bytes as stored */
    got_free(&g);
    nd_problems_free(pr);

    gz(&z, b, strlen(b));
    put("two.gz", z.p, z.len);
    pr = read1("two.gz", 0, &g);
    assert_int_equal(g.n, 1);
    char both[256];
    snprintf(both, sizeof both, "%s%s", a, b);
    assert_string_equal(g.d[0].body, both);
    assert_int_equal(g.d[0].flags, 0);
    assert_digest_of(&g.d[0], z.p, z.len);
    assert_int_equal(nd_problems_count(pr, ND_PARTIAL) + nd_problems_count(pr, ND_NOTE), 0);
    got_free(&g);
    nd_problems_free(pr);

    /* Trailing garbage after the last member: a note, the text is whole. */
    assert_int_equal(nd_buf_append(&z, "JUNK", 4), 0);
    put("junk.gz", z.p, z.len);
    pr = read1("junk.gz", 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.d[0].body, both);
    assert_int_equal(nd_problems_kind(pr, "trailing garbage"), 1);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&z);
}

static void test_truncated_and_corrupt_gzip(void **state)
{
    (void)state;
    nd_buf t = ND_BUF_INIT, z = ND_BUF_INIT;
    for (int i = 0; i < 3000; i++)
        assert_int_equal(nd_buf_printf(&t, "line %d of a long text that goes on\n", i * 7919 % 10007), 0);
    gz(&z, t.p, t.len);
    put("cut.txt.gz", z.p, z.len / 2);
    struct got g = {0};
    nd_problems *pr = read1("cut.txt.gz", 0, &g);
    assert_int_equal(g.n, 1);
    assert_null(g.d[0].skip);
    assert_true(g.d[0].flags & ND_RAW_TRUNCATED);
    assert_true(g.d[0].len > 1000 && g.d[0].len < t.len);
    assert_memory_equal(g.d[0].body, t.p, g.d[0].len);   /* a true prefix */
    assert_int_equal(nd_problems_kind(pr, "truncated gzip"), 1);
    assert_int_equal(nd_problems_count(pr, ND_PARTIAL), 1);
    assert_digest_of(&g.d[0], z.p, z.len / 2);
    got_free(&g);
    nd_problems_free(pr);

    z.p[z.len / 2] ^= 0x55;
    z.p[z.len / 2 + 1] ^= 0xAA;
    put("bad.txt.gz", z.p, z.len);
    pr = read1("bad.txt.gz", 0, &g);
    assert_int_equal(g.n, 1);
    assert_true(g.d[0].flags & ND_RAW_TRUNCATED);
    /* What inflate gives before it notices is kept; the start is surely right. */
    assert_true(g.d[0].len > 1000);
    assert_memory_equal(g.d[0].body, t.p, 1000);
    assert_int_equal(nd_problems_kind(pr, "corrupt gzip"), 1);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&z);
    nd_buf_free(&t);
}

static void test_binary(void **state)
{
    (void)state;
    unsigned char png[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    for (int i = 8; i < 64; i++)
        png[i] = (unsigned char)(i * 37);
    put("image.txt", png, sizeof png);   /* the name does not matter */
    unsigned char nul[4096];
    for (int i = 0; i < 4096; i++)
        nul[i] = i % 7 == 0 ? 0 : (unsigned char)('a' + i % 26);
    put("blob", nul, sizeof nul);
    nd_buf z = ND_BUF_INIT;
    gz(&z, nul, sizeof nul);
    put("blob.gz", z.p, z.len);
    const char *names[] = {"image.txt", "blob", "blob.gz"};
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    for (int i = 0; i < 3; i++) {
        struct got g = {0};
        assert_int_equal(nd_read_file(dir, names[i], NULL, pr, collect, &g), 0);
        assert_int_equal(g.n, 1);
        assert_non_null(g.d[0].skip);
        assert_int_equal(g.d[0].len, 0);
        got_free(&g);
    }
    assert_int_equal(nd_problems_kind(pr, "binary"), 3);
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 3);
    nd_problems_free(pr);
    nd_buf_free(&z);
}

static void test_empty(void **state)
{
    (void)state;
    put("empty.txt", "", 0);
    struct got g = {0};
    nd_problems *pr = read1("empty.txt", 0, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.d[0].len, 0);
    assert_null(g.d[0].skip);
    assert_digest_of(&g.d[0], "", 0);
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED) + nd_problems_count(pr, ND_PARTIAL), 0);
    got_free(&g);
    nd_problems_free(pr);
}

static void test_size_cap(void **state)
{
    (void)state;
    size_t n = 300000;
    char *t = malloc(n);
    for (size_t i = 0; i < n; i++)
        t[i] = "abcdefgh ijk\n"[i % 13];
    put("big.txt", t, n);
    struct got g = {0};
    nd_problems *pr = read1("big.txt", 10000, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.d[0].len, 10000);
    assert_memory_equal(g.d[0].body, t, 10000);
    assert_true(g.d[0].flags & ND_RAW_TRUNCATED);
    assert_int_equal(nd_problems_kind(pr, "too large"), 1);
    assert_digest_of(&g.d[0], t, n);   /* still over every byte of the file */
    got_free(&g);
    nd_problems_free(pr);

    /* Same through gzip, and a cap cutting inside a UTF-8 sequence. */
    for (size_t i = 0; i + 2 < n; i += 3)
        memcpy(t + i, "\xe1\xbb\x87", 3);   /* U+1EC7 */
    nd_buf z = ND_BUF_INIT;
    gz(&z, t, n);
    put("big.txt.gz", z.p, z.len);
    pr = read1("big.txt.gz", 10000, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.d[0].len, 9999);
    assert_true(g.d[0].flags & ND_RAW_TRUNCATED);
    assert_int_equal(nd_problems_kind(pr, "too large"), 1);
    assert_digest_of(&g.d[0], z.p, z.len);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&z);
    free(t);
}

static void test_unreadable(void **state)
{
    (void)state;
    struct got g = {0};
    nd_problems *pr = read1("no-such-file", 0, &g);
    assert_int_equal(g.n, 1);
    assert_non_null(g.d[0].skip);
    assert_non_null(strstr(g.d[0].skip, "No such file"));
    assert_int_equal(nd_problems_kind(pr, "unreadable"), 1);
    got_free(&g);
    nd_problems_free(pr);
    if (geteuid() == 0)
        return;   /* root reads everything */
    put("locked.txt", "secret", 6);
    char p[256];
    snprintf(p, sizeof p, "%s/locked.txt", dir);
    assert_int_equal(chmod(p, 0), 0);
    pr = read1("locked.txt", 0, &g);
    assert_int_equal(g.n, 1);
    assert_non_null(g.d[0].skip);
    assert_int_equal(nd_problems_kind(pr, "unreadable"), 1);
    got_free(&g);
    nd_problems_free(pr);
}

static int stop_at_first(void *ctx, const nd_rawdoc *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 7;
}

static void test_callback_stops(void **state)
{
    (void)state;
    put("stop.txt", "x", 1);
    int calls = 0;
    assert_int_equal(nd_read_file(dir, "stop.txt", NULL, NULL, stop_at_first, &calls), 7);
    assert_int_equal(calls, 1);
}

/* The control-byte sniffer against a byte-by-byte reading of its rule: NUL in the
 * first 8 KiB is binary; so are control bytes (not tab, newlines, form feed, ESC) above
 * a tenth of them. Random texts with control bytes, DELs and NULs placed anywhere,
 * including in the last partial word and beyond 8 KiB. */
static const char *sniff_ref(const unsigned char *p, size_t n)
{
    size_t m = n < 8192 ? n : 8192, ctrl = 0;
    for (size_t i = 0; i < m; i++)
        if (p[i] == 0)
            return "NUL bytes";
    for (size_t i = 0; i < m; i++)
        ctrl += (p[i] < 0x20 && p[i] != 9 && p[i] != 10 && p[i] != 11 && p[i] != 12 &&
                 p[i] != 13 && p[i] != 27) || p[i] == 0x7f;
    return ctrl * 10 > m ? "control bytes" : NULL;
}

static void test_sniff_control_bytes(void **state)
{
    (void)state;
    unsigned char buf[9000];
    uint64_t r = 88172645463325252ull;
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(round * 7919) % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            buf[i] = (unsigned char)('a' + r % 26);
        }
        /* about as many control bytes as the threshold, some of every kind */
        size_t k = n / 10 + (size_t)(round % 5) - 2, kinds = round % 4;
        for (size_t j = 0; n && j < k && j < n; j++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            static const unsigned char pick[] = {1, 8, 14, 31, 0x7f, '\n', '\t', 27, 0x1f};
            buf[r % n] = pick[(r >> 20) % (kinds ? 9 : 5)];
        }
        if (n && round % 11 == 0)
            buf[(r >> 33) % n] = 0;
        /* Skip texts that begin with a magic number; only the counting is tested. */
        const char *got = nd_sniff_binary((const char *)buf, n);
        const char *want = sniff_ref(buf, n);
        if (got && strstr(got, "image"))
            continue;
        if (!want || !got) {
            if (want != got)
                fail_msg("round %d (n %zu): got %s, want %s", round, n, got ? got : "text",
                         want ? want : "text");
        } else {
            assert_string_equal(got, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_html_sniffing),
        cmocka_unit_test(test_gzip_single_and_multi),
        cmocka_unit_test(test_truncated_and_corrupt_gzip),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_sniff_control_bytes),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_callback_stops),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
