/* The analysis pipeline. Pass 1 (all cores, a file at a time): read, extract blocks,
 * normalise, count blocks per site, spill the normalised blocks to a per-thread temp
 * file. Boilerplate is then decided. Pass 2 (all cores, a document at a time): read
 * the spill back, drop boilerplate blocks, sign. Then cluster. The source crawl is read
 * once; per document only its record and its signature stay in memory. */
#include "run.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>

#include "extract.h"
#include "norm.h"
#include "prefetch.h"

/* ---- string arena: strings of all documents live in big chunks, freed at once ---- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
};

struct arena {
    struct arena_chunk *head;
};

static const char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    if (!a->head || a->head->cap - a->head->used < n + 1) {
        size_t cap = n + 1 > 65536 ? n + 1 : 65536;
        struct arena_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    char *p = a->head->data + a->head->used;
    memcpy(p, s, n);
    p[n] = '\0';
    a->head->used += n + 1;
    return p;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* Move all chunks of src to dst (dst then owns them). */
static void arena_adopt(struct arena *dst, struct arena *src)
{
    while (src->head) {
        struct arena_chunk *c = src->head;
        src->head = c->next;
        c->next = dst->head;
        dst->head = c;
    }
}

/* ---- private run state ---- */

/* In a spill block header's token count: the block holds an ND_TOK_NOSPACE token. */
#define SPILL_NOSPACE 0x80000000u
/* In a spill block header's byte count: the text is not inline; an 8-byte offset into
 * the same thread's spill memory follows, where an earlier copy of it lies. */
#define SPILL_REF 0x80000000u

/* Per-thread cache of blocks already normalised, keyed by the raw block's XXH3-128:
 * boilerplate repeats on every page of a site, so most of its blocks are found here and
 * are neither normalised again nor spilled again (the spill holds a reference to the
 * first copy). Direct-mapped: a unique block simply replaces the slot's occupant. */
#define ND_BCACHE_SLOTS 16384u
struct bcache_slot {
    uint64_t key[2];      /* XXH3-128 of the raw block; key[1] == 0 && key[0] == 0: empty */
    uint64_t hash;        /* XXH3-64 of the normalised text */
    uint64_t text_off;    /* spill stream offset of the normalised text, or UINT64_MAX */
    uint32_t ntok;        /* tokens | SPILL_NOSPACE */
    uint32_t nlen;        /* bytes of normalised text */
    uint32_t invalid;     /* invalid UTF-8 sequences replaced */
    uint32_t pad;
};

struct spill_loc {
    uint64_t off;
    uint32_t len;
    uint32_t thread;
    uint64_t tokless;     /* bit i: extracted block i (i < 64) had no token, so it is not
                             in the spill; pass 2 maps spill order back to block order */
};

/* Memory part of a thread's spill: the whole limit reserved up front as address space
 * (no memory until touched) with transparent huge pages asked for, so filling it costs
 * neither reallocations nor a page fault per 4 KiB. */
struct spill_mem {
    char *p;
    size_t len, cap;
};

/* Where pass 1 kept a document's extracted text (opts.keep_text): len bytes at off in
 * its thread's text memory, a u32 block count, a u32 length per block, then the blocks
 * joined by '\n'. off is UINT64_MAX when it was not kept (skipped, or over budget). */
struct text_loc {
    uint64_t off;
    uint32_t len;
    uint32_t thread;
};

struct site_slot {
    uint64_t hash;
    uint32_t id;
    uint32_t used;
};

struct nd_run_priv {
    struct arena arena;
    pthread_mutex_t site_mu;
    struct site_slot *site_tab;
    size_t site_cap;
    size_t sites_cap;
    FILE **spills;             /* one per thread, created on first overflow */
    struct spill_mem *spill_mem; /* one per thread: the first spill_limit bytes of its
                                  spill stream; what goes beyond is in spills[] */
    uint64_t spill_limit;      /* per thread: spill_budget(), or $NEARDUP_SPILL_MEM bytes */
    struct spill_loc *spill;   /* per document, after the merge */
    struct spill_mem *text_mem; /* opts.keep_text: one per thread, at most spill_limit */
    struct text_loc *texts;    /* opts.keep_text: per document, after the merge */
    uint64_t (*tdigs)[2];      /* opts.keep_text_digest: per document, after the merge */
    _Atomic size_t reread;     /* files nd_run_each_text read again */
    pthread_mutex_t big_mu;    /* pass 1: files too large for a batched read, read last */
    size_t *big;
    size_t n_big, cap_big, big_next;
    _Atomic unsigned in_main;  /* threads still taking batches */
    unsigned prefetch_slots;   /* files a batch (prefetch_shape) */
    unsigned char *sigs;
    uint64_t *keys;
    uint64_t *full;            /* per document: XXH3-64 of all its normalised blocks */
    size_t sig_stride;
    _Atomic size_t next;       /* work queue cursor */
    _Atomic uint64_t bytes_done;
    _Atomic size_t items_done;
    pthread_mutex_t progress_mu;
    double t0, last_print;
    int progress_drawn;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void nd_run_opts_default(nd_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->site_depth = 1;
    o->threshold = -1;
    o->containment = -1;
    o->progress = true;
    o->log = stderr;
}

void nd_run_opts_release(nd_run_opts *o)
{
    free((void *)o->plugin_dirs);
    free((void *)o->plugin_opts);
    o->plugin_dirs = o->plugin_opts = NULL;
    o->n_plugin_dirs = o->n_plugin_opts = 0;
}

const char *nd_run_path(const nd_run *run, size_t doc)
{
    return run->files.paths[run->docs[doc].file];
}

/* ---- sites ---- */

/* Site of a document: the host of its URI, else its leading folders. */
static size_t site_key(const nd_run *run, const char *path, const char *uri, char *out,
                       size_t out_len)
{
    size_t n = 0;
    if (uri) {
        const char *p = strstr(uri, "://");
        p = p ? p + 3 : uri;
        const char *at = NULL;
        for (const char *q = p; *q && *q != '/' && *q != '?' && *q != '#'; q++)
            if (*q == '@')
                at = q;
        if (at)
            p = at + 1;
        while (*p && *p != '/' && *p != ':' && *p != '?' && *p != '#' && n + 1 < out_len) {
            char c = *p++;
            out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        if (n) {
            out[n] = '\0';
            return n;
        }
    }
    unsigned depth = run->opts.site_depth;
    const char *end = path;
    for (unsigned d = 0; d < depth; d++) {
        const char *slash = strchr(end, '/');
        if (!slash)
            break;
        end = slash + 1;
    }
    n = end > path ? (size_t)(end - path - 1) : 0;
    if (n == 0) {
        snprintf(out, out_len, ".");
        return 1;
    }
    if (n >= out_len)
        n = out_len - 1;
    memcpy(out, path, n);
    out[n] = '\0';
    return n;
}

static int site_intern(nd_run *run, const char *key, size_t len, uint32_t *id)
{
    struct nd_run_priv *pv = run->priv;
    uint64_t h = XXH3_64bits(key, len);
    int rc = ND_OK;
    pthread_mutex_lock(&pv->site_mu);
    if (run->n_sites * 2 >= pv->site_cap) {
        size_t cap = pv->site_cap ? pv->site_cap * 2 : 64;
        struct site_slot *t = calloc(cap, sizeof *t);
        if (!t) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            goto out_unlock;
        }
        for (size_t i = 0; i < pv->site_cap; i++) {
            if (!pv->site_tab[i].used)
                continue;
            size_t j = pv->site_tab[i].hash & (cap - 1);
            while (t[j].used)
                j = (j + 1) & (cap - 1);
            t[j] = pv->site_tab[i];
        }
        free(pv->site_tab);
        pv->site_tab = t;
        pv->site_cap = cap;
    }
    size_t j = h & (pv->site_cap - 1);
    for (; pv->site_tab[j].used; j = (j + 1) & (pv->site_cap - 1)) {
        const char *s = run->sites[pv->site_tab[j].id];
        if (pv->site_tab[j].hash == h && strlen(s) == len && memcmp(s, key, len) == 0) {
            *id = pv->site_tab[j].id;
            goto out_unlock;
        }
    }
    if (run->n_sites == pv->sites_cap) {
        size_t cap = pv->sites_cap ? pv->sites_cap * 2 : 16;
        char **v = realloc(run->sites, cap * sizeof *v);
        if (!v) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            goto out_unlock;
        }
        run->sites = v;
        pv->sites_cap = cap;
    }
    char *copy = strndup(key, len);
    if (!copy) {
        rc = nd_fail(ND_ENOMEM, "out of memory");
        goto out_unlock;
    }
    run->sites[run->n_sites] = copy;
    pv->site_tab[j] = (struct site_slot){h, (uint32_t)run->n_sites, 1};
    *id = (uint32_t)run->n_sites++;
out_unlock:
    pthread_mutex_unlock(&pv->site_mu);
    return rc;
}

/* ---- dates ---- */

/* WARC-Date (ISO 8601) or HTTP date (RFC 1123) to Unix seconds; INT64_MAX if neither. */
static int64_t parse_date(const char *s)
{
    if (!s)
        return INT64_MAX;
    while (*s == ' ')
        s++;
    struct tm tm;
    static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d",
                                       "%a, %d %b %Y %H:%M:%S", "%A, %d-%b-%y %H:%M:%S"};
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        memset(&tm, 0, sizeof tm);
        if (strptime(s, fmts[i], &tm))
            return (int64_t)timegm(&tm);
    }
    return INT64_MAX;
}

/* ---- workers ---- */

/* Batched reads (prefetch.h): 32 files a submission, each read whole when under 64 KiB
 * (99.6% of the large generated crawl's files; 2 MiB of buffers a thread). */
#define ND_PREFETCH_SLOTS 32u
#define ND_PREFETCH_BYTES ((size_t)64 << 10)

/* Test hook ND_TEST_PREFETCH=SLOTS,BYTES: small batches and slots, so that a small
 * crawl's files are shared between threads and many of them put aside as large. */
static void prefetch_shape(unsigned *slots, size_t *bytes)
{
    *slots = ND_PREFETCH_SLOTS;
    *bytes = ND_PREFETCH_BYTES;
    const char *hook = getenv("ND_TEST_PREFETCH");
    unsigned s;
    size_t b;
    if (hook && sscanf(hook, "%u,%zu", &s, &b) == 2 && s > 0 && s <= 1024 && b >= 16) {
        *slots = s;
        *bytes = b;
    }
}

struct doc_tmp {
    nd_docrec rec;
    struct spill_loc sp;
    struct text_loc tx;
    uint64_t td[2];        /* opts.keep_text_digest */
};

struct worker {
    nd_run *run;
    unsigned id;
    pthread_t th;
    int rc;
    char err[512];
    /* pass 1 */
    nd_blocks blocks;
    nd_norm *norm;
    nd_buf nbuf;
    nd_toks toks;
    uint64_t *hashes;
    const char **texts;
    uint32_t *lens;
    uint32_t *ntoks;
    XXH128_hash_t *bkeys; /* each block's key into bcache */
    size_t cap_blocks;
    nd_buf spillbuf;
    uint64_t spill_off;
    struct bcache_slot *bcache; /* ND_BCACHE_SLOTS */
    struct doc_tmp *docs;
    size_t n_docs, cap_docs;
    struct arena arena;
    uint32_t cur_file;
    nd_prefetch *pf;      /* batched whole-file reads, or NULL: plain reads */
    char last_site[256];
    size_t last_site_len;
    uint32_t last_site_id;
    /* pass 2 */
    nd_buf rbuf;
    nd_buf content;
    nd_token *ptoks;
    size_t cap_ptoks;
};

static void worker_fail(struct worker *w, int rc)
{
    if (!w->rc) {
        w->rc = rc;
        snprintf(w->err, sizeof w->err, "%s", nd_errmsg());
    }
}

static void progress(nd_run *run, const char *what, size_t done, size_t total,
                     uint64_t bytes, uint64_t total_bytes, int final)
{
    struct nd_run_priv *pv = run->priv;
    if (!run->opts.progress)
        return;
    double t = now_seconds();
    /* Nothing in the first half second: a short run needs no progress line, and an
     * early estimate of the rate is noise. */
    if (!final && (t - pv->last_print < 0.25 || t - pv->t0 < 0.5))
        return;
    if (pthread_mutex_trylock(&pv->progress_mu) != 0)
        return;
    pv->last_print = t;
    double el = t - pv->t0;
    double mbs = el > 0 ? (double)bytes / 1e6 / el : 0;
    char eta[32] = "";
    if (!final && bytes > 0 && total_bytes > bytes)
        snprintf(eta, sizeof eta, ", ETA %.0fs", (double)(total_bytes - bytes) / ((double)bytes / el));
    else if (!final && done > 0 && total > done)
        snprintf(eta, sizeof eta, ", ETA %.0fs", (double)(total - done) * el / (double)done);
    if (total_bytes)
        fprintf(stderr, "\r\033[K%s: %zu/%zu files, %.1f MB, %.1f MB/s%s", what, done, total,
                (double)bytes / 1e6, mbs, eta);
    else /* a phase over documents already read: no bytes to count */
        fprintf(stderr, "\r\033[K%s: %zu/%zu documents, %.0f/s%s", what, done, total,
                el > 0 ? (double)done / el : 0.0, eta);
    if (final)
        fputs("\r\033[K", stderr);
    fflush(stderr);
    pthread_mutex_unlock(&pv->progress_mu);
}

static int grow_blocks(struct worker *w, size_t n)
{
    if (n <= w->cap_blocks)
        return ND_OK;
    size_t cap = w->cap_blocks ? w->cap_blocks : 64;
    while (cap < n)
        cap *= 2;
    uint64_t *h = realloc(w->hashes, cap * sizeof *h);
    if (h)
        w->hashes = h;
    const char **t = realloc((void *)w->texts, cap * sizeof *t);
    if (t)
        w->texts = t;
    uint32_t *l = realloc(w->lens, cap * sizeof *l);
    if (l)
        w->lens = l;
    uint32_t *k = realloc(w->ntoks, cap * sizeof *k);
    if (k)
        w->ntoks = k;
    XXH128_hash_t *bk = realloc(w->bkeys, cap * sizeof *bk);
    if (bk)
        w->bkeys = bk;
    if (!h || !t || !l || !k || !bk)
        return nd_fail(ND_ENOMEM, "out of memory");
    w->cap_blocks = cap;
    return ND_OK;
}

static struct doc_tmp *new_doc(struct worker *w, const nd_rawdoc *raw)
{
    if (w->n_docs == w->cap_docs) {
        size_t cap = w->cap_docs ? w->cap_docs * 2 : 256;
        struct doc_tmp *v = realloc(w->docs, cap * sizeof *v);
        if (!v)
            return NULL;
        w->docs = v;
        w->cap_docs = cap;
    }
    struct doc_tmp *d = &w->docs[w->n_docs++];
    memset(d, 0, sizeof *d);
    d->rec.file = w->cur_file;
    d->rec.record = raw->record;
    d->rec.offset = raw->offset;
    d->rec.digest[0] = raw->digest[0];
    d->rec.digest[1] = raw->digest[1];
    d->rec.time = INT64_MAX;
    d->sp.thread = w->id;
    d->tx.off = UINT64_MAX;
    d->tx.thread = w->id;
    return d;
}

/* Copy s into the arena, cut to max bytes on a UTF-8 boundary. */
static const char *arena_clip(struct arena *a, const char *s, size_t len, size_t max)
{
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    return arena_strndup(a, s, len);
}

/* The spill stream of one thread: held in memory up to spill_limit bytes (most crawls
 * fit, and then pass 2 costs no system call), the rest in a temporary file. off is the
 * stream offset the data starts at (the writer's running total). The memory is
 * address space until written, and it is given back after pass 2. */
#define ND_SPILL_MIN ((uint64_t)64 << 20)
#define ND_SPILL_MAX_TOTAL ((uint64_t)8 << 30)

/* Per thread: an eighth of the machine's memory (at most 8 GiB) shared by the threads.
 * Measured on the 1.3 GB generated crawl: spilling to the file instead costs a third
 * of the single-thread time in system calls and page-cache copies. */
static uint64_t spill_budget(unsigned threads)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize / 8 : 0;
    if (total > ND_SPILL_MAX_TOTAL)
        total = ND_SPILL_MAX_TOTAL;
    uint64_t per = total / (threads ? threads : 1);
    return per > ND_SPILL_MIN ? per : ND_SPILL_MIN;
}

/* Big memory filled page by page (the spill, signatures, keys, document records):
 * huge pages asked for, so that filling it costs one fault per 2 MiB, not per 4 KiB.
 * glibc serves such sizes from their own mapping; the page-aligned inside is advised. */
static void advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    long ps = sysconf(_SC_PAGESIZE);
    const uintptr_t pg = ps > 0 ? (uintptr_t)ps : 4096;
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + n) & ~(pg - 1);
    if (p && n >= ((size_t)4 << 20) && e > a)
        madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p, (void)n;
#endif
}

/* The address space of m reserved on first use: limit bytes, no memory until touched. */
static int mem_reserve(struct spill_mem *m, uint64_t limit, const char *what)
{
    if (m->p || !limit)
        return ND_OK;
    void *a = mmap(NULL, limit, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a == MAP_FAILED)
        return nd_fail(ND_ENOMEM, "cannot reserve %llu bytes for the %s",
                       (unsigned long long)limit, what);
    advise_huge(a, limit);
    m->p = a;
    m->cap = limit;
    return ND_OK;
}

static void mem_release(struct spill_mem *m, unsigned n)
{
    for (unsigned i = 0; m && i < n; i++)
        if (m[i].p)
            munmap(m[i].p, m[i].cap);
    free(m);
}

static int spill_write(nd_run *run, unsigned t, uint64_t off, const char *p, size_t n)
{
    if (!n) /* a document without text: p may be NULL */
        return ND_OK;
    struct nd_run_priv *pv = run->priv;
    struct spill_mem *m = &pv->spill_mem[t];
    int rc = mem_reserve(m, pv->spill_limit, "spill");
    if (rc)
        return rc;
    if (off < m->cap) {
        size_t k = m->cap - off < n ? (size_t)(m->cap - off) : n;
        memcpy(m->p + m->len, p, k);
        m->len += k;
        p += k;
        n -= k;
    }
    if (!n)
        return ND_OK;
    if (!pv->spills[t] && !(pv->spills[t] = tmpfile()))
        return nd_fail(ND_EIO, "cannot create a temporary file (TMPDIR full or read-only?)");
    if (fwrite(p, 1, n, pv->spills[t]) != n)
        return nd_fail(ND_EIO, "cannot write the temporary spill file (disk full?)");
    return ND_OK;
}

/* The spill record at sp: a view into memory when it lies there (no copy), else read
 * into scratch. */
static int spill_read(const nd_run *run, const struct spill_loc *sp, nd_buf *scratch,
                      const char **out)
{
    const struct nd_run_priv *pv = run->priv;
    const struct spill_mem *m = &pv->spill_mem[sp->thread];
    uint64_t off = sp->off;
    size_t n = sp->len, got = 0;
    if (off + n <= m->len) {
        *out = m->p + off;
        return ND_OK;
    }
    nd_buf_clear(scratch);
    int rc = nd_buf_reserve(scratch, n);
    if (rc)
        return rc;
    if (off < m->len) {
        got = (size_t)(m->len - off);
        memcpy(scratch->p, m->p + off, got);
    }
    while (got < n) {
        ssize_t r = pv->spills[sp->thread]
                        ? pread(fileno(pv->spills[sp->thread]), scratch->p + got, n - got,
                                (off_t)(off + got - m->cap))
                        : -1;
        if (r <= 0)
            return nd_fail(ND_EIO, "cannot read back the temporary spill file");
        got += (size_t)r;
    }
    *out = scratch->p;
    return ND_OK;
}

/* opts.keep_text: the extracted blocks of d into the thread's text memory (see struct
 * text_loc), when they fit in what is left of it; else clean reads the file again. */
static int keep_text(struct worker *w, struct doc_tmp *d)
{
    struct nd_run_priv *pv = w->run->priv;
    struct spill_mem *m = &pv->text_mem[w->id];
    const nd_blocks *b = &w->blocks;
    /* The text clean writes, copied at once. */
    int64_t jl = nd_blocks_joined_len(b);
    size_t tl = jl > 0 ? (size_t)jl : 0;
    uint64_t n = 4 + 4 * (uint64_t)b->n + tl;
    if (jl < 0 || n > UINT32_MAX || n > pv->spill_limit - m->len)
        return ND_OK;
    int rc = mem_reserve(m, pv->spill_limit, "kept text");
    if (rc)
        return rc;
    char *o = m->p + m->len;
    uint32_t nb = (uint32_t)b->n;
    memcpy(o, &nb, 4);
    o += 4;
    for (size_t i = 0; i < b->n; i++, o += 4)
        memcpy(o, &b->v[i].len, 4);
    if (tl)
        memcpy(o, b->text.p, tl);
    d->tx.off = m->len;
    d->tx.len = (uint32_t)n;
    m->len += n;
    return ND_OK;
}

static int on_doc(void *ctx, const nd_rawdoc *raw)
{
    struct worker *w = ctx;
    nd_run *run = w->run;
    struct doc_tmp *d = new_doc(w, raw);
    if (!d)
        return nd_fail(ND_ENOMEM, "out of memory");
    int rc = ND_OK;
    if (raw->uri && !(d->rec.uri = arena_strndup(&w->arena, raw->uri, strlen(raw->uri))))
        return nd_fail(ND_ENOMEM, "out of memory");
    if (raw->date && !(d->rec.date = arena_clip(&w->arena, raw->date, strlen(raw->date), 64)))
        return nd_fail(ND_ENOMEM, "out of memory");
    d->rec.time = parse_date(raw->date);
    if (raw->record_bytes)
        d->rec.flags |= ND_DOC_WARC;

    /* Site, with a one-entry cache: consecutive documents mostly share it. */
    char key[256];
    size_t klen = site_key(run, raw->path, raw->uri, key, sizeof key);
    if (klen == w->last_site_len && memcmp(key, w->last_site, klen) == 0) {
        d->rec.site = w->last_site_id;
    } else {
        if ((rc = site_intern(run, key, klen, &d->rec.site)))
            return rc;
        memcpy(w->last_site, key, klen);
        w->last_site_len = klen;
        w->last_site_id = d->rec.site;
    }

    if (raw->skip_reason) {
        d->rec.flags |= ND_DOC_SKIPPED;
        d->rec.reason = arena_strndup(&w->arena, raw->skip_reason, strlen(raw->skip_reason));
        d->sp.off = w->spill_off;
        return d->rec.reason ? ND_OK : nd_fail(ND_ENOMEM, "out of memory");
    }
    if (raw->flags & ND_RAW_TRUNCATED) {
        d->rec.flags |= ND_DOC_PARTIAL;
        d->rec.reason = "truncated: partly read";
    }
    if (raw->is_html)
        d->rec.flags |= ND_DOC_HTML;
    d->rec.bytes = raw->body_len;
    XXH128_hash_t bd = XXH3_128bits(raw->body, raw->body_len);
    d->rec.body_digest[0] = bd.low64;
    d->rec.body_digest[1] = bd.high64;

    nd_blocks_clear(&w->blocks);
    rc = raw->is_html ? nd_html_extract(raw->body, raw->body_len, &w->blocks)
                      : nd_text_extract(raw->body, raw->body_len, &w->blocks);
    if (rc)
        return rc;
    if ((rc = grow_blocks(w, w->blocks.n)))
        return rc;
    if (run->opts.keep_text && (rc = keep_text(w, d)))
        return rc;
    if (run->opts.keep_text_digest && (rc = nd_blocks_digest(&w->blocks, d->td)))
        return rc;

    /* Normalise each block; blocks without a token carry nothing to compare. */
    nd_buf_clear(&w->nbuf);
    size_t kept = 0, invalid = 0;
    uint32_t total_tokens = 0;
    nd_buf_clear(&w->spillbuf);
    /* Every block's cache slot is a cache miss: all keys first, their slots fetched
     * while the first blocks are looked up. */
    for (size_t i = 0; i < w->blocks.n; i++) {
        w->bkeys[i] = XXH3_128bits(w->blocks.text.p + w->blocks.v[i].off, w->blocks.v[i].len);
#ifdef __GNUC__
        __builtin_prefetch(&w->bcache[w->bkeys[i].low64 & (ND_BCACHE_SLOTS - 1)]);
#endif
    }
    for (size_t i = 0; i < w->blocks.n; i++) {
        const char *bt = w->blocks.text.p + w->blocks.v[i].off;
        uint32_t bl = w->blocks.v[i].len;
        XXH128_hash_t bkey = w->bkeys[i];
        struct bcache_slot *cs = &w->bcache[bkey.low64 & (ND_BCACHE_SLOTS - 1)];
        uint32_t ntok, nlen;
        if (cs->key[0] == bkey.low64 && cs->key[1] == bkey.high64 && (bkey.low64 | bkey.high64)) {
            invalid += cs->invalid;
            ntok = cs->ntok;
            nlen = cs->nlen;
            if (ntok == 0) {
                if (i < 64)
                    d->sp.tokless |= 1ull << i;
                continue;
            }
            w->hashes[kept] = cs->hash;
            /* A reference is only worth it for text longer than itself, and only valid
             * while the earlier copy lies in spill memory. */
            if (nlen > 8 && cs->text_off != UINT64_MAX) {
                uint32_t hdr[2] = {ntok, nlen | SPILL_REF};
                if ((rc = nd_buf_append(&w->spillbuf, &cs->hash, 8)) ||
                    (rc = nd_buf_append(&w->spillbuf, hdr, sizeof hdr)) ||
                    (rc = nd_buf_append(&w->spillbuf, &cs->text_off, 8)))
                    return rc;
            } else {
                uint32_t hdr[2] = {ntok, nlen};
                const char *src = NULL;
                if ((rc = nd_buf_reserve(&w->spillbuf, 16 + (size_t)nlen)))
                    return rc;
                if (cs->text_off == UINT64_MAX)
                    ;
                else if (cs->text_off >= w->spill_off) /* earlier in this document */
                    src = w->spillbuf.p + (cs->text_off - w->spill_off);
                else
                    src = run->priv->spill_mem[w->id].p + cs->text_off;
                if (!src) { /* not in memory: normalise again (rare: a spill beyond memory) */
                    size_t start = w->nbuf.len;
                    w->toks.n = 0;
                    nd_norm_stats st = {0};
                    if ((rc = nd_norm_block(w->norm, bt, bl, &w->nbuf, &w->toks, &st)))
                        return rc;
                    src = w->nbuf.p + start;
                }
                if ((rc = nd_buf_append(&w->spillbuf, &cs->hash, 8)) ||
                    (rc = nd_buf_append(&w->spillbuf, hdr, sizeof hdr)) ||
                    (rc = nd_buf_append(&w->spillbuf, src, nlen)))
                    return rc;
            }
        } else {
            size_t start = w->nbuf.len;
            w->toks.n = 0;
            nd_norm_stats st = {0};
            if ((rc = nd_norm_block(w->norm, bt, bl, &w->nbuf, &w->toks, &st)))
                return rc;
            invalid += st.invalid_utf8;
            cs->key[0] = bkey.low64;
            cs->key[1] = bkey.high64;
            cs->invalid = (uint32_t)st.invalid_utf8;
            cs->ntok = 0;
            cs->nlen = 0;
            cs->text_off = UINT64_MAX;
            if (w->toks.n == 0) {
                if (i < 64)
                    d->sp.tokless |= 1ull << i;
                continue;
            }
            nlen = (uint32_t)(w->nbuf.len - start);
            uint32_t ns = 0;
            for (size_t k = 0; k < w->toks.n; k++)
                ns |= w->toks.v[k].flags & ND_TOK_NOSPACE;
            ntok = (uint32_t)w->toks.n | (ns ? SPILL_NOSPACE : 0);
            w->hashes[kept] = XXH3_64bits(w->nbuf.p + start, nlen);
            /* spill record: hash, tokens (and whether one is ND_TOK_NOSPACE), bytes, text */
            uint32_t hdr[2] = {ntok, nlen};
            if ((rc = nd_buf_append(&w->spillbuf, &w->hashes[kept], 8)) ||
                (rc = nd_buf_append(&w->spillbuf, hdr, sizeof hdr)))
                return rc;
            uint64_t text_off = w->spill_off + w->spillbuf.len;
            if ((rc = nd_buf_append(&w->spillbuf, w->nbuf.p + start, nlen)))
                return rc;
            cs->hash = w->hashes[kept];
            cs->ntok = ntok;
            cs->nlen = nlen;
            if (text_off + nlen <= run->priv->spill_limit)
                cs->text_off = text_off;
        }
        w->texts[kept] = bt;
        w->lens[kept] = bl;
        w->ntoks[kept] = ntok & ~SPILL_NOSPACE;
        total_tokens += ntok & ~SPILL_NOSPACE;
        kept++;
    }
    d->rec.n_blocks = (uint32_t)kept;
    d->rec.n_tokens = total_tokens;
    /* Every byte >= 0x80 of every block went through the normaliser's decoder (or a
     * cached block with its count): none invalid means the extracted text is valid. */
    if (invalid)
        d->rec.flags |= ND_DOC_BADUTF8;
    if (invalid)
        nd_problem(run->problems, ND_NOTE, raw->path, "invalid UTF-8",
                   "%zu invalid UTF-8 sequence%s replaced%s%s", invalid, invalid == 1 ? "" : "s",
                   raw->uri ? " in " : "", raw->uri ? raw->uri : "");
    if (w->blocks.title.len)
        d->rec.title = arena_clip(&w->arena, w->blocks.title.p, w->blocks.title.len, 120);
    else if (kept)
        d->rec.title = arena_clip(&w->arena, w->texts[0], w->lens[0], 120);
    if ((w->blocks.title.len || kept) && !d->rec.title)
        return nd_fail(ND_ENOMEM, "out of memory");

    if (kept) {
        int seen = nd_boiler_seen(run->boiler, d->rec.site, d->rec.body_digest);
        if (seen < 0)
            return seen;
        if (!seen &&
            (rc = nd_boiler_add_doc(run->boiler, d->rec.site, w->hashes, w->texts, w->lens, kept)))
            return rc;
    }
    if ((rc = spill_write(run, w->id, w->spill_off, w->spillbuf.p, w->spillbuf.len)))
        return rc;
    d->sp.off = w->spill_off;
    d->sp.len = (uint32_t)w->spillbuf.len;
    w->spill_off += w->spillbuf.len;
    return ND_OK;
}

/* One file of the list: from data when the batched reads got it whole, else read. */
static int read_one(struct worker *w, size_t i, const char *data, size_t len)
{
    nd_run *run = w->run;
    struct nd_run_priv *pv = run->priv;
    uint64_t size = 0;
    nd_read_opts ro = {.max_doc_bytes = run->opts.max_doc_bytes, .file_size = &size};
    w->cur_file = (uint32_t)i;
    int rc = data ? nd_read_mem(run->files.paths[i], data, len, &ro, run->problems, on_doc, w)
                  : nd_read_file(run->opts.root, run->files.paths[i], &ro, run->problems, on_doc, w);
    if (rc < 0) {
        worker_fail(w, rc);
        return rc;
    }
    uint64_t b = atomic_fetch_add(&pv->bytes_done, size) + size;
    size_t done = atomic_fetch_add(&pv->items_done, 1) + 1;
    progress(run, "reading", done, run->files.n, b, run->file_bytes, 0);
    return ND_OK;
}

static int defer_big(struct nd_run_priv *pv, size_t i)
{
    int rc = ND_OK;
    pthread_mutex_lock(&pv->big_mu);
    if (pv->n_big == pv->cap_big) {
        size_t cap = pv->cap_big ? 2 * pv->cap_big : 256;
        size_t *v = realloc(pv->big, cap * sizeof *v);
        if (v) {
            pv->big = v;
            pv->cap_big = cap;
        } else {
            rc = nd_fail(ND_ENOMEM, "out of memory");
        }
    }
    if (!rc)
        pv->big[pv->n_big++] = i;
    pthread_mutex_unlock(&pv->big_mu);
    return rc;
}

/* Files are taken in batches that one submission opens and reads whole (prefetch.h).
 * The few too large for that (WARC files, mostly, which sit together in the sorted
 * list) are put aside and shared one at a time at the end, so that a batch of them
 * never leaves one thread working alone. */
static void *pass1_main(void *arg)
{
    struct worker *w = arg;
    nd_run *run = w->run;
    struct nd_run_priv *pv = run->priv;
    atomic_fetch_add(&pv->in_main, 1);
    const size_t batch = w->pf ? pv->prefetch_slots : 1;
    while (!w->rc) {
        size_t first = atomic_fetch_add(&pv->next, batch);
        if (first >= run->files.n)
            break;
        size_t n = run->files.n - first < batch ? run->files.n - first : batch;
        if (w->pf)
            nd_prefetch_run(w->pf, (const char *const *)run->files.paths + first, (unsigned)n);
        for (size_t k = 0; k < n && !w->rc; k++) {
            size_t len = 0;
            int big = 0;
            const char *data = w->pf ? nd_prefetch_get(w->pf, (unsigned)k, &len, &big) : NULL;
            if (big) {
                int rc = defer_big(pv, first + k);
                if (rc)
                    worker_fail(w, rc);
            } else {
                read_one(w, first + k, data, len);
            }
        }
    }
    atomic_fetch_sub(&pv->in_main, 1);
    while (!w->rc) {
        pthread_mutex_lock(&pv->big_mu);
        size_t i = pv->big_next < pv->n_big ? pv->big[pv->big_next++] : SIZE_MAX;
        pthread_mutex_unlock(&pv->big_mu);
        if (i != SIZE_MAX) {
            read_one(w, i, NULL, 0);
            continue;
        }
        if (atomic_load(&pv->in_main) == 0)
            break;
        /* Another thread may still put some aside: its batch ends within milliseconds. */
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Tokens of one normalised block (tokens one space apart) as offsets base + start,
 * found eight bytes at a time: a space is a zero byte of x ^ 0x20..20, and the exact
 * zero-byte test below marks only those. Flags are looked up only in blocks that hold a
 * no-space token. Writes at most max tokens; returns how many. */
static size_t split_block(const char *s, size_t len, size_t base, uint32_t block,
                          int nospace, nd_token *t, size_t max)
{
    const uint64_t lo7 = 0x7F7F7F7F7F7F7F7Full, sp = 0x2020202020202020ull;
    size_t n = 0, s0 = 0;
    for (size_t k = 0; k <= len; k += 8) {
        uint64_t z = 0;
        if (k < len) {
            /* bytes past the end stay zero, which is no space */
            uint64_t x = 0;
            /* One load for a whole word: a copy of variable length goes through the
             * stack on every step. */
            if (len - k >= 8)
                memcpy(&x, s + k, 8);
            else
                memcpy(&x, s + k, len - k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            x = __builtin_bswap64(x);
#endif
            x ^= sp;
            z = ~(((x & lo7) + lo7) | x | lo7);
        }
        for (;;) {
            size_t e;
            if (z) {
                e = k + (size_t)(__builtin_ctzll(z) >> 3);
                z &= z - 1;
            } else if (k + 8 > len && s0 <= len) {
                e = len; /* the last token ends the block */
            } else {
                break;
            }
            if (e > s0 && n < max)
                t[n++] = (nd_token){
                    .ptr = (const char *)(uintptr_t)(base + s0),
                    .len = (uint32_t)(e - s0),
                    .flags = nospace && (unsigned char)s[s0] >= 0x80
                                 ? (uint16_t)nd_norm_token_flags(s + s0, e - s0)
                                 : 0,
                    .block = block};
            s0 = e + 1;
        }
    }
    return n;
}

/* Rebuild the plugin's view of one document from its spill record. */
static int content_of(struct worker *w, size_t doc, nd_text *out, uint32_t *n_boiler,
                      uint32_t *boiler_tokens)
{
    nd_run *run = w->run;
    struct nd_run_priv *pv = run->priv;
    const struct spill_loc *sp = &pv->spill[doc];
    const nd_docrec *rec = &run->docs[doc];
    int rc;
    const char *rec_bytes = NULL;
    if ((rc = spill_read(run, sp, &w->rbuf, &rec_bytes)))
        return rc;
    nd_buf_clear(&w->content);
    size_t ntok = 0;
    *n_boiler = 0;
    *boiler_tokens = 0;
    uint32_t block = 0;
    uint64_t full = 0, mask = 0;
    unsigned bi = 0; /* extraction index of the spilled block, while below 64 */
    const char *p = rec_bytes, *end = rec_bytes + sp->len;
    while (p < end) {
        uint64_t h;
        uint32_t hdr[2];
        memcpy(&h, p, 8);
        memcpy(hdr, p + 8, 8);
        const char *text = p + 16;
        if (hdr[1] & SPILL_REF) {
            uint64_t at;
            memcpy(&at, text, 8);
            p = text + 8;
            hdr[1] &= ~SPILL_REF;
            text = pv->spill_mem[sp->thread].p + at;
        } else {
            p = text + hdr[1];
        }
        int nospace = (hdr[0] & SPILL_NOSPACE) != 0;
        hdr[0] &= ~SPILL_NOSPACE;
        full = XXH3_64bits_withSeed(&h, 8, full);
        while (bi < 64 && (sp->tokless >> bi & 1))
            bi++;
        int boiler = nd_boiler_is(run->boiler, rec->site, h);
        if (boiler && bi < 64)
            mask |= 1ull << bi;
        bi += bi < 64;
        if (boiler) {
            (*n_boiler)++;
            *boiler_tokens += hdr[0];
            if (!run->opts.keep_boilerplate)
                continue;
        }
        if (w->content.len && (rc = nd_buf_putc(&w->content, '\n')))
            return rc;
        if ((rc = nd_buf_append(&w->content, text, hdr[1])))
            return rc;
        if (ntok + hdr[0] > w->cap_ptoks) {
            size_t cap = w->cap_ptoks ? w->cap_ptoks : 1024;
            while (cap < ntok + hdr[0])
                cap *= 2;
            nd_token *v = realloc(w->ptoks, cap * sizeof *v);
            if (!v)
                return nd_fail(ND_ENOMEM, "out of memory");
            w->ptoks = v;
            w->cap_ptoks = cap;
        }
        /* Offsets for now; turned into pointers once content stops moving. */
        ntok += split_block(text, hdr[1], w->content.len - hdr[1], block, nospace,
                            w->ptoks + ntok, w->cap_ptoks - ntok);
        block++;
    }
    for (size_t i = 0; i < ntok; i++)
        w->ptoks[i].ptr = w->content.p + (uintptr_t)w->ptoks[i].ptr;
    pv->full[doc] = full;
    run->docs[doc].boiler_mask = mask;
    out->text = w->content.p ? w->content.p : "";
    out->len = w->content.len;
    out->tokens = w->ptoks;
    out->n_tokens = ntok;
    out->n_blocks = block;
    return ND_OK;
}

/* Pages nearly all template (index, tag and section pages) are never articles. */
#define ND_TEMPLATE_SHARE 0.85
#define ND_TEMPLATE_MAX_CONTENT 80

static void *pass2_main(void *arg)
{
    struct worker *w = arg;
    nd_run *run = w->run;
    struct nd_run_priv *pv = run->priv;
    const nd_plugin *pl = run->method->desc;
    const size_t chunk = 64;
    for (;;) {
        size_t first = atomic_fetch_add(&pv->next, chunk);
        if (first >= run->n_docs || w->rc)
            break;
        size_t last = first + chunk < run->n_docs ? first + chunk : run->n_docs;
        for (size_t i = first; i < last; i++) {
            nd_docrec *rec = &run->docs[i];
            if (rec->flags & ND_DOC_SKIPPED)
                continue;
            nd_text t;
            uint32_t nb = 0, btok = 0;
            int rc = content_of(w, i, &t, &nb, &btok);
            if (rc) {
                worker_fail(w, rc);
                return NULL;
            }
            rec->n_boiler_blocks = nb;
            rec->n_content_tokens = (uint32_t)t.n_tokens;
            rec->n_boiler_tokens = btok;
            uint32_t content_tok = rec->n_tokens - btok;
            if (rec->n_tokens && content_tok < ND_TEMPLATE_MAX_CONTENT &&
                (double)btok >= ND_TEMPLATE_SHARE * rec->n_tokens)
                rec->flags |= ND_DOC_TEMPLATE;
            if (t.n_tokens == 0) {
                rec->flags |= ND_DOC_EMPTY;
                continue;
            }
            rc = pl->sign(run->method_state, &t, pv->sigs + i * pv->sig_stride,
                          pv->keys + i * run->info.n_keys);
            if (rc < 0) {
                worker_fail(w, nd_fail(ND_EPLUGIN, "%s: sign failed on %s", pl->name,
                                       run->files.paths[rec->file]));
                return NULL;
            }
            if (rc == ND_PLUGIN_FALLBACK)
                rec->flags |= ND_DOC_FALLBACK;
        }
        size_t done = atomic_fetch_add(&pv->items_done, last - first) + (last - first);
        progress(run, "fingerprinting", done, run->n_docs, 0, 0, 0);
    }
    return NULL;
}

static void worker_release(struct worker *w)
{
    nd_prefetch_free(w->pf);
    free(w->ptoks);
    nd_buf_free(&w->content);
    nd_buf_free(&w->rbuf);
    arena_free(&w->arena);
    free(w->docs);
    nd_buf_free(&w->spillbuf);
    free(w->bkeys);
    free(w->ntoks);
    free(w->lens);
    free((void *)w->texts);
    free(w->hashes);
    nd_toks_free(&w->toks);
    nd_buf_free(&w->nbuf);
    free(w->bcache);
    nd_norm_free(w->norm);
    nd_blocks_free(&w->blocks);
}

/* Run fn on every worker thread (the calling thread takes worker 0). */
static int run_workers(struct worker *ws, unsigned n, void *(*fn)(void *))
{
    unsigned started = 1;
    for (unsigned i = 1; i < n; i++, started++)
        if (pthread_create(&ws[i].th, NULL, fn, &ws[i]) != 0)
            break;
    fn(&ws[0]);
    for (unsigned i = 1; i < started; i++)
        pthread_join(ws[i].th, NULL);
    for (unsigned i = 0; i < n; i++)
        if (ws[i].rc) {
            nd_fail(ws[i].rc, "%s", ws[i].err);
            return ws[i].rc;
        }
    return ND_OK;
}

static int cmp_doc_tmp(const void *a, const void *b)
{
    const nd_docrec *x = &((const struct doc_tmp *)a)->rec, *y = &((const struct doc_tmp *)b)->rec;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->record < y->record ? -1 : x->record > y->record;
}

/* Merge the workers' documents into report order: by file path, then record. */
static int merge_docs(nd_run *run, struct worker *ws, unsigned n)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += ws[i].n_docs;
    struct doc_tmp *all = malloc((total ? total : 1) * sizeof *all);
    run->docs = malloc((total ? total : 1) * sizeof *run->docs);
    run->priv->spill = malloc((total ? total : 1) * sizeof *run->priv->spill);
    if (run->opts.keep_text)
        run->priv->texts = malloc((total ? total : 1) * sizeof *run->priv->texts);
    if (run->opts.keep_text_digest)
        run->priv->tdigs = malloc((total ? total : 1) * sizeof *run->priv->tdigs);
    if (!all || !run->docs || !run->priv->spill || (run->opts.keep_text && !run->priv->texts) ||
        (run->opts.keep_text_digest && !run->priv->tdigs)) {
        free(all);
        return nd_fail(ND_ENOMEM, "out of memory for %zu documents", total);
    }
    advise_huge(all, total * sizeof *all);
    advise_huge(run->docs, total * sizeof *run->docs);
    advise_huge(run->priv->spill, total * sizeof *run->priv->spill);
    size_t k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (ws[i].n_docs) /* a worker that got no file has no array */
            memcpy(all + k, ws[i].docs, ws[i].n_docs * sizeof *all);
        k += ws[i].n_docs;
        arena_adopt(&run->priv->arena, &ws[i].arena);
        free(ws[i].docs);
        ws[i].docs = NULL;
        ws[i].n_docs = ws[i].cap_docs = 0;
    }
    qsort(all, total, sizeof *all, cmp_doc_tmp);
    for (size_t i = 0; i < total; i++) {
        run->docs[i] = all[i].rec;
        run->priv->spill[i] = all[i].sp;
        if (run->priv->texts)
            run->priv->texts[i] = all[i].tx;
        if (run->priv->tdigs)
            memcpy(run->priv->tdigs[i], all[i].td, sizeof all[i].td);
        run->bytes_read += all[i].rec.bytes;
    }
    run->n_docs = total;
    free(all);
    return ND_OK;
}

/* Which -o values belong to the chosen method; others are a usage error. */
static int method_options(const nd_run *run, const char *name, const char ***kv, size_t *n)
{
    size_t len = strlen(name);
    *kv = calloc(run->opts.n_plugin_opts + 1, sizeof **kv);
    *n = 0;
    if (!*kv)
        return nd_fail(ND_ENOMEM, "out of memory");
    for (size_t i = 0; i < run->opts.n_plugin_opts; i++) {
        const char *o = run->opts.plugin_opts[i];
        const char *dot = strchr(o, '.');
        if (!dot || !strchr(dot, '='))
            return nd_fail(ND_EUSAGE, "-o %s: expected NAME.KEY=VALUE, e.g. -o shingle.ngram=5", o);
        if ((size_t)(dot - o) != len || strncmp(o, name, len) != 0)
            return nd_fail(ND_EUSAGE, "-o %s: option for plugin \"%.*s\", but the method is \"%s\"",
                           o, (int)(dot - o), o, name);
        (*kv)[(*n)++] = dot + 1;
    }
    return ND_OK;
}

static int setup_method(nd_run *run)
{
    const char *name = run->opts.method ? run->opts.method : ND_DEFAULT_METHOD;
    run->plugins = calloc(1, sizeof *run->plugins);
    if (!run->plugins)
        return nd_fail(ND_ENOMEM, "out of memory");
    int rc = nd_registry_load(run->plugins, run->opts.plugin_dirs, run->opts.n_plugin_dirs);
    if (rc)
        return rc;
    run->method = nd_registry_find(run->plugins, name);
    if (!run->method) {
        nd_buf why = ND_BUF_INIT;
        for (size_t i = 0; i < run->plugins->n_fail; i++)
            if (strstr(run->plugins->fail[i].path, name))
                nd_buf_printf(&why, "; %s: %s", run->plugins->fail[i].path,
                              run->plugins->fail[i].reason);
        rc = nd_fail(ND_EPLUGIN, "plugin \"%s\" not found%s (see `neardup plugins`)", name,
                     why.p ? why.p : "");
        nd_buf_free(&why);
        return rc;
    }
    const char **kv = NULL;
    size_t n = 0;
    rc = method_options(run, name, &kv, &n);
    if (!rc)
        rc = nd_plugin_instance(run->method, kv, n, &run->method_state, &run->info);
    free((void *)kv);
    return rc;
}

static void *cluster_alloc_sigs(nd_run *run)
{
    struct nd_run_priv *pv = run->priv;
    pv->sig_stride = (run->info.sig_size + 7) & ~(size_t)7;
    size_t n = run->n_docs ? run->n_docs : 1;
    pv->sigs = calloc(n, pv->sig_stride);
    pv->keys = calloc(n * run->info.n_keys, sizeof *pv->keys);
    pv->full = calloc(n, sizeof *pv->full);
    advise_huge(pv->sigs, n * pv->sig_stride);
    advise_huge(pv->keys, n * run->info.n_keys * sizeof *pv->keys);
    advise_huge(pv->full, n * sizeof *pv->full);
    return pv->sigs && pv->keys && pv->full ? pv->sigs : NULL;
}

struct leftover {
    uint64_t full, prio;
    uint32_t doc;
};

static int cmp_leftover(const void *a, const void *b)
{
    const struct leftover *x = a, *y = b;
    if (x->full != y->full)
        return x->full < y->full ? -1 : 1;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

struct cluster_order {
    size_t size;
    uint32_t first;
    uint32_t id;
};

static int cmp_cluster_order(const void *a, const void *b)
{
    const struct cluster_order *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Pages with no content left (all boilerplate, or template-only) are not fingerprinted
 * by the method, but two identical ones are still exact re-crawls: group them by the
 * hash of their whole normalised text, then renumber all clusters largest first. */
static int cluster_leftovers(nd_run *run, const uint64_t *prio)
{
    nd_cluster_out *co = &run->clusters;
    size_t n = 0;
    for (size_t i = 0; i < run->n_docs; i++)
        n += (run->docs[i].flags & (ND_DOC_EMPTY | ND_DOC_TEMPLATE)) &&
             !(run->docs[i].flags & ND_DOC_SKIPPED) && run->docs[i].n_tokens > 0;
    if (n < 2)
        return ND_OK;
    struct leftover *v = malloc(n * sizeof *v);
    if (!v)
        return nd_fail(ND_ENOMEM, "out of memory");
    n = 0;
    for (size_t i = 0; i < run->n_docs; i++)
        if ((run->docs[i].flags & (ND_DOC_EMPTY | ND_DOC_TEMPLATE)) &&
            !(run->docs[i].flags & ND_DOC_SKIPPED) && run->docs[i].n_tokens > 0)
            v[n++] = (struct leftover){run->priv->full[i], prio[i], (uint32_t)i};
    qsort(v, n, sizeof *v, cmp_leftover);
    size_t added = 0;
    for (size_t s = 0, e; s < n; s = e) {
        for (e = s + 1; e < n && v[e].full == v[s].full; e++)
            ;
        if (e - s < 2)
            continue;
        for (size_t k = s; k < e; k++) {
            co->cluster[v[k].doc] = (int32_t)(co->n_clusters + added);
            co->rep[v[k].doc] = v[s].doc;
            co->similarity[v[k].doc] = 1.0f;
            if (co->containment)
                co->containment[v[k].doc] = -1.0f;
        }
        added++;
    }
    free(v);
    if (!added)
        return ND_OK;
    size_t nc = co->n_clusters + added;
    struct cluster_order *ord = calloc(nc, sizeof *ord);
    int32_t *remap = malloc(nc * sizeof *remap);
    if (!ord || !remap) {
        free(ord);
        free(remap);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (size_t c = 0; c < nc; c++)
        ord[c] = (struct cluster_order){0, UINT32_MAX, (uint32_t)c};
    for (size_t i = 0; i < run->n_docs; i++) {
        int32_t c = co->cluster[i];
        if (c < 0)
            continue;
        ord[c].size++;
        if (i < ord[c].first)
            ord[c].first = (uint32_t)i;
    }
    qsort(ord, nc, sizeof *ord, cmp_cluster_order);
    for (size_t k = 0; k < nc; k++)
        remap[ord[k].id] = (int32_t)k;
    for (size_t i = 0; i < run->n_docs; i++)
        if (co->cluster[i] >= 0)
            co->cluster[i] = remap[co->cluster[i]];
    co->n_clusters = nc;
    free(remap);
    free(ord);
    return ND_OK;
}

static int cluster_docs(nd_run *run)
{
    size_t n = run->n_docs ? run->n_docs : 1;
    uint8_t *elig = calloc(n, 1);
    uint64_t *prio = calloc(n, sizeof *prio);
    int rc = ND_OK;
    if (!elig || !prio) {
        rc = nd_fail(ND_ENOMEM, "out of memory");
        goto out_free;
    }
    for (size_t i = 0; i < run->n_docs; i++) {
        const nd_docrec *d = &run->docs[i];
        elig[i] = !(d->flags & (ND_DOC_SKIPPED | ND_DOC_EMPTY | ND_DOC_TEMPLATE));
        /* The likely original: earliest dated first, then the longest. */
        uint64_t len_rank = 0xFFFFFFu - (d->n_content_tokens < 0xFFFFFFu ? d->n_content_tokens : 0xFFFFFFu);
        if (d->time != INT64_MAX && d->time >= 0 && d->time < (1ll << 38))
            prio[i] = ((uint64_t)d->time << 24) | len_rank;
        else
            prio[i] = (1ull << 63) | len_rank;
    }
    nd_cluster_in in = {
        .plugin = run->method->desc,
        .state = run->method_state,
        .info = &run->info,
        .n = run->n_docs,
        .sigs = run->priv->sigs,
        .keys = run->priv->keys,
        .eligible = elig,
        .priority = prio,
        .threshold = run->opts.threshold >= 0 ? run->opts.threshold : run->info.threshold,
        .containment = run->opts.containment >= 0 ? run->opts.containment : run->info.containment,
        .threads = run->threads,
    };
    /* Signatures are laid out with an 8-byte stride; the cluster code reads sig_size. */
    nd_sig_info packed = run->info;
    packed.sig_size = (uint32_t)run->priv->sig_stride;
    in.info = &packed;
    rc = nd_cluster_run(&in, &run->clusters);
    if (!rc)
        rc = cluster_leftovers(run, prio);
out_free:
    free(prio);
    free(elig);
    return rc;
}

/* After pass 2 nothing reads the spill again (clean has its own kept text, or reads
 * the source again): give its memory and temporary files back before clustering. */
static void spill_release(nd_run *run)
{
    struct nd_run_priv *pv = run->priv;
    for (unsigned i = 0; pv->spills && i < run->threads; i++)
        if (pv->spills[i])
            fclose(pv->spills[i]);
    free(pv->spills);
    pv->spills = NULL;
    mem_release(pv->spill_mem, run->threads);
    pv->spill_mem = NULL;
    free(pv->spill);
    pv->spill = NULL;
}

int nd_run_crawl(const nd_run_opts *opts, nd_run **out)
{
    *out = NULL;
    nd_run *run = calloc(1, sizeof *run);
    if (!run)
        return nd_fail(ND_ENOMEM, "out of memory");
    run->opts = *opts;
    int rc = ND_OK;
    struct worker *ws = NULL;
    unsigned nt = 0;
    if (!(run->priv = calloc(1, sizeof *run->priv))) {
        rc = nd_fail(ND_ENOMEM, "out of memory");
        goto out_fail;
    }
    struct nd_run_priv *pv = run->priv;
    pthread_mutex_init(&pv->site_mu, NULL);
    pthread_mutex_init(&pv->progress_mu, NULL);
    pthread_mutex_init(&pv->big_mu, NULL);
    if ((rc = nd_problems_new(opts->log, &run->problems)) || (rc = setup_method(run)))
        goto out_fail;
    nd_boiler_opts bo;
    nd_boiler_opts_default(&bo);
    if ((rc = nd_boiler_new(&bo, &run->boiler)))
        goto out_fail;
    /* Sizes up front only for the progress line's ETA; else the reader's fstat
     * counts them. */
    if ((rc = nd_walk(opts->root, opts->progress ? ND_WALK_SIZES : 0, &run->files,
                      run->problems)))
        goto out_fail;
    for (size_t i = 0; opts->progress && i < run->files.n; i++)
        run->file_bytes += run->files.sizes[i];

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    nt = opts->threads ? opts->threads : (cores > 0 ? (unsigned)cores : 1);
    if (nt > 256)
        nt = 256;
    run->threads = nt;
    ws = calloc(nt, sizeof *ws);
    const char *lim = getenv("NEARDUP_SPILL_MEM");
    pv->spill_limit = lim && *lim ? strtoull(lim, NULL, 10) : spill_budget(nt);
    pv->spills = calloc(nt, sizeof *pv->spills);
    pv->spill_mem = calloc(nt, sizeof *pv->spill_mem);
    if (opts->keep_text)
        pv->text_mem = calloc(nt, sizeof *pv->text_mem);
    if (!ws || !pv->spills || !pv->spill_mem || (opts->keep_text && !pv->text_mem)) {
        rc = nd_fail(ND_ENOMEM, "out of memory");
        goto out_fail;
    }
    size_t slot_bytes;
    prefetch_shape(&pv->prefetch_slots, &slot_bytes);
    for (unsigned i = 0; i < nt; i++) {
        ws[i].run = run;
        ws[i].id = i;
        nd_blocks_init(&ws[i].blocks);
        if ((rc = nd_norm_new(&ws[i].norm)))
            goto out_fail;
        if (!(ws[i].bcache = calloc(ND_BCACHE_SLOTS, sizeof *ws[i].bcache))) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            goto out_fail;
        }
        if ((rc = nd_prefetch_new(opts->root, pv->prefetch_slots, slot_bytes, &ws[i].pf)))
            goto out_fail;
    }

    pv->t0 = now_seconds();
    if ((rc = run_workers(ws, nt, pass1_main)))
        goto out_fail;
    run->file_bytes = pv->bytes_done;
    progress(run, "reading", run->files.n, run->files.n, pv->bytes_done, run->file_bytes, 1);
    for (unsigned i = 0; i < nt; i++)
        if (pv->spills[i] && fflush(pv->spills[i]) != 0) {
            rc = nd_fail(ND_EIO, "cannot write the temporary spill file (disk full?)");
            goto out_fail;
        }
    if ((rc = merge_docs(run, ws, nt)) || (rc = nd_boiler_finish(run->boiler)))
        goto out_fail;
    double t1 = now_seconds();
    run->seconds[0] = t1 - pv->t0;

    if (!cluster_alloc_sigs(run)) {
        rc = nd_fail(ND_ENOMEM, "out of memory for %zu signatures", run->n_docs);
        goto out_fail;
    }
    atomic_store(&pv->next, 0);
    atomic_store(&pv->items_done, 0);
    pv->t0 = t1;
    if ((rc = run_workers(ws, nt, pass2_main)))
        goto out_fail;
    progress(run, "fingerprinting", run->n_docs, run->n_docs, 0, 0, 1);
    double t2 = now_seconds();
    run->seconds[1] = t2 - t1;
    spill_release(run);
    if ((rc = cluster_docs(run)))
        goto out_fail;
    run->seconds[2] = now_seconds() - t2;

    for (unsigned i = 0; i < nt; i++)
        worker_release(&ws[i]);
    free(ws);
    *out = run;
    return ND_OK;

out_fail:
    for (unsigned i = 0; ws && i < nt; i++)
        worker_release(&ws[i]);
    free(ws);
    {
        /* Keep the message across the frees below. */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", nd_errmsg());
        nd_run_free(run);
        nd_fail(rc, "%s", msg);
    }
    return rc;
}

void nd_run_free(nd_run *run)
{
    if (!run)
        return;
    struct nd_run_priv *pv = run->priv;
    nd_cluster_out_free(&run->clusters);
    if (pv) {
        free(pv->full);
        free(pv->keys);
        free(pv->sigs);
        spill_release(run);
        free(pv->texts);
        free(pv->tdigs);
        mem_release(pv->text_mem, run->threads);
        free(pv->site_tab);
        arena_free(&pv->arena);
        pthread_mutex_destroy(&pv->progress_mu);
        pthread_mutex_destroy(&pv->big_mu);
        free(pv->big);
        pthread_mutex_destroy(&pv->site_mu);
    }
    free(run->docs);
    for (size_t i = 0; i < run->n_sites; i++)
        free(run->sites[i]);
    free(run->sites);
    nd_filelist_free(&run->files);
    nd_boiler_free(run->boiler);
    if (run->method && run->method_state)
        run->method->desc->destroy(run->method_state);
    if (run->plugins) {
        nd_registry_free(run->plugins);
        free(run->plugins);
    }
    nd_problems_free(run->problems);
    free(pv);
    free(run);
}

int nd_run_compare(const nd_run *run, size_t a, size_t b, double *similarity,
                   double *containment)
{
    const uint32_t no_sig = ND_DOC_SKIPPED | ND_DOC_EMPTY | ND_DOC_TEMPLATE;
    if (a >= run->n_docs || b >= run->n_docs || (run->docs[a].flags & no_sig) ||
        (run->docs[b].flags & no_sig))
        return nd_fail(ND_EUSAGE, "document without a signature");
    const struct nd_run_priv *pv = run->priv;
    nd_score sc = {0, -1};
    run->method->desc->compare(run->method_state, pv->sigs + a * pv->sig_stride,
                               pv->sigs + b * pv->sig_stride, &sc);
    *similarity = sc.similarity;
    *containment = sc.containment;
    return ND_OK;
}

/* ---- re-reading for clean ---- */

size_t nd_run_files_reread(const nd_run *run)
{
    return atomic_load(&run->priv->reread);
}

int nd_run_text_digest(const nd_run *run, size_t doc, uint64_t digest[2])
{
    if (!run->priv->tdigs || doc >= run->n_docs || (run->docs[doc].flags & ND_DOC_SKIPPED))
        return nd_fail(ND_EUSAGE, "no text digest kept for document %zu", doc);
    memcpy(digest, run->priv->tdigs[doc], sizeof run->priv->tdigs[doc]);
    return ND_OK;
}

struct each_ctx {
    const nd_run *run;
    const uint8_t *want;
    bool strip;
    bool digest_only;         /* ND_EACH_DIGEST_ONLY, and pass 1 kept the digests */
    nd_run_text_fn fn;
    void *fctx;
    size_t next;              /* first document of this file not yet met */
    size_t end;               /* one past the last document of this file */
    nd_blocks blocks;
    nd_norm *norm;
    nd_buf nbuf, text;
    nd_toks toks;
    int no_mask;              /* test hook ND_TEST_NO_BOILER_MASK: normalise every block */
};

static int changed_doc(struct each_ctx *c, size_t k)
{
    if (c->want && !c->want[k])
        return 0;
    nd_problem(c->run->problems, ND_SKIPPED, c->run->files.paths[c->run->docs[k].file],
               "changed since read", "document no longer readable (source changed?)");
    return c->fn(c->fctx, k, NULL, "", 0);
}

/* Block b of document i, unless it is stripped. same: the bytes are those pass 1 read,
 * so its blocks are the same and the first 64 are known from the mask, not normalised
 * again (with --strip-boilerplate, clean's writing of the large jsonl went from 11.1 s
 * to 6.3 s). */
static int add_block(struct each_ctx *c, size_t i, size_t b, int same, const char *bt,
                     uint32_t bl)
{
    const nd_docrec *r = &c->run->docs[i];
    int rc;
    if (c->strip && same && b < 64 && !c->no_mask) {
        if (r->boiler_mask >> b & 1)
            return ND_OK;
    } else if (c->strip) {
        nd_buf_clear(&c->nbuf);
        c->toks.n = 0;
        if ((rc = nd_norm_block(c->norm, bt, bl, &c->nbuf, &c->toks, NULL)))
            return rc;
        if (c->toks.n && nd_boiler_is(c->run->boiler, r->site, XXH3_64bits(c->nbuf.p, c->nbuf.len)))
            return ND_OK;
    }
    if ((c->text.len && (rc = nd_buf_putc(&c->text, '\n'))) ||
        (rc = nd_buf_append(&c->text, bt, bl)))
        return rc;
    return ND_OK;
}

static int each_doc(void *ctx, const nd_rawdoc *raw)
{
    struct each_ctx *c = ctx;
    const nd_run *run = c->run;
    /* Match by (offset, record): the order is the file's own, as in pass 1. */
    size_t i = c->next;
    while (i < c->end && (run->docs[i].offset != raw->offset || run->docs[i].record != raw->record))
        i++;
    if (i == c->end)
        return 0;
    /* Documents passed over were read in pass 1 but not now: the source changed. */
    for (size_t k = c->next; k < i; k++) {
        int rc = changed_doc(c, k);
        if (rc)
            return rc;
    }
    c->next = i + 1;
    if (c->want && !c->want[i])
        return 0;
    int rc;
    nd_buf_clear(&c->text);
    if (!raw->skip_reason) {
        const nd_docrec *r = &run->docs[i];
        int same = raw->digest[0] == r->digest[0] && raw->digest[1] == r->digest[1];
        /* Same bytes, valid text: pass 1's digest is that of the text extracted now (a
         * tenth of the warc writing was this extraction). */
        if (c->digest_only && same && !(r->flags & (ND_DOC_BADUTF8 | ND_DOC_SKIPPED)))
            return c->fn(c->fctx, i, raw, NULL, 0);
        nd_blocks_clear(&c->blocks);
        rc = raw->is_html ? nd_html_extract(raw->body, raw->body_len, &c->blocks)
                          : nd_text_extract(raw->body, raw->body_len, &c->blocks);
        if (rc)
            return rc;
        for (size_t b = 0; b < c->blocks.n; b++)
            if ((rc = add_block(c, i, b, same, c->blocks.text.p + c->blocks.v[b].off,
                                c->blocks.v[b].len)))
                return rc;
    }
    return c->fn(c->fctx, i, raw, c->text.p ? c->text.p : "", c->text.len);
}

/* Document i from the text pass 1 kept (see struct text_loc), without reading it. */
static int kept_doc(struct each_ctx *c, size_t i)
{
    const nd_run *run = c->run;
    const nd_docrec *r = &run->docs[i];
    const struct text_loc *t = &run->priv->texts[i];
    const char *p = run->priv->text_mem[t->thread].p + t->off;
    uint32_t nb;
    memcpy(&nb, p, 4);
    const char *lens = p + 4, *text = lens + 4 * (size_t)nb;
    size_t tlen = t->len - 4 - 4 * (size_t)nb;
    nd_rawdoc raw = {
        .path = run->files.paths[r->file], .uri = r->uri, .date = r->date,
        .offset = r->offset, .record = r->record, .is_html = !!(r->flags & ND_DOC_HTML),
        .flags = r->flags & ND_DOC_PARTIAL ? ND_RAW_TRUNCATED : 0u,
        .digest = {r->digest[0], r->digest[1]}, .member_fd = -1,
    };
    if (!c->strip) /* the kept bytes are the text: no copy */
        return c->fn(c->fctx, i, &raw, text, tlen);
    nd_buf_clear(&c->text);
    int rc;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t bl;
        memcpy(&bl, lens + 4 * (size_t)b, 4);
        if ((rc = add_block(c, i, b, 1, text, bl)))
            return rc;
        text += bl + 1;
    }
    return c->fn(c->fctx, i, &raw, c->text.p ? c->text.p : "", c->text.len);
}

/* One file's documents in nd_run_each_text: served from pass 1's kept text, or read
 * again (from data when a batch read it whole). */
static int each_file(struct each_ctx *c, size_t i, size_t end, int take, int kept,
                     const char *data, size_t len)
{
    const nd_run *run = c->run;
    int rc = ND_OK;
    for (size_t k = i; kept && !rc && k < end; k++)
        if (!c->want || c->want[k])
            rc = kept_doc(c, k);
    if (!take || kept || rc)
        return rc;
    atomic_fetch_add(&run->priv->reread, 1);
    c->next = i;
    c->end = end;
    const char *path = run->files.paths[run->docs[i].file];
    int from_file = 1;
    nd_read_opts ro = {.max_doc_bytes = run->opts.max_doc_bytes, .from_file = &from_file};
    if (data)
        rc = nd_read_mem(path, data, len, &ro, NULL, each_doc, c);
    if (!rc && from_file)
        rc = nd_read_file(run->opts.root, path, &ro, NULL, each_doc, c);
    /* Documents the re-read no longer produced: the source changed under us. */
    for (size_t k = c->next; !rc && k < end; k++)
        rc = changed_doc(c, k);
    return rc;
}

int nd_run_each_text(const nd_run *run, const uint8_t *want, unsigned flags, nd_run_claim_fn claim,
                     nd_run_text_fn fn, void *ctx)
{
    bool strip = flags & ND_EACH_STRIP;
    struct each_ctx c = {.run = run, .want = want, .strip = strip, .fn = fn, .fctx = ctx,
                         .digest_only = !strip && (flags & ND_EACH_DIGEST_ONLY) && run->priv->tdigs};
    c.no_mask = getenv("ND_TEST_NO_BOILER_MASK") != NULL;
    nd_blocks_init(&c.blocks);
    int rc = nd_norm_new(&c.norm);
    /* Files to read again are read in batches, as in pass 1: each batch's files are
     * claimed ahead of their turn (claims are in order, so the same ones are taken)
     * and handed to fn in the same order as one by one. */
    unsigned slots;
    size_t slot_bytes;
    prefetch_shape(&slots, &slot_bytes);
    nd_prefetch *pf = NULL;
    if (!rc)
        rc = nd_prefetch_new(run->opts.root, slots, slot_bytes, &pf);
    enum { WINDOW = 256 };
    struct { size_t i, end; int take, kept; unsigned slot; } g[WINDOW];
    const char **rel = rc ? NULL : malloc((pf ? slots : 1) * sizeof *rel);
    if (!rc && !rel)
        rc = nd_fail(ND_ENOMEM, "out of memory");
    size_t i = 0;
    int last = 0;
    while (!rc && !last && i < run->n_docs) {
        size_t ng = 0;
        unsigned nr = 0;
        while (i < run->n_docs && ng < WINDOW && nr < (pf ? slots : 1)) {
            size_t end = i, first = SIZE_MAX;
            while (end < run->n_docs && run->docs[end].file == run->docs[i].file) {
                if (first == SIZE_MAX && (!want || want[end]))
                    first = end;
                end++;
            }
            int take = first != SIZE_MAX && claim ? claim(ctx, first) : first != SIZE_MAX;
            if (take < 0) {
                last = 1;
                break;
            }
            /* Served from pass 1's kept text when every wanted document of the file has it. */
            int kept = take && run->priv->texts;
            for (size_t k = i; kept && k < end; k++)
                kept = (want && !want[k]) || run->priv->texts[k].off != UINT64_MAX;
            g[ng].i = i;
            g[ng].end = end;
            g[ng].take = take;
            g[ng].kept = kept;
            g[ng].slot = UINT_MAX;
            if (take && !kept) {
                g[ng].slot = nr;
                rel[nr++] = run->files.paths[run->docs[i].file];
            }
            ng++;
            i = end;
        }
        if (pf && nr)
            nd_prefetch_run(pf, rel, nr);
        for (size_t k = 0; k < ng && !rc; k++) {
            size_t len = 0;
            int big = 0;
            const char *data = pf && g[k].slot != UINT_MAX ? nd_prefetch_get(pf, g[k].slot, &len, &big)
                                                           : NULL;
            rc = each_file(&c, g[k].i, g[k].end, g[k].take, g[k].kept, data, len);
        }
    }
    free(rel);
    nd_prefetch_free(pf);
    nd_toks_free(&c.toks);
    nd_buf_free(&c.text);
    nd_buf_free(&c.nbuf);
    nd_norm_free(c.norm);
    nd_blocks_free(&c.blocks);
    return rc;
}
