/* Tests for core/cluster.c with a fake plugin defined here: a signature is a topic, a
 * position and a length, so each test can say exactly which pairs verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

/* Fake signature: same topic and positions within 2 give similarity >= 0.8; the
 * length ratio scales similarity but not containment (a truncated copy). */
typedef struct fsig {
    uint32_t topic;
    int32_t pos;
    uint32_t len;
    uint32_t pad;
} fsig;

static void fake_compare(const void *state, const void *a, const void *b, nd_score *out)
{
    (void)state;
    const fsig *x = a, *y = b;
    if (x->topic != y->topic) {
        out->similarity = 0;
        out->containment = 0;
        return;
    }
    double d = 1.0 - 0.1 * abs(x->pos - y->pos);
    if (d < 0)
        d = 0;
    double lx = x->len ? x->len : 100, ly = y->len ? y->len : 100;
    out->similarity = d * (lx < ly ? lx / ly : ly / lx);
    out->containment = d;
}

static const nd_plugin fake_plugin = {
    .abi_major = ND_PLUGIN_ABI_MAJOR,
    .abi_minor = ND_PLUGIN_ABI_MINOR,
    .size = sizeof(nd_plugin),
    .name = "fake",
    .version = "1",
    .description = "test double",
    .compare = fake_compare,
};

/* A test corpus: n documents with n_keys keys each. */
typedef struct corpus {
    size_t n, nk;
    fsig *sig;
    uint64_t *keys;
    uint8_t *eligible;
    uint64_t *prio;
    nd_sig_info info;
} corpus;

static void corpus_init(corpus *c, size_t n, size_t nk)
{
    c->n = n;
    c->nk = nk;
    c->sig = calloc(n ? n : 1, sizeof *c->sig);
    c->keys = calloc(n * nk > 0 ? n * nk : 1, sizeof *c->keys);
    c->eligible = malloc(n ? n : 1);
    c->prio = calloc(n ? n : 1, sizeof *c->prio);
    assert_non_null(c->sig);
    assert_non_null(c->keys);
    assert_non_null(c->eligible);
    assert_non_null(c->prio);
    memset(c->eligible, 1, n);
    for (size_t i = 0; i < n * nk; i++)
        c->keys[i] = 0x1000000 + i; /* unique: no candidates unless set */
    c->info = (nd_sig_info){sizeof(nd_sig_info), sizeof(fsig), (uint32_t)nk, 1, 0.8, 0.9};
}

static void corpus_free(corpus *c)
{
    free(c->sig);
    free(c->keys);
    free(c->eligible);
    free(c->prio);
}

static nd_cluster_in make_in(const corpus *c, double thr, double cont, unsigned threads)
{
    nd_cluster_in in = {
        .plugin = &fake_plugin,
        .state = NULL,
        .info = &c->info,
        .n = c->n,
        .sigs = (const unsigned char *)c->sig,
        .keys = c->keys,
        .eligible = c->eligible,
        .priority = c->prio,
        .threshold = thr,
        .containment = cont,
        .threads = threads,
    };
    return in;
}

static void run(const corpus *c, double thr, double cont, unsigned threads,
                nd_cluster_out *out)
{
    nd_cluster_in in = make_in(c, thr, cont, threads);
    assert_int_equal(nd_cluster_run(&in, out), 0);
}

/* Every member verifies against its representative, which is the best-priority member;
 * ids are numbered as cluster.h says. */
static void check_invariants(const corpus *c, const nd_cluster_out *o, double thr,
                             double cont)
{
    size_t *size = calloc(o->n_clusters + 1, sizeof *size);
    size_t *minix = malloc((o->n_clusters + 1) * sizeof *minix);
    assert_non_null(size);
    assert_non_null(minix);
    for (size_t k = 0; k < o->n_clusters; k++)
        minix[k] = SIZE_MAX;
    for (size_t i = 0; i < c->n; i++) {
        int32_t k = o->cluster[i];
        uint32_t r = o->rep[i];
        if (k < 0) {
            assert_int_equal(r, i);
            continue;
        }
        assert_true((size_t)k < o->n_clusters);
        assert_true(c->eligible[i]);
        assert_int_equal(o->cluster[r], k);
        assert_int_equal(o->rep[r], r);
        /* the representative has the lowest (priority, index) of its cluster */
        assert_true(c->prio[r] < c->prio[i] || (c->prio[r] == c->prio[i] && r <= i));
        nd_score s;
        fake_compare(NULL, &c->sig[i], &c->sig[r], &s);
        assert_true(s.similarity >= thr || (cont <= 1 && s.containment >= cont));
        assert_float_equal(o->similarity[i], s.similarity, 1e-6);
        if (r != i)
            assert_float_equal(o->containment[i], s.containment, 1e-6);
        size[k]++;
        if (i < minix[k])
            minix[k] = i;
    }
    for (size_t k = 0; k < o->n_clusters; k++) {
        assert_true(size[k] >= 2);
        if (k) {
            assert_true(size[k - 1] >= size[k]);
            if (size[k - 1] == size[k])
                assert_true(minix[k - 1] < minix[k]);
        }
    }
    free(size);
    free(minix);
}

static void test_empty(void **st)
{
    (void)st;
    corpus c;
    corpus_init(&c, 0, 2);
    nd_cluster_out o;
    run(&c, 0.8, 0.9, 2, &o);
    assert_int_equal(o.n_clusters, 0);
    assert_int_equal(o.candidates, 0);
    nd_cluster_out_free(&o);
    nd_cluster_out_free(&o); /* safe twice */
    corpus_free(&c);
}

static void test_buckets_and_verification(void **st)
{
    (void)st;
    corpus c;
    corpus_init(&c, 6, 2);
    /* 0,1: similar, share key column 1 -> one cluster */
    c.sig[0] = (fsig){1, 0, 0, 0};
    c.sig[1] = (fsig){1, 1, 0, 0};
    c.keys[0 * 2 + 1] = c.keys[1 * 2 + 1] = 42;
    /* 2,3: similar but no shared key -> not candidates */
    c.sig[2] = (fsig){2, 0, 0, 0};
    c.sig[3] = (fsig){2, 0, 0, 0};
    /* 4,5: share a key but dissimilar -> candidates, not verified */
    c.sig[4] = (fsig){3, 0, 0, 0};
    c.sig[5] = (fsig){4, 0, 0, 0};
    c.keys[4 * 2 + 0] = c.keys[5 * 2 + 0] = 42; /* same value, other column: no match */
    c.keys[4 * 2 + 1] = c.keys[5 * 2 + 1] = 7;
    /* the same value in different columns never pairs 0 with 4 */
    nd_cluster_out o;
    run(&c, 0.8, 0.9, 1, &o);
    check_invariants(&c, &o, 0.8, 0.9);
    assert_int_equal(o.n_clusters, 1);
    assert_int_equal(o.cluster[0], 0);
    assert_int_equal(o.cluster[1], 0);
    assert_int_equal(o.rep[1], 0);
    assert_float_equal(o.similarity[1], 0.9, 1e-6);
    assert_float_equal(o.similarity[0], 1.0, 1e-6);
    for (int i = 2; i < 6; i++)
        assert_int_equal(o.cluster[i], -1);
    assert_int_equal(o.candidates, 2);
    assert_int_equal(o.verified, 1);
    nd_cluster_out_free(&o);
    corpus_free(&c);
}

static void test_pair_compared_once(void **st)
{
    (void)st;
    /* a pair sharing every key is compared once, not once per key */
    corpus c;
    corpus_init(&c, 2, 8);
    c.sig[0] = (fsig){1, 0, 0, 0};
    c.sig[1] = (fsig){1, 0, 0, 0};
    for (int k = 0; k < 8; k++)
        c.keys[k] = c.keys[8 + k] = 100 + k;
    nd_cluster_out o;
    run(&c, 0.8, 0.9, 1, &o);
    assert_int_equal(o.n_clusters, 1);
    assert_int_equal(o.candidates, 1);
    assert_int_equal(o.verified, 1);
    nd_cluster_out_free(&o);
    corpus_free(&c);
}

static void test_containment(void **st)
{
    (void)st;
    corpus c;
    corpus_init(&c, 2, 1);
    c.sig[0] = (fsig){1, 0, 100, 0}; /* the article */
    c.sig[1] = (fsig){1, 0, 50, 0};  /* its first half: similarity 0.5, containment 1 */
    c.keys[0] = c.keys[1] = 9;
    c.prio[0] = 1;
    c.prio[1] = 2;
    nd_cluster_out o;
    run(&c, 0.8, 0.9, 1, &o);
    check_invariants(&c, &o, 0.8, 0.9);
    assert_int_equal(o.n_clusters, 1);
    assert_int_equal(o.rep[1], 0);
    assert_float_equal(o.similarity[1], 0.5, 1e-6);
    assert_float_equal(o.containment[1], 1.0, 1e-6);
    assert_float_equal(o.containment[0], 1.0, 1e-6); /* the method gives containment */
    nd_cluster_out_free(&o);
    /* containment > 1 disables the path */
    run(&c, 0.8, 1.5, 1, &o);
    assert_int_equal(o.n_clusters, 0);
    assert_int_equal(o.cluster[1], -1);
    nd_cluster_out_free(&o);
    corpus_free(&c);
}

/* Documents 0..n-1 at positions 0,2,4,...: each verifies against its neighbours
 * (distance 2, similarity 0.8) but not further (0.6). */
static void chain_corpus(corpus *c, size_t n, int one_bucket)
{
    corpus_init(c, n, 2);
    for (size_t i = 0; i < n; i++) {
        c->sig[i] = (fsig){1, (int32_t)(2 * i), 0, 0};
        if (one_bucket) {
            c->keys[i * 2] = 5;
        } else {
            /* column 0 pairs (0,1),(2,3)...; column 1 pairs (1,2),(3,4)... */
            c->keys[i * 2] = 1000 + i / 2;
            c->keys[i * 2 + 1] = 2000 + (i + 1) / 2;
        }
    }
}

static void test_anti_chaining(void **st)
{
    (void)st;
    for (int one = 0; one <= 1; one++) {
        corpus c;
        chain_corpus(&c, 30, one);
        nd_cluster_out o;
        run(&c, 0.8, 1.5, 2, &o);
        check_invariants(&c, &o, 0.8, 1.5);
        /* no cluster spans more than positions r..r+2: at most 2 members */
        assert_true(o.n_clusters >= 10);
        for (size_t i = 0; i < c.n; i++)
            if (o.cluster[i] >= 0)
                assert_true(abs(c.sig[i].pos - c.sig[o.rep[i]].pos) <= 2);
        assert_true(o.cluster[0] != o.cluster[29] || o.cluster[0] == -1);
        nd_cluster_out_free(&o);
        corpus_free(&c);
    }
}

static void test_indirect_leader(void **st)
{
    (void)st;
    /* 0 and 2 are similar (distance 2), 1 sits between; only pairs (0,1) and (1,2)
     * share keys. 2 reaches leader 0 through 1 and is verified against it. */
    corpus c;
    corpus_init(&c, 3, 2);
    c.sig[0] = (fsig){1, 0, 0, 0};
    c.sig[1] = (fsig){1, 1, 0, 0};
    c.sig[2] = (fsig){1, 2, 0, 0};
    c.keys[0 * 2] = c.keys[1 * 2] = 11;
    c.keys[1 * 2 + 1] = c.keys[2 * 2 + 1] = 12;
    nd_cluster_out o;
    run(&c, 0.8, 1.5, 1, &o);
    check_invariants(&c, &o, 0.8, 1.5);
    assert_int_equal(o.n_clusters, 1);
    assert_int_equal(o.rep[2], 0);
    assert_float_equal(o.similarity[2], 0.8, 1e-6);
    nd_cluster_out_free(&o);
    corpus_free(&c);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A random corpus: topics with a few near-copies each, keys from (topic, pos/3) so
 * candidates are mostly right and sometimes missing. */
static void random_corpus(corpus *c, size_t n, size_t nk, uint64_t seed)
{
    corpus_init(c, n, nk);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        uint32_t topic = (uint32_t)(rng_next(&s) % (n / 4 + 1));
        int32_t pos = (int32_t)(rng_next(&s) % 6);
        uint32_t len = 60 + (uint32_t)(rng_next(&s) % 41);
        c->sig[i] = (fsig){topic, pos, len, 0};
        c->prio[i] = rng_next(&s) % 7;
        c->eligible[i] = rng_next(&s) % 10 != 0;
        for (size_t k = 0; k < nk; k++) {
            uint64_t r = rng_next(&s) % 4;
            c->keys[i * nk + k] = r == 0 ? rng_next(&s) : (uint64_t)topic * 31 + k * 7 + (uint64_t)pos / 3;
        }
    }
}

static void assert_same_out(const nd_cluster_out *a, const nd_cluster_out *b, size_t n)
{
    assert_int_equal(a->n_clusters, b->n_clusters);
    assert_memory_equal(a->cluster, b->cluster, n * sizeof *a->cluster);
    assert_memory_equal(a->rep, b->rep, n * sizeof *a->rep);
    assert_memory_equal(a->similarity, b->similarity, n * sizeof *a->similarity);
    assert_memory_equal(a->containment, b->containment, n * sizeof *a->containment);
}

static void test_determinism(void **st)
{
    (void)st;
    const size_t n = 3000, nk = 4;
    corpus c;
    random_corpus(&c, n, nk, 77);
    nd_cluster_out ref;
    run(&c, 0.8, 0.9, 1, &ref);
    check_invariants(&c, &ref, 0.8, 0.9);
    assert_true(ref.n_clusters > 100);
    for (size_t i = 0; i < n; i++)
        if (!c.eligible[i])
            assert_int_equal(ref.cluster[i], -1);

    /* thread counts */
    for (unsigned t = 2; t <= 5; t += 3) {
        nd_cluster_out o;
        run(&c, 0.8, 0.9, t, &o);
        assert_same_out(&ref, &o, n);
        assert_int_equal(o.candidates, ref.candidates);
        nd_cluster_out_free(&o);
    }

    /* key columns in another order: same pairs, same result */
    corpus p;
    corpus_init(&p, n, nk);
    memcpy(p.sig, c.sig, n * sizeof *c.sig);
    memcpy(p.eligible, c.eligible, n);
    memcpy(p.prio, c.prio, n * sizeof *c.prio);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nk; k++)
            p.keys[i * nk + k] = c.keys[i * nk + (nk - 1 - k + 1) % nk];
    nd_cluster_out o;
    run(&p, 0.8, 0.9, 2, &o);
    assert_same_out(&ref, &o, n);
    nd_cluster_out_free(&o);
    corpus_free(&p);

    /* documents in another order, with distinct priorities so that index ties play no
     * part: the same partition, representatives and scores under the permutation */
    uint32_t *perm = malloc(n * sizeof *perm);
    assert_non_null(perm);
    for (size_t i = 0; i < n; i++) {
        perm[i] = (uint32_t)i;
        c.prio[i] = c.prio[i] * n + i;
    }
    uint64_t s = 5;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rng_next(&s) % (i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    nd_cluster_out base;
    run(&c, 0.8, 0.9, 2, &base);
    corpus_init(&p, n, nk);
    for (size_t i = 0; i < n; i++) { /* new document i is old document perm[i] */
        p.sig[i] = c.sig[perm[i]];
        p.eligible[i] = c.eligible[perm[i]];
        p.prio[i] = c.prio[perm[i]];
        memcpy(&p.keys[i * nk], &c.keys[perm[i] * nk], nk * sizeof *p.keys);
    }
    run(&p, 0.8, 0.9, 2, &o);
    check_invariants(&p, &o, 0.8, 0.9);
    assert_int_equal(o.n_clusters, base.n_clusters);
    for (size_t i = 0; i < n; i++) {
        uint32_t old = perm[i];
        assert_int_equal(perm[o.rep[i]], base.rep[old]);
        assert_float_equal(o.similarity[i], base.similarity[old], 0);
        assert_int_equal(o.cluster[i] < 0, base.cluster[old] < 0);
    }
    nd_cluster_out_free(&o);
    nd_cluster_out_free(&base);
    nd_cluster_out_free(&ref);
    free(perm);
    corpus_free(&p);
    corpus_free(&c);
}

static void test_large_bucket(void **st)
{
    (void)st;
    /* 2000 exact copies and 2000 unrelated documents, all in one bucket of every
     * column: one cluster, and far fewer than m^2 compares */
    const size_t n = 4000, nk = 3;
    corpus c;
    corpus_init(&c, n, nk);
    for (size_t i = 0; i < n; i++) {
        c.sig[i] = i % 2 ? (fsig){(uint32_t)(1000 + i), 0, 0, 0} : (fsig){7, 0, 0, 0};
        for (size_t k = 0; k < nk; k++)
            c.keys[i * nk + k] = 99;
        c.prio[i] = n - i; /* the last copy is the best representative */
    }
    nd_cluster_out o;
    run(&c, 0.8, 0.9, 2, &o);
    check_invariants(&c, &o, 0.8, 0.9);
    assert_int_equal(o.n_clusters, 1);
    for (size_t i = 0; i < n; i++) {
        if (i % 2)
            assert_int_equal(o.cluster[i], -1);
        else
            assert_int_equal(o.rep[i], n - 2);
    }
    assert_true(o.candidates < (uint64_t)n * nk * 64);
    nd_cluster_out_free(&o);
    corpus_free(&c);
}

static void test_ineligible(void **st)
{
    (void)st;
    corpus c;
    corpus_init(&c, 5, 1);
    for (size_t i = 0; i < 5; i++) {
        c.sig[i] = (fsig){1, 0, 0, 0};
        c.keys[i] = 3;
    }
    c.eligible[0] = 0;
    c.eligible[3] = 0;
    nd_cluster_out o;
    run(&c, 0.8, 0.9, 2, &o);
    check_invariants(&c, &o, 0.8, 0.9);
    assert_int_equal(o.n_clusters, 1);
    assert_int_equal(o.cluster[0], -1);
    assert_int_equal(o.cluster[3], -1);
    assert_int_equal(o.rep[0], 0);
    assert_int_equal(o.rep[3], 3);
    assert_int_equal(o.rep[4], 1);
    assert_int_equal(o.candidates, 3); /* all pairs of 1, 2, 4 */
    nd_cluster_out_free(&o);
    corpus_free(&c);
}

static void test_cluster_order(void **st)
{
    (void)st;
    /* clusters: {5,6,7} (size 3), {0,9}, {2,3} (size 2: {0,9} first, smaller index) */
    corpus c;
    corpus_init(&c, 10, 1);
    uint32_t topic[10] = {1, 100, 2, 2, 101, 3, 3, 3, 102, 1};
    for (size_t i = 0; i < 10; i++) {
        c.sig[i] = (fsig){topic[i], 0, 0, 0};
        c.keys[i] = topic[i];
    }
    c.prio[9] = 0;
    for (size_t i = 0; i < 9; i++)
        c.prio[i] = 1;
    nd_cluster_out o;
    run(&c, 0.8, 0.9, 1, &o);
    check_invariants(&c, &o, 0.8, 0.9);
    assert_int_equal(o.n_clusters, 3);
    assert_int_equal(o.cluster[5], 0);
    assert_int_equal(o.cluster[0], 1);
    assert_int_equal(o.cluster[9], 1);
    assert_int_equal(o.rep[0], 9); /* better priority */
    assert_int_equal(o.cluster[2], 2);
    assert_int_equal(o.cluster[1], -1);
    nd_cluster_out_free(&o);
    corpus_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_buckets_and_verification),
        cmocka_unit_test(test_pair_compared_once),
        cmocka_unit_test(test_containment),
        cmocka_unit_test(test_anti_chaining),
        cmocka_unit_test(test_indirect_leader),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_large_bucket),
        cmocka_unit_test(test_ineligible),
        cmocka_unit_test(test_cluster_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
