/* Exact reference for the LSH stage: every pair of documents whose exact Jaccard over
 * the shingle plugin's own shingles (word 5-grams of the normalised content tokens,
 * XXH3-64 of the tokens joined by spaces) reaches a threshold, found through an
 * inverted index with no sampling; then the share of those pairs that the plugin's LSH
 * keys make candidates. `jaccard_ref DIR [--threshold T]... [--plugin-dir D] [-o ...]
 * [--no-progress]`: one JSON line per threshold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cli.h"
#include "norm.h"
#include "run.h"
#include "../plugins/shingle/ngram.h"

#define NGRAM 5

struct doc {
    uint64_t *sh;     /* sorted distinct shingles */
    size_t n;
    uint64_t *keys;   /* the plugin's keys */
    int eligible;
};

struct ctx {
    const nd_run *run;
    struct doc *docs;
    nd_norm *norm;
    nd_buf text;
    nd_toks toks;
    nd_token *ptoks;
    size_t cap_ptoks;
    unsigned char *sig;
};

static int u64cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int on_text(void *vc, size_t i, const nd_rawdoc *raw, const char *text, size_t len)
{
    struct ctx *c = vc;
    const nd_run *run = c->run;
    const nd_docrec *rec = &run->docs[i];
    if (!raw || (rec->flags & (ND_DOC_SKIPPED | ND_DOC_EMPTY | ND_DOC_TEMPLATE | ND_DOC_FALLBACK)))
        return 0;
    nd_buf_clear(&c->text);
    c->toks.n = 0;
    /* Normalise block by block, as the pipeline does, keeping block ids. */
    size_t nblocks = 0, first_tok = 0;
    uint32_t *blk = NULL;
    for (size_t s = 0; s <= len;) {
        const char *e = memchr(text + s, '\n', len - s);
        size_t l = e ? (size_t)(e - (text + s)) : len - s;
        if (c->text.len && nd_buf_putc(&c->text, ' '))
            return -1;
        size_t before = c->text.len;
        if (nd_norm_block(c->norm, text + s, l, &c->text, &c->toks, NULL))
            return -1;
        if (c->text.len == before && before)
            c->text.len--; /* no token in this block: drop the separator again */
        uint32_t *nb = realloc(blk, (c->toks.n + 1) * sizeof *nb);
        if (!nb)
            return -1;
        blk = nb;
        for (size_t t = first_tok; t < c->toks.n; t++)
            blk[t] = (uint32_t)nblocks;
        if (c->toks.n > first_tok)
            nblocks++;
        first_tok = c->toks.n;
        s += l + 1;
    }
    if (c->toks.n > c->cap_ptoks) {
        nd_token *v = realloc(c->ptoks, c->toks.n * sizeof *v);
        if (!v)
            return -1;
        c->ptoks = v;
        c->cap_ptoks = c->toks.n;
    }
    for (size_t t = 0; t < c->toks.n; t++) {
        const char *p = c->text.p + c->toks.v[t].off;
        c->ptoks[t] = (nd_token){p, c->toks.v[t].len,
                                 (uint16_t)nd_norm_token_flags(p, c->toks.v[t].len), 0, blk[t]};
    }
    free(blk);
    nd_text doc = {c->text.p ? c->text.p : "", c->text.len, c->ptoks, c->toks.n, nblocks};
    struct doc *d = &c->docs[i];
    if (doc.n_tokens < NGRAM)
        return 0;
    ngram_iter it;
    ngram_init(&it, &doc, NGRAM);
    d->sh = malloc(it.count * sizeof *d->sh);
    d->keys = malloc(run->info.n_keys * sizeof *d->keys);
    if (!d->sh || !d->keys)
        return -1;
    for (size_t k = 0; k < it.count; k++)
        d->sh[k] = ngram_next(&it);
    qsort(d->sh, it.count, sizeof *d->sh, u64cmp);
    size_t u = 0;
    for (size_t k = 0; k < it.count; k++)
        if (u == 0 || d->sh[k] != d->sh[u - 1])
            d->sh[u++] = d->sh[k];
    d->n = u;
    int rc = run->method->desc->sign(run->method_state, &doc, c->sig, d->keys);
    d->eligible = rc == ND_PLUGIN_OK;
    return 0;
}

struct post {
    uint64_t h;
    uint32_t doc;
};

static int postcmp(const void *a, const void *b)
{
    const struct post *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

int main(int argc, char **argv)
{
    nd_run_opts o;
    nd_run_opts_default(&o);
    o.method = "shingle";
    /* Like `report`: a progress line only on a terminal (--no-progress also works). */
    o.progress = isatty(STDERR_FILENO);
    /* --threshold may repeat: one pass over the crawl serves every threshold. */
    double th[16];
    size_t nth = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) {
            if (nth == sizeof th / sizeof *th) {
                fprintf(stderr, "jaccard_ref: at most 16 thresholds\n");
                return 2;
            }
            th[nth++] = atof(argv[++i]);
        } else {
            int r = nd_cli_run_opt(argc, argv, &i, &o);
            if (r < 0)
                return 2;
            if (r == 0)
                o.root = argv[i];
        }
    }
    if (nth == 0)
        th[nth++] = 0.5;
    double t = th[0]; /* the lowest: every pair any threshold counts passes it */
    for (size_t q = 1; q < nth; q++)
        t = th[q] < t ? th[q] : t;
    if (!o.root) {
        fprintf(stderr, "usage: jaccard_ref DIR [--threshold T]... [neardup report options]\n");
        return 2;
    }
    nd_run *run = NULL;
    if (nd_run_crawl(&o, &run)) {
        fprintf(stderr, "jaccard_ref: %s\n", nd_errmsg());
        return 1;
    }
    struct ctx c = {.run = run, .text = ND_BUF_INIT};
    c.docs = calloc(run->n_docs ? run->n_docs : 1, sizeof *c.docs);
    c.sig = malloc(run->info.sig_size ? run->info.sig_size : 1);
    if (!c.docs || !c.sig || nd_norm_new(&c.norm) ||
        nd_run_each_text(run, NULL, o.keep_boilerplate ? 0 : ND_EACH_STRIP, NULL, on_text, &c)) {
        fprintf(stderr, "jaccard_ref: failed: %s\n", nd_errmsg());
        return 1;
    }
    /* Inverted index: (shingle, doc) sorted; pairs counted per document row. */
    size_t np = 0;
    for (size_t i = 0; i < run->n_docs; i++)
        np += c.docs[i].eligible ? c.docs[i].n : 0;
    struct post *P = malloc((np ? np : 1) * sizeof *P);
    size_t k = 0;
    for (size_t i = 0; i < run->n_docs; i++)
        for (size_t j = 0; c.docs[i].eligible && j < c.docs[i].n; j++)
            P[k++] = (struct post){c.docs[i].sh[j], (uint32_t)i};
    qsort(P, np, sizeof *P, postcmp);
    /* For each doc a, the docs b > a sharing shingles, with counts: walk postings. */
    size_t n = run->n_docs;
    uint32_t **adj = calloc(n ? n : 1, sizeof *adj);
    size_t *adjn = calloc(n ? n : 1, sizeof *adjn), *adjc = calloc(n ? n : 1, sizeof *adjc);
    for (size_t s = 0; s < np;) {
        size_t e = s;
        while (e < np && P[e].h == P[s].h)
            e++;
        for (size_t x = s; x < e; x++)
            for (size_t y = x + 1; y < e; y++) {
                uint32_t a = P[x].doc;
                if (adjn[a] == adjc[a]) {
                    adjc[a] = adjc[a] ? 2 * adjc[a] : 16;
                    adj[a] = realloc(adj[a], adjc[a] * sizeof **adj);
                }
                adj[a][adjn[a]++] = P[y].doc;
            }
        s = e;
    }
    uint64_t pairs[16] = {0}, found[16] = {0};
    for (size_t a = 0; a < n; a++) {
        if (!adjn[a])
            continue;
        /* sort the partner list; the run length of b is |A ∩ B| */
        uint32_t *v = adj[a];
        uint64_t *tmp = malloc(adjn[a] * sizeof *tmp);
        for (size_t i = 0; i < adjn[a]; i++)
            tmp[i] = v[i];
        qsort(tmp, adjn[a], sizeof *tmp, u64cmp);
        for (size_t s = 0; s < adjn[a];) {
            size_t e = s;
            while (e < adjn[a] && tmp[e] == tmp[s])
                e++;
            size_t b = (size_t)tmp[s], inter = e - s;
            double j = (double)inter / (double)(c.docs[a].n + c.docs[b].n - inter);
            if (j >= t) {
                int cand = 0;
                for (size_t q = 0; q < run->info.n_keys && !cand; q++)
                    cand = c.docs[a].keys[q] == c.docs[b].keys[q];
                for (size_t q = 0; q < nth; q++)
                    if (j >= th[q]) {
                        pairs[q]++;
                        found[q] += cand;
                    }
            }
            s = e;
        }
        free(tmp);
        free(adj[a]);
    }
    for (size_t q = 0; q < nth; q++)
        printf("{\"threshold\":%.3f,\"pairs\":%llu,\"candidates\":%llu,\"candidate_recall\":%.4f}\n",
               th[q], (unsigned long long)pairs[q], (unsigned long long)found[q],
               pairs[q] ? (double)found[q] / (double)pairs[q] : 1.0);
    free(adj);
    free(adjn);
    free(adjc);
    free(P);
    for (size_t i = 0; i < n; i++) {
        free(c.docs[i].sh);
        free(c.docs[i].keys);
    }
    free(c.docs);
    free(c.sig);
    free(c.ptoks);
    nd_toks_free(&c.toks);
    nd_buf_free(&c.text);
    nd_norm_free(c.norm);
    nd_run_free(run);
    nd_run_opts_release(&o);
    return 0;
}
