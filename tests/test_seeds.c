/* The five real crawled pages in ../shared/corpora/seeds (Vietnamese news about one
 * organisation; three of them from one site). Laid out as a crawl with one folder per
 * site, they must show the promise: the site's template lines are learned as
 * boilerplate, and no article paragraph is. Skipped when the folder is absent. The
 * pages are only read from there, never copied into the repository. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "run.h"

static char seeds[1024], plugdir[1024];

/* Which site each seed page comes from (by its file-name prefix): 000, 001 and 004 are
 * pages of one site, 002 and 003 of two others. */
static const struct {
    const char *prefix, *site;
} layout[] = {{"000_", "site-a"}, {"001_", "site-a"}, {"004_", "site-a"},
              {"002_", "site-b"}, {"003_", "site-c"}};

struct line {
    char *text;
    unsigned mask;   /* which site-a pages hold it */
};

static char *find_seed(const char *prefix)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls '%s'/%s*.txt 2>/dev/null | head -1", seeds, prefix);
    FILE *p = popen(cmd, "r");
    static char path[1200];
    char *r = p && fgets(path, sizeof path, p) ? path : NULL;
    if (p)
        pclose(p);
    if (r)
        r[strcspn(r, "\n")] = '\0';
    return r && *r ? strdup(r) : NULL;
}

static int has_letter(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || ((*s | 32) >= 'a' && (*s | 32) <= 'z'))
            return 1;
    return 0;
}

/* Whitespace-collapsed, trimmed copy, as the extractor makes a block of a line. */
static char *collapse(const char *s)
{
    char *o = malloc(strlen(s) + 1), *w = o;
    int sp = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
            sp = w != o;
        } else {
            if (sp)
                *w++ = ' ';
            sp = 0;
            *w++ = *s;
        }
    }
    *w = '\0';
    return o;
}

static void test_seed_site_boilerplate(void **state)
{
    (void)state;
    if (access(seeds, R_OK) != 0)
        skip();
    char tmpl[] = "/tmp/nd-seeds-XXXXXX";
    char *root = mkdtemp(tmpl);
    assert_non_null(root);
    struct line *lines = NULL;
    size_t n_lines = 0;
    unsigned page = 0;
    char cmd[4096];
    for (size_t i = 0; i < sizeof layout / sizeof *layout; i++) {
        char *src = find_seed(layout[i].prefix);
        if (!src) {
            free(lines);
            skip();
        }
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && cp '%s' '%s/%s/'", root, layout[i].site,
                 src, root, layout[i].site);
        assert_int_equal(system(cmd), 0);
        if (strcmp(layout[i].site, "site-a") == 0) {
            FILE *f = fopen(src, "r");
            assert_non_null(f);
            char buf[1 << 16];
            while (fgets(buf, sizeof buf, f)) {
                char *t = collapse(buf);
                if (!*t || !has_letter(t)) {
                    free(t);
                    continue;
                }
                size_t k = 0;
                while (k < n_lines && strcmp(lines[k].text, t) != 0)
                    k++;
                if (k == n_lines) {
                    lines = realloc(lines, (n_lines + 1) * sizeof *lines);
                    lines[n_lines++] = (struct line){t, 0};
                } else {
                    free(t);
                }
                lines[k].mask |= 1u << page;
            }
            fclose(f);
            page++;
        }
        free(src);
    }

    nd_run_opts o;
    nd_run_opts_default(&o);
    o.root = root;
    const char *dirs[] = {plugdir};
    o.plugin_dirs = dirs;
    o.n_plugin_dirs = 1;
    o.threads = 2;
    nd_run *run = NULL;
    assert_int_equal(nd_run_crawl(&o, &run), 0);
    assert_int_equal(run->n_docs, 5);
    uint32_t site = UINT32_MAX;
    for (uint32_t s = 0; s < run->n_sites; s++)
        if (strcmp(run->sites[s], "site-a") == 0)
            site = s;
    assert_int_not_equal(site, UINT32_MAX);
    size_t nb = 0;
    const nd_boiler_block *bl = nd_boiler_site_blocks(run->boiler, site, &nb);
    assert_int_equal(nd_boiler_site_docs(run->boiler, site), 3);

    /* Every line shared by two or more of the site's pages is its template; every
     * line found on one page only (the article, its own related links) is not. */
    size_t shared = 0, single_long = 0;
    for (size_t k = 0; k < n_lines; k++) {
        int found = 0;
        for (size_t b = 0; b < nb && !found; b++)
            found = strcmp(bl[b].text, lines[k].text) == 0;
        int pages = __builtin_popcount(lines[k].mask);
        if (pages >= 2) {
            shared++;
            if (!found)
                fail_msg("template line not learned as boilerplate: \"%s\"", lines[k].text);
        } else if (found) {
            fail_msg("line of one page only called boilerplate: \"%s\"", lines[k].text);
        } else {
            single_long += strlen(lines[k].text) > 200;
        }
    }
    assert_true(shared >= 3);        /* the site does share a template */
    assert_true(single_long >= 10);  /* and its pages do hold article paragraphs */
    /* No block of the other sites' pages is boilerplate: one page per site. */
    for (uint32_t s = 0; s < run->n_sites; s++) {
        size_t m = 0;
        if (s != site) {
            nd_boiler_site_blocks(run->boiler, s, &m);
            assert_int_equal(m, 0);
        }
    }
    for (size_t i = 0; i < run->n_docs; i++) {
        assert_false(run->docs[i].flags & (ND_DOC_SKIPPED | ND_DOC_EMPTY | ND_DOC_TEMPLATE));
        assert_true(run->docs[i].n_tokens > 300);
        /* Stripping removed the template but left the article. */
        assert_true(run->docs[i].n_content_tokens > run->docs[i].n_tokens / 3);
    }
    nd_run_free(run);
    for (size_t k = 0; k < n_lines; k++)
        free(lines[k].text);
    free(lines);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const char *b = getenv("ND_BUILD_DIR");
    snprintf(seeds, sizeof seeds, "%s/../shared/corpora/seeds", ND_SOURCE_DIR);
    snprintf(plugdir, sizeof plugdir, "%s/%s/plugins", ND_SOURCE_DIR, b ? b : "build");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_site_boilerplate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
