/* Per-site block counting for boilerplate learning (boiler.h). Pass 1 threads count, per
 * site, the documents containing each block hash in sharded open-addressing tables;
 * finish turns the counts into an immutable set that pass 2 reads without locks. */
#include "boiler.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Thresholds (nd_boiler_opts_default). A block is boilerplate for a site of D pages
 * when it is on at least T(D) of them:
 *
 *     T(D) = max(2, min_docs, min(max_docs, ceil(min_share * D)))
 *
 * - Small sites: the share decides. With min_share 0.5 a block on 2 of 3 pages (or 3
 *   of 5) is template: with so few pages nothing else can tell template from text, and
 *   lines shared by two different articles of one small site are nearly always nav,
 *   "related", "source:" or footer lines.
 * - Large sites: a share would ask too much (5% of 100k pages is 5000 pages, and a
 *   "most read" item stays on the list for a few days only), so max_docs caps T: a
 *   block on that many pages of ONE site is a repeated element of that site whatever
 *   the site's size.
 * - Syndication never reaches T: an article copied by other sites is counted once per
 *   site, so its paragraphs stay at 1 per site. Only a site that republishes the same
 *   text on at least T(D) of its own pages turns it into its boilerplate.
 * - Never below 2: a block on a single page is not repeated, and its text is not kept.
 * The values are measured on the generated crawl (corpora/gen.c, build/score). */
#define ND_BOILER_MIN_DOCS 2
#define ND_BOILER_MIN_SHARE 0.5
#define ND_BOILER_MAX_DOCS 10

/* Memory: one entry is 24 bytes and tables stay at most 3/4 full, so the default
 * budget of 48M entries (the point where a shard of 2^18 slots is full) is at most
 * 256 * 2^18 * 24 bytes = 1.5 GiB of tables, plus the text of repeated blocks. */
#define ND_BOILER_MAX_ENTRIES ((size_t)3 << 24)
#define ND_BOILER_SHARD_BITS_MAX 8

/* Sites: a fixed directory of lazily allocated chunks, so that a growing number of
 * sites needs no lock and no moving array (site ids are dense, given by the caller). */
#define ND_SITE_CHUNK_BITS 12
#define ND_SITE_CHUNK ((uint32_t)1 << ND_SITE_CHUNK_BITS)
#define ND_SITE_DIR 16384u /* 64M sites */

struct site_chunk {
    _Atomic uint32_t docs[ND_SITE_CHUNK];
};

/* One counted block. count == 0 marks an empty slot. delta is the lossy-counting
 * error bound of the entry: how many documents containing the block may have been
 * forgotten by pruning before this entry was (re)created (see prune()). */
struct entry {
    uint64_t hash;
    uint32_t site;
    uint32_t count;
    uint32_t delta;
    uint32_t text; /* 1 + index into shard texts, 0 while the block was seen once */
};

struct shard {
    pthread_mutex_t mu;
    struct entry *tab;
    size_t cap, n;      /* cap is a power of two, 0 before the first insert */
    char **texts;       /* NUL-terminated copies; NULL slots are free */
    uint32_t *text_lens;
    uint32_t n_texts, cap_texts;
    uint32_t *free_texts;
    uint32_t n_free;
    size_t budget;      /* entries before pruning: the shard's share of max_entries,
                           more when protected entries alone exceed it */
    uint32_t lost;      /* upper bound of any entry's forgotten count */
    uint64_t pruned;    /* entries dropped by pruning */
    uint32_t rounds;
    char pad[64];       /* keep neighbouring shards' locks off one cache line */
};

/* Pages already counted, by (site, content digest): a shard of an open-addressing set
 * of 128-bit keys, {0, 0} marking an empty slot. */
#define SEEN_SHARDS 64
struct seen_shard {
    pthread_mutex_t mu;
    uint64_t (*k)[2];
    size_t n, cap;
    char pad[64];
};

/* The immutable result of finish. */
struct set_slot {
    uint64_t hash;
    uint32_t site; /* UINT32_MAX: empty */
    uint32_t pad;
};

struct nd_boiler {
    nd_boiler_opts o;
    size_t shard_budget;    /* entries per shard before pruning */
    unsigned shard_bits;
    struct shard *shards;
    _Atomic(struct site_chunk *) *dir;
    _Atomic uint32_t n_sites; /* highest site id seen + 1 */
    struct seen_shard *seen;  /* SEEN_SHARDS of them */
    bool finished;

    /* after finish */
    nd_boiler_block *blocks; /* by site, then docs desc, then text */
    size_t n_blocks;
    size_t *site_off;        /* n_sites + 1 offsets into blocks */
    uint32_t *site_docs;     /* frozen copy of the counts */
    struct set_slot *set;
    size_t set_mask;
    nd_boiler_stats stats;
};

void nd_boiler_opts_default(nd_boiler_opts *o)
{
    o->min_docs = ND_BOILER_MIN_DOCS;
    o->min_share = ND_BOILER_MIN_SHARE;
    o->max_entries = ND_BOILER_MAX_ENTRIES;
    o->max_docs = ND_BOILER_MAX_DOCS;
}

uint32_t nd_boiler_threshold(const nd_boiler_opts *o, uint32_t site_docs)
{
    double want = o->min_share > 0 ? o->min_share * (double)site_docs : 0;
    uint32_t t = want >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)want;
    if ((double)t < want)
        t++; /* ceil without libm */
    if (o->max_docs && t > o->max_docs)
        t = o->max_docs;
    if (t < o->min_docs)
        t = o->min_docs;
    return t < 2 ? 2 : t;
}

/* (hash, site) to a well-spread 64-bit key: the same block on many sites (syndication,
 * a shared CMS footer) must not pile up on one probe sequence. Bijective in hash for
 * a given site. Top bits pick the shard, low bits the slot. */
static inline uint64_t mix(uint64_t h, uint32_t site)
{
    uint64_t x = h ^ ((uint64_t)site * 0x9E3779B97F4A7C15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static inline size_t shard_of(const nd_boiler *b, uint64_t m)
{
    return b->shard_bits ? (size_t)(m >> (64 - b->shard_bits)) : 0;
}

int nd_boiler_new(const nd_boiler_opts *o, nd_boiler **out)
{
    *out = NULL;
    nd_boiler *b = calloc(1, sizeof *b);
    if (!b)
        return nd_fail(ND_ENOMEM, "out of memory");
    if (o)
        b->o = *o;
    else
        nd_boiler_opts_default(&b->o);
    if (!b->o.max_entries)
        b->o.max_entries = ND_BOILER_MAX_ENTRIES;
    /* Enough shards that threads rarely meet on a lock, but each keeps a budget of at
     * least 1024 entries so that a small budget still prunes sensibly. */
    unsigned bits = 0;
    while (bits < ND_BOILER_SHARD_BITS_MAX && (b->o.max_entries >> (bits + 1)) >= 1024)
        bits++;
    b->shard_bits = bits;
    size_t ns = (size_t)1 << bits;
    b->shard_budget = b->o.max_entries / ns;
    if (b->shard_budget < 1)
        b->shard_budget = 1;
    b->shards = calloc(ns, sizeof *b->shards);
    b->dir = calloc(ND_SITE_DIR, sizeof *b->dir);
    b->seen = calloc(SEEN_SHARDS, sizeof *b->seen);
    if (!b->shards || !b->dir || !b->seen) {
        free(b->seen);
        free(b->shards);
        free(b->dir);
        free(b);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ns; i++)
        pthread_mutex_init(&b->shards[i].mu, NULL);
    for (size_t i = 0; i < SEEN_SHARDS; i++)
        pthread_mutex_init(&b->seen[i].mu, NULL);
    atomic_init(&b->n_sites, 0);
    *out = b;
    return ND_OK;
}

static void shard_release(struct shard *s)
{
    for (uint32_t i = 0; i < s->n_texts; i++)
        free(s->texts[i]);
    free(s->texts);
    free(s->text_lens);
    free(s->free_texts);
    free(s->tab);
    s->texts = NULL;
    s->text_lens = NULL;
    s->free_texts = NULL;
    __atomic_store_n(&s->tab, NULL, __ATOMIC_RELAXED);
    s->n_texts = s->cap_texts = s->n_free = 0;
    __atomic_store_n(&s->cap, 0, __ATOMIC_RELAXED);
    s->n = 0;
}

static void seen_release(nd_boiler *b)
{
    for (size_t i = 0; b->seen && i < SEEN_SHARDS; i++) {
        free(b->seen[i].k);
        pthread_mutex_destroy(&b->seen[i].mu);
    }
    free(b->seen);
    b->seen = NULL;
}

void nd_boiler_free(nd_boiler *b)
{
    if (!b)
        return;
    if (b->shards) {
        size_t ns = (size_t)1 << b->shard_bits;
        for (size_t i = 0; i < ns; i++) {
            shard_release(&b->shards[i]);
            pthread_mutex_destroy(&b->shards[i].mu);
        }
        free(b->shards);
    }
    if (b->dir) {
        for (size_t i = 0; i < ND_SITE_DIR; i++)
            free(atomic_load_explicit(&b->dir[i], memory_order_relaxed));
        free(b->dir);
    }
    for (size_t i = 0; i < b->n_blocks; i++)
        free((char *)b->blocks[i].text);
    free(b->blocks);
    free(b->site_off);
    free(b->site_docs);
    free(b->set);
    seen_release(b);
    free(b);
}

/* ---- counting ---- */

static void seen_put(uint64_t (*k)[2], size_t cap, const uint64_t key[2])
{
    size_t j = (size_t)key[0] & (cap - 1);
    while (k[j][0] | k[j][1])
        j = (j + 1) & (cap - 1);
    k[j][0] = key[0];
    k[j][1] = key[1];
}

int nd_boiler_seen(nd_boiler *b, uint32_t site, const uint64_t digest[2])
{
    if (!b->seen) /* nd_boiler_new made it; only a finished model has none */
        return nd_fail(ND_EINTERNAL, "boilerplate: page added after finish");
    uint64_t key[2] = {mix(digest[0], site), digest[1] ^ site};
    if (!(key[0] | key[1]))
        key[1] = 1; /* {0, 0} marks an empty slot */
    struct seen_shard *s = &b->seen[key[0] >> 58];
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (s->cap) {
        for (size_t j = (size_t)key[0] & (s->cap - 1); s->k[j][0] | s->k[j][1];
             j = (j + 1) & (s->cap - 1))
            if (s->k[j][0] == key[0] && s->k[j][1] == key[1]) {
                rc = 1;
                goto out;
            }
    }
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t (*k)[2] = calloc(cap, sizeof *k);
        if (!k) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t j = 0; j < s->cap; j++)
            if (s->k[j][0] | s->k[j][1])
                seen_put(k, cap, s->k[j]);
        free(s->k);
        s->k = k;
        s->cap = cap;
    }
    seen_put(s->k, s->cap, key);
    s->n++;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int site_count_doc(nd_boiler *b, uint32_t site)
{
    uint32_t d = site >> ND_SITE_CHUNK_BITS;
    if (d >= ND_SITE_DIR)
        return nd_fail(ND_ELIMIT, "boilerplate: too many sites (%u)", site);
    struct site_chunk *c = atomic_load_explicit(&b->dir[d], memory_order_acquire);
    if (!c) {
        struct site_chunk *fresh = calloc(1, sizeof *fresh);
        if (!fresh)
            return nd_fail(ND_ENOMEM, "out of memory");
        if (atomic_compare_exchange_strong_explicit(&b->dir[d], &c, fresh,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire))
            c = fresh;
        else
            free(fresh); /* another thread won; c holds its chunk */
    }
    atomic_fetch_add_explicit(&c->docs[site & (ND_SITE_CHUNK - 1)], 1, memory_order_relaxed);
    uint32_t cur = atomic_load_explicit(&b->n_sites, memory_order_relaxed);
    while (cur <= site && !atomic_compare_exchange_weak_explicit(
                              &b->n_sites, &cur, site + 1, memory_order_relaxed,
                              memory_order_relaxed))
        ;
    return ND_OK;
}

static uint32_t site_docs_live(const nd_boiler *b, uint32_t site)
{
    uint32_t d = site >> ND_SITE_CHUNK_BITS;
    if (d >= ND_SITE_DIR)
        return 0;
    struct site_chunk *c = atomic_load_explicit(&b->dir[d], memory_order_acquire);
    return c ? atomic_load_explicit(&c->docs[site & (ND_SITE_CHUNK - 1)],
                                    memory_order_relaxed)
             : 0;
}

/* Place e in a table known to have room and not to hold it. */
static void table_put(struct entry *tab, size_t cap, const struct entry *e)
{
    size_t mask = cap - 1;
    size_t j = (size_t)mix(e->hash, e->site) & mask;
    while (tab[j].count)
        j = (j + 1) & mask;
    tab[j] = *e;
}

static int shard_rehash(struct shard *s, size_t cap)
{
    struct entry *t = calloc(cap, sizeof *t);
    if (!t)
        return nd_fail(ND_ENOMEM, "out of memory for the boilerplate table");
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].count)
            table_put(t, cap, &s->tab[i]);
    free(s->tab);
    /* Atomic stores: nd_boiler_add_doc reads both without the lock, for a prefetch. */
    __atomic_store_n(&s->tab, t, __ATOMIC_RELAXED);
    __atomic_store_n(&s->cap, cap, __ATOMIC_RELAXED);
    return ND_OK;
}

static void text_drop(struct shard *s, uint32_t ref)
{
    if (!ref)
        return;
    free(s->texts[ref - 1]);
    s->texts[ref - 1] = NULL;
    s->free_texts[s->n_free++] = ref - 1; /* room: free_texts has cap_texts slots */
}

/* Lossy counting (Manku & Motwani, 2002) driven by the memory budget instead of fixed
 * buckets. Invariant: count <= true count <= count + delta, delta <= lost. A round at
 * level p drops entries whose true count may be at most p (count + delta <= p); such
 * a block may come back later, so new entries start with delta = lost >= p. The level
 * starts at lost + 1, which at first means "seen on one page only": in a table big
 * enough to need pruning such a block is very unlikely to reach T, and a template
 * block's count grows with every page of its site while the level grows by one per
 * round (a round per budget/4 new distinct blocks in the shard). If that frees too
 * little the level jumps to what does.
 * Entries already at their site's threshold are never dropped: a small site finished
 * long ago keeps its boilerplate however far the level has risen (there are few such
 * entries; if they alone fill the shard it grows past the budget).
 * finish decides on count, the lower bound: pruning can hide boilerplate (by at most
 * `lost` pages, nd_boiler_stats.max_undercount) but never invent it. */
static bool protected_entry(const nd_boiler *b, const struct entry *e)
{
    return e->count >= nd_boiler_threshold(&b->o, site_docs_live(b, e->site));
}

static size_t prune_level(const nd_boiler *b, struct shard *s, uint32_t p)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->cap; i++) {
        struct entry *e = &s->tab[i];
        if (!e->count)
            continue;
        if ((uint64_t)e->count + e->delta <= p && !protected_entry(b, e)) {
            text_drop(s, e->text);
            e->count = 0;
            s->pruned++;
        } else {
            kept++;
        }
    }
    s->n = kept;
    if (p > s->lost)
        s->lost = p;
    s->rounds++;
    return kept;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int prune(const nd_boiler *b, struct shard *s)
{
    size_t target = b->shard_budget - b->shard_budget / 4;
    uint32_t p = s->lost < UINT32_MAX ? s->lost + 1 : UINT32_MAX;
    if (prune_level(b, s, p) > target) {
        /* Rare: most entries are repeated. Jump straight to the level that frees
         * enough rather than raising it one page at a time. */
        uint32_t *u = malloc(s->n * sizeof *u);
        if (!u) {
            shard_rehash(s, s->cap); /* keep the table consistent for the caller */
            return nd_fail(ND_ENOMEM, "out of memory");
        }
        size_t k = 0;
        for (size_t i = 0; i < s->cap; i++) {
            const struct entry *e = &s->tab[i];
            if (e->count && !protected_entry(b, e)) {
                uint64_t up = (uint64_t)e->count + e->delta;
                u[k++] = up > UINT32_MAX ? UINT32_MAX : (uint32_t)up;
            }
        }
        if (k) {
            size_t drop = s->n - target; /* > 0 */
            qsort(u, k, sizeof *u, u32_cmp);
            prune_level(b, s, u[(drop < k ? drop : k) - 1]);
        }
        free(u);
    }
    /* Protected entries alone may exceed the target: let the shard grow rather than
     * rescan it on every insert. */
    if (s->n > target)
        s->budget = s->n + b->shard_budget / 4 + 1;
    /* Dropping from a linear-probing table breaks probe chains: rebuild. */
    return shard_rehash(s, s->cap);
}

/* Keep one copy of a repeated block's text: the smallest variant seen, so that the
 * report does not depend on which thread counted which page first. */
static int text_keep(struct shard *s, struct entry *e, const char *t, uint32_t len)
{
    if (e->text) {
        const char *old = s->texts[e->text - 1];
        uint32_t olen = s->text_lens[e->text - 1];
        size_t m = len < olen ? len : olen;
        int c = memcmp(t, old, m);
        if (c > 0 || (c == 0 && len >= olen))
            return ND_OK;
    }
    char *copy = malloc((size_t)len + 1);
    if (!copy)
        return nd_fail(ND_ENOMEM, "out of memory");
    memcpy(copy, t, len);
    copy[len] = '\0';
    if (e->text) {
        free(s->texts[e->text - 1]);
        s->texts[e->text - 1] = copy;
        s->text_lens[e->text - 1] = len;
        return ND_OK;
    }
    uint32_t idx;
    if (s->n_free) {
        idx = s->free_texts[--s->n_free];
    } else {
        if (s->n_texts == s->cap_texts) {
            if (s->cap_texts >= UINT32_MAX / 2) {
                free(copy);
                return nd_fail(ND_ELIMIT, "boilerplate: too many repeated blocks");
            }
            uint32_t cap = s->cap_texts ? s->cap_texts * 2 : 64;
            char **v = realloc(s->texts, cap * sizeof *v);
            if (v)
                s->texts = v;
            uint32_t *l = v ? realloc(s->text_lens, cap * sizeof *l) : NULL;
            if (l)
                s->text_lens = l;
            uint32_t *f = l ? realloc(s->free_texts, cap * sizeof *f) : NULL;
            if (!f) {
                free(copy);
                return nd_fail(ND_ENOMEM, "out of memory");
            }
            s->free_texts = f;
            s->cap_texts = cap;
        }
        idx = s->n_texts++;
    }
    s->texts[idx] = copy;
    s->text_lens[idx] = len;
    e->text = idx + 1;
    return ND_OK;
}

static int shard_add(nd_boiler *b, struct shard *s, uint64_t m, uint64_t h, uint32_t site,
                     const char *text, uint32_t len)
{
    if (s->cap) {
        size_t mask = s->cap - 1;
        for (size_t j = (size_t)m & mask; s->tab[j].count; j = (j + 1) & mask) {
            struct entry *e = &s->tab[j];
            if (e->hash == h && e->site == site) {
                if (e->count < UINT32_MAX)
                    e->count++;
                return text ? text_keep(s, e, text, len) : ND_OK;
            }
        }
    }
    int rc;
    if (!s->budget)
        s->budget = b->shard_budget;
    if (s->n + 1 > s->budget && (rc = prune(b, s)))
        return rc;
    if ((s->n + 1) * 4 > s->cap * 3 && (rc = shard_rehash(s, s->cap ? s->cap * 2 : 64)))
        return rc;
    struct entry e = {.hash = h, .site = site, .count = 1, .delta = s->lost, .text = 0};
    table_put(s->tab, s->cap, &e);
    s->n++;
    return ND_OK;
}

struct item {
    uint64_t m;
    uint32_t i;
};

static int item_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct item *)a)->m, y = ((const struct item *)b)->m;
    return (x > y) - (x < y);
}

int nd_boiler_add_doc(nd_boiler *b, uint32_t site, const uint64_t *hashes,
                      const char *const *texts, const uint32_t *lens, size_t n)
{
    if (b->finished)
        return nd_fail(ND_EINTERNAL, "boilerplate: document added after finish");
    if (site == UINT32_MAX)
        return nd_fail(ND_ELIMIT, "boilerplate: too many sites");
    int rc = site_count_doc(b, site);
    if (rc || n == 0)
        return rc;
    /* Sort the page's blocks by key: duplicates fall together (counted once) and each
     * shard's lock is taken once per page. */
    struct item stack[256];
    struct item *it = n <= 256 ? stack : malloc(n * sizeof *it);
    if (!it)
        return nd_fail(ND_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        it[i].m = mix(hashes[i], site);
        it[i].i = (uint32_t)i;
    }
    if (n <= 48) { /* a page's usual count: no call per comparison */
        for (size_t a = 1; a < n; a++) {
            struct item x = it[a];
            size_t j = a;
            for (; j > 0 && it[j - 1].m > x.m; j--)
                it[j] = it[j - 1];
            it[j] = x;
        }
    } else {
        qsort(it, n, sizeof *it, item_cmp);
    }
#ifdef __GNUC__
    /* Each block's probe is a cache miss into a large table: ask for all of them
     * before the first is needed. Read without the lock, tab and cap may be one
     * rehash old; a prefetch of a stale slot is only a wasted hint (it never faults). */
    for (size_t j = 0; j < n; j++) {
        struct shard *s = &b->shards[shard_of(b, it[j].m)];
        const struct entry *t = __atomic_load_n(&s->tab, __ATOMIC_RELAXED);
        size_t cap = __atomic_load_n(&s->cap, __ATOMIC_RELAXED);
        if (t && cap)
            __builtin_prefetch(&t[(size_t)it[j].m & (cap - 1)]);
    }
#endif
    size_t i = 0;
    while (i < n && !rc) {
        size_t sh = shard_of(b, it[i].m);
        struct shard *s = &b->shards[sh];
        pthread_mutex_lock(&s->mu);
        for (; i < n && shard_of(b, it[i].m) == sh; i++) {
            if (i > 0 && it[i].m == it[i - 1].m)
                continue;
            uint32_t k = it[i].i;
            if ((rc = shard_add(b, s, it[i].m, hashes[k], site, texts ? texts[k] : NULL,
                                texts && lens ? lens[k] : 0)))
                break;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (it != stack)
        free(it);
    return rc;
}

/* ---- decision ---- */

static int block_cmp(const void *a, const void *b)
{
    const nd_boiler_block *x = a, *y = b;
    if (x->docs != y->docs)
        return x->docs > y->docs ? -1 : 1;
    if (x->text && y->text) {
        int c = strcmp(x->text, y->text);
        if (c)
            return c;
    } else if (x->text != y->text) {
        return x->text ? -1 : 1;
    }
    return (x->hash > y->hash) - (x->hash < y->hash);
}

int nd_boiler_finish(nd_boiler *b)
{
    if (b->finished)
        return ND_OK;
    seen_release(b); /* no page comes after the last add */
    uint32_t ns_sites = atomic_load(&b->n_sites);
    size_t nsh = (size_t)1 << b->shard_bits;
    int rc = ND_OK;

    b->site_docs = calloc((size_t)ns_sites + 1, sizeof *b->site_docs);
    b->site_off = calloc((size_t)ns_sites + 1, sizeof *b->site_off);
    if (!b->site_docs || !b->site_off)
        return nd_fail(ND_ENOMEM, "out of memory");
    for (uint32_t s = 0; s < ns_sites; s++)
        b->site_docs[s] = site_docs_live(b, s);

    /* Count the winners per site first (site_off as a histogram), then place them. */
    size_t total = 0;
    for (size_t k = 0; k < nsh; k++) {
        struct shard *s = &b->shards[k];
        b->stats.entries += s->n;
        b->stats.pruned += s->pruned;
        b->stats.prune_rounds += s->rounds;
        if (s->lost > b->stats.max_undercount)
            b->stats.max_undercount = s->lost;
        for (size_t i = 0; i < s->cap; i++) {
            const struct entry *e = &s->tab[i];
            if (e->count && e->site < ns_sites &&
                e->count >= nd_boiler_threshold(&b->o, b->site_docs[e->site])) {
                b->site_off[e->site + 1]++;
                total++;
            }
        }
    }
    for (uint32_t s = 0; s < ns_sites; s++)
        b->site_off[s + 1] += b->site_off[s];
    b->blocks = calloc(total ? total : 1, sizeof *b->blocks);
    size_t set_cap = 16;
    while (set_cap < total * 2)
        set_cap *= 2;
    b->set = malloc(set_cap * sizeof *b->set);
    size_t *fill = calloc((size_t)ns_sites + 1, sizeof *fill);
    if (!b->blocks || !b->set || !fill) {
        free(fill);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < set_cap; i++)
        b->set[i] = (struct set_slot){0, UINT32_MAX, 0};
    b->set_mask = set_cap - 1;
    memcpy(fill, b->site_off, ((size_t)ns_sites + 1) * sizeof *fill);

    for (size_t k = 0; k < nsh; k++) {
        struct shard *s = &b->shards[k];
        for (size_t i = 0; i < s->cap; i++) {
            struct entry *e = &s->tab[i];
            if (!e->count || e->site >= ns_sites ||
                e->count < nd_boiler_threshold(&b->o, b->site_docs[e->site]))
                continue;
            nd_boiler_block *bb = &b->blocks[fill[e->site]++];
            bb->hash = e->hash;
            bb->docs = e->count;
            bb->text = NULL;
            if (e->text) { /* steal the text: the counting tables go away below */
                bb->text = s->texts[e->text - 1];
                s->texts[e->text - 1] = NULL;
            }
            size_t j = (size_t)mix(e->hash, e->site) & b->set_mask;
            while (b->set[j].site != UINT32_MAX)
                j = (j + 1) & b->set_mask;
            b->set[j] = (struct set_slot){e->hash, e->site, 0};
        }
        /* Pass 2 needs none of the counts: give the memory back now. */
        shard_release(s);
    }
    free(fill);
    b->n_blocks = total;
    for (uint32_t s = 0; s < ns_sites; s++) {
        size_t n = b->site_off[s + 1] - b->site_off[s];
        if (n > 1)
            qsort(b->blocks + b->site_off[s], n, sizeof *b->blocks, block_cmp);
    }
    b->stats.sites = ns_sites;
    b->stats.blocks = total;
    b->finished = true;
    return rc;
}

bool nd_boiler_is(const nd_boiler *b, uint32_t site, uint64_t hash)
{
    if (!b || !b->finished)
        return false;
    size_t j = (size_t)mix(hash, site) & b->set_mask;
    for (; b->set[j].site != UINT32_MAX; j = (j + 1) & b->set_mask)
        if (b->set[j].hash == hash && b->set[j].site == site)
            return true;
    return false;
}

uint32_t nd_boiler_site_docs(const nd_boiler *b, uint32_t site)
{
    if (!b)
        return 0;
    if (b->finished)
        return site < b->stats.sites ? b->site_docs[site] : 0;
    return site_docs_live(b, site);
}

const nd_boiler_block *nd_boiler_site_blocks(const nd_boiler *b, uint32_t site, size_t *n)
{
    *n = 0;
    if (!b || !b->finished || site >= b->stats.sites)
        return NULL;
    *n = b->site_off[site + 1] - b->site_off[site];
    return *n ? b->blocks + b->site_off[site] : NULL;
}

void nd_boiler_get_stats(const nd_boiler *b, nd_boiler_stats *st)
{
    *st = b->stats;
}
