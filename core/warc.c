/* WARC records streamed one at a time: version line, header block, Content-Length
 * bytes of block (kept up to the cap, the rest hashed and dropped), then the HTTP
 * header block stripped and chunked / gzip / deflate coding undone. A broken record
 * is reported and the parser resynchronises on the next "WARC/1.". */
#include "warc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xxhash.h>
#include <zlib.h>

#include "buf.h"
#include "charset.h"
#include "error.h"

#define ND_WARC_HDR_MAX (64u << 10)    /* longer WARC header blocks are corrupt */
#define ND_HTTP_SLACK (64u << 10)      /* block bytes kept beyond the cap, for HTTP headers */

struct warc {
    nd_src *s;
    const char *path;
    size_t cap;
    nd_problems *pr;
    nd_doc_fn fn;
    void *ctx;
    XXH3_state_t *h;
    nd_buf rec, tmp, body, uri, date, conv;
    uint32_t index;
    int stream_reported;       /* the stream's failure was already told with a record */
    int starts_member;         /* the current record begins its gzip member, */
    struct nd_member member;   /* this one (see nd_src_member_starts) */
    uint32_t docs;             /* response/resource records handed on (used or skipped) */
    uint32_t others;           /* records of other types (warcinfo, request, ...), ignored */
    uint32_t told;             /* problems reported for this file */
    uint32_t told_skipped;     /* of them, ND_SKIPPED ones */
    /* Stream problems met before the first document, not told yet: whether they made
     * the file partly used or skipped is known only when a document comes or the file
     * ends. Each entry is a static kind pointer, then the NUL-terminated detail. */
    nd_buf held;
};

struct span {
    const char *p;
    size_t n;
};

struct whdr {
    struct span type, uri, date, ctype;
    uint64_t clen;
    int has_clen;
};

static int span_is(struct span v, const char *s)
{
    size_t n = strlen(s);
    return v.n == n && strncasecmp(v.p, s, n) == 0;
}

static int span_starts(struct span v, const char *s)
{
    size_t n = strlen(s);
    return v.n >= n && strncasecmp(v.p, s, n) == 0;
}

/* Offset just past the first empty line of p[0..n), or 0 if there is none. */
static size_t header_end(const char *p, size_t n, size_t *scanned)
{
    size_t i = *scanned;
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        if (!nl)
            break;
        size_t le = (size_t)(nl - p);
        if (le == i || (le == i + 1 && p[i] == '\r'))
            return le + 1;
        i = le + 1;
    }
    *scanned = i;
    return 0;
}

/* Calls f(ctx, name, value) for each "Name: value" line of p[0..n) after the first. */
static void each_header(const char *p, size_t n, void (*f)(void *, struct span, struct span),
                        void *ctx)
{
    const char *end = p + n;
    const char *nl = memchr(p, '\n', n);
    p = nl ? nl + 1 : end;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon && colon > p && *p != ' ' && *p != '\t') {
            struct span name = {p, (size_t)(colon - p)};
            const char *v = colon + 1, *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            f(ctx, name, (struct span){v, (size_t)(ve - v)});
        }
        p = nl ? nl + 1 : end;
    }
}

static void on_warc_header(void *ctx, struct span name, struct span v)
{
    struct whdr *h = ctx;
    if (span_is(name, "WARC-Type"))
        h->type = v;
    else if (span_is(name, "WARC-Target-URI"))
        h->uri = v;
    else if (span_is(name, "WARC-Date"))
        h->date = v;
    else if (span_is(name, "Content-Type"))
        h->ctype = v;
    else if (span_is(name, "Content-Length")) {
        uint64_t x = 0;
        size_t i = 0;
        for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && x < (UINT64_C(1) << 56); i++)
            x = x * 10 + (uint64_t)(v.p[i] - '0');
        h->has_clen = i > 0 && i == v.n ? 1 : -1;
        h->clen = x;
    }
}

struct hhdr {
    struct span ctype, te, ce, lastmod;
};

static void on_http_header(void *ctx, struct span name, struct span v)
{
    struct hhdr *h = ctx;
    if (span_is(name, "Content-Type"))
        h->ctype = v;
    else if (span_is(name, "Transfer-Encoding"))
        h->te = v;
    else if (span_is(name, "Content-Encoding"))
        h->ce = v;
    else if (span_is(name, "Last-Modified"))
        h->lastmod = v;
}

/* 1 text, 0 not text, -1 not declared or not telling. */
static int type_is_text(struct span ct)
{
    if (!ct.n)
        return -1;
    size_t n = 0;
    while (n < ct.n && ct.p[n] != ';' && ct.p[n] != ' ')
        n++;
    struct span t = {ct.p, n};
    static const char *const text[] = {
        "text/", "application/xhtml+xml", "application/xml", "application/json",
        "application/javascript", "application/x-javascript", "application/ecmascript",
        "application/rss+xml", "application/atom+xml", "application/ld+json",
        "message/", NULL};
    for (int i = 0; text[i]; i++)
        if (span_starts(t, text[i]))
            return 1;
    if (n > 4 && (strncasecmp(t.p + n - 4, "+xml", 4) == 0 || (n > 5 && strncasecmp(t.p + n - 5, "+json", 5) == 0)))
        return 1;
    if (span_is(t, "application/octet-stream") || span_starts(t, "multipart/") ||
        span_starts(t, "unk"))
        return -1;
    static const char *const bin[] = {"image/", "audio/", "video/", "font/", "model/",
                                      "application/", NULL};
    for (int i = 0; bin[i]; i++)
        if (span_starts(t, bin[i]))
            return 0;
    return -1;
}

static int type_is_html(struct span ct)
{
    return span_starts(ct, "text/html") || span_starts(ct, "application/xhtml+xml");
}

/* Undo chunked transfer-coding into out (at most limit bytes). 0 done, 1 cut short or
 * broken (out holds what was decoded), 2 not chunked at all. */
static int dechunk(const char *p, size_t n, nd_buf *out, size_t limit)
{
    size_t i = 0;
    int first = 1;
    for (;;) {
        uint64_t size = 0;
        size_t d = 0;
        for (; i < n && d < 15; i++, d++) {
            char c = p[i];
            int v = c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
            if (v < 0)
                break;
            size = size * 16 + (uint64_t)v;
        }
        if (d == 0 || (i < n && p[i] != '\r' && p[i] != '\n' && p[i] != ';' && p[i] != ' ' && p[i] != '\t'))
            return first ? 2 : 1;
        const char *nl = memchr(p + i, '\n', n - i);
        if (!nl)
            return 1;
        i = (size_t)(nl - p) + 1;
        first = 0;
        if (size == 0)
            return 0;
        size_t take = size < n - i ? (size_t)size : n - i;
        size_t room = limit - out->len;
        if (nd_buf_append(out, p + i, take < room ? take : room))
            return -1;
        if (take < size)
            return 1;
        i += take;
        if (out->len >= limit)
            return 0;
        if (i < n && p[i] == '\r')
            i++;
        if (i < n && p[i] == '\n')
            i++;
    }
}

/* Undo gzip (wbits 31) or deflate (zlib wrapper, else raw) coding into out, at most
 * limit bytes. 0 done, 1 cut short, 2 corrupt (why set), -1 out of memory. */
static int inflate_into(const char *p, size_t n, int wbits, nd_buf *out, size_t limit,
                        const char **why)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, wbits) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
    int rc = 1;
    while (out->len < limit) {
        size_t room = limit - out->len < (256u << 10) ? limit - out->len : (256u << 10);
        if (nd_buf_reserve(out, room)) {
            rc = -1;
            break;
        }
        z.next_out = (Bytef *)out->p + out->len;
        z.avail_out = (uInt)room;
        int r = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        out->p[out->len] = '\0';
        if (r == Z_STREAM_END) {
            rc = 0;
            break;
        }
        if (r == Z_BUF_ERROR || (r == Z_OK && z.avail_in == 0 && z.avail_out > 0)) {
            rc = 1;
            break;
        }
        if (r != Z_OK) {
            *why = r == Z_MEM_ERROR ? "out of memory" : z.msg ? z.msg : "bad data";
            rc = r == Z_MEM_ERROR ? -1 : 2;
            break;
        }
    }
    if (rc == 1 && out->len >= limit)
        rc = 0;
    inflateEnd(&z);
    if (rc == 2 && wbits == 15 && out->len == 0)   /* "deflate" sent raw, as many servers do */
        return inflate_into(p, n, -15, out, limit, why);
    return rc;
}

static const char *cstr(nd_buf *b, struct span v)
{
    nd_buf_clear(b);
    if (nd_buf_append(b, v.p, v.n))
        return NULL;
    return b->p ? b->p : "";
}

/* Tell the held stream problems: partly used when a document came after all, else
 * the file is the one skipped document the manifest shows, and counted so once. */
static void tell_held(struct warc *w)
{
    enum nd_problem_effect e = w->docs ? ND_PARTIAL : ND_SKIPPED;
    for (size_t i = 0; i + sizeof(const char *) < w->held.len;) {
        const char *kind;
        memcpy(&kind, w->held.p + i, sizeof kind);
        const char *detail = w->held.p + i + sizeof kind;
        nd_problem(w->pr, e, w->path, kind, "%s", detail);
        if (e == ND_SKIPPED)
            w->told_skipped++;
        i += sizeof kind + strlen(detail) + 1;
    }
    nd_buf_clear(&w->held);
}

/* Hand one response/resource record over. rec holds hlen header bytes then the block
 * bytes kept; total is how much of the block the stream gave (of clen). */
static int emit(struct warc *w, const struct whdr *h, uint32_t idx, uint64_t off, size_t hlen,
                uint64_t total, const uint64_t dg[2])
{
    nd_rawdoc d;
    memset(&d, 0, sizeof d);
    if (!w->docs++ && w->held.len)
        tell_held(w);
    d.path = w->path;
    d.offset = off;
    d.record = idx;
    d.digest[0] = dg[0];
    d.digest[1] = dg[1];
    d.record_bytes = w->rec.p;
    d.record_len = w->rec.len;
    if (w->starts_member && w->s->fd >= 0) { /* a file read from memory has no fd to copy from */
        d.flags |= ND_RAW_MEMBER_START;
        d.member_fd = w->s->fd;
        d.member_clen = w->member.clen;
        d.member_dlen = w->member.dlen;
        d.member_hash = w->member.chash;
    }
    struct span uri = h->uri;
    if (uri.n >= 2 && uri.p[0] == '<' && uri.p[uri.n - 1] == '>')
        uri = (struct span){uri.p + 1, uri.n - 2};
    if (uri.n && !(d.uri = cstr(&w->uri, uri)))
        return nd_fail(ND_ENOMEM, "out of memory");

    const char *blk = w->rec.p + hlen;
    size_t blen = w->rec.len - hlen;
    int cut_stream = total < h->clen;           /* the file ended inside the block */
    int cut = cut_stream || blen < total;       /* block kept only in part */
    struct span ctype = h->ctype, date = h->date;
    struct hhdr hh;
    memset(&hh, 0, sizeof hh);
    const char *skip = NULL, *skip_kind = NULL;
    char skipbuf[160];
    const char *payload = blk;
    size_t plen = blen;

    if (span_is(h->type, "response") && blen >= 5 && memcmp(blk, "HTTP/", 5) == 0) {
        size_t scanned = 0, hend = header_end(blk, blen, &scanned);
        if (!hend) {
            if (cut) {
                skip = "HTTP header block cut short";
                skip_kind = "corrupt WARC record";
            }
            hend = blen;
        }
        d.http_headers = blk;
        d.http_headers_len = hend;
        each_header(blk, hend, on_http_header, &hh);
        payload = blk + hend;
        plen = blen - hend;
        ctype = hh.ctype;
        if (!date.n)
            date = hh.lastmod;
    }
    if (date.n && !(d.date = cstr(&w->date, date)))
        return nd_fail(ND_ENOMEM, "out of memory");

    if (!skip && type_is_text(ctype) == 0) {
        snprintf(skipbuf, sizeof skipbuf, "not text (%.*s)", (int)(ctype.n < 80 ? ctype.n : 80), ctype.p);
        skip = skipbuf;
        skip_kind = "not text";
    }
    const char *decode_kind = NULL, *decode_why = NULL;
    size_t limit = w->cap + 1;   /* one byte more tells "larger than the cap" */
    if (!skip && span_starts(hh.te, "chunked")) {
        nd_buf_clear(&w->tmp);
        int r = dechunk(payload, plen, &w->tmp, limit);
        if (r < 0)
            return nd_fail(ND_ENOMEM, "out of memory");
        if (r != 2) {
            payload = w->tmp.p ? w->tmp.p : "";
            plen = w->tmp.len;
        }
        if (r == 1 && !cut) {
            cut = 1;
            decode_kind = "bad chunked encoding";
        }
    }
    int wbits = 0;
    if (!skip && hh.ce.n && !span_is(hh.ce, "identity")) {
        if (span_is(hh.ce, "gzip") || span_is(hh.ce, "x-gzip"))
            wbits = 31;
        else if (span_is(hh.ce, "deflate"))
            wbits = 15;
        else {
            snprintf(skipbuf, sizeof skipbuf, "unsupported content-encoding %.*s",
                     (int)(hh.ce.n < 40 ? hh.ce.n : 40), hh.ce.p);
            skip = skipbuf;
            skip_kind = "unsupported encoding";
        }
    } else if (!skip && plen >= 3 && (unsigned char)payload[0] == 0x1f &&
               (unsigned char)payload[1] == 0x8b && payload[2] == 8) {
        wbits = 31;   /* gzip stored without its Content-Encoding header */
    }
    if (wbits) {
        nd_buf_clear(&w->body);
        const char *why = NULL;
        int r = inflate_into(payload, plen, wbits, &w->body, limit, &why);
        if (r < 0)
            return nd_fail(ND_ENOMEM, "out of memory");
        payload = w->body.p ? w->body.p : "";
        plen = w->body.len;
        if (r == 1 && !cut) {
            decode_kind = "truncated gzip";
            decode_why = "content-coding stream cut short";
        } else if (r == 2) {
            decode_kind = "corrupt gzip";
            decode_why = why;
        }
        if (r)
            cut = 1;
    }
    int too_large = 0;
    if (!skip && plen > w->cap) {
        plen = w->cap;
        cut = too_large = 1;
    }
    if (!skip) {
        const char *bin = nd_sniff_binary(payload, plen);
        if (bin) {
            snprintf(skipbuf, sizeof skipbuf, "not text (%s)", bin);
            skip = skipbuf;
            skip_kind = "not text";
        }
    }

    unsigned long long o = (unsigned long long)off;
    if (skip) {
        d.skip_reason = skip;
        d.body = "";
        d.body_len = 0;
        nd_problem(w->pr, ND_SKIPPED, w->path, skip_kind, "record %" PRIu32 " at offset %llu: %s",
                   idx, o, skip);
    } else {
        d.body = payload;
        d.body_len = plen;
        d.is_html = type_is_html(ctype) || nd_sniff_html(payload, plen);
        d.flags |= cut ? ND_RAW_TRUNCATED : 0;
        if (cut_stream) {
            w->stream_reported = 1;
            nd_problem(w->pr, ND_PARTIAL, w->path, "corrupt WARC record",
                       "record at offset %llu: truncated (%llu of %llu block bytes%s%s)",
                       o, (unsigned long long)total, (unsigned long long)h->clen,
                       w->s->why[0] ? ": " : "", w->s->why);
        } else if (too_large) {
            nd_problem(w->pr, ND_PARTIAL, w->path, "too large",
                       "record at offset %llu: body larger than the %zu-byte cap, first %zu bytes used",
                       o, w->cap, w->cap);
        } else if (decode_kind) {
            nd_problem(w->pr, ND_PARTIAL, w->path, decode_kind, "record at offset %llu: %s",
                       o, decode_why ? decode_why : decode_kind);
        } else if (cut) {
            nd_problem(w->pr, ND_PARTIAL, w->path, "too large",
                       "record at offset %llu: record larger than the %zu-byte cap, first part used",
                       o, w->cap);
        }
        int rc = nd_charset_fix(&d, ctype.p, ctype.n, w->cap, &w->conv, w->pr);
        if (rc)
            return rc;
    }
    return w->fn(w->ctx, &d);
}

static void corrupt(struct warc *w, uint64_t off, const char *why)
{
    w->told++;
    w->told_skipped++;
    nd_problem(w->pr, ND_SKIPPED, w->path, "corrupt WARC record", "record at offset %llu: %s",
               (unsigned long long)off, why);
}

static const char *find_version(const char *p, size_t n)
{
    const char *end = p + n;
    while (end - p >= 7) {
        const char *q = memchr(p, 'W', (size_t)(end - p) - 6);
        if (!q)
            return NULL;
        if (memcmp(q, "WARC/1.", 7) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* Drop bytes up to the next "WARC/1." after the current byte. */
static int resync(struct warc *w)
{
    nd_src *s = w->s;
    int rc;
    if (nd_src_avail(s))
        nd_src_consume(s, 1);
    for (;;) {
        if ((rc = nd_src_fill(s, 64u << 10)))
            return rc;
        size_t av = nd_src_avail(s);
        const char *p = nd_src_ptr(s);
        const char *hit = find_version(p, av);
        if (hit) {
            nd_src_consume(s, (size_t)(hit - p));
            return ND_OK;
        }
        if (s->state) {
            nd_src_consume(s, av);
            return ND_OK;
        }
        nd_src_consume(s, av > 6 ? av - 6 : 0);
        if (av <= 6 && (rc = nd_src_fill(s, av + 1)))
            return rc;
    }
}

/* Bytes of the block not kept: hashed (for documents) and dropped. */
static int skip_block(struct warc *w, uint64_t n, int hash, uint64_t *done)
{
    nd_src *s = w->s;
    int rc;
    while (n > 0) {
        if (!nd_src_avail(s) && (rc = nd_src_fill(s, 1)))
            return rc;
        size_t av = nd_src_avail(s);
        if (!av)
            break;
        size_t k = av < n ? av : (size_t)n;
        if (hash)
            XXH3_128bits_update(w->h, nd_src_ptr(s), k);
        nd_src_consume(s, k);
        n -= k;
        *done += k;
    }
    return ND_OK;
}

static void stream_problem(struct warc *w)
{
    nd_src *s = w->s;
    if (w->stream_reported || s->state == ND_SRC_END || s->state == ND_SRC_OK)
        return;
    unsigned long long at = (unsigned long long)(s->raw_base + s->raw_pos);
    const char *kind = "read error";
    char detail[320];
    if (s->state == ND_SRC_TRUNCATED) {
        kind = "truncated gzip";
        snprintf(detail, sizeof detail, "gzip stream cut short at offset %llu", at);
    } else if (s->state == ND_SRC_CORRUPT) {
        kind = "corrupt gzip";
        snprintf(detail, sizeof detail, "corrupt gzip near offset %llu: %s", at, s->why);
    } else {
        snprintf(detail, sizeof detail, "read error: %s", s->why);
    }
    w->told++;
    /* Before the first document, a corrupt stream may still resynchronise on a later
     * member: hold the problem until that is known. Out of memory, tell it now. */
    if (!w->docs && !nd_buf_append(&w->held, (const char *)&kind, sizeof kind) &&
        !nd_buf_append(&w->held, detail, strlen(detail) + 1))
        return;
    nd_problem(w->pr, ND_PARTIAL, w->path, kind, "%s", detail);
}

static int one_record(struct warc *w)
{
    nd_src *s = w->s;
    int rc;
    uint64_t off = nd_src_member(s);
    uint32_t idx = w->index++;
    if ((rc = nd_src_fill(s, 8)))
        return rc;
    const struct nd_member *m = nd_src_member_starts(s, off);
    w->starts_member = m != NULL;
    w->member = m ? *m : (struct nd_member){0, 0, 0, 0, 0};
    if (nd_src_avail(s) < 8 || memcmp(nd_src_ptr(s), "WARC/1.", 7) != 0) {
        corrupt(w, off, nd_src_avail(s) < 8 ? "truncated version line" : "no WARC/1.x version line");
        return resync(w);
    }
    size_t scanned = 0, hlen;
    while (!(hlen = header_end(nd_src_ptr(s), nd_src_avail(s), &scanned))) {
        if (nd_src_avail(s) >= ND_WARC_HDR_MAX || s->state) {
            corrupt(w, off, s->state ? "truncated header block" : "header block too long");
            if (s->state)
                w->stream_reported = s->state != ND_SRC_END;
            return resync(w);
        }
        if ((rc = nd_src_fill(s, nd_src_avail(s) + 4096)))
            return rc;
    }
    struct whdr h;
    memset(&h, 0, sizeof h);
    each_header(nd_src_ptr(s), hlen, on_warc_header, &h);
    if (h.has_clen <= 0) {
        corrupt(w, off, h.has_clen ? "bad Content-Length" : "no Content-Length");
        return resync(w);
    }
    int doc = span_is(h.type, "response") || span_is(h.type, "resource");
    uint64_t total = 0;
    if (!doc) {
        w->others++;
        if ((rc = skip_block(w, h.clen + hlen, 0, &total)))
            return rc;
        if (total < h.clen + hlen) {
            char why[96];
            snprintf(why, sizeof why, "truncated (%llu of %llu block bytes)",
                     (unsigned long long)(total > hlen ? total - hlen : 0), (unsigned long long)h.clen);
            corrupt(w, off, why);
            w->stream_reported = s->state != ND_SRC_END;
        }
        return ND_OK;
    }
    XXH3_128bits_reset(w->h);
    XXH3_128bits_update(w->h, nd_src_ptr(s), hlen);
    nd_buf_clear(&w->rec);
    if ((rc = nd_buf_append(&w->rec, nd_src_ptr(s), hlen)))
        return rc;
    /* The header strings point into the window, which the block reads move: keep
     * them from the copy in rec. */
    const char *base = nd_src_ptr(s);
    struct span *sp[] = {&h.type, &h.uri, &h.date, &h.ctype};
    nd_src_consume(s, hlen);
    uint64_t keep64 = h.clen < (uint64_t)w->cap + ND_HTTP_SLACK ? h.clen : (uint64_t)w->cap + ND_HTTP_SLACK;
    size_t keep = (size_t)keep64, got = 0;
    if ((rc = nd_buf_reserve(&w->rec, keep)) || (rc = nd_src_read(s, w->rec.p + hlen, keep, &got)))
        return rc;
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++)
        if (sp[i]->n)
            sp[i]->p = w->rec.p + (sp[i]->p - base);
    w->rec.len += got;
    w->rec.p[w->rec.len] = '\0';
    XXH3_128bits_update(w->h, w->rec.p + hlen, got);
    total = got;
    if (got == keep && (rc = skip_block(w, h.clen - keep, 1, &total)))
        return rc;
    XXH128_hash_t dg = XXH3_128bits_digest(w->h);
    uint64_t d2[2] = {dg.low64, dg.high64};
    return emit(w, &h, idx, off, hlen, total, d2);
}

int nd_warc_read(nd_src *s, const char *path, size_t cap, nd_problems *pr, nd_doc_fn fn,
                 void *ctx)
{
    struct warc w = {.s = s, .path = path, .cap = cap, .pr = pr, .fn = fn, .ctx = ctx,
                     .rec = ND_BUF_INIT, .tmp = ND_BUF_INIT, .body = ND_BUF_INIT,
                     .uri = ND_BUF_INIT, .date = ND_BUF_INIT, .conv = ND_BUF_INIT,
                     .held = ND_BUF_INIT};
    if (!(w.h = XXH3_createState()))
        return nd_fail(ND_ENOMEM, "out of memory");
    s->resync = 1;
    int rc = ND_OK;
    for (;;) {
        /* Blank lines between records (the block's trailing CRLF CRLF, or stray ones). */
        while (!(rc = nd_src_fill(s, 1)) && nd_src_avail(s) &&
               (*nd_src_ptr(s) == '\r' || *nd_src_ptr(s) == '\n'))
            nd_src_consume(s, 1);
        if (rc)
            break;
        if (!nd_src_avail(s)) {
            stream_problem(&w);
            w.stream_reported = 0;
            if (s->state == ND_SRC_CORRUPT && nd_src_resync(s))
                continue;
            break;
        }
        if ((rc = one_record(&w)))
            break;
    }
    if (!rc && s->garbage)
        nd_problem(pr, ND_NOTE, path, "trailing garbage", "bytes that are not gzip at offset %llu skipped",
                   (unsigned long long)s->garbage_at);
    /* A file without one document would vanish from the manifest and, without a
     * corrupt record, from the summary too: it becomes one skipped document, as an
     * unreadable file does (only warcinfo, request, metadata, ... records, or types
     * this reader does not know, which WARC says to ignore). */
    tell_held(&w);
    if (!rc && !w.docs) {
        char reason[96] = "no documents: no usable record"; /* its problems were told */
        if (!w.told)
            snprintf(reason, sizeof reason, "no documents: none of its %" PRIu32
                     " record%s is a response or resource", w.others, w.others == 1 ? "" : "s");
        /* Counted as skipped once, unless a problem told already counted it so. */
        if (!w.told_skipped)
            nd_problem(pr, ND_SKIPPED, path, "no documents", "%s", reason);
        rc = nd_doc_skipped(path, reason, fn, ctx);
    }
    XXH3_freeState(w.h);
    nd_buf_free(&w.held);
    nd_buf_free(&w.conv);
    nd_buf_free(&w.date);
    nd_buf_free(&w.uri);
    nd_buf_free(&w.body);
    nd_buf_free(&w.tmp);
    nd_buf_free(&w.rec);
    return rc;
}
