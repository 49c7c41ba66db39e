/* Unit tests of boilerplate learning (core/boiler.c): thresholds, template versus
 * syndicated blocks, once-per-page counting, kept texts, pruning under a tiny memory
 * budget, concurrent adds, and the report order of a site's blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "boiler.h"

#define MAXB 64

static uint64_t hash_of(const char *s)
{
    return XXH3_64bits(s, strlen(s));
}

/* Add one page whose blocks are the given strings (hash of the text as is). */
static void add_page(nd_boiler *b, uint32_t site, const char **blocks, size_t n)
{
    uint64_t h[MAXB];
    uint32_t l[MAXB];
    assert_true(n <= MAXB);
    for (size_t i = 0; i < n; i++) {
        h[i] = hash_of(blocks[i]);
        l[i] = (uint32_t)strlen(blocks[i]);
    }
    assert_int_equal(nd_boiler_add_doc(b, site, h, blocks, l, n), 0);
}

static nd_boiler *new_boiler(uint32_t min_docs, double share, uint32_t max_docs,
                             size_t max_entries)
{
    nd_boiler_opts o;
    nd_boiler_opts_default(&o);
    o.min_docs = min_docs;
    o.min_share = share;
    o.max_docs = max_docs;
    o.max_entries = max_entries;
    nd_boiler *b = NULL;
    assert_int_equal(nd_boiler_new(&o, &b), 0);
    assert_non_null(b);
    return b;
}

static bool is_boiler(const nd_boiler *b, uint32_t site, const char *s)
{
    return nd_boiler_is(b, site, hash_of(s));
}

static void test_thresholds(void **state)
{
    (void)state;
    nd_boiler_opts o;
    nd_boiler_opts_default(&o);
    /* Never below 2: a block on one page is not repeated. */
    assert_int_equal(nd_boiler_threshold(&o, 0), 2);
    assert_int_equal(nd_boiler_threshold(&o, 1), 2);
    /* The share decides for small sites, the cap for big ones. */
    uint32_t prev = 0;
    for (uint32_t d = 1; d < 200000; d = d * 3 / 2 + 1) {
        uint32_t t = nd_boiler_threshold(&o, d);
        assert_true(t >= prev);                /* monotone in the site's size */
        assert_true(t >= 2 && t >= o.min_docs);
        if (o.max_docs)
            assert_true(t <= o.max_docs || t == o.min_docs || t == 2);
        prev = t;
    }
    o.min_docs = 3;
    o.min_share = 0.05;
    o.max_docs = 0;
    assert_int_equal(nd_boiler_threshold(&o, 3), 3);
    assert_int_equal(nd_boiler_threshold(&o, 60), 3);
    assert_int_equal(nd_boiler_threshold(&o, 61), 4);  /* ceil(3.05) */
    assert_int_equal(nd_boiler_threshold(&o, 100000), 5000);
    o.max_docs = 20;
    assert_int_equal(nd_boiler_threshold(&o, 100000), 20);
    o.min_docs = 30; /* min_docs wins over the cap */
    assert_int_equal(nd_boiler_threshold(&o, 100000), 30);
    o.min_docs = 1;
    o.min_share = 0.5;
    o.max_docs = 0;
    assert_int_equal(nd_boiler_threshold(&o, 3), 2);
    assert_int_equal(nd_boiler_threshold(&o, 4), 2);
    assert_int_equal(nd_boiler_threshold(&o, 5), 3);
}

/* A site of 20 pages: nav on all, "most read" items on some, an article each. */
static void test_template_not_article(void **state)
{
    (void)state;
    nd_boiler *b = new_boiler(3, 0.05, 0, 0);
    char art[20][64], read1[20][64];
    for (int i = 0; i < 20; i++) {
        snprintf(art[i], sizeof art[i], "article paragraph number %d of the site", i);
        snprintf(read1[i], sizeof read1[i], "most read item %d", i / 5); /* 5 pages each */
        const char *blocks[] = {"Home News Sport", art[i], read1[i], "Contact us"};
        add_page(b, 0, blocks, 4);
    }
    assert_int_equal(nd_boiler_finish(b), 0);
    assert_int_equal(nd_boiler_site_docs(b, 0), 20);
    assert_true(is_boiler(b, 0, "Home News Sport"));
    assert_true(is_boiler(b, 0, "Contact us"));
    assert_true(is_boiler(b, 0, "most read item 0"));
    for (int i = 0; i < 20; i++)
        assert_false(is_boiler(b, 0, art[i]));
    /* Boilerplate is per site. */
    assert_false(is_boiler(b, 1, "Home News Sport"));
    nd_boiler_free(b);
}

/* One article syndicated to one page of each of five sites: never boilerplate, even
 * though it is on five pages in all; each site's own footer is. */
static void test_syndication_not_boiler(void **state)
{
    (void)state;
    nd_boiler *b = NULL;
    assert_int_equal(nd_boiler_new(NULL, &b), 0);
    const char *para[] = {"The minister said on Monday that the plan would go ahead.",
                          "Critics called the decision rushed."};
    for (uint32_t site = 0; site < 5; site++) {
        char footer[64], own[64];
        snprintf(footer, sizeof footer, "Copyright site %u", site);
        for (int p = 0; p < 12; p++) {
            snprintf(own, sizeof own, "site %u own story %d", site, p);
            const char *blocks[] = {own, footer, para[0], para[1]};
            add_page(b, site, blocks, p == 3 ? 4 : 2);
        }
    }
    assert_int_equal(nd_boiler_finish(b), 0);
    for (uint32_t site = 0; site < 5; site++) {
        char footer[64];
        snprintf(footer, sizeof footer, "Copyright site %u", site);
        assert_true(is_boiler(b, site, footer));
        assert_false(is_boiler(b, site, para[0]));
        assert_false(is_boiler(b, site, para[1]));
        size_t n;
        const nd_boiler_block *bb = nd_boiler_site_blocks(b, site, &n);
        assert_int_equal(n, 1);
        assert_int_equal(bb[0].docs, 12);
        assert_string_equal(bb[0].text, footer);
    }
    nd_boiler_free(b);
}

/* A block repeated inside one page counts once; text is kept, smallest variant. */
static void test_once_per_page_and_text(void **state)
{
    (void)state;
    nd_boiler *b = new_boiler(2, 0.3, 10, 0);
    const char *spam[] = {"Share", "Share", "Share", "Share", "only here"};
    add_page(b, 7, spam, 5);
    const char *p2[] = {"another page", "Follow us"};
    add_page(b, 7, p2, 2);
    const char *p3[] = {"third page", "only here"};
    add_page(b, 7, p3, 2);
    const char *p4[] = {"fourth page", "Follow us"};
    add_page(b, 7, p4, 2);
    /* Same normalised block, other spellings: hashes given explicitly. */
    uint64_t h = hash_of("follow us");
    const char *t1[] = {"FOLLOW US"}, *t2[] = {"follow us"};
    uint32_t l = 9;
    assert_int_equal(nd_boiler_add_doc(b, 7, &h, t2, &l, 1), 0);
    assert_int_equal(nd_boiler_add_doc(b, 7, &h, t1, &l, 1), 0);
    assert_int_equal(nd_boiler_add_doc(b, 7, &h, t2, &l, 1), 0);
    assert_int_equal(nd_boiler_finish(b), 0);
    /* 7 pages: T = max(2, ceil(2.1)) = 3. */
    assert_int_equal(nd_boiler_site_docs(b, 7), 7);
    assert_false(is_boiler(b, 7, "Share"));     /* 4 times on one page only */
    assert_false(is_boiler(b, 7, "only here")); /* 2 pages < 3 */
    assert_false(is_boiler(b, 7, "Follow us")); /* 2 pages under this hash */
    assert_true(nd_boiler_is(b, 7, h));         /* 3 pages */
    size_t n;
    const nd_boiler_block *bb = nd_boiler_site_blocks(b, 7, &n);
    assert_int_equal(n, 1);
    assert_int_equal(bb[0].docs, 3);
    /* Kept from the 2nd page on; the smallest spelling whatever the order. */
    assert_string_equal(bb[0].text, "FOLLOW US");
    nd_boiler_free(b);
}

static void test_text_variant(void **state)
{
    (void)state;
    nd_boiler *b = new_boiler(2, 0.1, 0, 0);
    uint64_t h = hash_of("follow us");
    const char *v[] = {"follow us", "Follow Us", "FOLLOW US", "follow us"};
    uint32_t l = 9;
    for (int i = 0; i < 4; i++)
        assert_int_equal(nd_boiler_add_doc(b, 0, &h, &v[i], &l, 1), 0);
    assert_int_equal(nd_boiler_finish(b), 0);
    size_t n;
    const nd_boiler_block *bb = nd_boiler_site_blocks(b, 0, &n);
    assert_int_equal(n, 1);
    assert_int_equal(bb[0].docs, 4);
    assert_int_equal(bb[0].hash, h);
    /* The first page's text is never kept (not yet repeated); of the rest the
     * smallest byte string wins, whatever the order. */
    assert_string_equal(bb[0].text, "FOLLOW US");
    nd_boiler_free(b);
}

static void test_site_blocks_order(void **state)
{
    (void)state;
    nd_boiler *b = new_boiler(2, 0.0, 0, 0);
    /* c on 5 pages, a and b on 3, d on 2. */
    const char *pages[][3] = {{"c", "b", "a"}, {"c", "b", "a"}, {"c", "a", "b"},
                              {"c", "d", "x1"}, {"c", "d", "x2"}};
    for (int i = 0; i < 5; i++)
        add_page(b, 2, pages[i], 3);
    assert_int_equal(nd_boiler_finish(b), 0);
    size_t n;
    const nd_boiler_block *bb = nd_boiler_site_blocks(b, 2, &n);
    assert_int_equal(n, 4);
    const char *want[] = {"c", "a", "b", "d"};
    uint32_t docs[] = {5, 3, 3, 2};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(bb[i].text, want[i]);
        assert_int_equal(bb[i].docs, docs[i]);
    }
    /* Sites never seen, or seen with no repeats. */
    assert_null(nd_boiler_site_blocks(b, 0, &n));
    assert_int_equal(n, 0);
    assert_null(nd_boiler_site_blocks(b, 1000, &n));
    assert_int_equal(nd_boiler_site_docs(b, 1000), 0);
    nd_boiler_free(b);
}

static void test_lifecycle(void **state)
{
    (void)state;
    nd_boiler *b = new_boiler(2, 0.5, 10, 0);
    const char *p[] = {"x"};
    add_page(b, 0, p, 1);
    add_page(b, 0, p, 1);
    assert_false(is_boiler(b, 0, "x")); /* nothing decided before finish */
    assert_int_equal(nd_boiler_add_doc(b, 0, NULL, NULL, NULL, 0), 0); /* empty page */
    assert_int_equal(nd_boiler_finish(b), 0);
    assert_int_equal(nd_boiler_finish(b), 0); /* idempotent */
    assert_int_equal(nd_boiler_site_docs(b, 0), 3);
    assert_true(is_boiler(b, 0, "x"));
    uint64_t h = 1;
    assert_true(nd_boiler_add_doc(b, 0, &h, NULL, NULL, 1) < 0);
    nd_boiler_free(b);
    nd_boiler_free(NULL);
}

/* nd_boiler_seen: a (site, digest) pair is new once, on that site only; many pairs
 * (the set grows) are all remembered; nothing is recorded after finish. */
static void test_seen_pages(void **state)
{
    (void)state;
    nd_boiler *b = new_boiler(2, 0.5, 10, 0);
    uint64_t d[2] = {0x1234, 0x5678}, zero[2] = {0, 0};
    assert_int_equal(nd_boiler_seen(b, 0, d), 0);
    assert_int_equal(nd_boiler_seen(b, 0, d), 1);
    assert_int_equal(nd_boiler_seen(b, 1, d), 0); /* a mirror on another site */
    assert_int_equal(nd_boiler_seen(b, 1, d), 1);
    assert_int_equal(nd_boiler_seen(b, 0, zero), 0);
    assert_int_equal(nd_boiler_seen(b, 0, zero), 1);
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t k[2] = {i * 0xD6E8FEB86659FD93ull, i};
        assert_int_equal(nd_boiler_seen(b, 7, k), 0);
    }
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t k[2] = {i * 0xD6E8FEB86659FD93ull, i}, other[2] = {k[0], i + 1000000};
        assert_int_equal(nd_boiler_seen(b, 7, k), 1);
        assert_int_equal(nd_boiler_seen(b, 7, other), 0);
    }
    assert_int_equal(nd_boiler_finish(b), 0);
    assert_true(nd_boiler_seen(b, 0, d) < 0);
    nd_boiler_free(b);
}

/* A budget of 64 entries for 200 pages of 30 blocks: unique blocks are pruned, the
 * template survives with its full count. */
static void test_pruning_keeps_frequent(void **state)
{
    (void)state;
    nd_boiler *b = new_boiler(3, 0.05, 0, 64);
    char uniq[25][64];
    const char *blocks[30] = {"nav one", "nav two", "nav three", "footer", "ad slot"};
    for (int p = 0; p < 200; p++) {
        for (int i = 0; i < 25; i++) {
            snprintf(uniq[i], sizeof uniq[i], "page %d sentence %d", p, i);
            blocks[5 + i] = uniq[i];
        }
        add_page(b, 0, blocks, 30);
    }
    assert_int_equal(nd_boiler_finish(b), 0);
    nd_boiler_stats st;
    nd_boiler_get_stats(b, &st);
    assert_true(st.pruned > 0);
    assert_true(st.prune_rounds > 0);
    assert_true(st.max_undercount >= 1);
    assert_true(st.entries <= 64);
    size_t n;
    const nd_boiler_block *bb = nd_boiler_site_blocks(b, 0, &n);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(bb[i].docs, 200);
        assert_non_null(bb[i].text);
    }
    assert_false(is_boiler(b, 0, "page 3 sentence 4"));
    nd_boiler_free(b);
}

/* Same input, different budgets: pruning only ever removes boilerplate, never adds. */
static void test_pruning_never_invents(void **state)
{
    (void)state;
    nd_boiler *full = new_boiler(2, 0.02, 0, 0), *small = new_boiler(2, 0.02, 0, 40);
    char s[4][64];
    for (int p = 0; p < 300; p++) {
        snprintf(s[0], sizeof s[0], "u%d", p);
        snprintf(s[1], sizeof s[1], "r%d", p % 37);  /* on 8-9 pages */
        snprintf(s[2], sizeof s[2], "q%d", p % 150); /* on 2 pages, far apart */
        snprintf(s[3], sizeof s[3], "nav");
        const char *blocks[] = {s[0], s[1], s[2], s[3]};
        add_page(full, 1, blocks, 4);
        add_page(small, 1, blocks, 4);
    }
    assert_int_equal(nd_boiler_finish(full), 0);
    assert_int_equal(nd_boiler_finish(small), 0);
    size_t nf, ns;
    const nd_boiler_block *bf = nd_boiler_site_blocks(full, 1, &nf);
    const nd_boiler_block *bs = nd_boiler_site_blocks(small, 1, &ns);
    assert_true(ns <= nf);
    assert_true(ns >= 1);
    assert_true(nd_boiler_is(small, 1, hash_of("nav")));
    nd_boiler_stats st;
    nd_boiler_get_stats(small, &st);
    for (size_t i = 0; i < ns; i++) {
        assert_true(nd_boiler_is(full, 1, bs[i].hash));
        /* A lower bound within the stated error of the true count. */
        for (size_t j = 0; j < nf; j++)
            if (bf[j].hash == bs[i].hash) {
                assert_true(bs[i].docs <= bf[j].docs);
                assert_true(bs[i].docs + st.max_undercount >= bf[j].docs);
            }
    }
    nd_boiler_free(full);
    nd_boiler_free(small);
}

/* ---- threads ---- */

#define T_SITES 13
#define T_PAGES 3000

static void page_blocks(int p, char s[6][48], const char *out[6])
{
    uint32_t site = (uint32_t)(p % T_SITES);
    snprintf(s[0], 48, "site %u nav", site);
    snprintf(s[1], 48, "site %u related %d", site, (p / T_SITES) % 17);
    snprintf(s[2], 48, "story %d", p);
    snprintf(s[3], 48, "story %d part 2", p);
    snprintf(s[4], 48, "syndicated %d", p / 40); /* same text on several sites */
    snprintf(s[5], 48, "site %u nav", site);     /* repeated in the page */
    for (int i = 0; i < 6; i++)
        out[i] = s[i];
}

struct tctx {
    nd_boiler *b;
    int from, step;
    int rc;
};

static void *adder(void *arg)
{
    struct tctx *c = arg;
    for (int p = c->from; p < T_PAGES && !c->rc; p += c->step) {
        char s[6][48];
        const char *t[6];
        uint64_t h[6];
        uint32_t l[6];
        page_blocks(p, s, t);
        for (int i = 0; i < 6; i++) {
            h[i] = hash_of(t[i]);
            l[i] = (uint32_t)strlen(t[i]);
        }
        c->rc = nd_boiler_add_doc(c->b, (uint32_t)(p % T_SITES), h, t, l, 6);
    }
    return NULL;
}

static void run_threads(nd_boiler *b, int nt)
{
    pthread_t th[4];
    struct tctx c[4];
    for (int i = 0; i < nt; i++) {
        c[i] = (struct tctx){b, i, nt, 0};
        assert_int_equal(pthread_create(&th[i], NULL, adder, &c[i]), 0);
    }
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].rc, 0);
    }
    assert_int_equal(nd_boiler_finish(b), 0);
}

static void test_threads_same_result(void **state)
{
    (void)state;
    nd_boiler *one = NULL, *two = NULL, *four = NULL;
    assert_int_equal(nd_boiler_new(NULL, &one), 0);
    assert_int_equal(nd_boiler_new(NULL, &two), 0);
    assert_int_equal(nd_boiler_new(NULL, &four), 0);
    run_threads(one, 1);
    run_threads(two, 2);
    run_threads(four, 4);
    size_t total = 0;
    for (uint32_t site = 0; site < T_SITES; site++) {
        assert_int_equal(nd_boiler_site_docs(one, site), nd_boiler_site_docs(two, site));
        assert_int_equal(nd_boiler_site_docs(one, site), nd_boiler_site_docs(four, site));
        size_t n1, n2, n4;
        const nd_boiler_block *b1 = nd_boiler_site_blocks(one, site, &n1);
        const nd_boiler_block *b2 = nd_boiler_site_blocks(two, site, &n2);
        const nd_boiler_block *b4 = nd_boiler_site_blocks(four, site, &n4);
        assert_int_equal(n1, n2);
        assert_int_equal(n1, n4);
        for (size_t i = 0; i < n1; i++) {
            assert_int_equal(b1[i].hash, b2[i].hash);
            assert_int_equal(b1[i].hash, b4[i].hash);
            assert_int_equal(b1[i].docs, b2[i].docs);
            assert_int_equal(b1[i].docs, b4[i].docs);
            assert_string_equal(b1[i].text, b2[i].text);
            assert_string_equal(b1[i].text, b4[i].text);
        }
        /* nav and the 17 related items; stories and syndication are not. */
        assert_int_equal(n1, 18);
        char nav[48];
        snprintf(nav, sizeof nav, "site %u nav", site);
        assert_string_equal(b1[0].text, nav);
        total += n1;
    }
    assert_int_equal(total, 18 * T_SITES);
    nd_boiler_free(one);
    nd_boiler_free(two);
    nd_boiler_free(four);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_template_not_article),
        cmocka_unit_test(test_syndication_not_boiler),
        cmocka_unit_test(test_once_per_page_and_text),
        cmocka_unit_test(test_text_variant),
        cmocka_unit_test(test_site_blocks_order),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_seen_pages),
        cmocka_unit_test(test_pruning_keeps_frequent),
        cmocka_unit_test(test_pruning_never_invents),
        cmocka_unit_test(test_threads_same_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
