/* nd_read_file: open one file of the crawl, tell its format from its first bytes
 * (gzip, then again on the decoded bytes: WARC, binary, HTML, text) and hand its
 * documents over. The extension is only trusted to say HTML for text content. */
#include "read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "buf.h"
#include "charset.h"
#include "error.h"
#include "gz.h"
#include "warc.h"

#define ND_WINDOW (256u << 10)
#define ND_SNIFF_BYTES (8u << 10)

const char *nd_sniff_binary(const char *p, size_t n)
{
    static const struct {
        const char *magic;
        size_t len, at;
        const char *name;
    } magics[] = {
        {"\x89PNG\r\n\x1a\n", 8, 0, "PNG image"},
        {"\xff\xd8\xff", 3, 0, "JPEG image"},
        {"GIF87a", 6, 0, "GIF image"},
        {"GIF89a", 6, 0, "GIF image"},
        {"%PDF-", 5, 0, "PDF document"},
        {"PK\x03\x04", 4, 0, "ZIP archive"},
        {"PK\x05\x06", 4, 0, "ZIP archive"},
        {"\x1f\x8b", 2, 0, "gzip data"},
        {"\xfd" "7zXZ", 5, 0, "xz data"},
        {"7z\xbc\xaf\x27\x1c", 6, 0, "7-Zip archive"},
        {"\x28\xb5\x2f\xfd", 4, 0, "zstd data"},
        {"BZh91AY&SY", 10, 0, "bzip2 data"},
        {"Rar!\x1a\x07", 6, 0, "RAR archive"},
        {"\x7f" "ELF", 4, 0, "ELF binary"},
        {"OggS", 4, 0, "Ogg media"},
        {"wOFF", 4, 0, "WOFF font"},
        {"wOF2", 4, 0, "WOFF font"},
        {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, 0, "OLE document"},
        {"ftyp", 4, 4, "ISO media"},
        {"WEBP", 4, 8, "WebP image"},
        {"WAVE", 4, 8, "WAV audio"},
        {"II*", 4, 0, "TIFF image"},   /* with its NUL */
        {"MM\0*", 4, 0, "TIFF image"},
        {"\0\0\1\0", 4, 0, "icon"},
    };
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (n >= magics[i].at + magics[i].len &&
            memcmp(p + magics[i].at, magics[i].magic, magics[i].len) == 0)
            return magics[i].name;
    size_t m = n < ND_SNIFF_BYTES ? n : ND_SNIFF_BYTES, ctrl = 0, i = 0;
    int nul = 0;
    /* Control bytes that text does not hold (tab, newlines, form feed, ESC do occur). */
    static const unsigned char ctl[256] = {
        [0] = 2, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1,
        [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1, [19] = 1, [20] = 1, [21] = 1,
        [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1, [28] = 1, [29] = 1, [30] = 1,
        [31] = 1, [127] = 1};
    /* Eight bytes at a time: only a word holding a byte below 0x20 or a DEL is looked
     * at byte by byte (text has a newline every line, so most words are not). */
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    for (; i + 8 <= m; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t low = (x - ones * 0x20) & ~x & high;       /* some byte < 0x20 */
        uint64_t y = x ^ (ones * 0x7f);
        uint64_t del = (y - ones) & ~y & high;              /* some byte == 0x7f */
        if (!(low | del))
            continue;
        for (size_t k = 0; k < 8; k++) {
            unsigned char c = ctl[(unsigned char)p[i + k]];
            nul |= c >> 1;
            ctrl += c & 1;
        }
    }
    for (; i < m; i++) {
        unsigned char c = ctl[(unsigned char)p[i]];
        nul |= c >> 1;
        ctrl += c & 1;
    }
    if (nul)
        return "NUL bytes";
    return ctrl * 10 > m ? "control bytes" : NULL;
}

static int tag_at(const char *p, size_t n, const char *tag)
{
    size_t k = strlen(tag);
    if (n < k || strncasecmp(p, tag, k) != 0)
        return 0;
    if (n == k || tag[k - 1] == '-')
        return 1;
    char c = p[k];
    return c == '>' || c == ' ' || c == '/' || c == '\t' || c == '\r' || c == '\n';
}

int nd_sniff_html(const char *p, size_t n)
{
    static const char *const lead[] = {"<!doctype html", "<html", "<head", "<body",
                                       "<meta", "<title", "<!--", NULL};
    static const char *const block[] = {
        "<p", "<div", "<br", "<table", "<tr", "<td", "<h1", "<h2", "<h3", "<h4", "<h5",
        "<h6", "<ul", "<ol", "<li", "<article", "<section", "<header", "<footer", "<nav",
        "<main", "<aside", "<blockquote", "<pre", "<form", "<script", "<style", "<link",
        "<a", "<span", "<img", "<hr", NULL};
    size_t i = 0;
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n' || p[i] == '\f'))
        i++;
    for (int k = 0; lead[k]; k++)
        if (tag_at(p + i, n - i, lead[k]))
            return 1;
    if (tag_at(p + i, n - i, "<?xml") && n - i > 5) {
        size_t m = n - i < 1024 ? n - i : 1024;
        for (size_t j = i; j + 5 <= i + m; j++)
            if (tag_at(p + j, n - j, "<html"))
                return 1;
    }
    size_t m = n < 1024 ? n : 1024;
    for (const char *q = p; (q = memchr(q, '<', m - (size_t)(q - p))) != NULL; q++)
        for (int k = 0; block[k]; k++)
            if (tag_at(q, n - (size_t)(q - p), block[k]))
                return 1;
    return 0;
}

/* .html/.htm (also under .gz) */
static int html_name(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcasecmp(path + n - 3, ".gz") == 0)
        n -= 3;
    static const char *const ext[] = {".html", ".htm", ".xhtml", ".shtml", NULL};
    for (int i = 0; ext[i]; i++) {
        size_t k = strlen(ext[i]);
        if (n > k && strncasecmp(path + n - k, ext[i], k) == 0)
            return 1;
    }
    return 0;
}

int nd_doc_skipped(const char *path, const char *reason, nd_doc_fn fn, void *ctx)
{
    nd_rawdoc d;
    memset(&d, 0, sizeof d);
    d.path = path;
    d.skip_reason = reason;
    d.body = "";
    return fn(ctx, &d);
}

/* A file that could not be opened or read is still one (skipped) document. */
static int unreadable(const char *rel, nd_problems *pr, nd_doc_fn fn, void *ctx, const char *why)
{
    char reason[160];
    snprintf(reason, sizeof reason, "unreadable: %s", why);
    nd_problem(pr, ND_SKIPPED, rel, "unreadable", "cannot read: %s", why);
    return nd_doc_skipped(rel, reason, fn, ctx);
}

/* One document: the decoded content up to the cap, digest over every stored byte. */
static int read_doc(nd_src *s, const char *rel, size_t cap, uint64_t size_hint,
                    nd_problems *pr, nd_doc_fn fn, void *ctx, XXH3_state_t *fh)
{
    nd_rawdoc d;
    memset(&d, 0, sizeof d);
    d.path = rel;
    nd_buf b = ND_BUF_INIT;
    int rc = ND_OK;
    const char *bin = nd_sniff_binary(nd_src_ptr(s), nd_src_avail(s));
    char reason[64];
    if (bin) {
        snprintf(reason, sizeof reason, "binary (%s)", bin);
        d.skip_reason = reason;
        d.body = "";
        nd_problem(pr, ND_SKIPPED, rel, "binary", "binary content (%s)", bin);
    } else {
        size_t first = size_hint && !s->gz ? (size_hint < cap ? (size_t)size_hint : cap) : 0;
        if (first < nd_src_avail(s))
            first = nd_src_avail(s) < cap ? nd_src_avail(s) : cap;
        if ((rc = nd_buf_reserve(&b, first)))
            return rc;
        while (b.len < cap) {
            size_t room = b.cap - b.len - 1;
            if (room < (64u << 10) && (rc = nd_buf_reserve(&b, b.len < (64u << 10) ? (64u << 10) : b.len)))
                break;
            room = b.cap - b.len - 1;
            size_t want = cap - b.len < room ? cap - b.len : room, got = 0;
            if ((rc = nd_src_read(s, b.p + b.len, want, &got)))
                break;
            b.len += got;
            if (got < want)
                break;
        }
        if (rc) {
            nd_buf_free(&b);
            return rc;
        }
        b.p[b.len] = '\0';
        int more = 0;
        if (b.len == cap) {
            if ((rc = nd_src_fill(s, 1))) {
                nd_buf_free(&b);
                return rc;
            }
            more = nd_src_avail(s) > 0;
        }
        d.body = b.p;
        d.body_len = b.len;
        if (more) {
            d.flags |= ND_RAW_TRUNCATED;
            /* Do not cut a UTF-8 sequence in two. */
            size_t j = d.body_len - 1;
            while (j > 0 && d.body_len - j < 4 && ((unsigned char)b.p[j] & 0xC0) == 0x80)
                j--;
            unsigned char lead = (unsigned char)b.p[j];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (j + need > d.body_len)
                d.body_len = j;
            nd_problem(pr, ND_PARTIAL, rel, "too large",
                       "larger than the %zu-byte cap (max document size): first %zu bytes used",
                       cap, d.body_len);
        } else if (s->state == ND_SRC_TRUNCATED) {
            d.flags |= ND_RAW_TRUNCATED;
            nd_problem(pr, ND_PARTIAL, rel, "truncated gzip",
                       "gzip stream cut short: the %zu bytes decoded are used", b.len);
        } else if (s->state == ND_SRC_CORRUPT) {
            d.flags |= ND_RAW_TRUNCATED;
            nd_problem(pr, ND_PARTIAL, rel, "corrupt gzip",
                       "corrupt gzip (%s): the %zu bytes decoded before are used", s->why, b.len);
        } else if (s->state == ND_SRC_IOERR) {
            d.flags |= ND_RAW_TRUNCATED;
            nd_problem(pr, ND_PARTIAL, rel, "read error", "read error (%s): the first %zu bytes are used",
                       s->why, b.len);
        } else if (b.len == 0) {
            nd_problem(pr, ND_NOTE, rel, "empty", "empty file");
        }
        if (s->garbage && !more)
            nd_problem(pr, ND_NOTE, rel, "trailing garbage",
                       "bytes that are not gzip after the last member (offset %llu) ignored",
                       (unsigned long long)s->garbage_at);
        d.is_html = nd_sniff_html(b.p, b.len) || html_name(rel);
    }
    nd_src_drain_raw(s);
    XXH128_hash_t h = XXH3_128bits_digest(fh);
    d.digest[0] = h.low64;
    d.digest[1] = h.high64;
    nd_buf conv = ND_BUF_INIT;
    if (!bin)
        rc = nd_charset_fix(&d, NULL, 0, cap, &conv, pr);
    if (!rc)
        rc = fn(ctx, &d);
    nd_buf_free(&conv);
    nd_buf_free(&b);
    return rc;
}

/* root may be the file itself (nd_walk then listed its base name). */
static int open_in(const char *root, const char *rel, char *why, size_t whylen)
{
    size_t rl = strlen(root);
    char *full = malloc(rl + strlen(rel) + 2);
    if (!full)
        return nd_fail(ND_ENOMEM, "out of memory");
    sprintf(full, "%s%s%s", root, rl && root[rl - 1] == '/' ? "" : "/", rel);
    int fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int err = errno;
    free(full);
    if (fd < 0 && err == ENOTDIR) {
        const char *slash = strrchr(root, '/');
        const char *base = slash ? slash + 1 : root;
        if (strcmp(base, rel) == 0 && (fd = open(root, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
            err = errno;
    }
    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(err));
        return -1000;
    }
    return fd;
}

/* The documents of one file whose source s is set up; size is its size on disk. */
static int read_src(nd_src *s, const char *relpath, size_t cap, uint64_t size, int *from_file,
                    nd_problems *pr, nd_doc_fn fn, void *ctx)
{
    XXH3_state_t *fh = XXH3_createState();
    if (!fh)
        return nd_fail(ND_ENOMEM, "out of memory");
    XXH3_128bits_reset(fh);
    s->fhash = fh;
    int rc;
    size_t n = nd_src_peek_raw(s, 16);
    if (n == 0 && s->state == ND_SRC_IOERR) {
        char why[160];
        snprintf(why, sizeof why, "%s", s->why);
        rc = unreadable(relpath, pr, fn, ctx, why);
    } else {
        if (n >= 2 && s->raw[s->raw_pos] == 0x1f && s->raw[s->raw_pos + 1] == 0x8b)
            nd_src_set_gz(s);
        rc = nd_src_fill(s, ND_SNIFF_BYTES);
        if (!rc && nd_src_avail(s) >= 7 && memcmp(nd_src_ptr(s), "WARC/1.", 7) == 0) {
            if (s->fd < 0 && from_file) {
                XXH3_freeState(fh);
                *from_file = 1;
                return ND_OK;
            }
            s->fhash = NULL;   /* a WARC digest is per record */
            rc = nd_warc_read(s, relpath, cap, pr, fn, ctx);
        } else if (!rc) {
            rc = read_doc(s, relpath, cap, size, pr, fn, ctx, fh);
        }
    }
    XXH3_freeState(fh);
    return rc;
}

static size_t doc_cap(const nd_read_opts *opts)
{
    return opts && opts->max_doc_bytes ? opts->max_doc_bytes : ND_DEFAULT_MAX_DOC_BYTES;
}

int nd_read_file(const char *root, const char *relpath, const nd_read_opts *opts,
                 nd_problems *pr, nd_doc_fn fn, void *ctx)
{
    uint64_t *size_out = opts ? opts->file_size : NULL;
    if (size_out)
        *size_out = 0;
    char why[160];
    int fd = open_in(root, relpath, why, sizeof why);
    if (fd == ND_ENOMEM)
        return fd;
    if (fd < 0)
        return unreadable(relpath, pr, fn, ctx, why);
    struct stat st;
    memset(&st, 0, sizeof st);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int err = errno;
        close(fd);
        return unreadable(relpath, pr, fn, ctx,
                          S_ISDIR(st.st_mode) ? "is a directory" : err ? strerror(err) : "not a regular file");
    }
    if (size_out)
        *size_out = (uint64_t)st.st_size;
    /* O_NONBLOCK was only there so that a FIFO never blocks the open; it does nothing to
     * reads of a regular file, so it stays (two system calls a file saved). */

    nd_src s;
    int rc = nd_src_init(&s, fd, ND_WINDOW);
    if (!rc)
        rc = read_src(&s, relpath, doc_cap(opts), (uint64_t)st.st_size, NULL, pr, fn, ctx);
    nd_src_free(&s);
    close(fd);
    return rc;
}

int nd_read_mem(const char *relpath, const void *data, size_t len, const nd_read_opts *opts,
                nd_problems *pr, nd_doc_fn fn, void *ctx)
{
    if (opts && opts->file_size)
        *opts->file_size = len;
    if (opts && opts->from_file)
        *opts->from_file = 0;
    nd_src s;
    int rc = nd_src_init_mem(&s, data, len, ND_WINDOW);
    if (!rc)
        rc = read_src(&s, relpath, doc_cap(opts), len, opts ? opts->from_file : NULL, pr, fn, ctx);
    nd_src_free(&s);
    return rc;
}
