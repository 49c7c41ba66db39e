/* The corpus tools: build/gen is deterministic for a seed and its truth accounts for
 * every file; build/score gives F1 = 1 for clusters made from the truth, less when a
 * group is split or two are merged, and exact figures on a hand-made case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "jsonr.h"

static char bin_gen[1024], bin_score[1024], tmp[256];

/* Run a shell command built from a format; its exit status. */
static int run(const char *fmt, ...) ND_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    nd_buf b = ND_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(nd_buf_append(&b, chunk, n), 0);
    fclose(f);
    if (len)
        *len = b.len;
    return nd_buf_take(&b);
}

static int setup(void **state)
{
    (void)state;
    const char *bd = getenv("ND_BUILD_DIR");
    if (!bd)
        bd = "build";
    snprintf(bin_gen, sizeof bin_gen, "%s/gen", bd);
    snprintf(bin_score, sizeof bin_score, "%s/score", bd);
    snprintf(tmp, sizeof tmp, "/tmp/nd-test-corpora-XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    if (access(bin_gen, X_OK) || access(bin_score, X_OK)) {
        fprintf(stderr, "test_corpora: %s and %s must be built first (make all)\n", bin_gen,
                bin_score);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf '%s'", tmp) == 0 ? 0 : -1;
}

static void gen(const char *name, unsigned docs, unsigned seed)
{
    assert_int_equal(run("'%s' --docs %u --seed %u --out '%s/%s' --truth '%s/%s.truth.json' "
                              "--long-line 20000 --quiet",
             bin_gen, docs, seed, tmp, name, tmp, name), 0);
}

static void test_deterministic(void **state)
{
    (void)state;
    gen("a", 150, 11);
    gen("b", 150, 11);
    gen("c", 150, 12);
    assert_int_equal(run("diff -r '%s/a' '%s/b' >/dev/null && cmp -s '%s/a.truth.json' '%s/b.truth.json'",
             tmp, tmp, tmp, tmp), 0);
    assert_int_not_equal(run("cmp -s '%s/a.truth.json' '%s/c.truth.json'", tmp, tmp), 0); /* another seed, another crawl */
    /* refuses to write into a non-empty directory, and the truth inside the crawl */
    assert_int_not_equal(run("'%s' --docs 10 --seed 1 --out '%s/a' --truth '%s/x.json' 2>/dev/null",
             bin_gen, tmp, tmp), 0);
    assert_int_not_equal(run("'%s' --docs 10 --seed 1 --out '%s/d' --truth '%s/d/t.json' 2>/dev/null",
             bin_gen, tmp, tmp), 0);
}

/* Documents of a truth file (one per line). */
struct tdoc {
    char *path, *uri, *role;
    long group;
};

static size_t read_docs(const char *truth, struct tdoc **out)
{
    FILE *f = fopen(truth, "rb");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, n = 0, vcap = 0;
    ssize_t len;
    struct tdoc *v = NULL;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (strncmp(line, "{\"path\":", 8))
            continue;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ','))
            len--;
        nd_jdoc *jd;
        assert_int_equal(nd_json_parse(line, (size_t)len, &jd), 0);
        const nd_jval *o = nd_jdoc_root(jd);
        if (n == vcap) {
            vcap = vcap ? vcap * 2 : 256;
            v = realloc(v, vcap * sizeof *v);
            assert_non_null(v);
        }
        const char *u = nd_jget_str(o, "uri", NULL);
        v[n].path = strdup(nd_jget_str(o, "path", ""));
        v[n].uri = u ? strdup(u) : NULL;
        v[n].role = strdup(nd_jget_str(o, "role", ""));
        v[n].group = (long)nd_jget_num(o, "group", -1);
        n++;
        nd_jdoc_free(jd);
    }
    free(line);
    fclose(f);
    *out = v;
    return n;
}

static void free_docs(struct tdoc *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        free(v[i].uri);
        free(v[i].role);
    }
    free(v);
}

static void test_truth_accounts_for_every_file(void **state)
{
    (void)state;
    gen("e", 160, 5);
    char truth[512], list[512];
    snprintf(truth, sizeof truth, "%s/e.truth.json", tmp);
    snprintf(list, sizeof list, "%s/e.files", tmp);
    assert_int_equal(run("cd '%s/e' && find . -type f | sed 's|^\\./||' | sort > '%s'", tmp, list), 0);
    struct tdoc *d;
    size_t n = read_docs(truth, &d);
    assert_int_equal(n, 160);
    char *files = slurp(list, NULL);
    assert_non_null(files);
    /* every file is named by the truth, every truth path is a file */
    size_t nfiles = 0;
    for (char *p = files, *e; *p; p = e + 1) {
        e = strchr(p, '\n');
        *e = '\0';
        nfiles++;
        int found = 0;
        for (size_t i = 0; i < n && !found; i++)
            found = !strcmp(d[i].path, p);
        if (!found)
            fail_msg("file %s is not in the truth", p);
    }
    assert_true(nfiles > 50);
    int roles[8] = {0};
    static const char *const R[8] = {"original", "syndicated", "exact", "mirror",
                                     "follow_up", "same_topic", "index", "noise"};
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/e/%s", tmp, d[i].path);
        assert_int_equal(access(path, R_OK), 0);
        /* identities (path, uri) are unique */
        for (size_t j = i + 1; j < n; j++)
            assert_false(!strcmp(d[i].path, d[j].path) &&
                         ((!d[i].uri && !d[j].uri) ||
                          (d[i].uri && d[j].uri && !strcmp(d[i].uri, d[j].uri))));
        for (int r = 0; r < 8; r++)
            roles[r] += !strcmp(d[i].role, R[r]);
        /* a WARC record's site is its URI's host, the folder it lives in */
        if (d[i].uri) {
            size_t hl = strcspn(d[i].path, "/");
            assert_int_equal(strncmp(d[i].uri + 8, d[i].path, hl), 0);
        }
    }
    for (int r = 0; r < 8; r++)
        if (!roles[r])
            fail_msg("no document of role %s", R[r]);
    free(files);
    free_docs(d, n);
}

/* Clusters JSONL from the truth's groups; split: the first group of >= 3 is cut in
 * two; merge: the first two groups become one. */
static void write_clusters(const char *truth, const char *out, int split, int merge)
{
    struct tdoc *d;
    size_t n = read_docs(truth, &d);
    long *gid = calloc(n, sizeof *gid);
    assert_non_null(gid);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    long maxg = -1;
    for (size_t i = 0; i < n; i++)
        maxg = d[i].group > maxg ? d[i].group : maxg;
    long first = -1, second = -1, split_g = -1;
    for (long g = 0; g <= maxg; g++) {
        size_t size = 0;
        for (size_t i = 0; i < n; i++)
            size += d[i].group == g;
        if (size < 2)
            continue;
        if (first < 0)
            first = g;
        else if (second < 0)
            second = g;
        if (size >= 3 && split_g < 0)
            split_g = g;
    }
    assert_true(first >= 0 && second >= 0 && split_g >= 0);
    nd_buf b = ND_BUF_INIT;
    size_t *mem = malloc(n * sizeof *mem);
    assert_non_null(mem);
    for (long g = 0; g <= maxg; g++) {
        if (merge && g == second)
            continue;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (d[i].group == g || (merge && g == first && d[i].group == second))
                mem[k++] = i;
        size_t cut = split && g == split_g ? k / 2 : k;
        for (int part = 0; part < 2; part++) {
            size_t lo = part ? cut : 0, hi = part ? k : cut;
            if (hi - lo < 2)
                continue;
            nd_buf_clear(&b);
            nd_buf_puts(&b, "{\"members\":[");
            for (size_t i = lo; i < hi; i++) {
                if (i > lo)
                    nd_buf_putc(&b, ',');
                nd_buf_puts(&b, "{\"path\":");
                nd_json_cstr(&b, d[mem[i]].path);
                nd_buf_puts(&b, ",\"uri\":");
                nd_json_cstr(&b, d[mem[i]].uri);
                nd_buf_putc(&b, '}');
            }
            nd_buf_puts(&b, "]}\n");
            fwrite(b.p, 1, b.len, f);
        }
    }
    free(mem);
    nd_buf_free(&b);
    fclose(f);
    free(gid);
    free_docs(d, n);
}

static nd_jdoc *score(const char *truth, const char *clusters, const char *boiler)
{
    char out[512];
    snprintf(out, sizeof out, "%s/score.json", tmp);
    assert_int_equal(run("'%s' --truth '%s' --clusters '%s' %s%s%s --json > '%s'", bin_score,
             truth, clusters, boiler ? "--boilerplate '" : "", boiler ? boiler : "",
             boiler ? "'" : "", out), 0);
    size_t len;
    char *s = slurp(out, &len);
    assert_non_null(s);
    nd_jdoc *jd;
    assert_int_equal(nd_json_parse(s, len, &jd), 0);
    free(s);
    return jd;
}

static double num(const nd_jdoc *jd, const char *a, const char *b)
{
    const nd_jval *o = nd_jget(nd_jdoc_root(jd), a);
    assert_non_null(o);
    const nd_jval *v = nd_jget(o, b);
    assert_non_null(v);
    return v->num;
}

static void test_scorer_on_truth_clusters(void **state)
{
    (void)state;
    gen("s", 200, 9);
    char truth[512], cl[512];
    snprintf(truth, sizeof truth, "%s/s.truth.json", tmp);
    snprintf(cl, sizeof cl, "%s/s.clusters.jsonl", tmp);

    write_clusters(truth, cl, 0, 0);
    nd_jdoc *jd = score(truth, cl, NULL);
    assert_float_equal(num(jd, "pairs", "f1"), 1.0, 1e-9);
    assert_float_equal(num(jd, "pairs", "precision"), 1.0, 1e-9);
    assert_float_equal(num(jd, "exact", "recall"), 1.0, 1e-9);
    assert_float_equal(num(jd, "false_joins", "total"), 0.0, 1e-9);
    assert_true(num(jd, "pairs", "true") > 20);
    nd_jdoc_free(jd);

    write_clusters(truth, cl, 1, 0);
    jd = score(truth, cl, NULL);
    assert_float_equal(num(jd, "pairs", "precision"), 1.0, 1e-9);
    assert_true(num(jd, "pairs", "recall") < 1.0);
    assert_true(num(jd, "pairs", "f1") < 1.0);
    nd_jdoc_free(jd);

    write_clusters(truth, cl, 0, 1);
    jd = score(truth, cl, NULL);
    assert_float_equal(num(jd, "pairs", "recall"), 1.0, 1e-9);
    assert_true(num(jd, "pairs", "precision") < 1.0);
    assert_true(num(jd, "pairs", "f1") < 1.0);
    nd_jdoc_free(jd);
}

/* A hand-made truth: exact pair, boilerplate and false-join figures known in advance. */
static void test_scorer_exact_figures(void **state)
{
    (void)state;
    char truth[512], cl[512], bo[512];
    snprintf(truth, sizeof truth, "%s/h.truth.json", tmp);
    snprintf(cl, sizeof cl, "%s/h.clusters.jsonl", tmp);
    snprintf(bo, sizeof bo, "%s/h.boiler.jsonl", tmp);
    FILE *f = fopen(truth, "wb");
    assert_non_null(f);
    fputs("{\"seed\":1,\n\"documents\":[\n"
          "{\"path\":\"s/a.txt\",\"uri\":null,\"site\":\"s\",\"format\":\"txt\",\"role\":\"original\",\"transforms\":[],\"group\":0},\n"
          "{\"path\":\"s/b.txt\",\"uri\":null,\"site\":\"s\",\"format\":\"txt\",\"role\":\"syndicated\",\"transforms\":[\"nfd\"],\"group\":0},\n"
          "{\"path\":\"s/w.warc\",\"uri\":\"https://s/c\",\"site\":\"s\",\"format\":\"warc\",\"role\":\"exact\",\"transforms\":[],\"group\":0,\"source\":0},\n"
          "{\"path\":\"s/w.warc\",\"uri\":\"https://s/d\",\"site\":\"s\",\"format\":\"warc\",\"role\":\"same_topic\",\"transforms\":[],\"group\":null}\n"
          "],\n\"sites\":[\n"
          "{\"site\":\"s\",\"language\":\"en\",\"template_lines\":[\"Home\",\"News  desk\",\"Footer\",\"Most read\"]}\n"
          "],\n\"groups\":[]}\n", f);
    fclose(f);
    f = fopen(cl, "wb");
    assert_non_null(f);
    /* {a, c} right; {b, d} wrong (d is a hard negative); unknown path e */
    fputs("{\"members\":[{\"path\":\"s/a.txt\",\"uri\":null},{\"path\":\"s/w.warc\",\"uri\":\"https://s/c\"}]}\n"
          "{\"members\":[{\"path\":\"s/b.txt\",\"uri\":null},{\"path\":\"s/w.warc\",\"uri\":\"https://s/d\"}]}\n",
          f);
    fclose(f);
    f = fopen(bo, "wb");
    assert_non_null(f);
    fputs("{\"text\":\"Home\",\"docs\":3,\"site\":\"s\",\"share\":1}\n"
          "{\"text\":\"News desk\\nFooter\",\"docs\":3,\"site\":\"s\",\"share\":1}\n"
          "{\"text\":\"Not a template line\",\"docs\":2,\"site\":\"s\",\"share\":0.5}\n", f);
    fclose(f);
    nd_jdoc *jd = score(truth, cl, bo);
    /* true pairs: ab ac bc = 3; predicted ac bd = 2; correct ac = 1 */
    assert_float_equal(num(jd, "pairs", "true"), 3, 1e-9);
    assert_float_equal(num(jd, "pairs", "predicted"), 2, 1e-9);
    assert_float_equal(num(jd, "pairs", "precision"), 0.5, 1e-9);
    assert_float_equal(num(jd, "pairs", "recall"), 1.0 / 3, 1e-4);
    assert_float_equal(num(jd, "exact", "recall"), 1.0, 1e-9);
    assert_float_equal(num(jd, "false_joins", "total"), 1, 1e-9);
    assert_float_equal(num(jd, "false_joins", "same_topic"), 1, 1e-9);
    /* boilerplate: 4 lines predicted (Home, News desk, Footer, Not...), 3 right, of 4 true */
    assert_float_equal(num(jd, "boilerplate", "precision"), 0.75, 1e-9);
    assert_float_equal(num(jd, "boilerplate", "recall"), 0.75, 1e-9);
    nd_jdoc_free(jd);

    /* a clustered document the truth does not know is an error, reported and counted */
    f = fopen(cl, "ab");
    assert_non_null(f);
    fputs("{\"members\":[{\"path\":\"s/zzz.txt\",\"uri\":null},{\"path\":\"s/b.txt\",\"uri\":null}]}\n", f);
    fclose(f);
    assert_int_equal(run("'%s' --truth '%s' --clusters '%s' --json > '%s/u.json' 2>/dev/null",
             bin_score, truth, cl, tmp), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/u.json", tmp);
    size_t len;
    char *s = slurp(path, &len);
    assert_non_null(s);
    assert_int_equal(nd_json_parse(s, len, &jd), 0);
    free(s);
    assert_float_equal(nd_jget_num(nd_jdoc_root(jd), "unknown_documents", -1), 1, 1e-9);
    nd_jdoc_free(jd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_truth_accounts_for_every_file),
        cmocka_unit_test(test_scorer_on_truth_clusters),
        cmocka_unit_test(test_scorer_exact_figures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
