/* `cluster1m`: the clustering stage alone at scale. Signs N synthetic documents (random
 * skewed token streams, a share of them edited copies of an earlier one) with a real
 * plugin loaded through the registry, then times nd_cluster_run by itself and prints
 * one JSON line: signing and clustering rates, signature memory per document, and how
 * many of the planted copies ended in their original's cluster (so speed is not bought
 * with misses). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cluster.h"
#include "error.h"
#include "loader.h"

#define VOCAB 30000u

typedef struct bench {
    size_t n, tokens;
    double dup_share, edit_share;
    uint64_t seed;
    const nd_plugin *p;
    void *state;
    nd_sig_info info;
    size_t stride;
    unsigned char *sigs;
    uint64_t *keys;
    uint32_t *dup_of;         /* the document each copy was made from, or UINT32_MAX */
    char *words;              /* VOCAB words, NUL-separated */
    uint32_t *word_off;
    uint8_t *word_len;
} bench;

typedef struct worker {
    bench *b;
    size_t from, to;
    int rc, started;
    pthread_t tid;
    char err[256];            /* messages are per thread: copied for main */
} worker;

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Word ids of document d, regenerated from the seed so that nothing per document but
 * its signature is stored; a copy regenerates its original then edits it. Word choice
 * is skewed (u^2) like natural text, so common words recur across documents. */
static void doc_words(const bench *b, size_t d, uint32_t *w)
{
    size_t src = b->dup_of[d] == UINT32_MAX ? d : b->dup_of[d];
    uint64_t s = mix(b->seed ^ (src * 0x100000001B3ull));
    for (size_t t = 0; t < b->tokens; t++) {
        s = mix(s);
        double u = (double)(s >> 11) / 9007199254740992.0;
        w[t] = (uint32_t)(u * u * VOCAB);
    }
    if (src == d)
        return;
    uint64_t e = mix(b->seed ^ ~(d * 0x100000001B3ull));
    for (size_t t = 0; t < b->tokens; t++) {
        e = mix(e);
        if ((double)(e >> 11) / 9007199254740992.0 < b->edit_share)
            w[t] = (uint32_t)((e >> 3) % VOCAB);
    }
}

static void *sign_range(void *vw)
{
    worker *wk = vw;
    const bench *b = wk->b;
    uint32_t *w = malloc(b->tokens * sizeof *w);
    nd_token *tok = malloc(b->tokens * sizeof *tok);
    char *text = malloc(b->tokens * 16 + 1);
    wk->rc = (w && tok && text) ? 0 : nd_fail(ND_ENOMEM, "out of memory");
    for (size_t d = wk->from; d < wk->to && !wk->rc; d++) {
        doc_words(b, d, w);
        size_t len = 0;
        for (size_t t = 0; t < b->tokens; t++) {
            if (t)
                text[len++] = ' ';
            size_t l = b->word_len[w[t]];
            memcpy(text + len, b->words + b->word_off[w[t]], l);
            tok[t] = (nd_token){text + len, (uint32_t)l, 0, 0, 0};
            len += l;
        }
        text[len] = 0;
        nd_text doc = {text, len, tok, b->tokens, 1};
        int rc = b->p->sign(b->state, &doc, b->sigs + d * b->stride, b->keys + d * b->info.n_keys);
        if (rc < 0)
            wk->rc = nd_fail(ND_EPLUGIN, "%s: sign() failed on document %zu", b->p->name, d);
    }
    if (wk->rc)
        snprintf(wk->err, sizeof wk->err, "%s", nd_errmsg());
    free(text);
    free(tok);
    free(w);
    return NULL;
}

static int make_vocab(bench *b)
{
    b->words = malloc(VOCAB * 10);
    b->word_off = malloc(VOCAB * sizeof *b->word_off);
    b->word_len = malloc(VOCAB);
    if (!b->words || !b->word_off || !b->word_len)
        return nd_fail(ND_ENOMEM, "out of memory");
    size_t at = 0;
    for (uint32_t i = 0; i < VOCAB; i++) {
        uint64_t s = mix(b->seed + i);
        size_t l = 2 + s % 8;
        b->word_off[i] = (uint32_t)at;
        b->word_len[i] = (uint8_t)l;
        for (size_t k = 0; k < l; k++)
            b->words[at++] = (char)('a' + (mix(s + k) % 26));
        b->words[at++] = 0;
    }
    return 0;
}

static int parse_args(int argc, char **argv, bench *b, unsigned *threads, const char **dir,
                      const char **method)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return nd_fail(ND_EUSAGE, "%s needs a value", a);
        i++;
        if (strcmp(a, "--docs") == 0)
            b->n = strtoul(v, NULL, 10);
        else if (strcmp(a, "--tokens") == 0)
            b->tokens = strtoul(v, NULL, 10);
        else if (strcmp(a, "--dups") == 0)
            b->dup_share = atof(v);
        else if (strcmp(a, "--edits") == 0)
            b->edit_share = atof(v);
        else if (strcmp(a, "--seed") == 0)
            b->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            *threads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--plugin-dir") == 0)
            *dir = v;
        else if (strcmp(a, "--method") == 0)
            *method = v;
        else
            return nd_fail(ND_EUSAGE, "unknown option %s", a);
    }
    if (b->n == 0 || b->n >= UINT32_MAX || b->tokens < 1 || b->tokens > 100000 || *threads < 1 ||
        *threads > 64)
        return nd_fail(ND_EUSAGE, "bad --docs, --tokens or --threads");
    return 0;
}

static int run(bench *b, unsigned threads)
{
    b->stride = ((size_t)b->info.sig_size + 7) & ~(size_t)7;
    b->sigs = aligned_alloc(8, b->n * b->stride);
    b->keys = malloc(b->n * b->info.n_keys * sizeof *b->keys);
    b->dup_of = malloc(b->n * sizeof *b->dup_of);
    uint8_t *elig = malloc(b->n);
    uint64_t *prio = malloc(b->n * sizeof *prio);
    worker *wk = calloc(threads, sizeof *wk);
    nd_cluster_out out = {0};
    int rc = 0;
    if (!b->sigs || !b->keys || !b->dup_of || !elig || !prio || !wk) {
        rc = nd_fail(ND_ENOMEM, "out of memory");
        goto done;
    }
    size_t planted = 0;
    for (size_t d = 0; d < b->n; d++) {
        uint64_t s = mix(b->seed * 31 + d);
        b->dup_of[d] = UINT32_MAX;
        if (d > 0 && (double)(s >> 11) / 9007199254740992.0 < b->dup_share) {
            b->dup_of[d] = (uint32_t)(mix(s) % d);
            /* copies of copies would plant chains: point at the original */
            if (b->dup_of[b->dup_of[d]] != UINT32_MAX)
                b->dup_of[d] = b->dup_of[b->dup_of[d]];
            planted++;
        }
        elig[d] = 1;
        prio[d] = d;
    }
    double t0 = now();
    for (unsigned t = 0; t < threads; t++) {
        wk[t] = (worker){.b = b, .from = b->n * t / threads, .to = b->n * (t + 1) / threads};
        wk[t].started = pthread_create(&wk[t].tid, NULL, sign_range, &wk[t]) == 0;
        if (!wk[t].started)
            rc = nd_fail(ND_ENOMEM, "cannot start a thread");
    }
    for (unsigned t = 0; t < threads; t++) {
        if (wk[t].started)
            pthread_join(wk[t].tid, NULL);
        if (!rc && wk[t].rc)
            rc = nd_fail(wk[t].rc, "%s", wk[t].err);
    }
    double t1 = now();
    if (rc)
        goto done;
    nd_sig_info packed = b->info;
    packed.sig_size = (uint32_t)b->stride;
    nd_cluster_in in = {
        .plugin = b->p,
        .state = b->state,
        .info = &packed,
        .n = b->n,
        .sigs = b->sigs,
        .keys = b->keys,
        .eligible = elig,
        .priority = prio,
        .threshold = b->info.threshold,
        .containment = b->info.containment,
        .threads = threads,
    };
    long rss0 = peak_rss_kb();
    double t2 = now();
    rc = nd_cluster_run(&in, &out);
    double t3 = now();
    long rss1 = peak_rss_kb();
    if (rc)
        goto done;
    size_t found = 0;
    for (size_t d = 0; d < b->n; d++)
        if (b->dup_of[d] != UINT32_MAX && out.cluster[d] >= 0 &&
            out.cluster[d] == out.cluster[b->dup_of[d]])
            found++;
    size_t per_doc = b->stride + b->info.n_keys * sizeof(uint64_t);
    printf("{\"method\":\"%s\",\"docs\":%zu,\"tokens\":%zu,\"threads\":%u,\"planted\":%zu,"
           "\"sign_s\":%.3f,\"sign_per_s\":%.0f,\"cluster_s\":%.3f,\"cluster_per_s\":%.0f,"
           "\"sig_bytes\":%zu,\"key_bytes\":%zu,\"per_doc_bytes\":%zu,"
           "\"cluster_extra_peak_bytes_per_doc\":%.0f,\"clusters\":%zu,\"candidates\":%llu,"
           "\"verified\":%llu,\"planted_recall\":%.4f}\n",
           b->p->name, b->n, b->tokens, threads, planted, t1 - t0, b->n / (t1 - t0), t3 - t2,
           b->n / (t3 - t2), b->stride, b->info.n_keys * sizeof(uint64_t), per_doc,
           (double)(rss1 - rss0) * 1024.0 / (double)b->n, out.n_clusters,
           (unsigned long long)out.candidates, (unsigned long long)out.verified,
           planted ? (double)found / (double)planted : 1.0);
done:
    nd_cluster_out_free(&out);
    free(wk);
    free(prio);
    free(elig);
    return rc;
}

int main(int argc, char **argv)
{
    bench b = {.n = 1000000, .tokens = 80, .dup_share = 0.1, .edit_share = 0.05, .seed = 1};
    unsigned threads = 1;
    const char *dir = NULL, *method = "shingle";
    if (parse_args(argc, argv, &b, &threads, &dir, &method)) {
        fprintf(stderr, "cluster1m: %s\nusage: cluster1m [--docs N] [--tokens T] [--dups SHARE] "
                        "[--edits SHARE] [--seed S] [--threads N] [--plugin-dir D] [--method M]\n",
                nd_errmsg());
        return 2;
    }
    nd_registry reg = {0};
    const char *dirs[] = {dir};
    int rc = nd_registry_load(&reg, dirs, dir ? 1 : 0);
    const nd_loaded *l = rc ? NULL : nd_registry_find(&reg, method);
    if (!l) {
        fprintf(stderr, "cluster1m: plugin %s not found\n", method);
        nd_registry_free(&reg);
        return 1;
    }
    b.p = l->desc;
    b.info.size = sizeof b.info;
    if (nd_plugin_instance(l, NULL, 0, &b.state, &b.info)) {
        fprintf(stderr, "cluster1m: %s\n", nd_errmsg());
        nd_registry_free(&reg);
        return 1;
    }
    rc = make_vocab(&b);
    if (!rc)
        rc = run(&b, threads);
    if (rc)
        fprintf(stderr, "cluster1m: %s\n", nd_errmsg());
    free(b.dup_of);
    free(b.keys);
    free(b.sigs);
    free(b.word_len);
    free(b.word_off);
    free(b.words);
    if (b.p->destroy)
        b.p->destroy(b.state);
    nd_registry_free(&reg);
    return rc ? 1 : 0;
}
