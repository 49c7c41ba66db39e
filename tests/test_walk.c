/* Tests of nd_walk: bytewise order over nested folders, symlinks to files and folders,
 * a symlink loop that ends, FIFOs left out, sizes from the walk or from the reader, an
 * unreadable folder reported, a single file as root (and read back through
 * nd_read_file), a missing root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read.h"

static char dir[64], outside[64];

static void put(const char *base, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", base, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void sub(const char *base, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", base, name);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void link_to(const char *target, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(symlink(target, p), 0);
}

static int ignore_doc(void *ctx, const nd_rawdoc *d)
{
    (void)ctx;
    (void)d;
    return 0;
}

static void test_order_links_loops(void **state)
{
    (void)state;
    put(dir, "b.txt", "bb");
    put(dir, "A.txt", "A");
    put(dir, "a-b.txt", "ab");
    sub(dir, "a");
    put(dir, "a/z.txt", "zzz");
    sub(dir, "a/b");
    put(dir, "a/b/c.txt", "cccc");
    link_to("../..", "a/b/loop");         /* back to the root: entered once only */
    link_to("b.txt", "link.txt");         /* to a file: listed with its size */
    link_to("nowhere", "dangling");       /* broken: noted, not listed */
    link_to(outside, "ext");              /* a folder outside the root: followed */
    link_to(outside, "ext2");             /* the same folder again: once only */
    put(outside, "o.txt", "outside");
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);

    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    nd_filelist l;
    assert_int_equal(nd_walk(dir, ND_WALK_SIZES, &l, pr), 0);
    const char *want[] = {"A.txt", "a-b.txt", "a/b/c.txt", "a/z.txt", "b.txt", "ext/o.txt", "link.txt"};
    const uint64_t sizes[] = {1, 2, 4, 3, 2, 7, 2};
    assert_int_equal(l.n, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(l.paths[i], want[i]);
        assert_int_equal(l.sizes[i], sizes[i]);
    }
    assert_int_equal(nd_problems_kind(pr, "broken link"), 1);
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 0);
    nd_filelist_free(&l);
    assert_int_equal(l.n, 0);
    nd_problems_free(pr);

    /* A trailing slash on the root changes nothing; without ND_WALK_SIZES the same
     * files come in the same order, the ones the folder lists as regular without a
     * size (a symbolic link is still stat'ed: it may lead to a folder or a FIFO), and
     * the reader tells the size of what it opens. */
    char root[80];
    snprintf(root, sizeof root, "%s/", dir);
    assert_int_equal(nd_walk(root, 0, &l, NULL), 0);
    assert_int_equal(l.n, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(l.paths[i], want[i]);
        if (strcmp(want[i], "link.txt") == 0)
            assert_int_equal(l.sizes[i], 2);
        else
            assert_true(l.sizes[i] == ND_SIZE_UNKNOWN);
        uint64_t size = 12345;
        nd_read_opts o = {.file_size = &size};
        assert_int_equal(nd_read_file(root, l.paths[i], &o, NULL, ignore_doc, NULL), 0);
        assert_int_equal(size, sizes[i]);
    }
    uint64_t size = 12345;
    nd_read_opts o = {.file_size = &size};
    assert_int_equal(nd_read_file(root, "not-there.txt", &o, NULL, ignore_doc, NULL), 0);
    assert_int_equal(size, 0);
    nd_filelist_free(&l);
}

static void test_unreadable_dir(void **state)
{
    (void)state;
    if (geteuid() == 0)
        skip();   /* root reads every folder */
    char p[256];
    sub(dir, "locked");
    put(dir, "locked/x.txt", "x");
    snprintf(p, sizeof p, "%s/locked", dir);
    assert_int_equal(chmod(p, 0), 0);
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    nd_filelist l;
    assert_int_equal(nd_walk(dir, 0, &l, pr), 0);
    assert_int_equal(nd_problems_kind(pr, "unreadable"), 1);
    for (size_t i = 0; i < l.n; i++)
        assert_null(strstr(l.paths[i], "locked"));
    nd_filelist_free(&l);
    nd_problems_free(pr);
    assert_int_equal(chmod(p, 0755), 0);
}

static int count_doc(void *ctx, const nd_rawdoc *d)
{
    assert_string_equal(d->path, "b.txt");
    assert_int_equal(d->body_len, 2);
    assert_memory_equal(d->body, "bb", 2);
    (*(int *)ctx)++;
    return 0;
}

static void test_root_is_a_file(void **state)
{
    (void)state;
    char root[128];
    snprintf(root, sizeof root, "%s/b.txt", dir);
    nd_filelist l;
    assert_int_equal(nd_walk(root, 0, &l, NULL), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.paths[0], "b.txt");
    assert_int_equal(l.sizes[0], 2);
    int n = 0;
    nd_problems *pr;
    assert_int_equal(nd_problems_new(NULL, &pr), 0);
    assert_int_equal(nd_read_file(root, l.paths[0], NULL, pr, count_doc, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(nd_problems_count(pr, ND_SKIPPED), 0);
    nd_problems_free(pr);
    nd_filelist_free(&l);
}

static void test_missing_root(void **state)
{
    (void)state;
    char root[128];
    snprintf(root, sizeof root, "%s/not-there", dir);
    nd_filelist l;
    assert_true(nd_walk(root, 0, &l, NULL) < 0);
    assert_int_equal(l.n, 0);
    assert_non_null(strstr(nd_errmsg(), root));
    assert_non_null(strstr(nd_errmsg(), "No such file"));
}

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    t = t && strlen(t) < 40 ? t : "/tmp";
    snprintf(dir, sizeof dir, "%s/ndwalk.XXXXXX", t);
    snprintf(outside, sizeof outside, "%s/ndwalk-out.XXXXXX", t);
    return mkdtemp(dir) && mkdtemp(outside) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s' '%s'", dir, dir, outside);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_links_loops),
        cmocka_unit_test(test_unreadable_dir),
        cmocka_unit_test(test_root_is_a_file),
        cmocka_unit_test(test_missing_root),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
