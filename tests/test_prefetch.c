/* Tests of the batched whole-file reads (prefetch.h) and of nd_read_mem, which parses
 * what they hand over: a file is given only when read whole (not empty, missing, a
 * folder, a FIFO, or too large for its slot), slots are reused across batches, and a
 * file read from memory yields the same documents as read from disk, in every format. */
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

#include "buf.h"
#include "prefetch.h"
#include "read.h"
#include "scratch_harness.h"

#define SLOT 4096u

static nd_prefetch *new_or_skip(void)
{
    nd_prefetch *pf = NULL;
    assert_int_equal(nd_prefetch_new(dir, 8, SLOT, &pf), 0);
    if (!pf) {
        printf("io_uring is not usable here: batched reads not tested\n");
        skip();
    }
    return pf;
}

static char *filled(size_t n, char c)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memset(p, c, n);
    for (size_t i = 0; i + 1 < n; i += 61)
        p[i] = (char)('a' + i % 26);   /* not all one byte: a misplaced read shows */
    return p;
}

static void expect_whole(const nd_prefetch *pf, unsigned k, const char *want, size_t n)
{
    size_t len = 99;
    int big = 1;
    const char *p = nd_prefetch_get(pf, k, &len, &big);
    assert_non_null(p);
    assert_int_equal(big, 0);
    assert_int_equal(len, n);
    assert_memory_equal(p, want, n);
}

static void expect_none(const nd_prefetch *pf, unsigned k, int want_big)
{
    size_t len = 99;
    int big = 7;
    assert_null(nd_prefetch_get(pf, k, &len, &big));
    assert_int_equal(len, 0);
    assert_int_equal(big, want_big);
}

static void test_batches(void **state)
{
    (void)state;
    nd_prefetch *pf = new_or_skip();
    char *small = filled(100, 's'), *edge = filled(SLOT - 1, 'e'), *exact = filled(SLOT, 'x'),
         *large = filled(3 * SLOT + 5, 'l'), *inner = filled(10, 'i');
    put("small.txt", small, 100);
    put("edge.txt", edge, SLOT - 1);
    put("exact.txt", exact, SLOT);
    put("large.txt", large, 3 * SLOT + 5);
    put("empty.txt", "", 0);
    char p[256];
    snprintf(p, sizeof p, "%s/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    put("sub/inner.txt", inner, 10);
    snprintf(p, sizeof p, "%s/fifo", dir);
    int have_fifo = mkfifo(p, 0600) == 0;

    const char *b1[] = {"small.txt", "edge.txt", "exact.txt", "large.txt",
                        "empty.txt", "missing.txt", "sub", have_fifo ? "fifo" : "missing2"};
    assert_int_equal(nd_prefetch_run(pf, b1, 8), 0);
    expect_whole(pf, 0, small, 100);
    expect_whole(pf, 1, edge, SLOT - 1);
    expect_none(pf, 2, 1);   /* fills its slot: may be longer */
    expect_none(pf, 3, 1);
    expect_none(pf, 4, 0);   /* empty: the plain path notes it */
    expect_none(pf, 5, 0);   /* missing: the plain path reports it */
    expect_none(pf, 6, 0);   /* a folder */
    expect_none(pf, 7, 0);   /* a FIFO without a writer: no wait, no content */
    size_t len;
    int big;
    assert_null(nd_prefetch_get(pf, 8, &len, &big)); /* beyond the batch */

    /* The same slots again, in another order and fewer of them: nothing of the first
     * batch shows through. */
    const char *b2[] = {"sub/inner.txt", "small.txt", "missing.txt"};
    assert_int_equal(nd_prefetch_run(pf, b2, 3), 0);
    expect_whole(pf, 0, inner, 10);
    expect_whole(pf, 1, small, 100);
    expect_none(pf, 2, 0);
    assert_null(nd_prefetch_get(pf, 3, &len, &big));
    /* More files than slots is the caller's error. */
    const char *b3[9] = {"small.txt"};
    assert_true(nd_prefetch_run(pf, b3, 9) < 0);

    nd_prefetch_free(pf);
    free(small);
    free(edge);
    free(exact);
    free(large);
    free(inner);
}

static void test_unavailable(void **state)
{
    (void)state;
    nd_prefetch *pf = (nd_prefetch *)&pf;
    /* Asked off by the environment. */
    setenv("NEARDUP_IO_URING", "0", 1);
    assert_int_equal(nd_prefetch_new(dir, 8, SLOT, &pf), 0);
    assert_null(pf);
    unsetenv("NEARDUP_IO_URING");
    /* The root a single file: not a folder to open relative to. */
    put("alone.txt", "x", 1);
    char p[256];
    snprintf(p, sizeof p, "%s/alone.txt", dir);
    pf = (nd_prefetch *)&pf;
    assert_int_equal(nd_prefetch_new(p, 8, SLOT, &pf), 0);
    assert_null(pf);
    nd_prefetch_free(NULL);
}

/* ---- nd_read_mem against nd_read_file ---- */

struct doc {
    char *body, *skip, *uri;
    size_t len;
    int html;
    unsigned flags;
    uint64_t dg[2], offset;
    uint32_t record;
};

struct docs {
    size_t n;
    struct doc d[8];
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int collect(void *ctx, const nd_rawdoc *r)
{
    struct docs *g = ctx;
    assert_true(g->n < 8);
    struct doc *d = &g->d[g->n++];
    d->body = malloc(r->body_len + 1);
    memcpy(d->body, r->body, r->body_len);
    d->body[r->body_len] = '\0';
    d->len = r->body_len;
    d->skip = dup_or_null(r->skip_reason);
    d->uri = dup_or_null(r->uri);
    d->html = r->is_html;
    /* Only a file on disk can hand out its descriptor to copy a gzip member from. */
    d->flags = r->flags & ~ND_RAW_MEMBER_START;
    d->dg[0] = r->digest[0];
    d->dg[1] = r->digest[1];
    d->offset = r->offset;
    d->record = r->record;
    return 0;
}

static void docs_free(struct docs *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->d[i].body);
        free(g->d[i].skip);
        free(g->d[i].uri);
    }
    g->n = 0;
}

static void same_docs(const struct docs *a, const struct docs *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct doc *x = &a->d[i], *y = &b->d[i];
        assert_int_equal(x->len, y->len);
        assert_memory_equal(x->body, y->body, x->len);
        assert_true((x->skip == NULL) == (y->skip == NULL));
        if (x->skip)
            assert_string_equal(x->skip, y->skip);
        assert_true((x->uri == NULL) == (y->uri == NULL));
        if (x->uri)
            assert_string_equal(x->uri, y->uri);
        assert_int_equal(x->html, y->html);
        assert_int_equal(x->flags, y->flags);
        assert_true(x->dg[0] == y->dg[0] && x->dg[1] == y->dg[1]);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->record, y->record);
    }
}

/* name read from disk and from its bytes in memory: the same documents and problems. */
static void same_both_ways(const char *name, const void *data, size_t len, size_t cap)
{
    put(name, data, len);
    nd_read_opts o = {.max_doc_bytes = cap};
    struct docs a = {0}, b = {0};
    nd_problems *pa, *pb;
    assert_int_equal(nd_problems_new(NULL, &pa), 0);
    assert_int_equal(nd_problems_new(NULL, &pb), 0);
    assert_int_equal(nd_read_file(dir, name, &o, pa, collect, &a), 0);
    uint64_t size = 0;
    o.file_size = &size;
    assert_int_equal(nd_read_mem(name, data, len, &o, pb, collect, &b), 0);
    assert_int_equal(size, len);
    assert_true(a.n > 0);
    same_docs(&a, &b);
    nd_buf sa = ND_BUF_INIT, sb = ND_BUF_INIT;
    assert_int_equal(nd_problems_summary(pa, &sa), 0);
    assert_int_equal(nd_problems_summary(pb, &sb), 0);
    assert_string_equal(sa.p ? sa.p : "", sb.p ? sb.p : "");
    nd_buf_free(&sa);
    nd_buf_free(&sb);
    nd_problems_free(pa);
    nd_problems_free(pb);
    docs_free(&a);
    docs_free(&b);
}

static void warc_record(nd_buf *out, const char *type, const char *uri, const char *block)
{
    char h[512];
    int n = snprintf(h, sizeof h,
                     "WARC/1.0\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%zu>\r\n"
                     "WARC-Target-URI: %s\r\nWARC-Date: 2024-05-01T10:00:00Z\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     type, out->len, uri, strlen(block));
    assert_int_equal(nd_buf_append(out, h, (size_t)n), 0);
    assert_int_equal(nd_buf_append(out, block, strlen(block)), 0);
    assert_int_equal(nd_buf_append(out, "\r\n\r\n", 4), 0);
}

static void test_read_mem_same(void **state)
{
    (void)state;
    const char *text = "A plain page.\nIts second line.\n";
    const char *html = "<html><head><title>T</title></head><body><p>One &amp; two</p></body></html>";
    same_both_ways("plain.txt", text, strlen(text), 0);
    same_both_ways("page.html", html, strlen(html), 0);
    same_both_ways("capped.txt", text, strlen(text), 10);       /* truncated at the cap */
    same_both_ways("bin.dat", "ab\0cd\0\0\0ef", 10, 0);         /* skipped: binary */
    same_both_ways("latin1.txt", "caf\xe9 cr\xe8me\n", 12, 0);  /* charset repaired */

    nd_buf g = ND_BUF_INIT;
    gz(&g, text, strlen(text));
    gz(&g, html, strlen(html));
    same_both_ways("two.gz", g.p, g.len, 0);
    same_both_ways("cut.gz", g.p, g.len - 9, 0);                /* truncated gzip */

    nd_buf w = ND_BUF_INIT, wg = ND_BUF_INIT;
    warc_record(&w, "warcinfo", "", "software: test\r\n");
    warc_record(&w, "response", "http://example.org/a",
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Story a</p>");
    warc_record(&w, "resource", "http://example.org/b", "Story b as text.\n");
    same_both_ways("small.warc", w.p, w.len, 0);
    /* One gzip member per record, as .warc.gz files are written. */
    size_t at = 0;
    for (size_t i = 0; i + 8 < w.len; i++)
        if (i > 0 && memcmp(w.p + i, "WARC/1.0\r\n", 10) == 0) {
            gz(&wg, w.p + at, i - at);
            at = i;
        }
    gz(&wg, w.p + at, w.len - at);
    same_both_ways("small.warc.gz", wg.p, wg.len, 0);
    nd_buf_free(&wg);
    nd_buf_free(&w);
    nd_buf_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_read_mem_same),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
