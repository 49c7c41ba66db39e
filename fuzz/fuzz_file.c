/* The reader works on files (it streams them), so the file targets write each input to
 * one scratch file in a private temporary folder and read it back through
 * nd_read_file, checking the nd_rawdoc contract on every document; then read the same
 * bytes from memory (nd_read_mem, as the batched reads hand them over), which must
 * give the same documents and problems. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "buf.h"
#include "fuzz.h"
#include "read.h"

#define FUZZ_CAP (1u << 20)   /* a small size cap, so truncation paths are reached */

static char dir[64];

static void cleanup(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/in", dir);
    unlink(p);
    rmdir(dir);
}

struct seen {
    size_t n;
    uint64_t h; /* of everything both read paths must agree on */
};

static void mix(struct seen *s, const void *p, size_t n)
{
    s->h = XXH3_64bits_withSeed(p, n, s->h);
}

static int on_doc(void *ctx, const nd_rawdoc *d)
{
    struct seen *sn = ctx;
    sn->n++;
    unsigned flags = d->flags & ~ND_RAW_MEMBER_START; /* only a file has a member_fd */
    uint64_t fixed[5] = {d->digest[0], d->digest[1], d->offset, d->record,
                         (uint64_t)flags << 1 | (unsigned)d->is_html};
    mix(sn, fixed, sizeof fixed);
    mix(sn, d->body, d->body_len);
    mix(sn, d->skip_reason ? d->skip_reason : "-", d->skip_reason ? strlen(d->skip_reason) : 1);
    mix(sn, d->uri ? d->uri : "-", d->uri ? strlen(d->uri) : 1);
    ND_FUZZ_ASSERT(d->path && strcmp(d->path, "in") == 0);
    ND_FUZZ_ASSERT(d->body || d->body_len == 0);
    ND_FUZZ_ASSERT(d->body_len <= FUZZ_CAP);
    if (d->skip_reason)
        ND_FUZZ_ASSERT(d->body_len == 0);
    ND_FUZZ_ASSERT(!d->http_headers || d->record_bytes);
    if (d->body_len) {
        /* Touch every byte, so a body pointing at freed or short memory is caught. */
        volatile unsigned char x = 0;
        for (size_t i = 0; i < d->body_len; i++)
            x ^= (unsigned char)d->body[i];
        (void)x;
    }
    if (d->uri)
        (void)strlen(d->uri);
    if (d->date)
        (void)strlen(d->date);
    return 0;
}

int nd_fuzz_read_bytes(const uint8_t *data, size_t size, const char *name)
{
    (void)name;
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/ndfuzz.XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
        if (!mkdtemp(dir))
            abort();
        atexit(cleanup);
    }
    char p[128];
    snprintf(p, sizeof p, "%s/in", dir);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    nd_problems *pr = NULL;
    if (nd_problems_new(NULL, &pr) != 0)
        abort();
    nd_read_opts o = {.max_doc_bytes = FUZZ_CAP};
    struct seen a = {0, 0};
    int rc = nd_read_file(dir, "in", &o, pr, on_doc, &a);
    /* Every file yields at least one document or one problem: nothing vanishes. */
    ND_FUZZ_ASSERT(rc != 0 || a.n > 0 || nd_problems_count(pr, ND_SKIPPED) +
                                                 nd_problems_count(pr, ND_PARTIAL) > 0 ||
                   size == 0);
    /* The batched reads hand over only non-empty files. */
    if (size) {
        nd_problems *pm = NULL;
        if (nd_problems_new(NULL, &pm) != 0)
            abort();
        struct seen b = {0, 0};
        int rm = nd_read_mem("in", data, size, &o, pm, on_doc, &b);
        ND_FUZZ_ASSERT(rm == rc && b.n == a.n && b.h == a.h);
        nd_buf sa = ND_BUF_INIT, sb = ND_BUF_INIT;
        if (nd_problems_summary(pr, &sa) || nd_problems_summary(pm, &sb))
            abort();
        ND_FUZZ_ASSERT(sa.len == sb.len && (!sa.len || memcmp(sa.p, sb.p, sa.len) == 0));
        nd_buf_free(&sa);
        nd_buf_free(&sb);
        nd_problems_free(pm);
    }
    nd_problems_free(pr);
    return 0;
}
