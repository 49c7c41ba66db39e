/* `neardup clean SRC --out DST`: keep one document per duplicate cluster, write the kept
 * text (tree of .txt.gz, one JSON Lines file, or a WARC.gz) and a manifest that accounts
 * for every input document, through core/archive.c so DST appears only when complete.
 * Reading (the analysis's kept text for tree and jsonl, the source again for warc),
 * compression and writing run on all the analysis threads. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <xxhash.h>

#include "archive.h"
#include "charset.h"
#include "cli.h"
#include "json.h"
#include "report.h"

enum fmt { FMT_TREE, FMT_JSONL, FMT_WARC };
enum keep { KEEP_EARLIEST, KEEP_FIRST, KEEP_LONGEST };
static const char *const fmt_names[] = {"tree", "jsonl", "warc"};
static const char *const keep_names[] = {"earliest", "first", "longest"};

/* zlib on 4.6 MB of news text and changelogs (one core): level 1 ran at 130 MB/s to
 * 31% of the input, level 3 at 88 MB/s to 28%, level 6 at 34 MB/s to 25%. libdeflate
 * on the 10k crawl's documents.jsonl (53 MB, one core, pieces of 400 KB): level 1 at
 * 171 MB/s to 30.1%, level 2 at 101 MB/s to 29.3%, level 5 at 63 MB/s to 28.4% (zlib
 * level 1: 89 MB/s to 33.4%). It was still half of the writing time, so levels 1-3 are
 * for a while ISA-L's igzip, 1.6-1.9x faster, until it proved not deterministic (see
 * nd_gzip in archive.c): libdeflate again. Level 1 stays the default. */
#define DEFAULT_GZIP_LEVEL 1

/* The kept documents are cut into pieces of PIECE_DOCS (fewer once their decoded bytes
 * reach PIECE_BYTES), by document index alone: one jsonl gzip member per piece, so the
 * bytes never depend on the thread count. Pieces are grouped in units, runs of pieces
 * that start at a file boundary (each file is read once), which the threads take in
 * order as they become free (claim_unit); a container's pieces are compressed
 * up to WINDOW_PER_THREAD per thread ahead of the one being written, in order. With 4
 * a thread, the two threads on the 10k crawl waited 0.25 s in all for the window (one
 * thread on a WARC file, or preempted); with 16, never. */
#define PIECE_DOCS 64
#define PIECE_BYTES (4u << 20)
#define WINDOW_PER_THREAD 16
#define NO_PIECE UINT32_MAX
#define NO_UNIT UINT32_MAX

static const char clean_help[] =
    "usage: neardup clean SRC --out DST [OPTIONS]\n\n"
    "Analyses the crawl SRC like `neardup report`, keeps one document per duplicate\n"
    "cluster and writes what is kept to DST, with DST/manifest.jsonl saying what happened\n"
    "to every input document and why. SRC is only read.\n\n"
    "Output:\n"
    "  --out DST              output folder (required). Refused when it lies inside SRC,\n"
    "                         when SRC lies inside it, or when it is not empty\n"
    "  --force                replace DST if it is a previous neardup output (it holds a\n"
    "                         manifest.jsonl); any other non-empty folder is still refused\n"
    "  --format tree|jsonl|warc\n"
    "                         tree (default): DST/<SRC path>.txt.gz per kept file, and\n"
    "                         DST/<SRC path>.d/<record>.txt.gz per kept WARC record: the\n"
    "                         extracted text, blocks joined by newlines, no final newline\n"
    "                         jsonl: DST/documents.jsonl.gz, one {\"id\",\"path\",\"uri\",\n"
    "                         \"site\",\"title\",\"text\",\"cluster\"} per kept document; id is\n"
    "                         the path, or path#record for a WARC record\n"
    "                         warc: DST/crawl.warc.gz, one gzip member per record. WARC input\n"
    "                         records are copied byte for byte (a truncated one gets its\n"
    "                         real Content-Length and WARC-Truncated: length), and one that\n"
    "                         was a gzip member of its own in a .warc.gz is copied as\n"
    "                         stored (its compressed bytes, whatever --gzip-level); other\n"
    "                         files become resource records (text/html or text/plain, the\n"
    "                         decoded file, WARC-Target-URI file:///<SRC path>, WARC-Date the\n"
    "                         document's own date, else 1970-01-01T00:00:00Z, so that the\n"
    "                         output never depends on file times or the clock; record ids\n"
    "                         derived from the path and digest)\n"
    "  --keep earliest|first|longest\n"
    "                         which member of a cluster is kept: earliest (default, the\n"
    "                         report's representative: earliest WARC-Date or Last-Modified,\n"
    "                         else the longest), first in path order, or the longest (most\n"
    "                         content tokens; ties to the first)\n"
    "  --strip-boilerplate    drop the site's learned boilerplate blocks from the kept\n"
    "                         text; with --format warc the stripped text is added as a\n"
    "                         conversion record (WARC-Refers-To the original) after it\n"
    "  --gzip-level N         0-9 (default 1: measured fastest for a small size cost);\n"
    "                         higher levels are smaller and slower (libdeflate),\n"
    "                         0 stores the text uncompressed inside gzip members\n"
    "  --dry-run              analyse and print the plan (counts, uncompressed bytes per\n"
    "                         format, DST); write nothing at all\n\n"
    "Manifest: DST/manifest.jsonl, one line per input document in report order (path,\n"
    "then record): {\"path\",\"record\",\"offset\" (WARC records),\"uri\",\"action\":\"kept\"|\n"
    "\"duplicate\"|\"skipped\",\"duplicate_of\",\"duplicate_of_uri\",\"similarity\" (to the kept\n"
    "document, or to \"similarity_to\" when only the similarity to the cluster's\n"
    "representative is known),\"cluster\",\"reason\",\"digest\" (XXH3-128 of the original\n"
    "bytes)}; kept documents add \"id\", \"output\" (file under DST), \"text_digest\"\n"
    "(XXH3-128 of the text written) and, for warc, \"record_digest\" (of the record as\n"
    "written). Text is written as valid UTF-8 (invalid bytes become U+FFFD).\n\n"
    "Safety: everything is written into a hidden folder beside DST (.DST.neardup-XXXXXX),\n"
    "each file and folder fsynced, the manifest last; the folder is renamed onto DST only\n"
    "when complete. A write error, SIGINT or SIGTERM removes it and leaves no DST (exit 1,\n"
    "130, 143). Running twice on the same SRC gives byte-identical files. `neardup verify\n"
    "DST` checks an output against its manifest.\n\n"
    "Analysis:\n";

struct clean;

/* One writing thread: its share of the documents and its own scratch. */
struct worker {
    struct clean *c;
    pthread_t th;
    uint32_t unit;            /* the unit being written, NO_UNIT before the first */
    nd_gzip *gz;
    nd_buf b, name, san, rec; /* scratch */
    nd_buf text;              /* jsonl: the lines of the current piece */
    nd_buf out;               /* compressed bytes of the current piece (or tree file) */
    nd_buf gzin, gzout;       /* warc: a source member and what it decodes to */
    struct libdeflate_decompressor *dd;
    uint32_t piece;           /* the piece being filled, NO_PIECE before the first */
    uint64_t plan[3];         /* dry run: uncompressed bytes per format */
};

/* A compressed piece waiting for its turn in the container. */
struct slot {
    nd_buf data;
    int ready;
};

struct clean {
    const nd_run *run;
    nd_cluster_index ix;
    enum fmt format;
    enum keep keep;
    bool strip, dry;
    int level;
    uint32_t *kept_of;        /* per doc: the kept member of its cluster, itself if alone */
    uint8_t *want;            /* kept documents */
    uint8_t *lost;            /* kept but no longer readable at write time */
    uint64_t (*tdig)[2];      /* text digests */
    uint64_t (*rdig)[2];      /* warc: record digests */
    nd_archive *ar;
    nd_afile *out;            /* jsonl and warc: the one container file */
    nd_buf name;              /* main thread scratch: the container's name */
    uint64_t plan[3];         /* dry run: uncompressed bytes per format */
    bool progress;            /* a progress line on stderr (a terminal) */
    atomic_size_t done;
    size_t todo;
    size_t n_kept, n_dup, n_skip;
    /* writing on several threads */
    uint32_t *piece_of;       /* per kept document: its piece */
    uint32_t n_pieces;
    uint32_t *unit_of;        /* per piece: its unit (a run of whole files) */
    uint32_t n_units;
    atomic_uint next_unit;    /* the next unit no worker has taken */
    struct worker *w;
    unsigned n_workers;
    pthread_mutex_t mu;       /* guards everything below */
    pthread_cond_t cv;        /* written moved on, or stop */
    struct slot *slots;       /* piece p waits in slots[p % window] */
    size_t window, written;   /* written: pieces in the container so far */
    uint64_t out_bytes;       /* compressed bytes in the container */
    int writing;              /* a thread is writing slots out */
    atomic_int stop;          /* a failure anywhere: every thread stops */
    int err;                  /* the first failure and its message */
    char errmsg[1024];
};

static void dig128(const void *p, size_t n, uint64_t d[2])
{
    XXH128_hash_t h = XXH3_128bits(p, n);
    d[0] = h.low64;
    d[1] = h.high64;
}

/* The text as written everywhere: valid UTF-8, so the jsonl format carries the same
 * bytes (and digest) as the others; each byte that starts no valid sequence becomes
 * U+FFFD. Returns text itself when already valid. */
static int sanitize(nd_buf *b, const char **text, size_t *len)
{
    const char *s = *text;
    size_t n = *len, i = nd_utf8_valid_prefix(s, n);
    if (i == n)
        return ND_OK;
    nd_buf_clear(b);
    int rc = ND_OK;
    while (!rc && i < n) {
        if (!(rc = nd_buf_append(b, s, i)))
            rc = nd_buf_append(b, "\xEF\xBF\xBD", 3);
        s += i + 1;
        n -= i + 1;
        i = nd_utf8_valid_prefix(s, n);
        if (!rc && i == n)
            rc = nd_buf_append(b, s, n), n = 0;
    }
    *text = b->p;
    *len = b->len;
    return rc;
}

static int is_warc(const nd_run *run, size_t d)
{
    return (run->docs[d].flags & ND_DOC_WARC) != 0;
}

static int doc_id(nd_buf *b, const nd_run *run, size_t d)
{
    nd_buf_clear(b);
    return is_warc(run, d) ? nd_buf_printf(b, "%s#%u", nd_run_path(run, d), run->docs[d].record)
                           : nd_buf_puts(b, nd_run_path(run, d));
}

static int out_name(nd_buf *b, const struct clean *c, size_t d)
{
    nd_buf_clear(b);
    if (c->format == FMT_JSONL)
        return nd_buf_puts(b, "documents.jsonl.gz");
    if (c->format == FMT_WARC)
        return nd_buf_puts(b, "crawl.warc.gz");
    if (is_warc(c->run, d))
        return nd_buf_printf(b, "%s.d/%u.txt.gz", nd_run_path(c->run, d), c->run->docs[d].record);
    int rc = nd_buf_puts(b, nd_run_path(c->run, d));
    return rc ? rc : nd_buf_puts(b, ".txt.gz");
}

/* ---- choosing ---- */

static void choose(struct clean *c)
{
    const nd_run *run = c->run;
    const nd_cluster_out *co = &run->clusters;
    for (size_t i = 0; i < run->n_docs; i++)
        c->kept_of[i] = (uint32_t)i;
    for (size_t k = 0; k < co->n_clusters; k++) {
        size_t s = c->ix.start[k], e = c->ix.start[k + 1];
        uint32_t keep = co->rep[c->ix.members[s]];
        if (c->keep == KEEP_FIRST)
            keep = c->ix.members[s];
        else if (c->keep == KEEP_LONGEST)
            for (size_t m = s; m < e; m++) {
                uint32_t d = c->ix.members[m];
                if (run->docs[d].n_content_tokens > run->docs[keep].n_content_tokens ||
                    (run->docs[d].n_content_tokens == run->docs[keep].n_content_tokens && d < keep))
                    keep = d;
            }
        for (size_t m = s; m < e; m++)
            c->kept_of[c->ix.members[m]] = keep;
    }
    for (size_t i = 0; i < run->n_docs; i++)
        c->want[i] = !(run->docs[i].flags & ND_DOC_SKIPPED) && c->kept_of[i] == i;
}

/* ---- WARC records ---- */

/* Value of header name in a header block (case-insensitive name), or NULL. */
static const char *hdr_find(const char *h, size_t n, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n;) {
        const char *eol = memchr(h + i, '\n', n - i);
        size_t end = eol ? (size_t)(eol - h) : n;
        if (end - i > nl && strncasecmp(h + i, name, nl) == 0 && h[i + nl] == ':') {
            size_t v = i + nl + 1;
            while (v < end && (h[v] == ' ' || h[v] == '\t'))
                v++;
            size_t ve = end;
            while (ve > v && (h[ve - 1] == '\r' || h[ve - 1] == ' '))
                ve--;
            *vlen = ve - v;
            return h + v;
        }
        i = end + 1;
    }
    return NULL;
}

/* Start of the blank line ending a header block, or NULL. */
static const char *header_end(const char *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return p + i;
    return NULL;
}

static int uuid_of(nd_buf *b, const char *kind, const nd_run *run, size_t d)
{
    nd_buf t = ND_BUF_INIT;
    int rc = nd_buf_printf(&t, "neardup %s\n%s\n%u\n%016llx%016llx", kind, nd_run_path(run, d),
                           run->docs[d].record, (unsigned long long)run->docs[d].digest[1],
                           (unsigned long long)run->docs[d].digest[0]);
    if (!rc) {
        uint64_t h[2];
        dig128(t.p, t.len, h);
        /* Version 8 (custom) and the RFC 9562 variant bits. */
        h[1] = (h[1] & ~0xF000ull) | 0x8000ull;
        h[0] = (h[0] & ~(3ull << 62)) | (2ull << 62);
        rc = nd_buf_printf(b, "<urn:uuid:%08llx-%04llx-%04llx-%04llx-%012llx>",
                           (unsigned long long)(h[1] >> 32), (unsigned long long)((h[1] >> 16) & 0xFFFF),
                           (unsigned long long)(h[1] & 0xFFFF), (unsigned long long)(h[0] >> 48),
                           (unsigned long long)(h[0] & 0xFFFFFFFFFFFFull));
    }
    nd_buf_free(&t);
    return rc;
}

static int warc_date(nd_buf *b, const nd_docrec *r)
{
    struct tm tm;
    time_t t = r->time != INT64_MAX ? (time_t)r->time : 0;
    if (!gmtime_r(&t, &tm))
        t = 0, gmtime_r(&t, &tm);
    char s[40];
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return nd_buf_puts(b, s);
}

static int pct_path(nd_buf *b, const char *p)
{
    int rc = ND_OK;
    for (; *p && !rc; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("/-._~", ch))
            rc = nd_buf_putc(b, (char)ch);
        else
            rc = nd_buf_printf(b, "%%%02X", ch);
    }
    return rc;
}

/* One record into its own gzip member of the piece; digest over what precedes the final
 * CRLFCRLF. */
static int put_record(struct worker *w, nd_buf *r, uint64_t dig[2])
{
    if (dig)
        dig128(r->p, r->len, dig);
    if (w->c->dry) {
        w->plan[FMT_WARC] += r->len + 4;
        return ND_OK;
    }
    int rc = nd_buf_append(r, "\r\n\r\n", 4);
    return rc ? rc : nd_gzip_member(w->gz, r->p, r->len, &w->out);
}

/* Up to n bytes at off; fewer at the end of the file or on an error (the caller then
 * compresses the record again instead of copying it). */
static size_t pread_all(int fd, char *p, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, p + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

/* The reader decoded the record's member whole, to exactly the record and 4 more
 * bytes: the member is read again and copied without decoding it a second time (that
 * was a tenth of writing a WARC.gz crawl). The bytes read must hash as those the
 * reader decoded, and the gzip trailer must hold the CRC-32 and size of the record
 * followed by CRLFCRLF: the decoded member began with the record, so the two can
 * differ in the last 4 bytes only, a burst CRC-32 always detects. Else 0: the record
 * is compressed again. */
static int copy_whole_member(struct worker *w, const nd_rawdoc *raw)
{
    size_t n = (size_t)raw->member_clen;
    nd_buf_clear(&w->gzin);
    int rc = nd_buf_reserve(&w->gzin, n);
    if (rc)
        return rc;
    if (n < 18 || pread_all(raw->member_fd, w->gzin.p, n, raw->offset) != n ||
        XXH3_64bits(w->gzin.p, n) != raw->member_hash)
        return 0;
    uint32_t crc = libdeflate_crc32(0, raw->record_bytes, raw->record_len);
    crc = libdeflate_crc32(crc, "\r\n\r\n", 4);
    const unsigned char *t = (const unsigned char *)w->gzin.p + n - 8;
    uint32_t tcrc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    uint32_t tsize = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
    if (tcrc != crc || tsize != (uint32_t)(raw->record_len + 4))
        return 0;
    return (rc = nd_buf_append(&w->out, w->gzin.p, n)) ? rc : 1;
}

/* A WARC record that is a gzip member of its own in the source is copied as stored:
 * nothing to compress again, and the archive keeps the crawler's own bytes. Only the
 * very bytes read are copied: checked by copy_whole_member when the reader decoded the
 * member whole, else by decoding it here and comparing it with the record. A member
 * holding more than the record is compressed again. 1: copied. */
static int copy_member(struct worker *w, const nd_rawdoc *raw)
{
    if (!(raw->flags & ND_RAW_MEMBER_START) || raw->record_len > SIZE_MAX / 4)
        return 0;
    /* Room for stored blocks (5 bytes in 65535) and a gzip header with a name or a
     * comment; a member with a longer one is compressed again. A bigger read cost a
     * copy of 64 KB from the page cache for every record. */
    size_t want = raw->record_len + 4, cap = want + want / 64 + 1024;
    if (raw->member_clen) /* its extent is known: it holds the record alone, or more */
        return raw->member_dlen == want && raw->member_clen <= cap ? copy_whole_member(w, raw) : 0;
    if (!w->dd && !(w->dd = libdeflate_alloc_decompressor()))
        return nd_fail(ND_ENOMEM, "out of memory");
    int rc;
    nd_buf_clear(&w->gzin);
    nd_buf_clear(&w->gzout);
    if ((rc = nd_buf_reserve(&w->gzin, cap)) || (rc = nd_buf_reserve(&w->gzout, want)))
        return rc;
    size_t n = pread_all(raw->member_fd, w->gzin.p, cap, raw->offset);
    size_t used = 0, got = 0;
    if (libdeflate_gzip_decompress_ex(w->dd, w->gzin.p, n, w->gzout.p, want, &used, &got) !=
            LIBDEFLATE_SUCCESS ||
        got != want || memcmp(w->gzout.p, raw->record_bytes, raw->record_len) != 0 ||
        memcmp(w->gzout.p + raw->record_len, "\r\n\r\n", 4) != 0)
        return 0;
    if ((rc = nd_buf_append(&w->out, w->gzin.p, used)))
        return rc;
    return 1;
}

static int write_warc(struct worker *w, size_t d, const nd_rawdoc *raw, const char *text, size_t len)
{
    struct clean *c = w->c;
    const nd_run *run = c->run;
    nd_buf *r = &w->rec, *id = &w->name;
    nd_buf_clear(r);
    nd_buf_clear(id);
    int rc = ND_OK, copied = 0;
    const char *hend = raw->record_bytes ? header_end(raw->record_bytes, raw->record_len) : NULL;
    if (hend) {
        size_t hl = (size_t)(hend - raw->record_bytes) + 4, bl = raw->record_len - hl, vl;
        const char *cl = hdr_find(raw->record_bytes, hl, "Content-Length", &vl);
        const char *rid = hdr_find(raw->record_bytes, hl, "WARC-Record-ID", &vl);
        if (rid)
            rc = nd_buf_append(id, rid, vl);
        if (!rc && cl && strtoull(cl, NULL, 10) == bl) {
            copied = c->dry ? 0 : copy_member(w, raw);
            if (copied < 0)
                return copied;
            if (copied)
                dig128(raw->record_bytes, raw->record_len, c->rdig[d]);
            else
                rc = nd_buf_append(r, raw->record_bytes, raw->record_len);
        } else if (!rc) {
            /* Truncated record: say so rather than write a broken archive. */
            for (size_t i = 0; !rc && i < hl - 2;) {
                const char *eol = memchr(raw->record_bytes + i, '\n', hl - 2 - i);
                size_t end = eol ? (size_t)(eol - raw->record_bytes) + 1 : hl - 2;
                if (strncasecmp(raw->record_bytes + i, "Content-Length:", 15) != 0 &&
                    strncasecmp(raw->record_bytes + i, "WARC-Truncated:", 15) != 0)
                    rc = nd_buf_append(r, raw->record_bytes + i, end - i);
                i = end;
            }
            if (!rc)
                rc = nd_buf_printf(r, "Content-Length: %zu\r\nWARC-Truncated: length\r\n\r\n", bl);
            if (!rc)
                rc = nd_buf_append(r, raw->record_bytes + hl, bl);
        }
    } else {
        const char *path = nd_run_path(run, d);
        if (!(rc = uuid_of(id, "resource", run, d)) &&
            !(rc = nd_buf_printf(r, "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: %s\r\nWARC-Date: ", id->p)) &&
            !(rc = warc_date(r, &run->docs[d])) && !(rc = nd_buf_puts(r, "\r\nWARC-Target-URI: file:///")) &&
            !(rc = pct_path(r, path)) &&
            !(rc = nd_buf_printf(r, "\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n\r\n",
                                 raw->is_html ? "text/html" : "text/plain",
                                 (raw->flags & ND_RAW_TRUNCATED) ? "WARC-Truncated: length\r\n" : "",
                                 raw->body_len)))
            rc = nd_buf_append(r, raw->body, raw->body_len);
    }
    if (!rc && !copied)
        rc = put_record(w, r, c->rdig[d]);
    if (rc || !c->strip)
        return rc;
    nd_buf orig = *id;
    nd_buf conv = ND_BUF_INIT;
    nd_buf_clear(r);
    if (!(rc = uuid_of(&conv, "conversion", run, d)) &&
        !(rc = nd_buf_printf(r, "WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Record-ID: %s\r\n", conv.p)) &&
        !(rc = orig.len ? nd_buf_printf(r, "WARC-Refers-To: %s\r\n", orig.p) : ND_OK) &&
        !(rc = nd_buf_puts(r, "WARC-Date: ")) && !(rc = warc_date(r, &run->docs[d]))) {
        if (run->docs[d].uri)
            rc = nd_buf_printf(r, "\r\nWARC-Target-URI: %s", run->docs[d].uri);
        else if (!(rc = nd_buf_puts(r, "\r\nWARC-Target-URI: file:///")))
            rc = pct_path(r, nd_run_path(run, d));
    }
    if (!rc)
        rc = nd_buf_printf(r, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n\r\n", len);
    if (!rc)
        rc = nd_buf_append(r, text, len);
    if (!rc)
        rc = put_record(w, r, NULL);
    nd_buf_free(&conv);
    return rc;
}

/* ---- writing ---- */

/* Append the document's line to b. */
static int jsonl_line(struct worker *w, nd_buf *b, size_t d, const char *text, size_t len)
{
    struct clean *c = w->c;
    const nd_run *run = c->run;
    const nd_docrec *r = &run->docs[d];
    int rc;
    if ((rc = doc_id(&w->name, run, d)) || (rc = nd_buf_puts(b, "{\"id\":")) ||
        (rc = nd_json_str(b, w->name.p, w->name.len)) || (rc = nd_buf_puts(b, ",\"path\":")) ||
        (rc = nd_json_cstr(b, nd_run_path(run, d))) || (rc = nd_buf_puts(b, ",\"uri\":")) ||
        (rc = nd_json_cstr(b, r->uri)) || (rc = nd_buf_puts(b, ",\"site\":")) ||
        (rc = nd_json_cstr(b, run->sites[r->site])) || (rc = nd_buf_puts(b, ",\"title\":")))
        return rc;
    if (c->strip && !(r->flags & ND_DOC_HTML) && len) {
        /* A plain page's title is its first words, often a template line: take the
         * first words of what is kept instead. */
        size_t t = 0;
        while (t < len && text[t] != '\n')
            t++;
        if (t > 120) {
            size_t cut = 120;
            while (cut > 60 && text[cut] != ' ')
                cut--;
            while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
                cut--;
            t = cut;
        }
        rc = nd_json_str(b, text, t);
    } else {
        rc = nd_json_cstr(b, r->title);
    }
    if (rc || (rc = nd_buf_puts(b, ",\"text\":")) || (rc = nd_json_str_utf8(b, text, len)))
        return rc;
    if (run->clusters.cluster[d] >= 0)
        rc = nd_buf_printf(b, ",\"cluster\":%d}\n", (int)run->clusters.cluster[d]);
    else
        rc = nd_buf_puts(b, ",\"cluster\":null}\n");
    return rc;
}

/* ---- writing on several threads ---- */

static int ordered(const struct clean *c)
{
    return !c->dry && c->format != FMT_TREE;
}

/* Stop every thread; the first failure's message is the one reported. */
static void fail_all(struct clean *c, int rc)
{
    pthread_mutex_lock(&c->mu);
    if (!c->err) {
        c->err = rc;
        snprintf(c->errmsg, sizeof c->errmsg, "%s", nd_errmsg());
    }
    atomic_store(&c->stop, 1);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Write the ready pieces in order, unless another thread is doing so. Called and
 * returns with c->mu held; the writes themselves run without it. */
static int drain_locked(struct clean *c)
{
    if (c->writing)
        return ND_OK;
    c->writing = 1;
    int rc = ND_OK;
    for (;;) {
        struct slot *s = &c->slots[c->written % c->window];
        if (atomic_load(&c->stop) || !s->ready)
            break;
        nd_buf data = s->data;
        s->data = (nd_buf)ND_BUF_INIT;
        s->ready = 0;
        pthread_mutex_unlock(&c->mu);
        rc = data.len ? nd_afile_write(c->out, data.p, data.len) : ND_OK;
        pthread_mutex_lock(&c->mu);
        c->out_bytes += data.len;
        nd_buf_free(&data);
        if (rc)
            break;
        c->written++;
        pthread_cond_broadcast(&c->cv);
    }
    c->writing = 0;
    return rc;
}

/* Wait until piece p fits in the window. 1 when stopped. */
static int piece_begin(struct worker *w, uint32_t p)
{
    struct clean *c = w->c;
    w->piece = p;
    if (!ordered(c))
        return 0;
    pthread_mutex_lock(&c->mu);
    while (!atomic_load(&c->stop) && p >= c->written + c->window)
        pthread_cond_wait(&c->cv, &c->mu);
    int stop = atomic_load(&c->stop);
    pthread_mutex_unlock(&c->mu);
    return stop;
}

static int piece_end(struct worker *w)
{
    struct clean *c = w->c;
    if (!ordered(c))
        return ND_OK;
    int rc = ND_OK;
    if (c->format == FMT_JSONL && w->text.len)
        rc = nd_gzip_member(w->gz, w->text.p, w->text.len, &w->out);
    nd_buf_clear(&w->text);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    struct slot *s = &c->slots[w->piece % c->window];
    s->data = w->out;
    s->ready = 1;
    w->out = (nd_buf)ND_BUF_INIT;
    rc = drain_locked(c);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int write_doc(void *ctx, size_t d, const nd_rawdoc *raw, const char *text, size_t len)
{
    struct worker *w = ctx;
    struct clean *c = w->c;
    if (atomic_load(&c->stop))
        return 1;
    if (!c->dry && nd_archive_signal())
        return nd_fail(ND_EINTR, "interrupted by signal %d", nd_archive_signal());
    int rc;
    uint32_t p = c->piece_of[d];
    if (p != w->piece) {
        if (w->piece != NO_PIECE && (rc = piece_end(w)))
            return rc;
        if ((rc = piece_begin(w, p)))
            return rc;
    }
    size_t done = atomic_fetch_add(&c->done, 1) + 1;
    if (c->progress && (done % 256 == 0 || done == c->todo))
        fprintf(stderr, done == c->todo ? "\r\033[K" : "\r\033[Kwriting: %zu/%zu documents", done,
                c->todo);
    if (!raw) {
        c->lost[d] = 1;
        return 0;
    }
    /* Pass 1 saw every byte of this text: when it was valid UTF-8 and the source is the
     * same, the check is skipped (it was a tenth of the writing time on news text). */
    const nd_docrec *r = &c->run->docs[d];
    if (!text) { /* warc, not stripped: the bytes read again are pass 1's (ND_EACH_DIGEST_ONLY) */
        if ((rc = nd_run_text_digest(c->run, d, c->tdig[d])))
            return rc;
    } else {
        if ((r->flags & ND_DOC_BADUTF8 || raw->digest[0] != r->digest[0] ||
             raw->digest[1] != r->digest[1]) &&
            (rc = sanitize(&w->san, &text, &len)))
            return rc;
        dig128(text, len, c->tdig[d]);
    }
    if (c->dry || c->format == FMT_WARC) {
        if (c->dry)
            w->plan[FMT_TREE] += len;
        if ((rc = write_warc(w, d, raw, text, len)))
            return rc;
    }
    if (c->dry) {
        nd_buf_clear(&w->b);
        if ((rc = jsonl_line(w, &w->b, d, text, len)))
            return rc;
        w->plan[FMT_JSONL] += w->b.len;
    } else if (c->format == FMT_JSONL) {
        rc = jsonl_line(w, &w->text, d, text, len);
    } else if (c->format == FMT_TREE) {
        nd_buf_clear(&w->out);
        if ((rc = out_name(&w->name, c, d)) || (rc = nd_gzip_member(w->gz, text, len, &w->out)))
            return rc;
        rc = nd_archive_put(c->ar, w->name.p, w->out.p, w->out.len);
    }
    return rc;
}

/* The workers take the units in order as each finishes its last, rather than every
 * other one from the start: a preempted worker no longer leaves the other idle at the
 * end (on the large crawl's tree, the two had finished 0.6 s apart). The files come in
 * order, so a unit taken is always ahead of the worker that takes it. */
static int claim_unit(void *ctx, size_t first)
{
    struct worker *w = ctx;
    struct clean *c = w->c;
    uint32_t u = c->unit_of[c->piece_of[first]];
    if (w->unit == NO_UNIT || w->unit < u) {
        w->unit = atomic_fetch_add(&c->next_unit, 1);
        if (w->unit >= c->n_units)
            return -1;
    }
    return w->unit == u;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct clean *c = w->c;
    /* Only an unstripped warc needs no text, and only then did pass 1 keep the digests. */
    unsigned flags = (c->strip ? ND_EACH_STRIP : 0u) |
                     (c->run->opts.keep_text_digest ? ND_EACH_DIGEST_ONLY : 0u);
    int rc = nd_run_each_text(c->run, c->want, flags, claim_unit, write_doc, w);
    if (!rc && w->piece != NO_PIECE)
        rc = piece_end(w);
    if (rc < 0)
        fail_all(c, rc);
    return NULL;
}

/* Test hook ND_TEST_PIECE_DOCS=N: pieces of the output and parts of the manifest of N
 * documents, so that a small crawl has many of each; else dflt. */
static size_t test_piece_docs(size_t dflt)
{
    const char *hook = getenv("ND_TEST_PIECE_DOCS");
    return hook && atoi(hook) > 0 ? (size_t)atoi(hook) : dflt;
}

/* Cut the kept documents into pieces and give each worker its runs of them. */
static int plan_work(struct clean *c)
{
    const nd_run *run = c->run;
    size_t n = run->n_docs ? run->n_docs : 1;
    if (!(c->piece_of = malloc(n * sizeof *c->piece_of)) || !(c->unit_of = malloc(n * sizeof *c->unit_of)))
        return nd_fail(ND_ENOMEM, "out of memory");
    uint32_t *unit_of = c->unit_of;
    /* Test hook: pieces of N documents and a window of one piece a thread, so that a
     * small crawl has many pieces and workers that wait for the writer. */
    size_t piece_docs = test_piece_docs(PIECE_DOCS);
    uint32_t p = 0, units = 0, last_file = UINT32_MAX;
    size_t in = 0;
    uint64_t bytes = 0;
    for (size_t d = 0; d < run->n_docs; d++) {
        if (!c->want[d])
            continue;
        if (in && (in == piece_docs || bytes >= PIECE_BYTES))
            p++, in = 0, bytes = 0;
        if (!in)
            unit_of[p] = run->docs[d].file != last_file ? units++ : units - 1;
        c->piece_of[d] = p;
        in++;
        bytes += run->docs[d].bytes;
        last_file = run->docs[d].file;
    }
    c->n_pieces = in ? p + 1 : 0;
    c->n_units = units;
    atomic_store(&c->next_unit, 0);
    unsigned t = run->threads ? run->threads : 1;
    c->n_workers = units < t ? (units ? units : 1) : t;
    c->window = (size_t)(piece_docs == PIECE_DOCS ? WINDOW_PER_THREAD : 1) * c->n_workers;
    int rc = ND_OK;
    if (!(c->w = calloc(c->n_workers, sizeof *c->w)) || !(c->slots = calloc(c->window, sizeof *c->slots)))
        rc = nd_fail(ND_ENOMEM, "out of memory");
    for (unsigned i = 0; !rc && i < c->n_workers; i++) {
        struct worker *w = &c->w[i];
        w->c = c;
        w->piece = NO_PIECE;
        w->unit = NO_UNIT;
        if (!c->dry)
            rc = nd_gzip_new(c->level, &w->gz);
    }
    return rc;
}

static void free_work(struct clean *c)
{
    for (unsigned i = 0; c->w && i < c->n_workers; i++) {
        struct worker *w = &c->w[i];
        nd_gzip_free(w->gz);
        nd_buf_free(&w->out);
        nd_buf_free(&w->gzout);
        nd_buf_free(&w->gzin);
        if (w->dd)
            libdeflate_free_decompressor(w->dd);
        nd_buf_free(&w->text);
        nd_buf_free(&w->rec);
        nd_buf_free(&w->san);
        nd_buf_free(&w->name);
        nd_buf_free(&w->b);
    }
    for (size_t i = 0; c->slots && i < c->window; i++)
        nd_buf_free(&c->slots[i].data);
    free(c->slots);
    free(c->w);
    free(c->unit_of);
    free(c->piece_of);
    c->slots = NULL;
    c->w = NULL;
    c->unit_of = NULL;
    c->piece_of = NULL;
}

/* Take the text of every kept document (kept by the analysis, or read and extracted
 * again), compress and write it on all the workers. The container (jsonl, warc) gets
 * its pieces in order; the caller closes it. On the 10k
 * crawl (2 cores) this is 0.4 s after a 0.8 s analysis, half of it level 1 deflate. */
static int write_all(struct clean *c)
{
    unsigned started = 0;
    if (c->n_workers == 1) {
        worker_main(&c->w[0]);
        started = 1;
    } else {
        for (; started < c->n_workers; started++)
            if (pthread_create(&c->w[started].th, NULL, worker_main, &c->w[started]) != 0) {
                fail_all(c, nd_fail(ND_ENOMEM, "cannot start a writing thread"));
                break;
            }
        for (unsigned i = 0; i < started; i++)
            pthread_join(c->w[i].th, NULL);
    }
    for (unsigned i = 0; i < c->n_workers; i++)
        for (int k = 0; k < 3; k++)
            c->plan[k] += c->w[i].plan[k];
    if (c->err)
        return nd_fail(c->err, "%s", c->errmsg);
    if (atomic_load(&c->done) != c->todo)
        return nd_fail(ND_EINTERNAL, "only %zu of %zu kept documents written", atomic_load(&c->done),
                       c->todo);
    if (ordered(c) && c->written != c->n_pieces)
        return nd_fail(ND_EINTERNAL, "only %zu of %u pieces written", c->written, c->n_pieces);
    /* An empty container is still one (empty) gzip member, so every reader accepts it. */
    if (ordered(c) && c->out_bytes == 0) {
        nd_buf e = ND_BUF_INIT;
        int rc = nd_gzip_member(c->w[0].gz, "", 0, &e);
        if (!rc)
            rc = nd_afile_write(c->out, e.p, e.len);
        nd_buf_free(&e);
        return rc;
    }
    return ND_OK;
}

/* ---- manifest ---- */

static double sim_threshold(const nd_run *run)
{
    return run->opts.threshold >= 0 ? run->opts.threshold : run->info.threshold;
}

/* The manifest is formatted on every writing thread, a stretch of MANIFEST_DOCS
 * documents each at a time, and written in document order: on one thread its 93 MB
 * for the large crawl took 0.35 s after the writing, with the other core idle. */
#define MANIFEST_DOCS 4096u
struct mpart {
    struct clean *c;
    pthread_t th;
    bool started;             /* th runs this part */
    size_t from, to;          /* documents [from, to) */
    nd_buf out, name;         /* their lines; scratch */
    size_t n_kept, n_dup, n_skip;
    int rc;
    char errmsg[1024];        /* rc's message (nd_fail's is the thread's own) */
};

/* Append document d's line to m->out. */
static int manifest_line(struct mpart *m, size_t d)
{
    struct clean *c = m->c;
    nd_buf *b = &m->out;
    const nd_run *run = c->run;
    const nd_docrec *r = &run->docs[d];
    const nd_cluster_out *co = &run->clusters;
    int32_t cl = co->cluster[d];
    uint32_t k = c->kept_of[d];
    int rc = nd_buf_puts(b, "{\"path\":");
    if (!rc)
        rc = nd_json_cstr(b, nd_run_path(run, d));
    if (!rc && is_warc(run, d))
        rc = nd_buf_printf(b, ",\"record\":%u,\"offset\":%llu", r->record, (unsigned long long)r->offset);
    if (!rc)
        rc = nd_buf_puts(b, ",\"uri\":");
    if (!rc)
        rc = nd_json_cstr(b, r->uri);
    if (rc)
        return rc;
    const char *action, *reason = NULL;
    char why[160];
    if ((r->flags & ND_DOC_SKIPPED) || c->lost[d]) {
        action = "skipped";
        reason = c->lost[d] ? "source changed since the analysis: not written"
                            : (r->reason ? r->reason : "unreadable");
        m->n_skip++;
    } else if (k != d) {
        action = "duplicate";
        const nd_docrec *kr = &run->docs[k];
        if (r->body_digest[0] == kr->body_digest[0] && r->body_digest[1] == kr->body_digest[1])
            reason = "exact copy of the kept document";
        else if (co->containment && co->containment[d] >= 0 && co->similarity[d] < sim_threshold(run))
            reason = "truncated or partial copy (contained in the representative)";
        else
            reason = "near-duplicate";
        m->n_dup++;
    } else {
        action = "kept";
        /* Formatted only when it holds a number or a note: a line per document. */
        reason = r->flags & ND_DOC_TEMPLATE ? "template-only page (not a duplicate)"
                 : r->flags & ND_DOC_EMPTY  ? "no content (not a duplicate)"
                                            : "unique";
        if (cl >= 0 || (r->flags & ND_DOC_PARTIAL)) {
            if (cl >= 0)
                snprintf(why, sizeof why, "kept for cluster %d (--keep %s)", (int)cl, keep_names[c->keep]);
            else
                snprintf(why, sizeof why, "%s", reason);
            if (r->flags & ND_DOC_PARTIAL) {
                size_t n = strlen(why);
                snprintf(why + n, sizeof why - n, "; %s", r->reason ? r->reason : "partly read");
            }
            reason = why;
        }
        m->n_kept++;
    }
    if (!(rc = nd_buf_puts(b, ",\"action\":\"")) && !(rc = nd_buf_puts(b, action)))
        rc = nd_buf_puts(b, "\",\"duplicate_of\":");
    if (!rc && action[0] == 'd') {
        uint32_t rep = co->rep[d];
        double sim;
        uint32_t to = k;
        if (k == rep)
            sim = co->similarity[d];
        else if (d == rep)
            sim = co->similarity[k];
        else {
            /* Neither is the representative: compare the two signatures directly. */
            double cont;
            if (nd_run_compare(run, d, k, &sim, &cont) != ND_OK)
                sim = co->similarity[d], to = rep;
        }
        if (!(rc = nd_json_cstr(b, nd_run_path(run, k))) && is_warc(run, k))
            rc = nd_buf_printf(b, ",\"duplicate_of_record\":%u", run->docs[k].record);
        if (!rc && !(rc = nd_buf_puts(b, ",\"duplicate_of_uri\":")) && !(rc = nd_json_cstr(b, run->docs[k].uri)) &&
            !(rc = nd_buf_puts(b, ",\"similarity\":")))
            rc = nd_json_num(b, sim);
        if (!rc && to != k) {
            /* Only the similarity to the representative is known for this member. */
            if (!(rc = nd_buf_puts(b, ",\"similarity_to\":")))
                rc = nd_json_cstr(b, nd_run_path(run, to));
            if (!rc && is_warc(run, to))
                rc = nd_buf_printf(b, ",\"similarity_to_record\":%u", run->docs[to].record);
        }
    } else if (!rc) {
        rc = nd_buf_puts(b, "null,\"duplicate_of_uri\":null,\"similarity\":null");
    }
    if (!rc)
        rc = cl >= 0 ? nd_buf_printf(b, ",\"cluster\":%d", (int)cl) : nd_buf_puts(b, ",\"cluster\":null");
    if (!rc && !(rc = nd_buf_puts(b, ",\"reason\":")) && !(rc = nd_json_cstr(b, reason)) &&
        !(rc = nd_buf_puts(b, ",\"digest\":")))
        rc = nd_json_digest(b, r->digest);
    if (!rc && action[0] == 'k') {
        if (!(rc = doc_id(&m->name, run, d)) && !(rc = nd_buf_puts(b, ",\"id\":")) &&
            !(rc = nd_json_str(b, m->name.p, m->name.len)) && !(rc = out_name(&m->name, c, d)) &&
            !(rc = nd_buf_puts(b, ",\"output\":")) && !(rc = nd_json_str(b, m->name.p, m->name.len)) &&
            !(rc = nd_buf_puts(b, ",\"text_digest\":")))
            rc = nd_json_digest(b, c->tdig[d]);
        if (!rc && c->format == FMT_WARC && !(rc = nd_buf_puts(b, ",\"record_digest\":")))
            rc = nd_json_digest(b, c->rdig[d]);
    }
    if (!rc)
        rc = nd_buf_puts(b, "}\n");
    return rc;
}

static void *mpart_main(void *arg)
{
    struct mpart *m = arg;
    nd_buf_clear(&m->out);
    for (size_t d = m->from; !m->rc && d < m->to; d++)
        m->rc = manifest_line(m, d);
    if (m->rc)
        snprintf(m->errmsg, sizeof m->errmsg, "%s", nd_errmsg());
    return NULL;
}

static int write_manifest(struct clean *c, uint64_t *manifest_bytes)
{
    nd_afile *f = NULL;
    int rc = c->dry ? ND_OK : nd_archive_open(c->ar, "manifest.jsonl", &f);
    unsigned t = c->n_workers ? c->n_workers : 1;
    struct mpart *m = rc ? NULL : calloc(t, sizeof *m);
    if (!rc && !m)
        rc = nd_fail(ND_ENOMEM, "out of memory");
    size_t part = test_piece_docs(MANIFEST_DOCS);
    size_t n = c->run->n_docs;
    for (size_t from = 0; !rc && from < n; from += (size_t)t * part) {
        for (unsigned i = 0; i < t; i++) {
            size_t a = from + (size_t)i * part;
            m[i].c = c;
            m[i].from = a < n ? a : n;
            m[i].to = n - m[i].from > part ? m[i].from + part : n;
            /* A thread that cannot be started leaves its part to this one. */
            m[i].started = i > 0 && m[i].from < n && pthread_create(&m[i].th, NULL, mpart_main, &m[i]) == 0;
        }
        for (unsigned i = 0; i < t; i++)
            if (!m[i].started)
                mpart_main(&m[i]);
        for (unsigned i = 0; i < t; i++)
            if (m[i].started)
                pthread_join(m[i].th, NULL);
        for (unsigned i = 0; !rc && i < t; i++) {
            if (m[i].rc)
                rc = nd_fail(m[i].rc, "%s", m[i].errmsg);
            *manifest_bytes += m[i].out.len;
            if (!rc && f)
                rc = nd_afile_write(f, m[i].out.p, m[i].out.len);
        }
    }
    for (unsigned i = 0; m && i < t; i++) {
        c->n_kept += m[i].n_kept;
        c->n_dup += m[i].n_dup;
        c->n_skip += m[i].n_skip;
        nd_buf_free(&m[i].name);
        nd_buf_free(&m[i].out);
    }
    free(m);
    if (f) {
        if (rc)
            nd_afile_discard(f);
        else
            rc = nd_afile_close(f);
    }
    return rc;
}

static void human_bytes(char *s, size_t n, uint64_t v)
{
    if (v >= (1ull << 20))
        snprintf(s, n, "%.1f MB", (double)v / (1 << 20));
    else if (v >= (1ull << 10))
        snprintf(s, n, "%.1f KB", (double)v / (1 << 10));
    else
        snprintf(s, n, "%llu bytes", (unsigned long long)v);
}

static double clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Everything after the analysis. Returns an exit code. */
static int clean_write(struct clean *c, const char *dst)
{
    const nd_run *run = c->run;
    size_t n = run->n_docs ? run->n_docs : 1;
    c->kept_of = malloc(n * sizeof *c->kept_of);
    c->want = calloc(n, 1);
    c->lost = calloc(n, 1);
    c->tdig = calloc(n, sizeof *c->tdig);
    c->rdig = calloc(n, sizeof *c->rdig);
    if (!c->kept_of || !c->want || !c->lost || !c->tdig || !c->rdig) {
        nd_cli_error("out of memory");
        return ND_EXIT_FAIL;
    }
    if (nd_cluster_index_build(run, &c->ix) != ND_OK) {
        nd_cli_error("%s", nd_errmsg());
        return ND_EXIT_FAIL;
    }
    choose(c);
    for (size_t i = 0; i < run->n_docs; i++)
        c->todo += c->want[i];
    c->progress = run->opts.progress && !c->dry;
    uint64_t mbytes = 0;
    int rc = plan_work(c);
    if (rc) {
        nd_cli_error("%s", nd_errmsg());
        return ND_EXIT_FAIL;
    }
    if (c->dry) {
        rc = write_all(c);
        if (!rc)
            rc = write_manifest(c, &mbytes);
        if (rc) {
            nd_cli_error("%s", nd_errmsg());
            return ND_EXIT_FAIL;
        }
        char t[32], j[32], w[32], m[32];
        human_bytes(t, sizeof t, c->plan[FMT_TREE]);
        human_bytes(j, sizeof j, c->plan[FMT_JSONL]);
        human_bytes(w, sizeof w, c->plan[FMT_WARC]);
        human_bytes(m, sizeof m, mbytes);
        printf("dry run: nothing written\n"
               "  %zu documents read: %zu kept, %zu duplicates dropped, %zu skipped\n"
               "  would write %s (--format %s, --keep %s%s)\n"
               "  before compression: tree %s, jsonl %s, warc %s; manifest %s\n",
               run->n_docs, c->n_kept, c->n_dup, c->n_skip, dst, fmt_names[c->format],
               keep_names[c->keep], c->strip ? ", --strip-boilerplate" : "", t, j, w, m);
        return ND_EXIT_OK;
    }
    nd_archive_catch_signals();
    if ((rc = nd_archive_begin(dst, &c->ar))) {
        nd_cli_error("%s", nd_errmsg());
        return ND_EXIT_FAIL;
    }
    if (c->format != FMT_TREE) {
        nd_buf_clear(&c->name);
        rc = out_name(&c->name, c, 0);
        /* Plain bytes: the workers hand over complete gzip members. */
        if (!rc)
            rc = nd_archive_open(c->ar, c->name.p, &c->out);
    }
    double t0 = clock_now();
    if (!rc)
        rc = write_all(c);
    if (c->out) {
        if (rc)
            nd_afile_discard(c->out);
        else
            rc = nd_afile_close(c->out);
        c->out = NULL;
    }
    /* The manifest last: a temporary folder left by SIGKILL never holds one. */
    if (!rc)
        rc = write_manifest(c, &mbytes);
    double t_write = clock_now() - t0;
    if (!rc && nd_archive_signal())
        rc = nd_fail(ND_EINTR, "interrupted by signal %d", nd_archive_signal());
    uint64_t bytes = nd_archive_bytes(c->ar);
    if (rc) {
        int sig = nd_archive_signal();
        nd_cli_error("%s; nothing was written to %s", nd_errmsg(), dst);
        nd_archive_abort(c->ar);
        c->ar = NULL;
        return sig ? 128 + sig : ND_EXIT_FAIL;
    }
    t0 = clock_now();
    rc = nd_archive_commit(c->ar);
    double t_sync = clock_now() - t0;
    c->ar = NULL;
    if (rc) {
        nd_cli_error("%s; nothing was written to %s", nd_errmsg(), dst);
        return ND_EXIT_FAIL;
    }
    char bs[32];
    human_bytes(bs, sizeof bs, bytes);
    printf("clean: %zu documents read: %zu kept, %zu duplicates dropped, %zu skipped\n"
           "  wrote %s to %s (--format %s, --keep %s%s), manifest %s/manifest.jsonl\n"
           "  analysis %.2f s, writing %.2f s, syncing to disk %.2f s\n",
           run->n_docs, c->n_kept, c->n_dup, c->n_skip, bs, dst, fmt_names[c->format],
           keep_names[c->keep], c->strip ? ", --strip-boilerplate" : "", dst,
           run->seconds[0] + run->seconds[1] + run->seconds[2], t_write, t_sync);
    size_t reread = nd_run_files_reread(run);
    if (run->opts.keep_text && reread)
        printf("  %zu of %zu files read again: the text of their documents was over the "
               "memory kept for it (an eighth of the machine's, as the spill's)\n",
               reread, run->files.n);
    nd_buf sum = ND_BUF_INIT;
    if (nd_problems_summary(run->problems, &sum) == ND_OK && sum.len)
        printf("  %s\n", sum.p);
    nd_buf_free(&sum);
    return ND_EXIT_OK;
}

static int pick(const char *v, const char *const *names, size_t n, const char *opt)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return (int)i;
    nd_cli_error("%s: \"%s\" is not one of %s|%s|%s", opt, v, names[0], names[1], names[2]);
    return -1;
}

static const char clean_exit[] =
    "Exit status: 0 success, 1 runtime failure (SRC unreadable, DST refused, write\n"
    "error), 2 usage error, 130/143 interrupted by SIGINT/SIGTERM (no DST written).\n";

int nd_cmd_clean(int argc, char **argv)
{
    nd_run_opts o;
    nd_run_opts_default(&o);
    o.progress = isatty(STDERR_FILENO);
    struct clean c = {.format = FMT_TREE, .keep = KEEP_EARLIEST, .level = DEFAULT_GZIP_LEVEL};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    const char *src = NULL, *dst = NULL;
    bool force = false;
    int code = ND_EXIT_USAGE;
    nd_run *run = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (nd_cli_analysis_help(a, clean_help, clean_exit)) {
            code = ND_EXIT_OK;
            goto out;
        }
        int r = nd_cli_run_opt(argc, argv, &i, &o);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        if (!strcmp(a, "--strip-boilerplate")) {
            c.strip = true;
        } else if (!strcmp(a, "--force")) {
            force = true;
        } else if (!strcmp(a, "--dry-run")) {
            c.dry = true;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--format") || !strcmp(a, "--keep") ||
                   !strcmp(a, "--gzip-level")) {
            if (i + 1 >= argc) {
                nd_cli_error("option %s needs a value (see neardup clean --help)", a);
                goto out;
            }
            const char *v = argv[++i];
            int k;
            if (a[2] == 'o') {
                dst = v;
            } else if (a[2] == 'f') {
                if ((k = pick(v, fmt_names, 3, a)) < 0)
                    goto out;
                c.format = (enum fmt)k;
            } else if (a[2] == 'k') {
                if ((k = pick(v, keep_names, 3, a)) < 0)
                    goto out;
                c.keep = (enum keep)k;
            } else {
                if (strlen(v) != 1 || v[0] < '0' || v[0] > '9') {
                    nd_cli_error("--gzip-level: \"%s\" is not a level from 0 to 9", v);
                    goto out;
                }
                c.level = v[0] - '0';
            }
        } else if (a[0] == '-' && a[1]) {
            nd_cli_error("clean: unknown option \"%s\" (see neardup clean --help)", a);
            goto out;
        } else if (!src) {
            src = a;
        } else {
            nd_cli_error("clean: one SRC only (got \"%s\" and \"%s\"; the output goes after --out)", src, a);
            goto out;
        }
    }
    if (!src || !dst) {
        nd_cli_error("clean: usage: neardup clean SRC --out DST [OPTIONS]");
        goto out;
    }
    code = ND_EXIT_FAIL;
    /* Refuse before spending an analysis on a run that could not be written. */
    if (nd_archive_check(src, dst, force) != ND_OK) {
        nd_cli_error("%s", nd_errmsg());
        goto out;
    }
    o.root = src;
    /* The tree and jsonl need the text only: pass 1 keeps it, and writing reads no file
     * again (warc copies the original bytes, and the plan of --dry-run counts them).
     * Unstripped warc needs only the text's digest: pass 1 keeps that, so the writing
     * extracts nothing (its own reading still checks the bytes are the same). */
    o.keep_text = !c.dry && c.format != FMT_WARC;
    o.keep_text_digest = !c.dry && c.format == FMT_WARC && !c.strip;
    int crawl_rc = nd_run_crawl(&o, &run);
    if (crawl_rc != ND_OK) {
        nd_cli_error("%s", nd_errmsg());
        code = crawl_rc == ND_EUSAGE ? ND_EXIT_USAGE : ND_EXIT_FAIL;
        goto out;
    }
    c.run = run;
    /* The destination may have changed during a long analysis. */
    if (!c.dry && nd_archive_check(src, dst, force) != ND_OK) {
        nd_cli_error("%s", nd_errmsg());
        goto out;
    }
    code = clean_write(&c, dst);
out:
    nd_afile_discard(c.out);
    nd_archive_abort(c.ar);
    free_work(&c);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    nd_buf_free(&c.name);
    free(c.rdig);
    free(c.tdig);
    free(c.lost);
    free(c.want);
    free(c.kept_of);
    nd_cluster_index_free(&c.ix);
    nd_run_free(run);
    nd_run_opts_release(&o);
    return code;
}
