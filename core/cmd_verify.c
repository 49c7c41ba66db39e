/* `neardup verify DST`: re-read a clean output and check it against DST/manifest.jsonl:
 * every line well-formed, every kept document present exactly once with the text digest
 * the manifest gives, nothing else present. One line per mismatch, exit 1 if any. */
#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libdeflate.h>
#include <xxhash.h>
#include <zlib.h>

#include "buf.h"
#include "cli.h"
#include "jsonr.h"
#include "prefetch.h"

#define MAX_SHOWN 50

struct entry {
    char *id, *output;
    uint64_t tdig[2], rdig[2];
    int has_rdig;
    unsigned seen, conv;
};

struct verify {
    const char *dst;
    struct entry *v;
    size_t n, cap;
    size_t lines, kept, dup, skip;
    size_t bad;
    nd_buf ids;       /* "path\n" or "path#record\n" of kept documents, for duplicate_of */
};

static void mismatch(struct verify *vf, const char *fmt, ...) ND_PRINTF(2, 3);
static void mismatch(struct verify *vf, const char *fmt, ...)
{
    if (vf->bad++ >= MAX_SHOWN)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "verify: %s: ", vf->dst);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static int parse_digest(const char *s, uint64_t d[2])
{
    if (!s || strlen(s) != 32)
        return -1;
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return -1;
    char hi[17], lo[17];
    memcpy(hi, s, 16);
    memcpy(lo, s + 16, 16);
    hi[16] = lo[16] = '\0';
    d[1] = strtoull(hi, NULL, 16);
    d[0] = strtoull(lo, NULL, 16);
    return 0;
}

static void dig128(const void *p, size_t n, uint64_t d[2])
{
    XXH128_hash_t h = XXH3_128bits(p, n);
    d[0] = h.low64;
    d[1] = h.high64;
}

/* ---- the manifest ---- */

static void manifest_line(struct verify *vf, size_t ln, const char *line, size_t len)
{
    nd_jdoc *doc;
    if (nd_json_parse(line, len, &doc) != ND_OK) {
        mismatch(vf, "manifest.jsonl line %zu: not JSON (%s)", ln, nd_errmsg());
        return;
    }
    const nd_jval *o = nd_jdoc_root(doc);
    const char *path = nd_jget_str(o, "path", NULL), *action = nd_jget_str(o, "action", NULL);
    const char *digest = nd_jget_str(o, "digest", NULL);
    uint64_t d[2];
    const nd_jval *uri = nd_jget(o, "uri");
    if (!path || !action || !nd_jget(o, "reason") || !uri || (uri->type != ND_JSTR && uri->type != ND_JNULL) ||
        parse_digest(digest, d)) {
        mismatch(vf, "manifest.jsonl line %zu: missing or bad path, uri, action, reason or digest", ln);
    } else if (!strcmp(action, "skipped")) {
        vf->skip++;
    } else if (!strcmp(action, "duplicate")) {
        vf->dup++;
        if (!nd_jget_str(o, "duplicate_of", NULL) || !nd_jget(o, "similarity"))
            mismatch(vf, "manifest.jsonl line %zu: duplicate without duplicate_of or similarity", ln);
    } else if (!strcmp(action, "kept")) {
        vf->kept++;
        const char *id = nd_jget_str(o, "id", NULL), *out = nd_jget_str(o, "output", NULL);
        const char *td = nd_jget_str(o, "text_digest", NULL), *rd = nd_jget_str(o, "record_digest", NULL);
        struct entry e = {0};
        if (!id || !out || parse_digest(td, e.tdig) || (rd && parse_digest(rd, e.rdig))) {
            mismatch(vf, "manifest.jsonl line %zu: kept document without id, output or text_digest", ln);
        } else if (vf->n == vf->cap && !(vf->cap = vf->cap ? 2 * vf->cap : 64,
                                         vf->v = realloc(vf->v, vf->cap * sizeof *vf->v))) {
            mismatch(vf, "out of memory");
            vf->n = vf->cap = 0;
        } else {
            e.id = strdup(id);
            e.output = strdup(out);
            e.has_rdig = rd != NULL;
            vf->v[vf->n++] = e;
            nd_buf_puts(&vf->ids, id);
            nd_buf_putc(&vf->ids, '\n');
        }
    } else {
        mismatch(vf, "manifest.jsonl line %zu: unknown action \"%s\"", ln, action);
    }
    nd_jdoc_free(doc);
}

/* Each duplicate must point at a kept document. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_duplicates(struct verify *vf, const char *mpath)
{
    size_t n = 0;
    for (size_t i = 0; i < vf->ids.len; i++)
        n += vf->ids.p[i] == '\n';
    char **ids = malloc((n ? n : 1) * sizeof *ids);
    FILE *f = fopen(mpath, "rb");
    if (!ids || !f) {
        free(ids);
        if (f)
            fclose(f);
        return;
    }
    n = 0;
    for (char *p = vf->ids.p, *e; p && (e = strchr(p, '\n')); p = e + 1)
        *e = '\0', ids[n++] = p;
    qsort(ids, n, sizeof *ids, cmp_str);
    char *line = NULL;
    size_t cap = 0, ln = 0;
    ssize_t len;
    nd_buf key = ND_BUF_INIT;
    while ((len = getline(&line, &cap, f)) > 0) {
        ln++;
        nd_jdoc *doc;
        if (nd_json_parse(line, (size_t)len, &doc) != ND_OK)
            continue;
        const nd_jval *o = nd_jdoc_root(doc);
        const char *of = nd_jget_str(o, "duplicate_of", NULL);
        if (of) {
            nd_buf_clear(&key);
            const nd_jval *r = nd_jget(o, "duplicate_of_record");
            if (r && r->type == ND_JNUM)
                nd_buf_printf(&key, "%s#%.0f", of, r->num);
            else
                nd_buf_puts(&key, of);
            char *k = key.p;
            if (k && !bsearch(&k, ids, n, sizeof *ids, cmp_str))
                mismatch(vf, "manifest.jsonl line %zu: duplicate_of %s is not a kept document", ln, k);
        }
        nd_jdoc_free(doc);
    }
    nd_buf_free(&key);
    free(line);
    fclose(f);
    free(ids);
}

/* ---- outputs ---- */

static int cmp_output(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->output, ((const struct entry *)b)->output);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->id, ((const struct entry *)b)->id);
}

static int cmp_rdig(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->rdig[1] != y->rdig[1])
        return x->rdig[1] < y->rdig[1] ? -1 : 1;
    return x->rdig[0] < y->rdig[0] ? -1 : x->rdig[0] > y->rdig[0];
}

/* Read a whole gzip file (all members). */
static int gz_slurp(const char *path, nd_buf *out)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return -1;
    nd_buf_clear(out);
    char tmp[65536];
    int n;
    while ((n = gzread(g, tmp, sizeof tmp)) > 0)
        if (nd_buf_append(out, tmp, (size_t)n)) {
            n = -1;
            break;
        }
    int err;
    gzerror(g, &err);
    gzclose(g);
    return n < 0 || (err != Z_OK && err != Z_STREAM_END) ? -1 : 0;
}

/* The files under DST, relative, without manifest.jsonl. nftw has no user pointer. */
static struct {
    char **v;
    size_t n, cap, base;
    int oom;
} listing;

static int list_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    const char *rel = p + listing.base;
    if (!strcmp(rel, "manifest.jsonl"))
        return 0;
    if (listing.n == listing.cap) {
        size_t cap = listing.cap ? 2 * listing.cap : 64;
        char **v = realloc(listing.v, cap * sizeof *v);
        if (!v) {
            listing.oom = 1;
            return 1;
        }
        listing.v = v;
        listing.cap = cap;
    }
    if (!(listing.v[listing.n] = strdup(rel))) {
        listing.oom = 1;
        return 1;
    }
    listing.n++;
    return 0;
}

/* A tree file read whole by a batch: decoded by libdeflate when it is one gzip member
 * (as clean writes them), its size taken from the trailer; 0 then. Anything else
 * (several members, damage) returns -1 and is left to gz_slurp, whose verdict stands. */
static int gz_fast(struct libdeflate_decompressor *dd, const char *in, size_t n, nd_buf *out)
{
    if (!dd || n < 18)
        return -1;
    const unsigned char *t = (const unsigned char *)in + n - 4;
    size_t want = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    nd_buf_clear(out);
    if (nd_buf_reserve(out, want))
        return -1;
    size_t used = 0, got = 0;
    if (libdeflate_gzip_decompress_ex(dd, in, n, out->p, want, &used, &got) != LIBDEFLATE_SUCCESS ||
        used != n || got != want)
        return -1;
    out->len = got;
    return 0;
}

static void check_one(struct verify *vf, struct entry *e, const char *data, size_t len,
                      struct libdeflate_decompressor *dd, nd_buf *text, nd_buf *full)
{
    uint64_t d[2];
    if (!data || gz_fast(dd, data, len, text)) {
        nd_buf_clear(full);
        nd_buf_printf(full, "%s/%s", vf->dst, e->output);
        if (gz_slurp(full->p, text)) {
            mismatch(vf, "%s: not a readable gzip file", e->output);
            return;
        }
    }
    dig128(text->p ? text->p : "", text->len, d);
    if (d[0] != e->tdig[0] || d[1] != e->tdig[1])
        mismatch(vf, "%s: text differs from the manifest's text_digest", e->output);
}

/* Files are read in the reader's io_uring batches where usable (prefetch.h): a tree
 * holds one small file per kept document. */
#define VERIFY_SLOTS 32u
static void check_tree(struct verify *vf)
{
    qsort(vf->v, vf->n, sizeof *vf->v, cmp_output);
    nd_buf text = ND_BUF_INIT, full = ND_BUF_INIT;
    nd_prefetch *pf = NULL;
    struct libdeflate_decompressor *dd = libdeflate_alloc_decompressor();
    if (nd_prefetch_new(vf->dst, VERIFY_SLOTS, (size_t)256 << 10, &pf))
        nd_errclear(); /* out of memory for the batches: one file at a time */
    struct entry *batch[VERIFY_SLOTS];
    const char *rel[VERIFY_SLOTS];
    unsigned nb = 0;
    for (size_t i = 0; i <= listing.n; i++) {
        if (i < listing.n) {
            struct entry key = {.output = listing.v[i]};
            struct entry *e = bsearch(&key, vf->v, vf->n, sizeof *vf->v, cmp_output);
            if (!e) {
                mismatch(vf, "%s: not in the manifest", listing.v[i]);
                continue;
            }
            e->seen++;
            batch[nb] = e;
            rel[nb++] = e->output;
            if (nb < (pf ? VERIFY_SLOTS : 1u))
                continue;
        }
        if (pf && nb)
            nd_prefetch_run(pf, rel, nb);
        for (unsigned k = 0; k < nb; k++) {
            size_t len = 0;
            int big = 0;
            const char *data = pf ? nd_prefetch_get(pf, k, &len, &big) : NULL;
            check_one(vf, batch[k], data, len, dd, &text, &full);
        }
        nb = 0;
    }
    if (dd)
        libdeflate_free_decompressor(dd);
    nd_prefetch_free(pf);
    nd_buf_free(&full);
    nd_buf_free(&text);
}

/* One line of a gzip stream, without the newline: 1, 0 at end, -1 on error. */
static int gz_line(gzFile g, nd_buf *b)
{
    nd_buf_clear(b);
    char tmp[65536];
    while (gzgets(g, tmp, sizeof tmp)) {
        size_t n = strlen(tmp);
        if (nd_buf_append(b, tmp, n))
            return -1;
        if (n && tmp[n - 1] == '\n')
            return 1;
    }
    int err;
    gzerror(g, &err);
    if (err != Z_OK && err != Z_STREAM_END)
        return -1;
    return b->len ? 1 : 0;
}

static void check_jsonl(struct verify *vf, const char *name)
{
    qsort(vf->v, vf->n, sizeof *vf->v, cmp_id);
    nd_buf path = ND_BUF_INIT, line = ND_BUF_INIT;
    nd_buf_printf(&path, "%s/%s", vf->dst, name);
    gzFile g = gzopen(path.p, "rb");
    if (!g) {
        mismatch(vf, "%s: cannot read: %s", name, strerror(errno));
        goto out;
    }
    int r;
    size_t ln = 0;
    while ((r = gz_line(g, &line)) > 0) {
        ln++;
        nd_jdoc *doc;
        if (nd_json_parse(line.p, line.len, &doc) != ND_OK) {
            mismatch(vf, "%s line %zu: not JSON (%s)", name, ln, nd_errmsg());
            continue;
        }
        const nd_jval *o = nd_jdoc_root(doc), *text = nd_jget(o, "text");
        struct entry key = {.id = (char *)nd_jget_str(o, "id", "")};
        struct entry *e = bsearch(&key, vf->v, vf->n, sizeof *vf->v, cmp_id);
        uint64_t d[2];
        if (!text || text->type != ND_JSTR || !nd_jget_str(o, "path", NULL))
            mismatch(vf, "%s line %zu: no id, path or text", name, ln);
        else if (!e)
            mismatch(vf, "%s line %zu: id %s is not a kept document of the manifest", name, ln, key.id);
        else if (e->seen++)
            mismatch(vf, "%s line %zu: %s appears more than once", name, ln, key.id);
        else if (dig128(text->str, text->len, d), d[0] != e->tdig[0] || d[1] != e->tdig[1])
            mismatch(vf, "%s line %zu: text of %s differs from the manifest's text_digest", name, ln, key.id);
        nd_jdoc_free(doc);
    }
    if (r < 0)
        mismatch(vf, "%s: truncated or corrupt gzip after line %zu", name, ln);
    gzclose(g);
out:
    nd_buf_free(&line);
    nd_buf_free(&path);
}

static void check_warc(struct verify *vf, const char *name)
{
    qsort(vf->v, vf->n, sizeof *vf->v, cmp_rdig);
    nd_buf path = ND_BUF_INIT, rec = ND_BUF_INIT, line = ND_BUF_INIT;
    nd_buf_printf(&path, "%s/%s", vf->dst, name);
    gzFile g = gzopen(path.p, "rb");
    size_t n_rec = 0, n_conv = 0;
    struct entry *prev = NULL;
    if (!g) {
        mismatch(vf, "%s: cannot read: %s", name, strerror(errno));
        goto out;
    }
    for (;;) {
        nd_buf_clear(&rec);
        int r;
        unsigned long long cl = 0;
        int have_cl = 0, conv = 0;
        while ((r = gz_line(g, &line)) > 0) {
            nd_buf_append(&rec, line.p, line.len);
            if (!strcmp(line.p, "\r\n"))
                break;
            if (!strncasecmp(line.p, "Content-Length:", 15))
                cl = strtoull(line.p + 15, NULL, 10), have_cl = 1;
            if (!strncasecmp(line.p, "WARC-Type:", 10) && strstr(line.p + 10, "conversion"))
                conv = 1;
        }
        if (r == 0 && rec.len == 0)
            break;
        n_rec++;
        if (r <= 0 || !have_cl || rec.len < 5 || strncmp(rec.p, "WARC/", 5)) {
            mismatch(vf, "%s: record %zu: bad or truncated WARC header", name, n_rec);
            break;
        }
        size_t hl = rec.len;
        if (nd_buf_reserve(&rec, (size_t)cl + 4)) {
            mismatch(vf, "out of memory");
            break;
        }
        int got = cl ? gzread(g, rec.p + hl, (unsigned)cl) : 0;
        char tail[4];
        if (got != (int)cl || gzread(g, tail, 4) != 4 || memcmp(tail, "\r\n\r\n", 4)) {
            mismatch(vf, "%s: record %zu: truncated block", name, n_rec);
            break;
        }
        rec.len = hl + (size_t)cl;
        uint64_t d[2];
        if (conv) {
            n_conv++;
            dig128(rec.p + hl, (size_t)cl, d);
            if (!prev)
                mismatch(vf, "%s: record %zu: conversion record without its original", name, n_rec);
            else if (prev->conv++ || d[0] != prev->tdig[0] || d[1] != prev->tdig[1])
                mismatch(vf, "%s: record %zu: stripped text of %s differs from the manifest's text_digest",
                         name, n_rec, prev->id);
            prev = NULL;
            continue;
        }
        struct entry key;
        dig128(rec.p, rec.len, key.rdig);
        struct entry *e = bsearch(&key, vf->v, vf->n, sizeof *vf->v, cmp_rdig);
        /* Identical records may be kept twice (two empty pages): take an unseen one. */
        while (e && e > vf->v && !cmp_rdig(e - 1, &key))
            e--;
        while (e && e < vf->v + vf->n && !cmp_rdig(e, &key) && e->seen)
            e++;
        if (!e || e == vf->v + vf->n || cmp_rdig(e, &key)) {
            mismatch(vf, "%s: record %zu matches no kept document of the manifest (changed or extra)",
                     name, n_rec);
            prev = NULL;
            continue;
        }
        e->seen++;
        prev = e;
    }
    if (n_conv && n_conv != vf->n)
        mismatch(vf, "%s: %zu conversion records for %zu kept documents", name, n_conv, vf->n);
    gzclose(g);
out:
    nd_buf_free(&line);
    nd_buf_free(&rec);
    nd_buf_free(&path);
}

static const char verify_help[] =
    "usage: neardup verify DST\n\n"
    "Checks a `neardup clean` output against DST/manifest.jsonl: every line parses and has\n"
    "its fields, every duplicate points at a kept document, every kept document is in the\n"
    "output exactly once with the text the manifest's text_digest (warc: record_digest)\n"
    "gives, and nothing else is there. Prints \"verify: OK, N documents (K kept, D\n"
    "duplicate, S skipped)\" or one line per mismatch.\n\n"
    "Exit status: 0 verified, 1 mismatch or unreadable output, 2 usage error.\n";

int nd_cmd_verify(int argc, char **argv)
{
    const char *dst = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(verify_help, stdout);
            return ND_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            nd_cli_error("verify: unknown option \"%s\" (see neardup verify --help)", argv[i]);
            return ND_EXIT_USAGE;
        }
        if (dst) {
            nd_cli_error("verify: one DST only (got \"%s\" and \"%s\")", dst, argv[i]);
            return ND_EXIT_USAGE;
        }
        dst = argv[i];
    }
    if (!dst) {
        nd_cli_error("verify: which output? usage: neardup verify DST");
        return ND_EXIT_USAGE;
    }
    char *dcopy = strdup(dst);
    if (!dcopy) {
        nd_cli_error("out of memory");
        return ND_EXIT_FAIL;
    }
    for (size_t n = strlen(dcopy); n > 1 && dcopy[n - 1] == '/';)
        dcopy[--n] = '\0';
    dst = dcopy;
    struct verify vf = {.dst = dst};
    nd_buf mpath = ND_BUF_INIT;
    int code = ND_EXIT_FAIL;
    nd_buf_printf(&mpath, "%s/manifest.jsonl", dst);
    FILE *f = mpath.p ? fopen(mpath.p, "rb") : NULL;
    if (!f) {
        nd_cli_error("verify: cannot read %s: %s", mpath.p ? mpath.p : dst, strerror(errno));
        goto out;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        vf.lines++;
        if (line[len - 1] != '\n')
            mismatch(&vf, "manifest.jsonl line %zu: truncated (no newline)", vf.lines);
        manifest_line(&vf, vf.lines, line, (size_t)len);
    }
    free(line);
    fclose(f);
    check_duplicates(&vf, mpath.p);

    memset(&listing, 0, sizeof listing);
    listing.base = strlen(dst) + 1;
    if (nftw(dst, list_one, 16, FTW_PHYS) != 0 || listing.oom) {
        nd_cli_error("verify: cannot list %s: %s", dst, listing.oom ? "out of memory" : strerror(errno));
        goto out_list;
    }
    /* The format, from where the kept documents went. */
    const char *container = NULL;
    int jsonl = 0;
    for (size_t i = 0; i < listing.n; i++)
        if (!strcmp(listing.v[i], "documents.jsonl.gz"))
            container = listing.v[i], jsonl = 1;
        else if (!strcmp(listing.v[i], "crawl.warc.gz"))
            container = listing.v[i];
    if (vf.n && strcmp(vf.v[0].output, "documents.jsonl.gz") && strcmp(vf.v[0].output, "crawl.warc.gz"))
        container = NULL;
    if (container) {
        for (size_t i = 0; i < listing.n; i++)
            if (listing.v[i] != container)
                mismatch(&vf, "%s: not part of a %s output", listing.v[i], container);
        for (size_t i = 0; i < vf.n; i++)
            if (strcmp(vf.v[i].output, container)) {
                mismatch(&vf, "manifest: %s says output %s, not %s", vf.v[i].id, vf.v[i].output, container);
                break;
            }
        if (jsonl)
            check_jsonl(&vf, container);
        else
            check_warc(&vf, container);
    } else {
        check_tree(&vf);
    }
    for (size_t i = 0; i < vf.n; i++)
        if (!vf.v[i].seen)
            mismatch(&vf, "%s: kept in the manifest but missing from the output", vf.v[i].id);
    if (vf.bad) {
        if (vf.bad > MAX_SHOWN)
            printf("verify: ... and %zu more\n", vf.bad - MAX_SHOWN);
        printf("verify: FAILED, %zu mismatch%s in %s\n", vf.bad, vf.bad == 1 ? "" : "es", dst);
    } else {
        printf("verify: OK, %zu documents (%zu kept, %zu duplicate, %zu skipped)\n", vf.lines, vf.kept,
               vf.dup, vf.skip);
        code = ND_EXIT_OK;
    }
out_list:
    for (size_t i = 0; i < listing.n; i++)
        free(listing.v[i]);
    free(listing.v);
    memset(&listing, 0, sizeof listing);
out:
    for (size_t i = 0; i < vf.n; i++) {
        free(vf.v[i].id);
        free(vf.v[i].output);
    }
    free(vf.v);
    nd_buf_free(&vf.ids);
    nd_buf_free(&mpath);
    free(dcopy);
    return code;
}
