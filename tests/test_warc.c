/* Tests of the WARC reader through nd_read_file: record types, offsets and indexes,
 * HTTP decoding (chunked, gzip), LF-only files, corrupt and truncated records, .warc.gz
 * with one member per record or one stream, non-text payloads, and a 20 MB file read
 * with bounded memory. Every input is built here from C strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <xxhash.h>
#include <zlib.h>

#include "buf.h"
#include "read.h"
#include "scratch_harness.h"

/* Append one record; *hdr_len gets the length of its header block. */
static void record(nd_buf *out, const char *type, const char *uri, const char *extra,
                   const void *block, size_t blen)
{
    assert_int_equal(nd_buf_printf(out, "WARC/1.0\r\nWARC-Type: %s\r\n", type), 0);
    if (uri)
        assert_int_equal(nd_buf_printf(out, "WARC-Target-URI: %s\r\n", uri), 0);
    assert_int_equal(nd_buf_printf(out, "%sContent-Length: %zu\r\n\r\n", extra, blen), 0);
    assert_int_equal(nd_buf_append(out, block, blen), 0);
    assert_int_equal(nd_buf_puts(out, "\r\n\r\n"), 0);
}

struct doc {
    char *body, *uri, *date, *skip, *hh, *rec;
    size_t len, rec_len;
    uint64_t off;
    uint32_t record;
    int html;
    unsigned flags;
    uint64_t dg[2];
};

struct got {
    size_t n;
    struct doc d[16];
    size_t max_body, total;   /* for the big file: nothing kept */
    int keep;
};

static char *dup0(const char *p, size_t n)
{
    if (!p)
        return NULL;
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int collect(void *ctx, const nd_rawdoc *r)
{
    struct got *g = ctx;
    assert_true(r->body_len == 0 || r->body);
    if (r->body_len > g->max_body)
        g->max_body = r->body_len;
    g->total++;
    if (!g->keep)
        return 0;
    assert_true(g->n < 16);
    struct doc *d = &g->d[g->n++];
    d->body = dup0(r->body ? r->body : "", r->body_len);
    d->len = r->body_len;
    d->uri = r->uri ? strdup(r->uri) : NULL;
    d->date = r->date ? strdup(r->date) : NULL;
    d->skip = r->skip_reason ? strdup(r->skip_reason) : NULL;
    d->hh = dup0(r->http_headers, r->http_headers_len);
    d->rec = dup0(r->record_bytes, r->record_len);
    d->rec_len = r->record_len;
    d->off = r->offset;
    d->record = r->record;
    d->html = r->is_html;
    d->flags = r->flags;
    d->dg[0] = r->digest[0];
    d->dg[1] = r->digest[1];
    return 0;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        struct doc *d = &g->d[i];
        free(d->body);
        free(d->uri);
        free(d->date);
        free(d->skip);
        free(d->hh);
        free(d->rec);
    }
    memset(g, 0, sizeof *g);
}

static nd_problems *read1(const char *name, size_t cap, struct got *g)
{
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    nd_read_opts o = {.max_doc_bytes = cap};
    g->keep = 1;
    assert_int_equal(nd_read_file(dir, name, &o, pr, collect, g), 0);
    return pr;
}

static const char page[] = "<html><head><title>T</title></head><body><p>Nội dung bài viết.</p></body></html>";

static void chunked(nd_buf *out, const char *p, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        assert_int_equal(nd_buf_printf(out, "%zx\r\n", k), 0);
        assert_int_equal(nd_buf_append(out, p + i, k), 0);
        assert_int_equal(nd_buf_puts(out, "\r\n"), 0);
    }
    assert_int_equal(nd_buf_puts(out, "0\r\n\r\n"), 0);
}

/* The mixed file: 8 records, 4 documents. starts[] gets each record's offset. */
static void mixed(nd_buf *w, size_t starts[8], int per_member_gz, nd_buf *gzout)
{
    nd_buf blk = ND_BUF_INIT, zp = ND_BUF_INIT;
    size_t i = 0;
#define REC(...)                                                               \
    do {                                                                       \
        size_t before = w->len;                                                \
        starts[i++] = per_member_gz ? gzout->len : w->len;                     \
        record(w, __VA_ARGS__);                                                \
        if (per_member_gz)                                                     \
            gz(gzout, w->p + before, w->len - before);                         \
    } while (0)
    REC("warcinfo", NULL, "Content-Type: application/warc-fields\r\n", "software: test\r\n", 16);
    REC("request", "http://a.example/1", "", "GET /1 HTTP/1.1\r\n\r\n", 19);
    assert_int_equal(nd_buf_printf(&blk, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                         "Last-Modified: Wed, 01 May 2024 08:00:00 GMT\r\n\r\n%s", page), 0);
    REC("response", "http://a.example/1", "Content-Type: application/http;msgtype=response\r\n", blk.p, blk.len);
    nd_buf_clear(&blk);
    gz(&zp, page, strlen(page));
    assert_int_equal(nd_buf_puts(&blk, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n"), 0);
    chunked(&blk, zp.p, zp.len, 13);
    REC("response", "<http://b.example/2>", "WARC-Date: 2024-05-02T10:00:00Z\r\n", blk.p, blk.len);
    REC("metadata", "http://a.example/1", "", "via: x\r\n", 8);
    REC("revisit", "http://a.example/1", "", "HTTP/1.1 304 Not Modified\r\n\r\n", 29);
    REC("resource", "file:///notes.txt", "Content-Type: text/plain\r\n", "Dòng một\nDòng hai\n", strlen("Dòng một\nDòng hai\n"));
    nd_buf_clear(&blk);
    assert_int_equal(nd_buf_puts(&blk, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n...."), 0);
    REC("response", "http://a.example/logo.png", "", blk.p, blk.len);
#undef REC
    nd_buf_free(&zp);
    nd_buf_free(&blk);
}

/* want_flags: ND_RAW_MEMBER_START where each record is a gzip member of its own (it
 * may be copied as stored), 0 for plain WARC or one member for all. */
static void check_mixed(const struct got *g, const size_t starts[8], const nd_buf *plain, int one_stream,
                        unsigned want_flags)
{
    assert_int_equal(g->n, 4);
    const uint32_t want_rec[] = {2, 3, 6, 7};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g->d[i].record, want_rec[i]);
        assert_int_equal(g->d[i].off, one_stream ? 0 : starts[want_rec[i]]);
    }
    const struct doc *a = &g->d[0], *b = &g->d[1], *c = &g->d[2], *png = &g->d[3];
    assert_string_equal(a->body, page);
    assert_true(a->html);
    assert_string_equal(a->uri, "http://a.example/1");
    assert_string_equal(a->date, "Wed, 01 May 2024 08:00:00 GMT");   /* no WARC-Date: HTTP's */
    assert_non_null(a->hh);
    assert_true(strncmp(a->hh, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(a->hh, "Last-Modified"));
    assert_null(a->skip);
    assert_int_equal(a->flags, want_flags);
    /* record bytes and digest: the record as stored, without the trailing CRLFs */
    /* starts may be gzip offsets: find the record in the plain bytes */
    const char *first = strstr(plain->p, "WARC/1.0\r\nWARC-Type: response");
    size_t s2 = (size_t)(first - plain->p);
    assert_memory_equal(a->rec, plain->p + s2, a->rec_len);
    assert_memory_equal(a->rec + a->rec_len, "", 1);
    assert_memory_equal(plain->p + s2 + a->rec_len, "\r\n\r\nWARC/1.0", 12);
    XXH128_hash_t h = XXH3_128bits(plain->p + s2, a->rec_len);
    assert_true(a->dg[0] == h.low64 && a->dg[1] == h.high64);

    assert_string_equal(b->body, page);   /* chunked, then gzip */
    assert_true(b->html);
    assert_string_equal(b->uri, "http://b.example/2");
    assert_string_equal(b->date, "2024-05-02T10:00:00Z");
    assert_int_equal(b->flags, want_flags);

    assert_string_equal(c->body, "Dòng một\nDòng hai\n");
    assert_false(c->html);
    assert_null(c->hh);
    assert_non_null(c->rec);

    assert_non_null(png->skip);
    assert_non_null(strstr(png->skip, "not text"));
    assert_int_equal(png->len, 0);
}

static void test_mixed_records(void **state)
{
    (void)state;
    nd_buf w = ND_BUF_INIT;
    size_t starts[8];
    mixed(&w, starts, 0, NULL);
    put("mixed.warc", w.p, w.len);
    struct got g = {0};
    nd_problems *pr = read1("mixed.warc", 0, &g);
    check_mixed(&g, starts, &w, 0, 0);
    assert_int_equal(nd_problems_kind(pr, "not text"), 1);
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 1);
    assert_int_equal(nd_problems_count(pr, ND_PARTIAL), 0);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&w);
}

static void test_warc_gz(void **state)
{
    (void)state;
    nd_buf w = ND_BUF_INIT, z = ND_BUF_INIT;
    size_t starts[8];
    mixed(&w, starts, 1, &z);
    put("m.warc.gz", z.p, z.len);
    struct got g = {0};
    nd_problems *pr = read1("m.warc.gz", 0, &g);
    check_mixed(&g, starts, &w, 0, ND_RAW_MEMBER_START);   /* offsets: member starts */
    assert_true(g.d[0].off > 0);
    assert_int_equal(nd_problems_count(pr, ND_PARTIAL), 0);
    got_free(&g);
    nd_problems_free(pr);

    nd_buf_clear(&z);
    gz(&z, w.p, w.len);
    put("one.warc.gz", z.p, z.len);
    pr = read1("one.warc.gz", 0, &g);
    check_mixed(&g, starts, &w, 1, 0);   /* one member: every offset 0 */
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&z);
    nd_buf_free(&w);
}

static void test_lf_only(void **state)
{
    (void)state;
    const char *t = "WARC/1.0\nWARC-Type: resource\nWARC-Target-URI: http://c.example/\n"
                    "Content-Type: text/html\nContent-Length: 11\n\n<p>text</p>\n\n"
                    "WARC/1.0\nWARC-Type: resource\nContent-Length: 3\n\nabc\n\n";
    put("lf.warc", t, strlen(t));
    struct got g = {0};
    nd_problems *pr = read1("lf.warc", 0, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.d[0].body, "<p>text</p>");
    assert_true(g.d[0].html);
    assert_string_equal(g.d[0].uri, "http://c.example/");
    assert_string_equal(g.d[1].body, "abc");
    assert_int_equal(g.d[1].record, 1);
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED) + nd_problems_count(pr, ND_PARTIAL), 0);
    got_free(&g);
    nd_problems_free(pr);
}

static void test_corrupt_then_resync(void **state)
{
    (void)state;
    nd_buf w = ND_BUF_INIT;
    record(&w, "resource", "http://d.example/1", "", "first", 5);
    assert_int_equal(nd_buf_puts(&w, "WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: 12x\r\n\r\n"
                                     "garbage garbage garbage\r\n\r\nmore junk WARC/0.9 "), 0);
    size_t third = w.len;
    record(&w, "resource", "http://d.example/3", "", "third", 5);
    put("c.warc", w.p, w.len);
    struct got g = {0};
    nd_problems *pr = read1("c.warc", 0, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.d[0].body, "first");
    assert_string_equal(g.d[1].body, "third");
    assert_int_equal(g.d[1].off, third);
    assert_int_equal(g.d[1].record, 2);
    assert_int_equal(nd_problems_kind(pr, "corrupt WARC record"), 1);
    got_free(&g);
    nd_problems_free(pr);

    /* The same in .warc.gz with the middle member's deflate data broken. */
    nd_buf z = ND_BUF_INIT, r = ND_BUF_INIT;
    const char *bodies[] = {"one", "two two two two two two two two two two two two", "three"};
    size_t m3 = 0;
    for (int i = 0; i < 3; i++) {
        nd_buf_clear(&r);
        record(&r, "resource", "http://e.example/", "", bodies[i], strlen(bodies[i]));
        size_t at = z.len;
        if (i == 2)
            m3 = at;
        gz(&z, r.p, r.len);
        if (i == 1)
            for (size_t k = at + 20; k < z.len - 10; k += 3)
                z.p[k] ^= 0x5a;
    }
    put("c.warc.gz", z.p, z.len);
    pr = read1("c.warc.gz", 0, &g);
    assert_true(g.n >= 2);
    assert_string_equal(g.d[0].body, "one");
    assert_string_equal(g.d[g.n - 1].body, "three");
    assert_int_equal(g.d[g.n - 1].off, m3);
    assert_true(nd_problems_count(pr, ND_SKIPPED) + nd_problems_count(pr, ND_PARTIAL) >= 1);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&r);
    nd_buf_free(&z);
    nd_buf_free(&w);
}

static void test_truncated_last(void **state)
{
    (void)state;
    nd_buf w = ND_BUF_INIT, blk = ND_BUF_INIT;
    record(&w, "resource", "http://f.example/1", "", "whole", 5);
    assert_int_equal(nd_buf_printf(&blk, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"), 0);
    for (int i = 0; i < 200; i++)
        assert_int_equal(nd_buf_puts(&blk, "a line of the last record\n"), 0);
    record(&w, "response", "http://f.example/2", "", blk.p, blk.len);
    size_t cut = w.len - 1000;
    put("t.warc", w.p, cut);
    struct got g = {0};
    nd_problems *pr = read1("t.warc", 0, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.d[0].body, "whole");
    assert_true(g.d[1].flags & ND_RAW_TRUNCATED);
    assert_true(g.d[1].len > 1000);
    assert_memory_equal(g.d[1].body, blk.p + 45, g.d[1].len);
    assert_int_equal(nd_problems_kind(pr, "corrupt WARC record"), 1);
    assert_int_equal(nd_problems_count(pr, ND_PARTIAL), 1);
    got_free(&g);
    nd_problems_free(pr);

    /* in gzip, cut inside the last member */
    nd_buf z = ND_BUF_INIT;
    gz(&z, w.p, w.len);
    put("t.warc.gz", z.p, z.len - 30);
    pr = read1("t.warc.gz", 0, &g);
    assert_int_equal(g.n, 2);
    assert_true(g.d[1].flags & ND_RAW_TRUNCATED);
    assert_true(nd_problems_count(pr, ND_PARTIAL) >= 1);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&z);
    nd_buf_free(&blk);
    nd_buf_free(&w);
}

static void test_encodings_and_cap(void **state)
{
    (void)state;
    nd_buf w = ND_BUF_INIT, blk = ND_BUF_INIT;
    assert_int_equal(nd_buf_puts(&blk, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n\r\n\x1b\x2c\x00"), 0);
    record(&w, "response", "http://g.example/br", "", blk.p, blk.len);
    nd_buf_clear(&blk);
    assert_int_equal(nd_buf_puts(&blk, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"), 0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(nd_buf_puts(&blk, "0123456789"), 0);
    size_t big_at = w.len;
    record(&w, "response", "http://g.example/big", "", blk.p, blk.len);
    size_t big_len = w.len - 4 - big_at;
    record(&w, "resource", "http://g.example/after", "", "after", 5);
    put("e.warc", w.p, w.len);
    struct got g = {0};
    nd_problems *pr = read1("e.warc", 1000, &g);
    assert_int_equal(g.n, 3);
    assert_non_null(g.d[0].skip);
    assert_int_equal(nd_problems_kind(pr, "unsupported encoding"), 1);
    assert_int_equal(g.d[1].len, 1000);
    assert_true(g.d[1].flags & ND_RAW_TRUNCATED);
    assert_memory_equal(g.d[1].body, blk.p + 45, 1000);
    XXH128_hash_t h = XXH3_128bits(w.p + big_at, big_len);   /* over the whole record */
    assert_true(g.d[1].dg[0] == h.low64 && g.d[1].dg[1] == h.high64);
    assert_int_equal(nd_problems_kind(pr, "too large"), 1);
    assert_string_equal(g.d[2].body, "after");
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&blk);
    nd_buf_free(&w);
}

/* A WARC file holding no document (warcinfo and request records, a type the reader does
 * not know) must not vanish: it is one skipped document naming why, counted once. */
static void test_no_document_records(void **state)
{
    (void)state;
    nd_buf w = ND_BUF_INIT;
    record(&w, "warcinfo", NULL, "Content-Type: application/warc-fields\r\n", "software: x\r\n", 13);
    record(&w, "request", "http://r.example/", "", "GET / HTTP/1.1\r\n\r\n", 18);
    record(&w, "r<htmnse", "http://r.example/", "", "<p>x</p>", 8);
    put("nodocs.warc", w.p, w.len);
    struct got g = {0};
    nd_problems *pr = read1("nodocs.warc", 0, &g);
    assert_int_equal(g.n, 1);
    assert_non_null(g.d[0].skip);
    assert_string_equal(g.d[0].skip, "no documents: none of its 3 records is a response or resource");
    assert_int_equal(g.d[0].len, 0);
    assert_null(g.d[0].uri);
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 1);
    assert_int_equal(nd_problems_kind(pr, "no documents"), 1);
    got_free(&g);
    nd_problems_free(pr);

    /* Only a corrupt record: its problem is the one counted, the file still one line. */
    const char *c = "WARC/1.0\r\nWARC-Type: response\r\n\r\nno length\r\n";
    put("corrupt-only.warc", c, strlen(c));
    pr = read1("corrupt-only.warc", 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.d[0].skip, "no documents: no usable record");
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 1);
    assert_int_equal(nd_problems_kind(pr, "no documents"), 0);
    got_free(&g);
    nd_problems_free(pr);

    /* A .warc.gz of those records whose next member is cut short (in its gzip header,
     * then in its first record): skipped in the manifest, so skipped (not partly
     * used) in the summary, and counted once. */
    nd_buf z = ND_BUF_INIT;
    gz(&z, w.p, w.len);
    size_t whole = z.len;
    gz(&z, w.p, w.len);
    for (size_t cut = 10; cut <= 40; cut += 30) {
        put("cut.warc.gz", z.p, whole + cut);
        pr = read1("cut.warc.gz", 0, &g);
        assert_int_equal(g.n, 1);
        assert_non_null(g.d[0].skip);
        assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 1);
        assert_int_equal(nd_problems_count(pr, ND_PARTIAL), 0);
        got_free(&g);
        nd_problems_free(pr);
    }

    /* The same with that member's deflate data broken instead (the reader resyncs on
     * the next member, which holds no document either): still skipped only, once.
     * With a document after the broken member, the file is partly used instead. */
    size_t all = z.len;
    for (size_t k = whole + 20; k < all - 10; k += 3)
        z.p[k] ^= 0x5a;
    gz(&z, w.p, w.len);
    put("broken.warc.gz", z.p, z.len);
    pr = read1("broken.warc.gz", 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.d[0].skip, "no documents: no usable record");
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 1);
    assert_int_equal(nd_problems_count(pr, ND_PARTIAL), 0);
    assert_int_equal(nd_problems_kind(pr, "corrupt gzip"), 1);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf r = ND_BUF_INIT;
    record(&r, "resource", "http://r.example/after", "", "after", 5);
    gz(&z, r.p, r.len);
    put("broken-then-doc.warc.gz", z.p, z.len);
    pr = read1("broken-then-doc.warc.gz", 0, &g);
    assert_int_equal(g.n, 1);
    assert_null(g.d[0].skip);
    assert_string_equal(g.d[0].body, "after");
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 0);
    assert_int_equal(nd_problems_kind(pr, "corrupt gzip"), 1);
    assert_int_equal(nd_problems_count(pr, ND_PARTIAL), 1);
    got_free(&g);
    nd_problems_free(pr);
    nd_buf_free(&r);
    nd_buf_free(&z);
    nd_buf_free(&w);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_big_file_bounded_memory(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof p, "%s/big.warc", dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    nd_buf r = ND_BUF_INIT, blk = ND_BUF_INIT;
    size_t file = 0;
    for (int i = 0; i < 2000; i++) {
        nd_buf_clear(&blk);
        nd_buf_clear(&r);
        assert_int_equal(nd_buf_puts(&blk, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>"), 0);
        size_t n = i % 100 == 0 ? 200000 : 9000;   /* every 100th record bigger than the cap */
        while (blk.len < n)
            assert_int_equal(nd_buf_printf(&blk, "word%d ", (int)blk.len % 977), 0);
        record(&r, "response", "http://big.example/", "", blk.p, blk.len);
        assert_int_equal(fwrite(r.p, 1, r.len, f), r.len);
        file += r.len;
    }
    assert_int_equal(fclose(f), 0);
    nd_buf_free(&r);
    nd_buf_free(&blk);
    assert_true(file > 20000000);
    long before = max_rss_kb();
    struct got g = {0};
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    nd_read_opts o = {.max_doc_bytes = 65536};
    assert_int_equal(nd_read_file(dir, "big.warc", &o, pr, collect, &g), 0);
    long grown = max_rss_kb() - before;
    assert_int_equal(g.total, 2000);
    assert_true(g.max_body <= 65536);
    assert_int_equal(nd_problems_kind(pr, "too large"), 20);
    if (grown * 1024 > (long)file / 8)
        fail_msg("peak RSS grew by %ld KiB reading a %zu-byte file", grown, file);
    nd_problems_free(pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_records),
        cmocka_unit_test(test_warc_gz),
        cmocka_unit_test(test_lf_only),
        cmocka_unit_test(test_no_document_records),
        cmocka_unit_test(test_corrupt_then_resync),
        cmocka_unit_test(test_truncated_last),
        cmocka_unit_test(test_encodings_and_cap),
        cmocka_unit_test(test_big_file_bounded_memory),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
