/* Loader tests: the real plugins load, and every plugin built broken on purpose is
 * refused with its one-line reason before anything in it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "loader.h"

static char build_dir[512];

static const char *tp(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/tests/plugins/%s.so", build_dir, name);
    return buf;
}

/* Load one file into a fresh registry; returns the status, reason copied out. */
static int load_one(const char *name, char *reason, size_t len)
{
    char path[1024];
    nd_registry r = {0};
    int rc = nd_registry_load_file(&r, tp(name, path, sizeof path));
    reason[0] = '\0';
    if (r.n_fail)
        snprintf(reason, len, "%s", r.fail[0].reason);
    nd_registry_free(&r);
    return rc;
}

static void test_good_plugin_loads(void **state)
{
    (void)state;
    char path[1024];
    nd_registry r = {0};
    assert_int_equal(nd_registry_load_file(&r, tp("good", path, sizeof path)), 0);
    const nd_loaded *p = nd_registry_find(&r, "testgood");
    assert_non_null(p);
    assert_string_equal(p->path, path);
    void *st = NULL;
    nd_sig_info info;
    assert_int_equal(nd_plugin_instance(p, NULL, 0, &st, &info), 0);
    assert_int_equal(info.sig_size, 8);
    p->desc->destroy(st);
    assert_null(nd_registry_find(&r, "nosuch"));
    nd_registry_free(&r);
}

static void check_refused(const char *name, const char *why)
{
    char reason[512];
    assert_true(load_one(name, reason, sizeof reason) < 0);
    if (!strstr(reason, why))
        fail_msg("%s: reason \"%s\" lacks \"%s\"", name, reason, why);
    assert_null(strchr(reason, '\n'));
    /* The error path names the file too. */
    assert_non_null(strstr(nd_errmsg(), name));
}

static void test_wrong_abi(void **state)
{
    (void)state;
    check_refused("bad_abi", "ABI mismatch");
}

static void test_missing_entry(void **state)
{
    (void)state;
    check_refused("no_entry", "no entry symbol neardup_plugin_entry");
}

static void test_short_descriptor(void **state)
{
    (void)state;
    check_refused("short_desc", "descriptor too short");
}

static void test_missing_callback(void **state)
{
    (void)state;
    check_refused("no_compare", "compare");
}

static void test_entry_refuses(void **state)
{
    (void)state;
    check_refused("refuses", "entry refused");
}

static void test_missing_file(void **state)
{
    (void)state;
    check_refused("does_not_exist", "cannot open");
}

static void test_not_a_shared_object(void **state)
{
    (void)state;
    char dir[] = "/tmp/nd-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[1024];
    snprintf(path, sizeof path, "%s/junk.so", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an ELF file\n", f);
    fclose(f);
    nd_registry r = {0};
    assert_true(nd_registry_load_file(&r, path) < 0);
    assert_int_equal(r.n_fail, 1);
    assert_non_null(strstr(r.fail[0].reason, "not a loadable shared object"));
    nd_registry_free(&r);
    unlink(path);
    rmdir(dir);
}

static void test_duplicate_name_refused(void **state)
{
    (void)state;
    char a[1024], b[1024];
    nd_registry r = {0};
    assert_int_equal(nd_registry_load_file(&r, tp("good", a, sizeof a)), 0);
    assert_true(nd_registry_load_file(&r, tp("dup_good", b, sizeof b)) < 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.n_fail, 1);
    assert_non_null(strstr(r.fail[0].reason, "duplicate plugin name \"testgood\""));
    assert_string_equal(nd_registry_find(&r, "testgood")->path, a);
    nd_registry_free(&r);
}

static void test_failing_create(void **state)
{
    (void)state;
    char path[1024];
    nd_registry r = {0};
    assert_int_equal(nd_registry_load_file(&r, tp("fail_create", path, sizeof path)), 0);
    const nd_loaded *p = nd_registry_find(&r, "failcreate");
    assert_non_null(p);
    void *st = (void *)1;
    nd_sig_info info;
    assert_true(nd_plugin_instance(p, NULL, 0, &st, &info) < 0);
    assert_string_equal(nd_errmsg(), "failcreate: model file missing");
    nd_registry_free(&r);
}

/* A whole folder of good and broken plugins: the good ones load, each broken one
 * leaves exactly one failure line, nothing crashes. */
static void test_folder_of_mixed_plugins(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/plugins", build_dir);
    const char *dirs[] = {dir};
    nd_registry r = {0};
    assert_int_equal(nd_registry_load(&r, dirs, 1), 0);
    assert_non_null(nd_registry_find(&r, "testgood"));
    assert_non_null(nd_registry_find(&r, "failcreate"));
    assert_null(nd_registry_find(&r, "badabi"));
    assert_null(nd_registry_find(&r, "shortdesc"));
    assert_null(nd_registry_find(&r, "nocompare"));
    assert_int_equal(r.n, 2);
    /* Files load in name order: dup_good.so registers "testgood" first, so good.so is
     * the refused duplicate. (The test binary's own "plugins" folder is this same
     * folder, so a second pass refuses everything again: only the first is checked.) */
    static const char *const expect[][2] = {
        {"bad_abi.so", "ABI mismatch"}, {"good.so", "duplicate plugin name"},
        {"no_compare.so", "compare"}, {"no_entry.so", "no entry symbol"},
        {"refuses.so", "entry refused"}, {"short_desc.so", "descriptor too short"}};
    assert_true(r.n_fail >= 6);
    for (size_t i = 0; i < 6; i++) {
        const char *base = strrchr(r.fail[i].path, '/') + 1;
        assert_string_equal(base, expect[i][0]);
        assert_non_null(strstr(r.fail[i].reason, expect[i][1]));
    }
    nd_registry_free(&r);
}

static void test_missing_plugin_dir_reported(void **state)
{
    (void)state;
    const char *dirs[] = {"/nonexistent/neardup-plugins"};
    nd_registry r = {0};
    assert_int_equal(nd_registry_load(&r, dirs, 1), 0);
    assert_true(r.n_fail >= 1);
    assert_string_equal(r.fail[0].path, dirs[0]);
    assert_non_null(strstr(r.fail[0].reason, "cannot open plugin folder"));
    nd_registry_free(&r);
}

static void test_exact_plugin(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/plugins/exact.so", build_dir);
    nd_registry r = {0};
    assert_int_equal(nd_registry_load_file(&r, path), 0);
    const nd_loaded *p = nd_registry_find(&r, "exact");
    assert_non_null(p);
    const char *bad[] = {"ngram=3"};
    void *st = NULL;
    nd_sig_info info;
    assert_true(nd_plugin_instance(p, bad, 1, &st, &info) < 0);
    assert_non_null(strstr(nd_errmsg(), "unknown option ngram"));
    assert_int_equal(nd_plugin_instance(p, NULL, 0, &st, &info), 0);
    assert_int_equal(info.sig_size, 16);
    assert_int_equal(info.n_keys, 1);

    const char *texts[] = {"the same words\nin blocks", "the same words\nin blocks",
                           "the same words in blocks"};
    unsigned char sig[3][16];
    uint64_t keys[3];
    for (int i = 0; i < 3; i++) {
        nd_token tok = {texts[i], 3, 0, 0, 0};
        nd_text t = {texts[i], strlen(texts[i]), &tok, 1, 1};
        assert_int_equal(p->desc->sign(st, &t, sig[i], &keys[i]), ND_PLUGIN_OK);
    }
    nd_score s;
    p->desc->compare(st, sig[0], sig[1], &s);
    assert_true(s.similarity == 1.0);
    assert_true(keys[0] == keys[1]);
    /* Block structure is part of the text: a different layout is not an exact copy. */
    p->desc->compare(st, sig[0], sig[2], &s);
    assert_true(s.similarity == 0.0);
    assert_true(keys[0] != keys[2]);
    p->desc->destroy(st);
    nd_registry_free(&r);
}

int main(void)
{
    /* The counts below are of the test folders alone: a user's own plugin path (set
     * in the shell that runs make check) would add its plugins to every registry. */
    unsetenv("NEARDUP_PLUGIN_PATH");
    const char *b = getenv("ND_BUILD_DIR");
    snprintf(build_dir, sizeof build_dir, "%s/%s", ND_SOURCE_DIR, b ? b : "build");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plugin_loads),
        cmocka_unit_test(test_wrong_abi),
        cmocka_unit_test(test_missing_entry),
        cmocka_unit_test(test_short_descriptor),
        cmocka_unit_test(test_missing_callback),
        cmocka_unit_test(test_entry_refuses),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_not_a_shared_object),
        cmocka_unit_test(test_duplicate_name_refused),
        cmocka_unit_test(test_failing_create),
        cmocka_unit_test(test_folder_of_mixed_plugins),
        cmocka_unit_test(test_missing_plugin_dir_reported),
        cmocka_unit_test(test_exact_plugin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
