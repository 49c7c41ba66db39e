/* Tests for the shingle plugin (MinHash-LSH), through the plugin ABI only: the shared
 * object is loaded from ND_BUILD_DIR and driven with a mock host (plugin_harness.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cluster.h"
#include "plugin_harness.h"

static const nd_plugin *P;
static void *handle;

static int setup(void **st)
{
    (void)st;
    P = ph_load("shingle", &handle);
    return P ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    ph_unload(handle);
    return 0;
}

/* An instance; fails the test if create() refuses. */
typedef struct inst {
    void *state;
    nd_sig_info info;
    unsigned char *sig;
    uint64_t *keys;
} inst;

static void inst_make(inst *in, const char *const *kv, size_t n)
{
    char err[256];
    int rc = ph_create(P, kv, n, &in->state, &in->info, err, sizeof err);
    if (rc)
        fail_msg("create: %s", err);
    in->sig = NULL;
    in->keys = NULL;
}

static void inst_free(inst *in)
{
    P->destroy(in->state);
}

/* Sign a document into freshly allocated sig/keys (caller frees). */
static int sign(const inst *in, const char *text, unsigned char **sig, uint64_t **keys)
{
    ph_doc d;
    ph_doc_make(&d, text);
    *sig = aligned_alloc(8, (in->info.sig_size + 7) / 8 * 8);
    *keys = calloc(in->info.n_keys, sizeof **keys);
    assert_non_null(*sig);
    assert_non_null(*keys);
    int rc = P->sign(in->state, &d.t, *sig, *keys);
    ph_doc_free(&d);
    return rc;
}

static nd_score compare_texts(const inst *in, const char *a, const char *b, int *shared_key)
{
    unsigned char *sa, *sb;
    uint64_t *ka, *kb;
    assert_true(sign(in, a, &sa, &ka) >= 0);
    assert_true(sign(in, b, &sb, &kb) >= 0);
    nd_score s;
    P->compare(in->state, sa, sb, &s);
    if (shared_key) {
        *shared_key = 0;
        for (uint32_t i = 0; i < in->info.n_keys; i++)
            *shared_key |= ka[i] == kb[i];
    }
    free(sa);
    free(sb);
    free(ka);
    free(kb);
    return s;
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Text of words w<id> for ids[0..n), space separated, in a static-size buffer. */
static char *words_text(const uint32_t *ids, size_t n)
{
    char *s = malloc(n * 12 + 1), *p = s;
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, i ? " w%u" : "w%u", ids[i]);
    *p = '\0';
    return s;
}

/* A random "article" of n words from a 50000-word vocabulary. */
static char *random_text(size_t n, uint64_t *seed, uint32_t **ids_out)
{
    uint32_t *ids = malloc(n * sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = (uint32_t)(rng(seed) % 50000);
    char *s = words_text(ids, n);
    if (ids_out)
        *ids_out = ids;
    else
        free(ids);
    return s;
}

static void test_descriptor(void **st)
{
    (void)st;
    assert_int_equal(P->abi_major, ND_PLUGIN_ABI_MAJOR);
    assert_int_equal(P->abi_minor, ND_PLUGIN_ABI_MINOR);
    assert_int_equal(P->size, sizeof(nd_plugin));
    assert_string_equal(P->name, "shingle");
    assert_non_null(P->version);
    assert_non_null(P->description);
    assert_non_null(P->create);
    assert_non_null(P->destroy);
    assert_non_null(P->sign);
    assert_non_null(P->compare);
    const char *want[] = {"ngram", "perm", "scheme", "threshold", "containment",
                          "lsh", "bands", "rows", "seed"};
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        int found = 0;
        for (const nd_option *o = P->options; o->key; o++) {
            assert_non_null(o->default_value);
            assert_non_null(o->help);
            found |= !strcmp(o->key, want[w]);
        }
        assert_true(found);
    }
}

static void test_defaults(void **st)
{
    (void)st;
    inst in;
    inst_make(&in, NULL, 0);
    assert_int_equal(in.info.sig_size % 8, 0);
    assert_true(in.info.sig_size >= 8 + 4 * 128);
    assert_true(in.info.n_keys >= 2 && in.info.n_keys <= 128);
    assert_int_equal(in.info.min_tokens, 5);
    assert_true(in.info.threshold > 0 && in.info.threshold <= 1);
    assert_true(in.info.containment > 0 && in.info.containment <= 1);
    inst_free(&in);

    const char *kv[] = {"perm=64", "bands=8", "rows=8", "threshold=0.7", "containment=2",
                        "ngram=3"};
    inst_make(&in, kv, 6);
    assert_int_equal(in.info.sig_size, 8 + 4 * 64);
    assert_int_equal(in.info.n_keys, 8);
    assert_int_equal(in.info.min_tokens, 3);
    assert_float_equal(in.info.threshold, 0.7, 1e-12);
    assert_true(in.info.containment > 1);
    inst_free(&in);
}

static void test_bad_options(void **st)
{
    (void)st;
    const char *bad[][2] = {
        {"colour=blue", "colour"},   {"ngram=0", "ngram"},      {"ngram=99", "ngram"},
        {"perm=abc", "perm"},        {"perm=4", "perm"},        {"perm=-5", "perm"},
        {"scheme=foo", "scheme"},    {"threshold=1.5", "threshold"},
        {"threshold=", "threshold"}, {"containment=0", "containment"},
        {"lsh=1", "lsh"},            {"bands=4", "bands"},      {"seed=x", "seed"},
        {"fn_weight=2", "fn_weight"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        void *state = NULL;
        nd_sig_info info;
        char err[256];
        const char *kv[] = {bad[i][0]};
        int rc = ph_create(P, kv, 1, &state, &info, err, sizeof err);
        if (rc >= 0)
            fail_msg("accepted %s", bad[i][0]);
        assert_non_null(strstr(err, bad[i][1]));
    }
    /* bands x rows beyond perm */
    void *state;
    nd_sig_info info;
    char err[256];
    const char *kv[] = {"perm=64", "bands=9", "rows=8"};
    assert_true(ph_create(P, kv, 3, &state, &info, err, sizeof err) < 0);
    assert_true(strlen(err) > 0);
}

static void test_identical_and_disjoint(void **st)
{
    (void)st;
    const char *schemes[] = {"scheme=oph", "scheme=kperm"};
    for (int sc = 0; sc < 2; sc++) {
        inst in;
        inst_make(&in, &schemes[sc], 1);
        uint64_t seed = 1;
        char *a = random_text(400, &seed, NULL);
        char *b = random_text(400, &seed, NULL);
        int shared;
        nd_score s = compare_texts(&in, a, a, &shared);
        assert_float_equal(s.similarity, 1.0, 0);
        assert_float_equal(s.containment, 1.0, 1e-12);
        assert_true(shared);
        s = compare_texts(&in, a, b, &shared);
        assert_true(s.similarity < 0.05);
        assert_true(s.containment < 0.1);
        assert_false(shared);
        free(a);
        free(b);
        inst_free(&in);
    }
}

static void test_determinism(void **st)
{
    (void)st;
    inst in;
    inst_make(&in, NULL, 0);
    uint64_t seed = 9;
    char *a = random_text(300, &seed, NULL);
    unsigned char *s1, *s2;
    uint64_t *k1, *k2;
    assert_int_equal(sign(&in, a, &s1, &k1), ND_PLUGIN_OK);
    assert_int_equal(sign(&in, a, &s2, &k2), ND_PLUGIN_OK);
    assert_memory_equal(s1, s2, in.info.sig_size);
    assert_memory_equal(k1, k2, in.info.n_keys * sizeof *k1);
    /* another instance with the same options gives the same signature */
    inst in2;
    inst_make(&in2, NULL, 0);
    unsigned char *s3;
    uint64_t *k3;
    assert_int_equal(sign(&in2, a, &s3, &k3), ND_PLUGIN_OK);
    assert_memory_equal(s1, s3, in.info.sig_size);
    assert_memory_equal(k1, k3, in.info.n_keys * sizeof *k1);
    free(s1);
    free(s2);
    free(s3);
    free(k1);
    free(k2);
    free(k3);
    free(a);
    inst_free(&in);
    inst_free(&in2);
}

/* With ngram=1 a shingle is a word, so sets with a chosen overlap have a known
 * Jaccard. Both schemes estimate it within 0.1 with 256 slots. */
static void test_jaccard_estimate(void **st)
{
    (void)st;
    const char *schemes[] = {"scheme=oph", "scheme=kperm"};
    for (int sc = 0; sc < 2; sc++) {
        const char *kv[] = {"ngram=1", "perm=256", schemes[sc]};
        inst in;
        inst_make(&in, kv, 3);
        uint64_t seed = 100 + (uint64_t)sc;
        double worst = 0;
        for (int trial = 0; trial < 40; trial++) {
            size_t na = 50 + rng(&seed) % 2000, nb = 50 + rng(&seed) % 2000;
            size_t common = rng(&seed) % ((na < nb ? na : nb) + 1);
            uint32_t *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
            assert_non_null(a);
            assert_non_null(b);
            uint32_t next = (uint32_t)trial * 10000000u;
            for (size_t i = 0; i < common; i++)
                a[i] = b[i] = next++;
            for (size_t i = common; i < na; i++)
                a[i] = next++;
            for (size_t i = common; i < nb; i++)
                b[i] = next++;
            char *ta = words_text(a, na), *tb = words_text(b, nb);
            double exact = (double)common / (double)(na + nb - common);
            nd_score s = compare_texts(&in, ta, tb, NULL);
            double err = fabs(s.similarity - exact);
            if (err > worst)
                worst = err;
            /* containment of the smaller set */
            double cexact = (double)common / (double)(na < nb ? na : nb);
            if (exact > 0.2)
                assert_true(fabs(s.containment - cexact) < 0.25);
            free(a);
            free(b);
            free(ta);
            free(tb);
        }
        if (worst >= 0.1)
            fail_msg("scheme %d: worst |est - exact| = %f", sc, worst);
        inst_free(&in);
    }
}

/* The shingle definition: XXH3-64 of n tokens joined by spaces. Exact Jaccard of the
 * shingle sets, computed here from that definition, agrees with the estimate. */
static double exact_shingle_jaccard(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t sa = na - 4, sb = nb - 4, inter = 0, ua = 0;
    uint64_t *ha = malloc(sa * sizeof *ha), *hb = malloc(sb * sizeof *hb);
    assert_non_null(ha);
    assert_non_null(hb);
    for (int side = 0; side < 2; side++) {
        const uint32_t *w = side ? b : a;
        size_t ns = side ? sb : sa;
        uint64_t *h = side ? hb : ha;
        for (size_t i = 0; i < ns; i++) {
            char *t = words_text(w + i, 5);
            h[i] = XXH3_64bits(t, strlen(t));
            free(t);
        }
    }
    /* distinct counts by brute force: the texts are small */
    size_t da = 0, db = 0;
    for (size_t i = 0; i < sa; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = ha[j] == ha[i];
        if (dup)
            continue;
        da++;
        for (size_t j = 0; j < sb; j++)
            if (hb[j] == ha[i]) {
                inter++;
                break;
            }
    }
    for (size_t i = 0; i < sb; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = hb[j] == hb[i];
        db += !dup;
    }
    ua = da + db - inter;
    free(ha);
    free(hb);
    return (double)inter / (double)ua;
}

static void test_edited_copy(void **st)
{
    (void)st;
    const char *kv[] = {"perm=256"};
    inst in;
    inst_make(&in, kv, 1);
    uint64_t seed = 7;
    for (int trial = 0; trial < 10; trial++) {
        uint32_t *a;
        char *ta = random_text(600, &seed, &a);
        uint32_t *b = malloc(600 * sizeof *b);
        assert_non_null(b);
        memcpy(b, a, 600 * sizeof *b);
        size_t edits = 2 + (size_t)trial * 3;
        for (size_t e = 0; e < edits; e++)
            b[rng(&seed) % 600] = 60000 + (uint32_t)e;
        char *tb = words_text(b, 600);
        double exact = exact_shingle_jaccard(a, 600, b, 600);
        nd_score s = compare_texts(&in, ta, tb, NULL);
        if (fabs(s.similarity - exact) >= 0.1)
            fail_msg("edits %zu: estimate %f, exact %f", edits, s.similarity, exact);
        free(a);
        free(b);
        free(ta);
        free(tb);
    }
    inst_free(&in);
}

static void test_truncated_copy(void **st)
{
    (void)st;
    inst in;
    inst_make(&in, NULL, 0);
    uint64_t seed = 3;
    uint32_t *a;
    char *full = random_text(800, &seed, &a);
    char *half = words_text(a, 400);
    int shared;
    nd_score s = compare_texts(&in, full, half, &shared);
    /* Jaccard about 396/796 ~ 0.5; the half is wholly contained */
    assert_true(s.similarity > 0.35 && s.similarity < 0.65);
    assert_true(s.containment >= in.info.containment);
    assert_true(s.containment <= 1.0);
    free(a);
    free(full);
    free(half);
    inst_free(&in);
}

static void test_fallback(void **st)
{
    (void)st;
    inst in;
    inst_make(&in, NULL, 0);
    unsigned char *s1, *s2, *s3, *s4;
    uint64_t *k1, *k2, *k3, *k4;
    assert_int_equal(sign(&in, "page not found", &s1, &k1), ND_PLUGIN_FALLBACK);
    assert_int_equal(sign(&in, "page not found", &s2, &k2), ND_PLUGIN_FALLBACK);
    assert_int_equal(sign(&in, "page not here", &s3, &k3), ND_PLUGIN_FALLBACK);
    assert_int_equal(sign(&in, "page not found at all today", &s4, &k4), ND_PLUGIN_OK);
    nd_score s;
    P->compare(in.state, s1, s2, &s);
    assert_float_equal(s.similarity, 1.0, 0);
    assert_memory_equal(k1, k2, in.info.n_keys * sizeof *k1);
    P->compare(in.state, s1, s3, &s);
    assert_float_equal(s.similarity, 0.0, 0);
    P->compare(in.state, s1, s4, &s);
    assert_float_equal(s.similarity, 0.0, 0);
    assert_true(s.containment < in.info.containment);
    for (uint32_t i = 0; i < in.info.n_keys; i++) {
        assert_true(k1[i] != k3[i]);
        assert_true(k1[i] != k4[i]);
    }
    free(s1);
    free(s2);
    free(s3);
    free(s4);
    free(k1);
    free(k2);
    free(k3);
    free(k4);
    inst_free(&in);
}

/* Shingles span blocks and are joined by single spaces: the same tokens split into
 * blocks differently give the same signature. */
static void test_blocks(void **st)
{
    (void)st;
    inst in;
    inst_make(&in, NULL, 0);
    unsigned char *s1, *s2;
    uint64_t *k1, *k2;
    assert_int_equal(sign(&in, "one two three\nfour five six seven\neight", &s1, &k1),
                     ND_PLUGIN_OK);
    assert_int_equal(sign(&in, "one two three four five six seven eight", &s2, &k2),
                     ND_PLUGIN_OK);
    assert_memory_equal(s1, s2, in.info.sig_size);
    assert_memory_equal(k1, k2, in.info.n_keys * sizeof *k1);
    free(s1);
    free(s2);
    free(k1);
    free(k2);

    /* long tokens: shingles of more than 512 bytes are hashed piecewise across blocks
     * and straight from the text within one; both give the same value */
    char one[8 * 200], split[8 * 200];
    char *p = one, *q = split;
    for (int w = 0; w < 8; w++) {
        if (w) {
            *p++ = ' ';
            *q++ = w % 2 ? '\n' : ' ';
        }
        memset(p, 'a' + w, 150);
        memset(q, 'a' + w, 150);
        p += 150;
        q += 150;
    }
    *p = *q = '\0';
    assert_int_equal(sign(&in, one, &s1, &k1), ND_PLUGIN_OK);
    assert_int_equal(sign(&in, split, &s2, &k2), ND_PLUGIN_OK);
    assert_memory_equal(s1, s2, in.info.sig_size);
    free(s1);
    free(s2);
    free(k1);
    free(k2);
    inst_free(&in);
}

/* Golden check of the shingle definition (white box: the signature is a 8-byte header
 * then 32-bit slots): a 5-token text has one shingle, XXH3-64 seed 0 of the tokens
 * joined by spaces; with seed 0 its low 32 bits are the minimum of its bin, and
 * densification copies it into every other bin. */
static void test_definition(void **st)
{
    (void)st;
    inst in;
    inst_make(&in, NULL, 0);
    const char *text = "vi\xe1\xbb\x87t nam\nh\xe1\xbb\xafu ngh\xe1\xbb\x8b 2021";
    const char *joined = "vi\xe1\xbb\x87t nam h\xe1\xbb\xafu ngh\xe1\xbb\x8b 2021";
    uint32_t want = (uint32_t)XXH3_64bits(joined, strlen(joined));
    unsigned char *sg;
    uint64_t *k;
    assert_int_equal(sign(&in, text, &sg, &k), ND_PLUGIN_OK);
    uint32_t size, slot;
    memcpy(&size, sg + 4, 4);
    assert_int_equal(size, 1);
    for (int i = 0; i < 128; i++) {
        memcpy(&slot, sg + 8 + 4 * i, 4);
        assert_int_equal(slot, want);
    }
    free(sg);
    free(k);
    inst_free(&in);
}

/* Scripts without spaces: one character per token, character 5-grams. */
static void test_cjk(void **st)
{
    (void)st;
    inst in;
    inst_make(&in, NULL, 0);
    /* 60 distinct Han characters starting at U+4E00, as the core lays them out */
    char a[1024], b[1024];
    char *pa = a, *pb = b;
    for (int i = 0; i < 60; i++) {
        unsigned cp = 0x4E00 + (unsigned)i * 7;
        unsigned cpb = i == 30 ? 0x9000 : cp; /* one character changed */
        for (int side = 0; side < 2; side++) {
            unsigned c = side ? cpb : cp;
            char **p = side ? &pb : &pa;
            if (i)
                *(*p)++ = ' ';
            *(*p)++ = (char)(0xE0 | (c >> 12));
            *(*p)++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *(*p)++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *pa = *pb = '\0';
    ph_doc d;
    ph_doc_make(&d, a);
    assert_int_equal(d.t.n_tokens, 60);
    assert_int_equal(d.tok[0].flags, ND_TOKEN_NOSPACE);
    ph_doc_free(&d);
    nd_score s = compare_texts(&in, a, a, NULL);
    assert_float_equal(s.similarity, 1.0, 0);
    /* one changed character changes 5 of 56 shingles: Jaccard 51/61 */
    s = compare_texts(&in, a, b, NULL);
    assert_true(fabs(s.similarity - 51.0 / 61.0) < 0.15);
    inst_free(&in);
}

/* LSH banding follows the lsh threshold: for lsh=0.5 and 128 slots, pairs at Jaccard
 * 0.5 are candidates about half the time, at 0.9 nearly always, at 0.1 nearly never. */
static void test_banding(void **st)
{
    (void)st;
    const char *kv[] = {"ngram=1", "perm=128", "lsh=0.5"};
    inst in;
    inst_make(&in, kv, 3);
    assert_true(in.info.n_keys >= 10 && in.info.n_keys <= 64);
    double target[] = {0.1, 0.5, 0.9};
    double lo[] = {0.0, 0.3, 0.95}, hi[] = {0.05, 0.75, 1.0};
    uint64_t seed = 11;
    for (int t = 0; t < 3; t++) {
        int hits = 0, trials = 200;
        for (int trial = 0; trial < trials; trial++) {
            /* |A|=|B|=300, common c: J = c / (600 - c) */
            size_t c = (size_t)(600 * target[t] / (1 + target[t]) + 0.5);
            uint32_t a[300], b[300];
            uint32_t next = (uint32_t)(rng(&seed) >> 40) * 1000u;
            for (size_t i = 0; i < 300; i++) {
                a[i] = next++;
                b[i] = i < c ? a[i] : next++;
            }
            char *ta = words_text(a, 300), *tb = words_text(b, 300);
            int shared;
            compare_texts(&in, ta, tb, &shared);
            hits += shared;
            free(ta);
            free(tb);
        }
        double rate = (double)hits / trials;
        if (rate < lo[t] || rate > hi[t])
            fail_msg("J=%.1f: candidate rate %f", target[t], rate);
    }
    inst_free(&in);

    /* the default aims lower, for truncated copies: a 40% head of an article (Jaccard
     * 0.4) is a candidate most of the time */
    const char *kv1[] = {"ngram=1"};
    inst_make(&in, kv1, 1);
    int hits = 0;
    for (int trial = 0; trial < 200; trial++) {
        uint32_t a[500];
        uint32_t next = (uint32_t)(rng(&seed) >> 40) * 1000u;
        for (size_t i = 0; i < 500; i++)
            a[i] = next++;
        char *ta = words_text(a, 500), *tb = words_text(a, 200);
        int shared;
        nd_score s = compare_texts(&in, ta, tb, &shared);
        hits += shared && s.containment >= in.info.containment;
        free(ta);
        free(tb);
    }
    if (hits < 180)
        fail_msg("40%% heads found %d times of 200", hits);
    inst_free(&in);
}

/* End to end with the core's clustering: 30 articles, each with an edited copy, a
 * 40% head and an unrelated page; every copy joins its article, nothing else joins. */
static void test_with_cluster(void **st)
{
    (void)st;
    enum { ART = 30, PER = 4, N = ART * PER, LEN = 500 };
    inst in;
    inst_make(&in, NULL, 0);
    size_t stride = in.info.sig_size;
    unsigned char *sigs = aligned_alloc(8, N * stride);
    uint64_t *keys = malloc(N * in.info.n_keys * sizeof *keys);
    uint8_t elig[N];
    uint64_t prio[N];
    assert_non_null(sigs);
    assert_non_null(keys);
    uint64_t seed = 21;
    for (int a = 0; a < ART; a++) {
        uint32_t w[LEN], e[LEN], o[LEN];
        for (int i = 0; i < LEN; i++) {
            w[i] = e[i] = (uint32_t)(rng(&seed) % 50000);
            o[i] = (uint32_t)(rng(&seed) % 50000);
        }
        for (int x = 0; x < 8; x++) /* a few words changed */
            e[rng(&seed) % LEN] = 70000 + (uint32_t)x;
        const uint32_t *src[PER] = {w, e, w, o};
        size_t len[PER] = {LEN, LEN, LEN * 2 / 5, LEN};
        for (int c = 0; c < PER; c++) {
            int d = c * ART + a; /* documents of one article are far apart in index */
            char *t = words_text(src[c], len[c]);
            ph_doc doc;
            ph_doc_make(&doc, t);
            assert_int_equal(P->sign(in.state, &doc.t, sigs + (size_t)d * stride,
                                     keys + (size_t)d * in.info.n_keys),
                             ND_PLUGIN_OK);
            ph_doc_free(&doc);
            free(t);
            elig[d] = 1;
            prio[d] = (uint64_t)c; /* the original first */
        }
    }
    nd_cluster_in cin = {P, in.state, &in.info, N, sigs, keys, elig, prio,
                         in.info.threshold, in.info.containment, 2};
    nd_cluster_out out;
    assert_int_equal(nd_cluster_run(&cin, &out), 0);
    assert_int_equal(out.n_clusters, ART);
    int heads = 0;
    for (int a = 0; a < ART; a++) {
        int32_t k = out.cluster[a];
        assert_true(k >= 0);
        assert_int_equal(out.rep[a], a);
        assert_int_equal(out.cluster[ART + a], k); /* edited copy */
        assert_true(out.similarity[ART + a] > 0.7); /* Jaccard about 0.85 */
        /* truncated copy, Jaccard 0.4: a candidate with p = 0.94 (LSH) */
        if (out.cluster[2 * ART + a] >= 0) {
            assert_int_equal(out.cluster[2 * ART + a], k);
            assert_true(out.containment[2 * ART + a] >= in.info.containment);
            heads++;
        }
        assert_int_equal(out.cluster[3 * ART + a], -1); /* unrelated */
    }
    assert_true(heads >= ART - 3);
    nd_cluster_out_free(&out);
    free(sigs);
    free(keys);
    inst_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_identical_and_disjoint),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_jaccard_estimate),
        cmocka_unit_test(test_edited_copy),
        cmocka_unit_test(test_truncated_copy),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_definition),
        cmocka_unit_test(test_cjk),
        cmocka_unit_test(test_banding),
        cmocka_unit_test(test_with_cluster),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
