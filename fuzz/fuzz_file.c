/* The reader works on files (it streams them), so the file targets write each input to
 * one scratch file in a private temporary folder and read it back through
 * nd_read_file, checking the nd_rawdoc contract on every document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int on_doc(void *ctx, const nd_rawdoc *d)
{
    size_t *n = ctx;
    (*n)++;
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
    size_t n = 0;
    int rc = nd_read_file(dir, "in", &o, pr, on_doc, &n);
    /* Every file yields at least one document or one problem: nothing vanishes. */
    ND_FUZZ_ASSERT(rc != 0 || n > 0 || nd_problems_count(pr, ND_SKIPPED) +
                                               nd_problems_count(pr, ND_PARTIAL) > 0 ||
                   size == 0);
    nd_problems_free(pr);
    return 0;
}
