/* Clustering: documents that share a candidate key (same key index) are compared with
 * the plugin's compare(); verified pairs feed a leader clustering in representative
 * order (priority, index), so every member is verified against its representative. */
#include "cluster.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Buckets up to this size are compared all-pairs; larger ones (thousands of exact
 * copies, a shared template) compare each member only with the bucket's local
 * representatives, at most ND_BUCKET_REPS of them, so a bucket costs O(m x reps). */
#define ND_SMALL_BUCKET 24
#define ND_BUCKET_REPS 48
/* When a document has no verified edge to a cluster leader, it is compared with the
 * leaders of its neighbours' clusters, at most this many. */
#define ND_INDIRECT_LEADERS 16
/* Buckets handed to a worker at a time. */
#define ND_CHUNK 256

typedef struct nd_kv64 {
    uint64_t k;
    uint64_t v;
} nd_kv64;

/* A growable vector of nd_kv64 owned by one worker. */
typedef struct nd_kvvec {
    nd_kv64 *p;
    size_t len, cap;
} nd_kvvec;

static int kvvec_push(nd_kvvec *v, uint64_t k, uint64_t val)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        nd_kv64 *p = realloc(v->p, cap * sizeof *p);
        if (!p)
            return ND_ENOMEM;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->len].k = k;
    v->p[v->len].v = val;
    v->len++;
    return ND_OK;
}

/* Stable LSD radix sort on k, 8 bits a pass, skipping passes where every item has the
 * same digit. Returns whichever of a/tmp holds the result. Stability matters: items
 * go in by rank, so each bucket comes out in rank order. */
static nd_kv64 *radix_sort(nd_kv64 *a, nd_kv64 *tmp, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i].k;
        for (int d = 0; d < 8; d++)
            count[d][(k >> (8 * d)) & 0xff]++;
    }
    nd_kv64 *src = a, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (n == 0 || c[(src[0].k >> (8 * d)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            size_t t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].k >> (8 * d)) & 0xff]++] = src[i];
        nd_kv64 *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

static uint64_t pack_score(float sim, float cont)
{
    uint32_t a, b;
    memcpy(&a, &sim, 4);
    memcpy(&b, &cont, 4);
    return (uint64_t)a << 32 | b;
}

static void unpack_score(uint64_t v, float *sim, float *cont)
{
    uint32_t a = (uint32_t)(v >> 32), b = (uint32_t)v;
    memcpy(sim, &a, 4);
    memcpy(cont, &b, 4);
}

typedef struct nd_ctx {
    const nd_cluster_in *in;
    size_t nk;              /* keys per document */
    uint32_t E;             /* eligible documents */
    uint32_t *doc;          /* rank -> document index */
    /* the column being processed */
    size_t col;
    const nd_kv64 *sorted;  /* the buckets' members (key, rank), by key then rank */
    const size_t *bstart;   /* bucket starts into sorted; bucket b = [bstart[b], bstart[b+1]) */
    size_t n_buckets;
    _Atomic size_t next;    /* next bucket chunk to take */
    /* big-bucket keys of the columns already processed: bigkeys[c], sorted */
    uint64_t **bigkeys;
    size_t *n_bigkeys;
} nd_ctx;

typedef struct nd_worker {
    nd_ctx *ctx;
    nd_kvvec edges;         /* k = rank_b << 32 | rank_a (a < b), v = packed score */
    uint64_t candidates, verified;
    int rc;
} nd_worker;

static bool score_passes(const nd_cluster_in *in, const nd_score *s)
{
    if (s->similarity >= in->threshold)
        return true;
    return in->containment <= 1.0 && s->containment >= 0.0 && s->containment <= 1.0 &&
           s->containment >= in->containment;
}

static bool verify(const nd_ctx *c, uint32_t ra, uint32_t rb, nd_score *s)
{
    const nd_cluster_in *in = c->in;
    size_t sz = in->info->sig_size;
    in->plugin->compare(in->state, in->sigs + (size_t)c->doc[ra] * sz,
                        in->sigs + (size_t)c->doc[rb] * sz, s);
    return score_passes(in, s);
}

static bool is_big(const nd_ctx *c, size_t col, uint64_t key)
{
    const uint64_t *a = c->bigkeys[col];
    size_t lo = 0, hi = c->n_bigkeys[col];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n_bigkeys[col] && a[lo] == key;
}

/* A pair in a small bucket was already compared if it shares an earlier column's
 * small bucket: each pair is compared once, in the first column that pairs it. */
static bool seen_before(const nd_ctx *c, uint32_t ra, uint32_t rb)
{
    const uint64_t *ka = c->in->keys + (size_t)c->doc[ra] * c->nk;
    const uint64_t *kb = c->in->keys + (size_t)c->doc[rb] * c->nk;
    for (size_t j = 0; j < c->col; j++)
        if (ka[j] == kb[j] && !is_big(c, j, ka[j]))
            return true;
    return false;
}

static int add_edge(nd_worker *w, uint32_t ra, uint32_t rb, const nd_score *s)
{
    w->verified++;
    return kvvec_push(&w->edges, (uint64_t)rb << 32 | ra,
                      pack_score((float)s->similarity, (float)s->containment));
}

static int do_small_bucket(nd_worker *w, const nd_kv64 *m, size_t len)
{
    const nd_ctx *c = w->ctx;
    nd_score s;
    for (size_t i = 0; i < len; i++) {
        for (size_t j = i + 1; j < len; j++) {
            uint32_t ra = (uint32_t)m[i].v, rb = (uint32_t)m[j].v;
            if (c->col && seen_before(c, ra, rb))
                continue;
            w->candidates++;
            if (verify(c, ra, rb, &s) && add_edge(w, ra, rb, &s))
                return ND_ENOMEM;
        }
    }
    return ND_OK;
}

/* Members in rank order; each is compared with the local representatives met so far
 * and becomes one itself when it verifies against none (until the cap). */
static int do_big_bucket(nd_worker *w, const nd_kv64 *m, size_t len)
{
    const nd_ctx *c = w->ctx;
    uint32_t reps[ND_BUCKET_REPS];
    size_t n_reps = 0;
    nd_score s;
    for (size_t i = 0; i < len; i++) {
        uint32_t rb = (uint32_t)m[i].v;
        bool matched = false;
        for (size_t r = 0; r < n_reps; r++) {
            w->candidates++;
            if (verify(c, reps[r], rb, &s)) {
                matched = true;
                if (add_edge(w, reps[r], rb, &s))
                    return ND_ENOMEM;
            }
        }
        if (!matched && n_reps < ND_BUCKET_REPS)
            reps[n_reps++] = rb;
    }
    return ND_OK;
}

static void *worker_main(void *arg)
{
    nd_worker *w = arg;
    nd_ctx *c = w->ctx;
    for (;;) {
        size_t b0 = atomic_fetch_add(&c->next, ND_CHUNK);
        if (b0 >= c->n_buckets)
            break;
        size_t b1 = b0 + ND_CHUNK < c->n_buckets ? b0 + ND_CHUNK : c->n_buckets;
        for (size_t b = b0; b < b1; b++) {
            size_t len = c->bstart[b + 1] - c->bstart[b];
            const nd_kv64 *m = c->sorted + c->bstart[b];
            int rc = len <= ND_SMALL_BUCKET ? do_small_bucket(w, m, len)
                                            : do_big_bucket(w, m, len);
            if (rc) {
                w->rc = rc;
                atomic_store(&c->next, c->n_buckets); /* stop everyone */
                return NULL;
            }
        }
    }
    return NULL;
}

/* Run worker_main on `threads` workers (the calling thread is one of them). */
static int run_workers(nd_worker *ws, unsigned threads)
{
    pthread_t tid[64];
    unsigned started = 0;
    for (unsigned t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, worker_main, &ws[t]) != 0)
            break;
        started = t;
    }
    worker_main(&ws[0]);
    for (unsigned t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    /* a worker that could not start leaves its share to the others: nothing lost */
    for (unsigned t = 0; t < threads; t++)
        if (ws[t].rc)
            return ws[t].rc;
    return ND_OK;
}

typedef struct nd_prio {
    uint64_t priority;
    uint32_t index;
} nd_prio;

static int prio_cmp(const void *pa, const void *pb)
{
    const nd_prio *a = pa, *b = pb;
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

typedef struct nd_clu {
    uint32_t leader;    /* rank */
    uint32_t size;
    uint32_t min_index; /* smallest document index among members */
} nd_clu;

static int clu_cmp(const void *pa, const void *pb)
{
    const nd_clu *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->min_index < b->min_index ? -1 : a->min_index > b->min_index;
}

/* Sort the verified edges by (b, a) and drop duplicates (same pair from several
 * columns or big buckets: compare() is pure, so their scores agree). */
static nd_kv64 *sort_edges(nd_kv64 *e, nd_kv64 *tmp, size_t *n)
{
    nd_kv64 *s = radix_sort(e, tmp, *n);
    size_t o = 0;
    for (size_t i = 0; i < *n; i++)
        if (o == 0 || s[o - 1].k != s[i].k)
            s[o++] = s[i];
    *n = o;
    return s;
}

static int alloc_out(nd_cluster_out *out, size_t n)
{
    memset(out, 0, sizeof *out);
    size_t m = n ? n : 1;
    out->cluster = malloc(m * sizeof *out->cluster);
    out->rep = malloc(m * sizeof *out->rep);
    out->similarity = malloc(m * sizeof *out->similarity);
    out->containment = malloc(m * sizeof *out->containment);
    if (!out->cluster || !out->rep || !out->similarity || !out->containment) {
        nd_cluster_out_free(out);
        return nd_fail(ND_ENOMEM, "out of memory for the clustering of %zu documents", n);
    }
    for (size_t i = 0; i < n; i++) {
        out->cluster[i] = -1;
        out->rep[i] = (uint32_t)i;
        out->similarity[i] = 1.0f;
        out->containment[i] = -1.0f;
    }
    return ND_OK;
}

/* Phase 1: each column sorted into buckets (runs of equal keys, in rank order) and
 * its buckets compared by the workers; verified edges collect in the workers. */
static int find_edges(nd_ctx *c, nd_worker *ws, unsigned threads)
{
    const nd_cluster_in *in = c->in;
    uint32_t E = c->E;
    nd_kv64 *a = malloc((size_t)E * sizeof *a), *tmp = malloc((size_t)E * sizeof *tmp);
    size_t *bstart = malloc(((size_t)E / 2 + 2) * sizeof *bstart);
    int rc = ND_OK;
    if (!a || !tmp || !bstart) {
        rc = nd_fail(ND_ENOMEM, "out of memory sorting %u candidate keys", (unsigned)E);
        goto out;
    }
    for (size_t col = 0; col < c->nk; col++) {
        for (uint32_t r = 0; r < E; r++) {
            a[r].k = in->keys[(size_t)c->doc[r] * c->nk + col];
            a[r].v = r;
        }
        nd_kv64 *s = radix_sort(a, tmp, E);
        /* pack the buckets (runs of two or more) to the front of s, so that bucket b
         * is [bstart[b], bstart[b+1]); note the keys of the big ones */
        size_t nb = 0, o = 0, n_big = 0;
        for (size_t i = 0; i < E;) {
            size_t j = i + 1;
            while (j < E && s[j].k == s[i].k)
                j++;
            if (j - i >= 2)
                n_big += j - i > ND_SMALL_BUCKET;
            i = j;
        }
        uint64_t *big = n_big ? malloc(n_big * sizeof *big) : NULL;
        if (n_big && !big) {
            rc = nd_fail(ND_ENOMEM, "out of memory listing candidate buckets");
            goto out;
        }
        c->bigkeys[col] = big;
        n_big = 0;
        for (size_t i = 0; i < E;) {
            size_t j = i + 1;
            while (j < E && s[j].k == s[i].k)
                j++;
            if (j - i >= 2) {
                if (j - i > ND_SMALL_BUCKET)
                    big[n_big++] = s[i].k;
                bstart[nb++] = o;
                memmove(s + o, s + i, (j - i) * sizeof *s);
                o += j - i;
            }
            i = j;
        }
        bstart[nb] = o;
        c->n_bigkeys[col] = n_big; /* sorted: the runs come in key order */
        if (!nb)
            continue;
        c->col = col;
        c->sorted = s;
        c->bstart = bstart;
        c->n_buckets = nb;
        atomic_store(&c->next, 0);
        rc = run_workers(ws, nb < (size_t)ND_CHUNK * 2 ? 1 : threads);
        if (rc) {
            rc = nd_fail(rc, "out of memory collecting verified pairs");
            goto out;
        }
    }
out:
    free(a);
    free(tmp);
    free(bstart);
    return rc;
}

/* Phase 2: leader clustering in rank order. A document joins the best leader it has a
 * verified edge to; failing that, the best verifying leader among its neighbours'
 * leaders; failing that, it leads a new cluster. Members are thus always verified
 * against their representative, which stops chains A~B~...~Z from merging. */
static int assign(nd_ctx *c, const nd_kv64 *e, size_t ne, nd_cluster_out *out,
                  uint32_t *leader, float *sim, float *cont, float self_cont)
{
    uint32_t E = c->E;
    size_t ei = 0;
    for (uint32_t d = 0; d < E; d++) {
        size_t e0 = ei;
        while (ei < ne && (uint32_t)(e[ei].k >> 32) == d)
            ei++;
        uint32_t best = UINT32_MAX;
        float bs = 0, bc = -1;
        for (size_t i = e0; i < ei; i++) {
            uint32_t a = (uint32_t)e[i].k;
            if (leader[a] != a)
                continue;
            float s, k;
            unpack_score(e[i].v, &s, &k);
            if (best == UINT32_MAX || s > bs) {
                best = a;
                bs = s;
                bc = k;
            }
        }
        if (best == UINT32_MAX && ei > e0) {
            uint32_t seen[ND_INDIRECT_LEADERS];
            size_t n_seen = 0;
            for (size_t i = e0; i < ei && n_seen < ND_INDIRECT_LEADERS; i++) {
                uint32_t l = leader[(uint32_t)e[i].k];
                bool dup = false;
                for (size_t j = 0; j < n_seen; j++)
                    dup |= seen[j] == l;
                if (dup)
                    continue;
                seen[n_seen++] = l;
                nd_score s;
                out->candidates++;
                if (!verify(c, l, d, &s))
                    continue;
                out->verified++;
                float fs = (float)s.similarity;
                if (best == UINT32_MAX || fs > bs || (fs == bs && l < best)) {
                    best = l;
                    bs = fs;
                    bc = (float)s.containment;
                }
            }
        }
        if (best == UINT32_MAX) {
            leader[d] = d;
            sim[d] = 1.0f;
            cont[d] = self_cont;
        } else {
            leader[d] = best;
            sim[d] = bs;
            cont[d] = bc;
        }
    }

    /* clusters of two or more, numbered largest first, ties by smallest member */
    uint32_t *size = calloc(E ? E : 1, sizeof *size);
    uint32_t *minix = malloc((E ? E : 1) * sizeof *minix);
    if (!size || !minix) {
        free(size);
        free(minix);
        return nd_fail(ND_ENOMEM, "out of memory numbering clusters");
    }
    for (uint32_t d = 0; d < E; d++)
        minix[d] = UINT32_MAX;
    for (uint32_t d = 0; d < E; d++) {
        uint32_t l = leader[d];
        size[l]++;
        if (c->doc[d] < minix[l])
            minix[l] = c->doc[d];
    }
    size_t nc = 0;
    for (uint32_t d = 0; d < E; d++)
        nc += leader[d] == d && size[d] >= 2;
    nd_clu *cl = malloc((nc ? nc : 1) * sizeof *cl);
    if (!cl) {
        free(size);
        free(minix);
        return nd_fail(ND_ENOMEM, "out of memory numbering clusters");
    }
    nc = 0;
    for (uint32_t d = 0; d < E; d++)
        if (leader[d] == d && size[d] >= 2)
            cl[nc++] = (nd_clu){d, size[d], minix[d]};
    qsort(cl, nc, sizeof *cl, clu_cmp);
    /* reuse size[] as leader -> cluster id */
    for (uint32_t d = 0; d < E; d++)
        size[d] = UINT32_MAX;
    for (size_t i = 0; i < nc; i++)
        size[cl[i].leader] = (uint32_t)i;
    for (uint32_t d = 0; d < E; d++) {
        uint32_t doc = c->doc[d], l = leader[d];
        out->rep[doc] = c->doc[l];
        out->similarity[doc] = sim[d];
        out->containment[doc] = cont[d];
        out->cluster[doc] = size[l] == UINT32_MAX ? -1 : (int32_t)size[l];
    }
    out->n_clusters = nc;
    free(cl);
    free(size);
    free(minix);
    return ND_OK;
}

int nd_cluster_run(const nd_cluster_in *in, nd_cluster_out *out)
{
    if (!in || !out || !in->plugin || !in->info || (in->n && (!in->sigs || !in->keys)))
        return nd_fail(ND_EINTERNAL, "nd_cluster_run: missing input");
    if (in->n >= UINT32_MAX)
        return nd_fail(ND_ELIMIT, "too many documents to cluster: %zu", in->n);
    int rc = alloc_out(out, in->n);
    if (rc)
        return rc;

    nd_ctx c;
    memset(&c, 0, sizeof c);
    c.in = in;
    c.nk = in->info->n_keys;
    unsigned threads = in->threads ? in->threads : 1;
    if (threads > 64)
        threads = 64;

    nd_prio *pr = malloc((in->n ? in->n : 1) * sizeof *pr);
    c.doc = malloc((in->n ? in->n : 1) * sizeof *c.doc);
    c.bigkeys = calloc(c.nk ? c.nk : 1, sizeof *c.bigkeys);
    c.n_bigkeys = calloc(c.nk ? c.nk : 1, sizeof *c.n_bigkeys);
    nd_worker *ws = calloc(threads, sizeof *ws);
    nd_kv64 *edges = NULL, *tmp = NULL;
    uint32_t *leader = NULL;
    float *sim = NULL, *cont = NULL;
    if (!pr || !c.doc || !c.bigkeys || !c.n_bigkeys || !ws) {
        rc = nd_fail(ND_ENOMEM, "out of memory clustering %zu documents", in->n);
        goto fail;
    }
    uint32_t E = 0;
    for (size_t i = 0; i < in->n; i++)
        if (!in->eligible || in->eligible[i])
            pr[E++] = (nd_prio){in->priority ? in->priority[i] : 0, (uint32_t)i};
    qsort(pr, E, sizeof *pr, prio_cmp);
    for (uint32_t r = 0; r < E; r++)
        c.doc[r] = pr[r].index;
    free(pr);
    pr = NULL;
    c.E = E;

    for (unsigned t = 0; t < threads; t++)
        ws[t].ctx = &c;
    if (E >= 2 && c.nk) {
        rc = find_edges(&c, ws, threads);
        if (rc)
            goto fail;
    }

    /* gather the workers' edges */
    size_t ne = 0;
    for (unsigned t = 0; t < threads; t++) {
        ne += ws[t].edges.len;
        out->candidates += ws[t].candidates;
        out->verified += ws[t].verified;
    }
    edges = malloc((ne ? ne : 1) * sizeof *edges);
    tmp = malloc((ne ? ne : 1) * sizeof *tmp);
    leader = malloc((E ? E : 1) * sizeof *leader);
    sim = malloc((E ? E : 1) * sizeof *sim);
    cont = malloc((E ? E : 1) * sizeof *cont);
    if (!edges || !tmp || !leader || !sim || !cont) {
        rc = nd_fail(ND_ENOMEM, "out of memory for %zu verified pairs", ne);
        goto fail;
    }
    ne = 0;
    for (unsigned t = 0; t < threads; t++) {
        if (ws[t].edges.len)
            memcpy(edges + ne, ws[t].edges.p, ws[t].edges.len * sizeof *edges);
        ne += ws[t].edges.len;
        free(ws[t].edges.p);
        ws[t].edges = (nd_kvvec){NULL, 0, 0};
    }
    const nd_kv64 *se = sort_edges(edges, tmp, &ne);

    /* does the method report containment? ask it about one document and itself */
    float self_cont = -1.0f;
    if (E) {
        nd_score s;
        size_t sz = in->info->sig_size;
        const unsigned char *sg = in->sigs + (size_t)c.doc[0] * sz;
        in->plugin->compare(in->state, sg, sg, &s);
        if (s.containment >= 0)
            self_cont = 1.0f;
    }
    rc = assign(&c, se, ne, out, leader, sim, cont, self_cont);
    if (rc)
        goto fail;
    goto done;

fail:
    nd_cluster_out_free(out);
done:
    if (ws)
        for (unsigned t = 0; t < threads; t++)
            free(ws[t].edges.p);
    free(ws);
    free(pr);
    free(c.doc);
    if (c.bigkeys)
        for (size_t i = 0; i < c.nk; i++)
            free(c.bigkeys[i]);
    free(c.bigkeys);
    free(c.n_bigkeys);
    free(edges);
    free(tmp);
    free(leader);
    free(sim);
    free(cont);
    return rc;
}

void nd_cluster_out_free(nd_cluster_out *out)
{
    if (!out)
        return;
    free(out->cluster);
    free(out->rep);
    free(out->similarity);
    free(out->containment);
    memset(out, 0, sizeof *out);
}
