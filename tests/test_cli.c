/* End-to-end tests of the neardup binary: exit codes, one-line messages, the plugin
 * listing, and the clusters JSONL contract on small crawls written by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_harness.h"

static void test_help_version_usage(void **state)
{
    (void)state;
    struct result r = run_nd((const char *[]){"--help", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: neardup COMMAND"));
    assert_non_null(strstr(r.out, "Exit status: 0 success, 1 runtime failure"));
    result_free(&r);
    r = run_nd((const char *[]){"--version", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "neardup "));
    assert_non_null(strstr(r.out, "plugin ABI 1."));
    result_free(&r);
    r = run_nd((const char *[]){NULL});
    assert_int_equal(r.code, 2);
    result_free(&r);
    r = run_nd((const char *[]){"frobnicate", NULL});
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unknown command \"frobnicate\""));
    result_free(&r);
    r = run_nd((const char *[]){"report", "--help", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "--clusters FILE"));
    assert_non_null(strstr(r.out, "--method NAME"));
    result_free(&r);
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    const char *const *cases[] = {
        (const char *[]){"report", NULL},
        (const char *[]){"report", "a", "b", NULL},
        (const char *[]){"report", ".", "--bogus", NULL},
        (const char *[]){"report", ".", "--threads", "many", NULL},
        (const char *[]){"report", ".", "--threads", NULL},
        (const char *[]){"report", ".", "-o", "noequals", NULL},
        (const char *[]){"report", ".", "--method", "exact", "-o", "shingle.ngram=3", NULL},
        (const char *[]){"plugins", "--bogus", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct result r = run_nd(cases[i]);
        if (r.code != 2)
            fail_msg("case %zu: exit %d, stderr: %s", i, r.code, r.err);
        /* One line, naming the problem. */
        assert_true(strlen(r.err) > 10);
        assert_non_null(strstr(r.err, "neardup: "));
        result_free(&r);
    }
}

static void test_plugins_listing(void **state)
{
    (void)state;
    struct result r = run_nd((const char *[]){"plugins", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "exact "));
    assert_non_null(strstr(r.out, "ABI 1."));
    assert_non_null(strstr(r.out, "/plugins/exact.so"));
    result_free(&r);

    char dir[1100];
    snprintf(dir, sizeof dir, "%s/tests/plugins", cli_build_dir);
    r = run_nd((const char *[]){"plugins", "--plugin-dir", dir, NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "testgood"));
    assert_non_null(strstr(r.out, "bad_abi.so: ABI mismatch"));
    assert_non_null(strstr(r.out, "no_entry.so: no entry symbol"));
    assert_non_null(strstr(r.out, "short_desc.so: descriptor too short"));
    result_free(&r);
}

static void make_crawl(char *dir)
{
    strcpy(dir, "/tmp/nd-cli-crawl-XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *story =
        "City council approves the new riverside park after a long debate\n"
        "The council voted seven to two on Tuesday evening to fund the park project.\n"
        "Construction is expected to begin next spring and last eighteen months.\n";
    write_file(dir, "site-a/park.txt", story);
    write_file(dir, "site-b/copy-of-park.txt", story);
    write_file(dir, "site-c/park-again.txt", story);
    write_file(dir, "site-a/weather.txt",
               "Storm warning issued for the coast\nWinds of ninety kilometres per hour are expected overnight.\n");
    write_file(dir, "site-b/weather-copy.txt",
               "Storm warning issued for the coast\nWinds of ninety kilometres per hour are expected overnight.\n");
    write_file(dir, "site-c/unique.txt", "A completely different story about a library reopening downtown.\n");
}

static void test_report_exact_clusters_jsonl(void **state)
{
    (void)state;
    char dir[64], out1[1100], out2[1100];
    make_crawl(dir);
    snprintf(out1, sizeof out1, "%s.c1.jsonl", dir);
    snprintf(out2, sizeof out2, "%s.c2.jsonl", dir);
    struct result r = run_nd((const char *[]){"report", dir, "--method", "exact", "--clusters",
                                              out1, "--threads", "1", "--keep-boilerplate", NULL});
    if (r.code != 0)
        fail_msg("exit %d: %s", r.code, r.err);
    assert_non_null(strstr(r.out, "6 documents"));
    assert_non_null(strstr(r.out, "2 duplicate clusters"));
    result_free(&r);
    char *j1 = slurp(out1);
    /* Largest cluster first, members by path, uri null for plain files. */
    const char *want_first = "{\"cluster\":0,\"size\":3,";
    assert_memory_equal(j1, want_first, strlen(want_first));
    char *l2 = strchr(j1, '\n');
    assert_non_null(l2);
    assert_non_null(strstr(l2, "{\"cluster\":1,\"size\":2,"));
    char *a = strstr(j1, "\"path\":\"site-a/park.txt\",\"uri\":null");
    char *b = strstr(j1, "\"path\":\"site-b/copy-of-park.txt\"");
    char *c = strstr(j1, "\"path\":\"site-c/park-again.txt\"");
    assert_true(a && b && c && a < l2 && b < l2 && c < l2);
    /* members appear in path order (the representative is listed separately first) */
    char *members = strstr(j1, "\"members\":[");
    assert_true(members && strstr(members, "site-a/park.txt") < strstr(members, "site-b/copy"));
    assert_null(strstr(j1, "unique.txt"));
    int lines = 0;
    for (char *p = j1; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);

    /* Byte-identical output for identical input, whatever the thread count. */
    r = run_nd((const char *[]){"report", dir, "--method", "exact", "--clusters", out2,
                                "--threads", "2", "--keep-boilerplate", NULL});
    assert_int_equal(r.code, 0);
    result_free(&r);
    char *j2 = slurp(out2);
    assert_string_equal(j1, j2);
    free(j1);
    free(j2);
    unlink(out1);
    unlink(out2);
    rm_rf(dir);
}

/* Two sites. errors.example: 25 copies of one page (a soft 404 under many URLs): one
 * page of its site for the boilerplate model, so its text is not stripped as the site's
 * boilerplate, and one cluster of exact copies, of which the human report lists ten
 * members and counts the rest. news.example: 12 stories and 3 tag pages that differ in
 * markup only, all of whose text is the site's navigation and footer: empty after
 * stripping, joined as exact copies of their text, which the summary says. */
static void test_report_big_exact_cluster(void **state)
{
    (void)state;
    char dir[] = "/tmp/nd-cli-404-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char name[64], page[2048];
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof name, "errors.example/page%02d.html", i);
        write_file(dir, name,
                   "<html><head><title>Not found</title></head><body><p>The page you asked for "
                   "is not here any more; try the search box or the front page.</p></body></html>");
    }
    const char *nav = "<nav>Home | World | Sport | Culture</nav>",
               *foot = "<footer>Copyright the News of Example, all rights reserved</footer>";
    for (int i = 0; i < 15; i++) {
        int n = snprintf(page, sizeof page, "<html><body><!-- page %d -->%s<p>", i, nav);
        for (int j = 0; i < 12 && j < 40; j++) /* words of this story only */
            n += snprintf(page + n, sizeof page - (size_t)n, "s%dw%d ", i, j);
        snprintf(page + n, sizeof page - (size_t)n, "</p>%s</body></html>", foot);
        snprintf(name, sizeof name, "news.example/%s%02d.html", i < 12 ? "story" : "tag", i);
        write_file(dir, name, page);
    }
    struct result r = run_nd((const char *[]){"report", dir, "--threads", "1", NULL});
    if (r.code != 0)
        fail_msg("exit %d: %s", r.code, r.err);
    assert_non_null(strstr(r.out, "2 duplicate clusters holding 28 documents; 24 exact re-crawls in 1 of them"));
    assert_non_null(strstr(r.out, "matched as exact copies only: 3 empty after stripping, 0 template-only "
                                  "pages, 0 too short for shingle; 3 of them in clusters"));
    assert_non_null(strstr(r.out, "#0  25 documents, 1 site, similarity"));
    assert_non_null(strstr(r.out, "#1  3 documents, 1 site, similarity"));
    assert_non_null(strstr(r.out, "page10.html  [exact re-crawl]"));
    assert_null(strstr(r.out, "page11.html"));
    assert_non_null(strstr(r.out, "    ... and 14 more (all of them: --clusters FILE, or --members 0)\n"));
    assert_non_null(strstr(r.out, "news.example/tag13.html\n"));
    assert_null(strstr(r.out, "story"));
    /* Boilerplate: the news site's two blocks, nothing of the copied page. */
    assert_non_null(strstr(r.out, "news.example: 15 pages, 2 boilerplate blocks"));
    assert_null(strstr(r.out, "errors.example: "));
    result_free(&r);

    r = run_nd((const char *[]){"report", dir, "--threads", "1", "--members", "0", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "page24.html  [exact re-crawl]"));
    assert_null(strstr(r.out, "more (all of them"));
    result_free(&r);

    r = run_nd((const char *[]){"report", dir, "--members", "ten", NULL});
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "--members: \"ten\" is not a whole number"));
    result_free(&r);
    rm_rf(dir);
}

static void test_runtime_failures_exit_1(void **state)
{
    (void)state;
    struct result r = run_nd((const char *[]){"report", "/nonexistent/crawl-dir", NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "/nonexistent/crawl-dir"));
    result_free(&r);

    char dir[64];
    make_crawl(dir);
    r = run_nd((const char *[]){"report", dir, "--method", "nosuch", NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "plugin \"nosuch\" not found"));
    result_free(&r);

    char pdir[1100];
    snprintf(pdir, sizeof pdir, "%s/tests/plugins", cli_build_dir);
    r = run_nd((const char *[]){"report", dir, "--plugin-dir", pdir, "--method", "failcreate", NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "failcreate: model file missing"));
    result_free(&r);

    /* A broken plugin that is not the one asked for does not stop the run. */
    r = run_nd((const char *[]){"report", dir, "--plugin-dir", pdir, "--method", "exact", NULL});
    assert_int_equal(r.code, 0);
    result_free(&r);

    r = run_nd((const char *[]){"report", dir, "--method", "exact", "-o", "exact.bogus=1", NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "exact: unknown option bogus"));
    result_free(&r);

    r = run_nd((const char *[]){"report", dir, "--method", "exact", "--clusters",
                                "/nonexistent/dir/out.jsonl", NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "cannot write /nonexistent/dir/out.jsonl"));
    result_free(&r);
    rm_rf(dir);
}

static void test_bad_files_reported_and_run_goes_on(void **state)
{
    (void)state;
    char dir[64];
    make_crawl(dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/site-a/blob.bin", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc(i % 7 == 0 ? 0 : i & 0xff, f);
    fclose(f);
    struct result r = run_nd((const char *[]){"report", dir, "--method", "exact", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err, "site-a/blob.bin"));
    assert_non_null(strstr(r.out, "skipped 1: 1 binary"));
    assert_non_null(strstr(r.out, "2 duplicate clusters"));
    result_free(&r);
    rm_rf(dir);
}

static void test_source_is_only_read(void **state)
{
    (void)state;
    char dir[64];
    make_crawl(dir);
    char cmd[256], before[64], after[64];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -type f -exec sha256sum {} + | sort | sha256sum", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(fgets(before, sizeof before, p));
    pclose(p);
    assert_int_equal(chmod(dir, 0555), 0);
    struct result r = run_nd((const char *[]){"report", dir, NULL});
    assert_int_equal(r.code, 0);
    result_free(&r);
    assert_int_equal(chmod(dir, 0755), 0);
    p = popen(cmd, "r");
    assert_non_null(fgets(after, sizeof after, p));
    pclose(p);
    assert_string_equal(before, after);
    rm_rf(dir);
}

/* The spill of pass 1 overflowing its memory budget into a temporary file gives the
 * same result as holding it in memory; without a terminal, no progress line. */
static void test_spill_to_file_same_result(void **state)
{
    (void)state;
    char dir[64], mem[1100], file[1100];
    make_crawl(dir);
    snprintf(mem, sizeof mem, "%s.mem.jsonl", dir);
    snprintf(file, sizeof file, "%s.file.jsonl", dir);
    struct result r = run_nd((const char *[]){"report", dir, "--clusters", mem, NULL});
    assert_int_equal(r.code, 0);
    assert_null(strchr(r.err, '\r'));
    result_free(&r);
    r = run_env("NEARDUP_SPILL_MEM=64", (const char *[]){"report", dir, "--clusters", file, NULL});
    assert_int_equal(r.code, 0);
    result_free(&r);
    char *a = slurp(mem), *b = slurp(file);
    assert_true(strlen(a) > 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    unlink(mem);
    unlink(file);
    rm_rf(dir);
}

/* Blocks seen before in a thread are spilled as a reference to their first copy; with
 * a spill memory too small to hold any reference, every block is spilled in full. On
 * the bundled sample (its boilerplate repeats on every page of a site) both give the
 * same clusters and boilerplate, stripped and kept. */
static void test_spill_references_same_result(void **state)
{
    (void)state;
    char crawl[1100];
    snprintf(crawl, sizeof crawl, "%s/corpora/sample", ND_SOURCE_DIR);
    const char *modes[] = {NULL, "--keep-boilerplate"};
    for (size_t m = 0; m < 2; m++) {
        char out[2][2][1100];
        for (int k = 0; k < 2; k++) {
            snprintf(out[k][0], sizeof out[k][0], "/tmp/nd-cli-ref-%d-%d.clusters.jsonl", (int)getpid(), k);
            snprintf(out[k][1], sizeof out[k][1], "/tmp/nd-cli-ref-%d-%d.boiler.jsonl", (int)getpid(), k);
            const char *args[] = {"report", crawl, "--threads", "1", "--clusters", out[k][0],
                                  "--boilerplate", out[k][1], modes[m], NULL};
            struct result r = run_env(k ? "NEARDUP_SPILL_MEM=64" : NULL, args);
            if (r.code != 0)
                fail_msg("exit %d: %s", r.code, r.err);
            result_free(&r);
        }
        for (int f = 0; f < 2; f++) {
            char *a = slurp(out[0][f]), *b = slurp(out[1][f]);
            assert_true(strlen(a) > 100);
            assert_string_equal(a, b);
            free(a);
            free(b);
            unlink(out[0][f]);
            unlink(out[1][f]);
        }
    }
}

int main(void)
{
    cli_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_version_usage),
        cmocka_unit_test(test_spill_references_same_result),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_plugins_listing),
        cmocka_unit_test(test_report_exact_clusters_jsonl),
        cmocka_unit_test(test_report_big_exact_cluster),
        cmocka_unit_test(test_runtime_failures_exit_1),
        cmocka_unit_test(test_bad_files_reported_and_run_goes_on),
        cmocka_unit_test(test_source_is_only_read),
        cmocka_unit_test(test_spill_to_file_same_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
