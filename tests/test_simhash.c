/* Tests for the simhash plugin, through the plugin ABI only (plugin_harness.h): options,
 * fingerprint behaviour, and the multi-index keys finding every pair within k. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "plugin_harness.h"

static const nd_plugin *P;
static void *handle;

static int setup(void **st)
{
    (void)st;
    P = ph_load("simhash", &handle);
    return P ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    ph_unload(handle);
    return 0;
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static char *words_text(const uint32_t *ids, size_t n)
{
    char *s = malloc(n * 12 + 1), *p = s;
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, i ? " w%u" : "w%u", ids[i]);
    *p = '\0';
    return s;
}

typedef struct signed_doc {
    unsigned char sig[64];
    uint64_t keys[16];
    int rc;
} signed_doc;

static void *make(const char *const *kv, size_t n, nd_sig_info *info)
{
    void *state;
    char err[256];
    if (ph_create(P, kv, n, &state, info, err, sizeof err))
        fail_msg("create: %s", err);
    assert_true(info->sig_size <= 64);
    assert_true(info->n_keys <= 16);
    return state;
}

static void sign_text(void *state, const char *text, signed_doc *d)
{
    ph_doc doc;
    ph_doc_make(&doc, text);
    memset(d, 0, sizeof *d);
    d->rc = P->sign(state, &doc.t, d->sig, d->keys);
    ph_doc_free(&doc);
}

static void sign_ids(void *state, const uint32_t *ids, size_t n, signed_doc *d)
{
    char *t = words_text(ids, n);
    sign_text(state, t, d);
    free(t);
}

static int hamming(void *state, const signed_doc *a, const signed_doc *b)
{
    nd_score s;
    P->compare(state, a->sig, b->sig, &s);
    assert_float_equal(s.containment, -1.0, 0);
    return (int)lround((1.0 - s.similarity) * 64.0);
}

static int share_key(const signed_doc *a, const signed_doc *b, uint32_t n_keys)
{
    for (uint32_t i = 0; i < n_keys; i++)
        if (a->keys[i] == b->keys[i])
            return 1;
    return 0;
}

static void test_descriptor(void **st)
{
    (void)st;
    assert_int_equal(P->abi_major, ND_PLUGIN_ABI_MAJOR);
    assert_int_equal(P->size, sizeof(nd_plugin));
    assert_string_equal(P->name, "simhash");
    assert_non_null(P->create);
    assert_non_null(P->sign);
    assert_non_null(P->compare);
    assert_non_null(P->destroy);
    size_t n = 0;
    for (const nd_option *o = P->options; o->key; o++, n++) {
        assert_non_null(o->default_value);
        assert_non_null(o->help);
    }
    assert_true(n >= 3);

    nd_sig_info info;
    void *s = make(NULL, 0, &info);
    assert_int_equal(info.n_keys, 4);
    assert_int_equal(info.min_tokens, 3);
    assert_float_equal(info.threshold, 1.0 - 3.0 / 64.0, 1e-12);
    assert_true(info.containment > 1);
    assert_int_equal(info.sig_size % 8, 0);
    P->destroy(s);

    const char *kv[] = {"k=5", "ngram=2", "threshold=0.9", "weight=uniform"};
    s = make(kv, 4, &info);
    assert_int_equal(info.n_keys, 6);
    assert_int_equal(info.min_tokens, 2);
    assert_float_equal(info.threshold, 0.9, 1e-12);
    P->destroy(s);
    const char *kv2[] = {"threshold=auto", "k=0"};
    s = make(kv2, 2, &info);
    assert_int_equal(info.n_keys, 1);
    assert_float_equal(info.threshold, 1.0, 0);
    P->destroy(s);
}

static void test_bad_options(void **st)
{
    (void)st;
    const char *bad[][2] = {{"hamming=3", "hamming"}, {"k=8", "k"},
                            {"k=x", "k"},             {"ngram=0", "ngram"},
                            {"threshold=0", "threshold"}, {"threshold=1.1", "threshold"},
                            {"weight=idf", "weight"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        void *state;
        nd_sig_info info;
        char err[256];
        const char *kv[] = {bad[i][0]};
        if (ph_create(P, kv, 1, &state, &info, err, sizeof err) >= 0)
            fail_msg("accepted %s", bad[i][0]);
        assert_non_null(strstr(err, bad[i][1]));
    }
}

static void test_identical_and_different(void **st)
{
    (void)st;
    nd_sig_info info;
    void *s = make(NULL, 0, &info);
    uint64_t seed = 1;
    uint32_t a[500], b[500];
    for (int i = 0; i < 500; i++) {
        a[i] = (uint32_t)(rng(&seed) % 30000);
        b[i] = (uint32_t)(rng(&seed) % 30000);
    }
    signed_doc da, da2, db;
    sign_ids(s, a, 500, &da);
    sign_ids(s, a, 500, &da2);
    sign_ids(s, b, 500, &db);
    assert_int_equal(da.rc, ND_PLUGIN_OK);
    assert_memory_equal(da.sig, da2.sig, info.sig_size); /* deterministic */
    assert_memory_equal(da.keys, da2.keys, info.n_keys * sizeof *da.keys);
    assert_int_equal(hamming(s, &da, &da2), 0);
    nd_score sc;
    P->compare(s, da.sig, da2.sig, &sc);
    assert_float_equal(sc.similarity, 1.0, 0);
    int h = hamming(s, &da, &db);
    assert_true(h > 10 && h < 54); /* unrelated: about 32 */
    P->destroy(s);
}

static void test_near_copies(void **st)
{
    (void)st;
    /* one word changed in a 1000-word page: usually within k = 3 */
    nd_sig_info info;
    void *s = make(NULL, 0, &info);
    uint64_t seed = 5;
    int within = 0;
    for (int trial = 0; trial < 20; trial++) {
        uint32_t a[1000], b[1000];
        for (int i = 0; i < 1000; i++)
            a[i] = b[i] = (uint32_t)(rng(&seed) % 30000);
        b[rng(&seed) % 1000] = 99999;
        signed_doc da, db;
        sign_ids(s, a, 1000, &da);
        sign_ids(s, b, 1000, &db);
        int h = hamming(s, &da, &db);
        within += h <= 3;
        if (h <= 3)
            assert_true(share_key(&da, &db, info.n_keys));
    }
    assert_true(within >= 15);
    P->destroy(s);
}

static void test_fallback(void **st)
{
    (void)st;
    nd_sig_info info;
    void *s = make(NULL, 0, &info);
    signed_doc a, b, c, d;
    sign_text(s, "not found", &a);
    sign_text(s, "not found", &b);
    sign_text(s, "not here", &c);
    sign_text(s, "not found at all", &d);
    assert_int_equal(a.rc, ND_PLUGIN_FALLBACK);
    assert_int_equal(c.rc, ND_PLUGIN_FALLBACK);
    assert_int_equal(d.rc, ND_PLUGIN_OK);
    nd_score sc;
    P->compare(s, a.sig, b.sig, &sc);
    assert_float_equal(sc.similarity, 1.0, 0);
    assert_true(share_key(&a, &b, info.n_keys));
    P->compare(s, a.sig, c.sig, &sc);
    assert_float_equal(sc.similarity, 0.0, 0);
    P->compare(s, a.sig, d.sig, &sc);
    assert_float_equal(sc.similarity, 0.0, 0);
    P->destroy(s);
}

/* Multi-index keys: every pair within Hamming distance k shares a key. Documents and
 * their lightly edited copies give many pairs at small distances; all pairs are
 * checked, for several k. */
static void test_candidates_complete(void **st)
{
    (void)st;
    enum { BASES = 40, COPIES = 8, N = BASES * COPIES, LEN = 1500 };
    static signed_doc docs[N];
    for (unsigned k = 1; k <= 7; k += 2) {
        char kopt[16];
        snprintf(kopt, sizeof kopt, "k=%u", k);
        const char *kv[] = {kopt};
        nd_sig_info info;
        void *s = make(kv, 1, &info);
        assert_int_equal(info.n_keys, k + 1);
        uint64_t seed = 1000 + k;
        for (int bsi = 0; bsi < BASES; bsi++) {
            uint32_t base[LEN];
            for (int i = 0; i < LEN; i++)
                base[i] = (uint32_t)(rng(&seed) % 30000);
            for (int c = 0; c < COPIES; c++) {
                uint32_t w[LEN];
                memcpy(w, base, sizeof w);
                for (int e = 0; e < c; e++) /* copy c has c words changed */
                    w[rng(&seed) % LEN] = 40000 + (uint32_t)(rng(&seed) % 1000);
                sign_ids(s, w, LEN, &docs[bsi * COPIES + c]);
            }
        }
        size_t within = 0, at_k = 0, far_shared = 0, far = 0;
        for (int i = 0; i < N; i++) {
            for (int j = i + 1; j < N; j++) {
                int h = hamming(s, &docs[i], &docs[j]);
                int shared = share_key(&docs[i], &docs[j], info.n_keys);
                if (h <= (int)k) {
                    within++;
                    at_k += h == (int)k;
                    if (!shared)
                        fail_msg("k=%u: pair (%d,%d) at distance %d shares no key", k, i, j, h);
                } else if (h >= 20) {
                    far++;
                    far_shared += shared;
                }
            }
        }
        print_message("k=%u: %zu pairs within k, %zu at k, %zu/%zu far pairs share a key\n", k, within, at_k, far_shared, far);
        /* the test means something: many close pairs, some exactly at k */
        assert_true(within >= 100);
        assert_true(at_k >= 5);
        /* and the keys are selective: unrelated pairs rarely share one (blocks of
         * 64/(k+1) bits) */
        assert_true(far_shared * 10 < far);
        P->destroy(s);
    }
}

/* Blocks do not change features: shingles span them. */
static void test_blocks(void **st)
{
    (void)st;
    nd_sig_info info;
    void *s = make(NULL, 0, &info);
    signed_doc a, b;
    sign_text(s, "alpha beta gamma\ndelta epsilon\nzeta eta theta", &a);
    sign_text(s, "alpha beta gamma delta epsilon zeta eta theta", &b);
    assert_memory_equal(a.sig, b.sig, info.sig_size);
    P->destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_identical_and_different),
        cmocka_unit_test(test_near_copies),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_candidates_complete),
        cmocka_unit_test(test_blocks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
