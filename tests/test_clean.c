/* End-to-end tests of `neardup clean` and `neardup verify` through the binary, on small
 * crawls written here (three site folders of text and HTML with exact and near copies,
 * a WARC file, a binary file): every document accounted for, kept text equal to the
 * extraction, duplicates in their kept document's cluster, all formats verified,
 * tampering caught, refusals, SRC untouched, failed writes and signals leave no DST;
 * and on a generated crawl, the same bytes with 1 and 2 writing threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "cli_harness.h"
#include "jsonr.h"

static char *gunzip(const char *path)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return NULL;
    size_t cap = 4096, len = 0;
    char *p = malloc(cap);
    int n;
    while ((n = gzread(g, p + len, (unsigned)(cap - len - 1))) > 0) {
        len += (size_t)n;
        if (cap - len < 2)
            p = realloc(p, cap *= 2);
    }
    gzclose(g);
    p[len] = '\0';
    return p;
}

static void expect_ok(struct result r)
{
    if (r.code != 0)
        fail_msg("exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err);
    result_free(&r);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* sha256 of every file under dir (names and contents). */
static void tree_hash(const char *dir, char out[65])
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -type f -exec sha256sum {} + | LC_ALL=C sort | sha256sum",
             dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, 65, p));
    pclose(p);
}

static const char *TEMPLATE = "Subscribe to the Daily Herald newsletter for more local stories";
static const char *PARK =
    "City council approves the new riverside park after a long debate\n"
    "The council voted seven to two on Tuesday evening to fund the riverside park project, "
    "ending a debate that lasted more than three years and divided several neighbourhoods.\n"
    "Construction is expected to begin next spring and last eighteen months, according to "
    "the city engineer, who presented the final plans to a packed public gallery.\n"
    "The park will include a playground, a cycling path along the water and a small "
    "amphitheatre for summer concerts organised by local schools and music groups.\n";
static const char *WEATHER =
    "Storm warning issued for the whole northern coast tonight\n"
    "Winds of ninety kilometres per hour are expected overnight along the northern coast, "
    "and the weather service has asked residents to secure loose objects in their gardens.\n"
    "Ferries between the islands have been cancelled until Thursday morning at the earliest, "
    "while schools in three districts will open two hours later than usual.\n";
static const char *LIBRARY =
    "The central library reopens downtown after two years of renovation work\n"
    "Visitors will find a new reading room on the top floor, a children's wing with puppet "
    "theatre shows every Saturday, and twice as many computers for public use as before.\n";

/* One record, then end (CRLFCRLF in a well-formed file). */
static void add_warc_record_end(FILE *f, const char *type, const char *uri, const char *date,
                                const char *block, const char *end)
{
    static int n;
    fprintf(f,
            "WARC/1.0\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-%012d>\r\n"
            "WARC-Date: %s\r\n",
            type, ++n, date);
    if (uri)
        fprintf(f, "WARC-Target-URI: %s\r\n", uri);
    fprintf(f, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s%s",
            strcmp(type, "warcinfo") ? "application/http; msgtype=response" : "application/warc-fields",
            strlen(block), block, end);
}

static void add_warc_record(FILE *f, const char *type, const char *uri, const char *date, const char *block)
{
    add_warc_record_end(f, type, uri, date, block, "\r\n\r\n");
}

static void make_crawl(char *dir)
{
    strcpy(dir, "/tmp/nd-clean-src-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char buf[4096];
    snprintf(buf, sizeof buf, "%s\n%s", TEMPLATE, PARK);
    write_file(dir, "site-a/park.txt", buf);
    snprintf(buf, sizeof buf, "%s\n%s", WEATHER, TEMPLATE);
    write_file(dir, "site-a/weather.txt", buf);
    snprintf(buf, sizeof buf, "%s\n  %s  \n\n", TEMPLATE, LIBRARY);
    write_file(dir, "site-a/library.txt", buf);
    write_file(dir, "site-b/park-copy.txt", PARK);
    write_file(dir, "site-d/park-copy2.txt", PARK);
    snprintf(buf, sizeof buf,
             "<html><head><title>Storm warning</title></head><body><nav>Home | News</nav>"
             "<p>%.*s</p><p>Ferries between the islands have been cancelled until Thursday morning at "
             "the earliest, while schools in three districts will open two hours later than usual.</p>"
             "</body></html>",
             (int)(strchr(WEATHER + 60, '\n') - WEATHER), WEATHER);
    write_file(dir, "site-b/weather.html", buf);
    /* A near copy: one word changed. */
    snprintf(buf, sizeof buf, "%s", PARK);
    char *w = strstr(buf, "Tuesday");
    memcpy(w, "Mondayy", 7);
    write_file(dir, "site-c/park-again.txt", buf);
    char path[1100];
    snprintf(path, sizeof path, "%s/site-c/crawl.warc", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    add_warc_record(f, "warcinfo", NULL, "2024-01-01T00:00:00Z", "software: test\r\n");
    /* The park story, dated earlier than anything else: the likely original. */
    snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
                              "<html><body><p>%s</p></body></html>", PARK);
    add_warc_record(f, "response", "http://example.org/park", "2023-05-01T10:00:00Z", buf);
    snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                              "A short note about the harbour festival, held every August since 1921.\n");
    add_warc_record(f, "response", "http://example.org/festival", "2023-05-02T10:00:00Z", buf);
    fclose(f);
    char bin_bytes[2048];
    for (size_t i = 0; i < sizeof bin_bytes; i++)
        bin_bytes[i] = (char)(i % 7 == 0 ? 0 : i & 0xff);
    write_bytes(dir, "site-c/blob.bin", bin_bytes, sizeof bin_bytes);
}

/* Output folder path beside the crawl (not created). */
static void out_path(char *out, size_t n, const char *src, const char *tag)
{
    snprintf(out, n, "%s-%s", src, tag);
}

/* Temporary folders "..DST.neardup-*" left beside dst. */
static int leftovers(const char *dst, int with_manifest)
{
    char parent[1100], prefix[300];
    snprintf(parent, sizeof parent, "%s", dst);
    char *slash = strrchr(parent, '/');
    *slash = '\0';
    snprintf(prefix, sizeof prefix, ".%s.neardup-", slash + 1);
    DIR *d = opendir(parent);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)))
            continue;
        char m[1500];
        snprintf(m, sizeof m, "%s/%s/manifest.jsonl", parent, e->d_name);
        n += !with_manifest || exists(m);
    }
    closedir(d);
    return n;
}

static void rm_leftovers(const char *dst)
{
    sh("rm -rf '%s' \"$(dirname '%s')\"/.\"$(basename '%s')\".neardup-*", dst, dst, dst);
}

/* ---- manifest ---- */

struct mline {
    nd_jdoc *doc;
    const nd_jval *o;
};

static size_t read_manifest(const char *dst, struct mline *v, size_t max)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/manifest.jsonl", dst);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        assert_true(n < max);
        assert_int_equal(nd_json_parse(line, (size_t)len, &v[n].doc), 0);
        v[n].o = nd_jdoc_root(v[n].doc);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

static void free_manifest(struct mline *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nd_jdoc_free(v[i].doc);
}

static const struct mline *find_line(const struct mline *v, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(nd_jget_str(v[i].o, "path", ""), path))
            return &v[i];
    return NULL;
}

/* What the extractor makes of a .txt: non-empty lines, whitespace collapsed, by \n. */
static char *txt_extract(const char *s, int drop_template)
{
    char *o = malloc(strlen(s) + 1), *w = o;
    while (*s) {
        const char *e = strchr(s, '\n');
        if (!e)
            e = s + strlen(s);
        char *start = w;
        int sp = 0;
        for (const char *p = s; p < e; p++) {
            if (*p == ' ' || *p == '\t' || *p == '\r') {
                sp = w != start;
            } else {
                if (sp)
                    *w++ = ' ';
                sp = 0;
                *w++ = *p;
            }
        }
        if (w != start && drop_template && (size_t)(w - start) == strlen(TEMPLATE) &&
            !memcmp(start, TEMPLATE, strlen(TEMPLATE)))
            w = start;
        if (w != start)
            *w++ = '\n';
        s = *e ? e + 1 : e;
    }
    if (w > o)
        w--;
    *w = '\0';
    return o;
}

/* Cluster of a path in the report's clusters JSONL, -1 when in none. */
static int cluster_of(const char *clusters, const char *path)
{
    char key[600];
    snprintf(key, sizeof key, "\"path\":\"%s\"", path);
    const char *hit = NULL;
    for (const char *p = clusters; (p = strstr(p, key)); p++) {
        /* skip the representative reference; members carry "site" right after the uri */
        hit = p;
    }
    if (!hit)
        return -1;
    const char *c = hit;
    while (c > clusters && strncmp(c, "{\"cluster\":", 11))
        c--;
    return atoi(c + 11);
}

/* ---- tests ---- */

static void test_tree_end_to_end(void **state)
{
    (void)state;
    char src[64], dst[200], cl[200], text_path[1300];
    make_crawl(src);
    out_path(dst, sizeof dst, src, "out");
    out_path(cl, sizeof cl, src, "clusters.jsonl");
    struct result r = run_nd((const char *[]){"report", src, "--clusters", cl, "-q", "--threads", "1", NULL});
    assert_int_equal(r.code, 0);
    const char *docs_line = strstr(r.out, " documents in ");
    assert_non_null(docs_line);
    while (docs_line > r.out && docs_line[-1] >= '0' && docs_line[-1] <= '9')
        docs_line--;
    size_t n_docs = (size_t)atoi(docs_line);
    result_free(&r);
    assert_int_equal(n_docs, 10); /* 8 plain files (1 binary) + 2 WARC responses */

    r = run_nd((const char *[]){"clean", src, "--out", dst, "-q", "--threads", "1", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "10 documents read"));
    result_free(&r);

    struct mline m[64];
    size_t n = read_manifest(dst, m, 64);
    assert_int_equal(n, n_docs);
    char *clusters = slurp(cl);
    size_t kept = 0, dup = 0, skip = 0;
    for (size_t i = 0; i < n; i++) {
        const char *action = nd_jget_str(m[i].o, "action", "");
        const char *path = nd_jget_str(m[i].o, "path", "");
        assert_int_equal(strlen(nd_jget_str(m[i].o, "digest", "")), 32);
        assert_non_null(nd_jget(m[i].o, "reason"));
        if (i > 0) /* document order: by path, then record */
            assert_true(strcmp(nd_jget_str(m[i - 1].o, "path", ""), path) <= 0);
        if (!strcmp(action, "kept")) {
            kept++;
            snprintf(text_path, sizeof text_path, "%s/%s", dst, nd_jget_str(m[i].o, "output", ""));
            char *t = gunzip(text_path);
            if (!t)
                fail_msg("no output for %s (%s)", path, text_path);
            size_t pl = strlen(path);
            if (pl > 4 && !strcmp(path + pl - 4, ".txt")) {
                char full[1200];
                snprintf(full, sizeof full, "%s/%s", src, path);
                char *orig = slurp(full);
                char *want = txt_extract(orig, 0);
                assert_string_equal(t, want);
                free(want);
                free(orig);
            }
            free(t);
        } else if (!strcmp(action, "duplicate")) {
            dup++;
            const char *of = nd_jget_str(m[i].o, "duplicate_of", NULL);
            assert_non_null(of);
            const struct mline *k = find_line(m, n, of);
            assert_non_null(k);
            assert_string_equal(nd_jget_str(k->o, "action", ""), "kept");
            int c = cluster_of(clusters, path);
            assert_true(c >= 0);
            assert_int_equal(c, cluster_of(clusters, of));
            assert_int_equal((int)nd_jget_num(m[i].o, "cluster", -1), c);
            double sim = nd_jget_num(m[i].o, "similarity", -1);
            assert_true(sim > 0 && sim <= 1);
        } else {
            assert_string_equal(action, "skipped");
            assert_string_equal(path, "site-c/blob.bin");
            skip++;
        }
    }
    assert_int_equal(kept + dup + skip, n_docs);
    assert_int_equal(skip, 1);
    /* The exact copies of the park story are dropped, one of them kept. */
    const struct mline *c1 = find_line(m, n, "site-b/park-copy.txt"), *c2 = find_line(m, n, "site-d/park-copy2.txt");
    assert_true(!strcmp(nd_jget_str(c1->o, "action", ""), "duplicate") ||
                !strcmp(nd_jget_str(c2->o, "action", ""), "duplicate"));
    assert_true(dup >= 3);
    /* WARC records carry their record index and URI. */
    const struct mline *wl = find_line(m, n, "site-c/crawl.warc");
    assert_non_null(wl);
    assert_non_null(nd_jget_str(wl->o, "uri", NULL));
    assert_non_null(nd_jget(wl->o, "record"));
    free_manifest(m, n);
    free(clusters);

    r = run_nd((const char *[]){"verify", dst, NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "verify: OK, 10 documents"));
    result_free(&r);

    /* Tampering: one kept file's text changed. */
    sh("cd '%s' && f=$(find . -name 'library.txt.txt.gz') && printf 'changed' | gzip -n > \"$f\"", dst);
    r = run_nd((const char *[]){"verify", dst, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "library.txt.txt.gz: text differs"));
    result_free(&r);
    /* The same text in two gzip members is still that text (verify's one-member fast
     * path gives way to zlib); a file cut short is not a readable gzip file. */
    rm_leftovers(dst);
    expect_ok(run_nd((const char *[]){"clean", src, "--out", dst, "-q", NULL}));
    sh("cd '%s' && f=$(find . -name 'library.txt.txt.gz') && zcat \"$f\" > t && "
       "head -c 100 t | gzip -n > \"$f\" && tail -c +101 t | gzip -n >> \"$f\" && rm t", dst);
    expect_ok(run_nd((const char *[]){"verify", dst, NULL}));
    sh("cd '%s' && f=$(find . -name 'library.txt.txt.gz') && head -c 30 \"$f\" > t && mv t \"$f\"", dst);
    r = run_nd((const char *[]){"verify", dst, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "library.txt.txt.gz: not a readable gzip file"));
    result_free(&r);
    /* An extra file, and a manifest line removed. */
    rm_leftovers(dst);
    expect_ok(run_nd((const char *[]){"clean", src, "--out", dst, "-q", NULL}));
    expect_ok(run_nd((const char *[]){"verify", dst, NULL}));
    sh("cd '%s' && sed -i '1d' manifest.jsonl", dst);
    r = run_nd((const char *[]){"verify", dst, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "not in the manifest"));
    result_free(&r);
    rm_leftovers(dst);
    unlink(cl);
    sh("rm -rf '%s'", src);
}

/* The manifest line of path: it must be there, with action and (unless NULL) reason. */
static const struct mline *expect_line(const struct mline *m, size_t n, const char *path,
                                       const char *action, const char *reason)
{
    const struct mline *l = find_line(m, n, path);
    if (!l)
        fail_msg("%s: not in the manifest", path);
    const char *a = nd_jget_str(l->o, "action", ""), *r = nd_jget_str(l->o, "reason", "");
    if (strcmp(a, action) || (reason && strcmp(r, reason)))
        fail_msg("%s: %s, \"%s\"; want %s, \"%s\"", path, a, r, action, reason ? reason : "");
    return l;
}

/* Every kept document says why in its reason: the one kept for its cluster, a unique
 * page, an empty one, a page of boilerplate only, and a partly read one (its note
 * appended). */
static void test_kept_reasons(void **state)
{
    (void)state;
    char src[64], dst[200];
    make_crawl(src);
    write_file(src, "site-a/empty.txt", "");
    char only[512];
    snprintf(only, sizeof only, "%s\n", TEMPLATE);
    write_file(src, "site-a/only-template.txt", only);
    /* A gzip stream cut short: the bytes decoded are used. */
    sh("cd '%s/site-a' && printf '%%s\\n' 'A gzip page about the lighthouse, repainted white and red.' "
       "'It reopens in June, with a new lamp and a museum on the ground floor.' | gzip -n | head -c 60 > cut.txt.gz",
       src);
    out_path(dst, sizeof dst, src, "why");
    expect_ok(run_nd((const char *[]){"clean", src, "--out", dst, "-q", NULL}));
    struct mline m[64];
    size_t n = read_manifest(dst, m, 64);
    expect_line(m, n, "site-a/empty.txt", "kept", "no content (not a duplicate)");
    expect_line(m, n, "site-a/only-template.txt", "kept", "template-only page (not a duplicate)");
    expect_line(m, n, "site-a/cut.txt.gz", "kept", "unique; truncated: partly read");
    expect_line(m, n, "site-c/blob.bin", "skipped", NULL);
    size_t in_cluster = 0, unique = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(nd_jget_str(m[i].o, "action", ""), "kept"))
            continue;
        const char *path = nd_jget_str(m[i].o, "path", ""), *reason = nd_jget_str(m[i].o, "reason", "");
        int cl = (int)nd_jget_num(m[i].o, "cluster", -1);
        char expect[200];
        if (cl >= 0) {
            snprintf(expect, sizeof expect, "kept for cluster %d (--keep earliest)", cl);
            in_cluster++;
        } else if (!strcmp(path, "site-a/empty.txt") || !strcmp(path, "site-a/only-template.txt") ||
                   !strcmp(path, "site-a/cut.txt.gz")) {
            continue;
        } else {
            snprintf(expect, sizeof expect, "unique");
            unique++;
        }
        if (strcmp(reason, expect))
            fail_msg("%s: reason \"%s\", not \"%s\"", path, reason, expect);
    }
    assert_true(in_cluster >= 2); /* the park and the weather stories */
    assert_true(unique >= 2);
    /* The earliest park story is a WARC record: its copies name it by path, record and
     * URI. */
    const struct mline *copy = find_line(m, n, "site-b/park-copy.txt");
    assert_non_null(copy);
    assert_string_equal(nd_jget_str(copy->o, "duplicate_of", ""), "site-c/crawl.warc");
    assert_string_equal(nd_jget_str(copy->o, "duplicate_of_uri", ""), "http://example.org/park");
    const struct mline *orig = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(nd_jget_str(m[i].o, "uri", ""), "http://example.org/park"))
            orig = &m[i];
    assert_non_null(orig);
    assert_string_equal(nd_jget_str(orig->o, "action", ""), "kept");
    assert_int_equal((int)nd_jget_num(copy->o, "duplicate_of_record", -1),
                     (int)nd_jget_num(orig->o, "record", -2));
    free_manifest(m, n);
    sh("rm -rf '%s' '%s'", dst, src);
}

/* A long story and its first three lines (a copy cut short: Jaccard under the
 * threshold, all of it contained in the story). */
static const char *QUAY =
    "Harbour authority publishes its plan for the old quay\n"
    "The harbour authority published on Friday its plan to rebuild the old quay, closed to boats "
    "since the winter storms damaged its northern wall.\n"
    "Engineers will first drive new steel piles along the damaged section, then pour a concrete "
    "deck wide enough for two lanes of delivery vans.\n"
    "Fishing crews who moved to the eastern basin during the closure are expected to return once "
    "the cranes and the ice plant are back in service.\n"
    "The cost, shared between the region and the port's own reserves, is estimated at forty "
    "million, a figure opposition councillors called optimistic.\n"
    "A public inquiry into the storm damage found that repairs planned a decade ago had been "
    "postponed twice for lack of funds.\n"
    "Residents of the waterfront streets asked for night work to be limited, and the authority "
    "promised quiet hours after ten in the evening.\n"
    "Work should start in March and end before the summer regatta of the following year, "
    "weather permitting, the harbour master said.\n";

/* A duplicate says how it relates to the document kept: the same bytes ("exact copy"),
 * a copy cut short ("truncated or partial copy"), or similar text ("near-duplicate"). */
static void test_duplicate_reasons(void **state)
{
    (void)state;
    char src[64], dst[200];
    make_crawl(src);
    write_file(src, "site-0/park.txt", PARK); /* first in path order: kept by --keep first */
    write_file(src, "site-e/quay.txt", QUAY);
    char start[1024];
    const char *third = strchr(strchr(strchr(QUAY, '\n') + 1, '\n') + 1, '\n') + 1;
    snprintf(start, sizeof start, "%.*s", (int)(third - QUAY), QUAY);
    write_file(src, "site-f/quay-start.txt", start);
    out_path(dst, sizeof dst, src, "dups");
    expect_ok(run_nd((const char *[]){"clean", src, "--out", dst, "-q", "--keep", "first", NULL}));
    struct mline m[64];
    size_t n = read_manifest(dst, m, 64);
    struct { const char *path, *action, *reason; } want[] = {
        {"site-0/park.txt", "kept", NULL},
        {"site-b/park-copy.txt", "duplicate", "exact copy of the kept document"},
        {"site-d/park-copy2.txt", "duplicate", "exact copy of the kept document"},
        {"site-c/park-again.txt", "duplicate", "near-duplicate"},
        {"site-a/park.txt", "duplicate", "near-duplicate"},
        {"site-e/quay.txt", "kept", NULL},
        {"site-f/quay-start.txt", "duplicate", "truncated or partial copy (contained in the representative)"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const struct mline *l = expect_line(m, n, want[i].path, want[i].action, want[i].reason);
        if (!strcmp(want[i].action, "duplicate"))
            assert_string_equal(nd_jget_str(l->o, "duplicate_of", ""),
                                want[i].path[5] == 'f' ? "site-e/quay.txt" : "site-0/park.txt");
    }
    free_manifest(m, n);
    sh("rm -rf '%s' '%s'", dst, src);
}

static void test_formats_and_strip(void **state)
{
    (void)state;
    char src[64], d1[200], p[1300];
    make_crawl(src);
    const char *formats[] = {"tree", "jsonl", "warc"};
    for (size_t f = 0; f < 3; f++) {
        out_path(d1, sizeof d1, src, "a");
        /* Identical output with 1 and 2 threads: test_threads_identical, on a crawl big
         * enough for both threads to get work. */
        expect_ok(run_nd((const char *[]){"clean", src, "--out", d1, "--format", formats[f], "-q",
                                          "--strip-boilerplate", NULL}));
        struct result r = run_nd((const char *[]){"verify", d1, NULL});
        if (r.code != 0)
            fail_msg("verify %s: %s%s", formats[f], r.out, r.err);
        assert_non_null(strstr(r.out, "verify: OK, 10 documents"));
        result_free(&r);
        char *all = NULL;
        if (f == 0) {
            snprintf(p, sizeof p, "%s/site-a/library.txt.txt.gz", d1);
            all = gunzip(p);
            char *want = txt_extract(LIBRARY, 0);
            assert_non_null(all);
            assert_string_equal(all, want);
            free(want);
        } else {
            snprintf(p, sizeof p, "%s/%s", d1, f == 1 ? "documents.jsonl.gz" : "crawl.warc.gz");
            all = gunzip(p);
            assert_non_null(all);
            assert_non_null(strstr(all, "harbour festival"));
        }
        if (f == 1) {
            /* One line per kept document with the contract's fields. */
            nd_jdoc *doc;
            char *nl = strchr(all, '\n');
            assert_non_null(nl);
            assert_int_equal(nd_json_parse(all, (size_t)(nl - all), &doc), 0);
            const nd_jval *o = nd_jdoc_root(doc);
            const char *keys[] = {"id", "path", "uri", "site", "title", "text", "cluster"};
            for (size_t k = 0; k < 7; k++)
                assert_non_null(nd_jget(o, keys[k]));
            nd_jdoc_free(doc);
        }
        if (f == 2) {
            /* Original records preserved, conversion records added. */
            assert_non_null(strstr(all, "WARC-Target-URI: http://example.org/festival"));
            assert_non_null(strstr(all, "WARC-Type: conversion"));
            assert_non_null(strstr(all, "WARC-Type: resource"));
            assert_null(strstr(all, "WARC-Type: warcinfo"));
        }
        /* The site-a template line is gone from what was kept (the WARC originals keep
         * their bytes, but no site-a text goes there unstripped). */
        if (f != 2)
            assert_null(strstr(all, TEMPLATE));
        free(all);
        if (f == 2) {
            /* A changed byte in a kept record (same length) is caught. */
            sh("cd '%s' && gzip -dc crawl.warc.gz | sed 's/harbour/harbor /' | gzip -n > x && mv x crawl.warc.gz",
               d1);
            r = run_nd((const char *[]){"verify", d1, NULL});
            assert_int_equal(r.code, 1);
            assert_non_null(strstr(r.out, "matches no kept document"));
            assert_non_null(strstr(r.out, "missing from the output"));
            result_free(&r);
        }
        sh("rm -rf '%s'", d1);
    }
    /* Without --strip-boilerplate the template stays. */
    out_path(d1, sizeof d1, src, "a");
    expect_ok(run_nd((const char *[]){"clean", src, "--out", d1, "--format", "jsonl", "-q", NULL}));
    snprintf(p, sizeof p, "%s/documents.jsonl.gz", d1);
    char *all = gunzip(p);
    assert_non_null(strstr(all, TEMPLATE));
    free(all);
    /* Tampering with the jsonl text is caught. */
    sh("cd '%s' && gzip -dc documents.jsonl.gz | sed 's/Visitors/Tourists/' | gzip -n > x && mv x documents.jsonl.gz",
       d1);
    struct result r = run_nd((const char *[]){"verify", d1, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "differs from the manifest"));
    result_free(&r);
    sh("rm -rf '%s' '%s'", d1, src);
}

static void test_keep_policies(void **state)
{
    (void)state;
    char src[64], dst[200];
    make_crawl(src);
    out_path(dst, sizeof dst, src, "k");
    expect_ok(run_nd((const char *[]){"clean", src, "--out", dst, "--keep", "first", "-q", NULL}));
    struct mline m[64];
    size_t n = read_manifest(dst, m, 64);
    /* first: the park story kept from the first path of its cluster */
    const struct mline *a = find_line(m, n, "site-a/park.txt");
    assert_string_equal(nd_jget_str(a->o, "action", ""), "kept");
    const struct mline *b = find_line(m, n, "site-b/park-copy.txt");
    assert_string_equal(nd_jget_str(b->o, "action", ""), "duplicate");
    assert_string_equal(nd_jget_str(b->o, "duplicate_of", ""), "site-a/park.txt");
    free_manifest(m, n);
    expect_ok(run_nd((const char *[]){"verify", dst, NULL}));
    struct result r = run_nd((const char *[]){"clean", src, "--out", dst, "--keep", "newest", NULL});
    assert_int_equal(r.code, 2);
    result_free(&r);
    r = run_nd((const char *[]){"clean", src, "--out", dst, "--force", "--keep", "longest", "-q", NULL});
    assert_int_equal(r.code, 0);
    result_free(&r);
    expect_ok(run_nd((const char *[]){"verify", dst, NULL}));
    sh("rm -rf '%s' '%s'", dst, src);
}

static void test_refusals_and_src_untouched(void **state)
{
    (void)state;
    char src[64], dst[200], inner[200], h1[65], h2[65];
    make_crawl(src);
    tree_hash(src, h1);
    snprintf(inner, sizeof inner, "%s/site-a/out", src);
    struct result r = run_nd((const char *[]){"clean", src, "--out", inner, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "inside the source"));
    result_free(&r);
    /* SRC inside DST */
    char parent[200];
    snprintf(parent, sizeof parent, "%s/..", src);
    r = run_nd((const char *[]){"clean", src, "--out", parent, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "lies inside it"));
    result_free(&r);
    /* non-empty DST without --force; --force on a folder that is not an output */
    out_path(dst, sizeof dst, src, "full");
    mkdir(dst, 0755);
    write_file(dst, "precious.txt", "do not delete\n");
    r = run_nd((const char *[]){"clean", src, "--out", dst, NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "not empty"));
    result_free(&r);
    r = run_nd((const char *[]){"clean", src, "--out", dst, "--force", NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "not a neardup output"));
    result_free(&r);
    char keep[1300];
    snprintf(keep, sizeof keep, "%s/precious.txt", dst);
    assert_true(exists(keep));
    sh("rm -rf '%s'", dst);
    /* usage errors */
    r = run_nd((const char *[]){"clean", src, NULL});
    assert_int_equal(r.code, 2);
    result_free(&r);
    r = run_nd((const char *[]){"clean", src, "--out", dst, "--format", "zip", NULL});
    assert_int_equal(r.code, 2);
    result_free(&r);
    r = run_nd((const char *[]){"clean", src, "--out", dst, "--gzip-level", "12", NULL});
    assert_int_equal(r.code, 2);
    result_free(&r);
    r = run_nd((const char *[]){"verify", NULL});
    assert_int_equal(r.code, 2);
    result_free(&r);
    r = run_nd((const char *[]){"clean", "--help", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "--keep earliest|first|longest"));
    result_free(&r);

    /* A read-only SRC is cleaned fine and stays byte for byte the same; an empty DST
     * folder is accepted. */
    mkdir(dst, 0755);
    sh("chmod -R a-w '%s'", src);
    expect_ok(run_nd((const char *[]){"clean", src, "--out", dst, "-q", NULL}));
    sh("chmod -R u+w '%s'", src);
    tree_hash(src, h2);
    assert_string_equal(h1, h2);
    expect_ok(run_nd((const char *[]){"verify", dst, NULL}));
    /* dry run: nothing written, not even a temporary folder */
    char dry[200];
    out_path(dry, sizeof dry, src, "dry");
    r = run_nd((const char *[]){"clean", src, "--out", dry, "--dry-run", "-q", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "dry run"));
    assert_non_null(strstr(r.out, "10 documents read"));
    result_free(&r);
    assert_false(exists(dry));
    assert_int_equal(leftovers(dry, 0), 0);
    sh("rm -rf '%s' '%s'", dst, src);
}

static void test_failed_write_leaves_nothing(void **state)
{
    (void)state;
    char src[64], dst[200], h1[65], h2[65];
    make_crawl(src);
    tree_hash(src, h1);
    out_path(dst, sizeof dst, src, "fail");
    struct result r = run_env("ND_TEST_FAIL_WRITE=3",
                              (const char *[]){"clean", src, "--out", dst, "-q", NULL});
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "No space left on device"));
    assert_non_null(strstr(r.err, "nothing was written"));
    result_free(&r);
    assert_false(exists(dst));
    assert_int_equal(leftovers(dst, 0), 0);
    /* also with a previous output in place: it survives intact */
    expect_ok(run_nd((const char *[]){"clean", src, "--out", dst, "-q", "--format", "jsonl", NULL}));
    char before[65], after[65];
    tree_hash(dst, before);
    r = run_env("ND_TEST_FAIL_WRITE=1", (const char *[]){"clean", src, "--out", dst, "--force", "-q", NULL});
    assert_int_equal(r.code, 1);
    result_free(&r);
    tree_hash(dst, after);
    assert_string_equal(before, after);
    assert_int_equal(leftovers(dst, 0), 0);
    tree_hash(src, h2);
    assert_string_equal(h1, h2);
    sh("rm -rf '%s' '%s'", dst, src);
}

/* Text is written as valid UTF-8: invalid bytes become U+FFFD, valid text is written
 * as extracted (the writer trusts what pass 1 found for the same bytes). */
static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    char src[64], d1[200], p[1300];
    strcpy(src, "/tmp/nd-clean-utf8-XXXXXX");
    assert_non_null(mkdtemp(src));
    write_file(src, "s/bad.txt", "Caf\xE9 opens at nine on the corner of the old market square\n"
                                 "Surrogate \xED\xA0\x80 and overlong \xC0\xAF bytes in one line\n");
    write_file(src, "s/good.txt", "Ph\xE1\xBB\x91 c\xE1\xBB\x95 H\xC3\xA0 N\xE1\xBB\x99i "
                                  "has narrow streets named after the crafts once sold there\n");
    const char *formats[] = {"tree", "jsonl"};
    for (size_t f = 0; f < 2; f++) {
        out_path(d1, sizeof d1, src, "u");
        expect_ok(run_nd((const char *[]){"clean", src, "--out", d1, "--format", formats[f], "-q", NULL}));
        struct result r = run_nd((const char *[]){"verify", d1, NULL});
        if (r.code != 0)
            fail_msg("verify %s: %s%s", formats[f], r.out, r.err);
        result_free(&r);
        if (f == 0) {
            snprintf(p, sizeof p, "%s/s/bad.txt.txt.gz", d1);
            char *bad = gunzip(p);
            assert_non_null(bad);
            assert_string_equal(bad, "Caf\xEF\xBF\xBD opens at nine on the corner of the old market square\n"
                                     "Surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD and overlong "
                                     "\xEF\xBF\xBD\xEF\xBF\xBD bytes in one line");
            free(bad);
            snprintf(p, sizeof p, "%s/s/good.txt.txt.gz", d1);
            char *good = gunzip(p);
            assert_non_null(good);
            assert_string_equal(good, "Ph\xE1\xBB\x91 c\xE1\xBB\x95 H\xC3\xA0 N\xE1\xBB\x99i "
                                      "has narrow streets named after the crafts once sold there");
            free(good);
        } else {
            snprintf(p, sizeof p, "%s/documents.jsonl.gz", d1);
            char *all = gunzip(p);
            assert_non_null(all);
            assert_non_null(strstr(all, "Caf\xEF\xBF\xBD opens"));
            assert_null(strstr(all, "\xE9 opens"));
            free(all);
        }
        sh("rm -rf '%s'", d1);
    }
    sh("rm -rf '%s'", src);
}

/* A generated crawl (text, HTML, gzip, WARC files; syndicated copies). Run with
 * ND_TEST_PIECE_DOCS=3 (pieces of 3 kept documents, a window of one piece a thread), it
 * gives both writing threads many pieces and makes them wait for each other. */
#define SMALL_PIECES "ND_TEST_PIECE_DOCS=3"

static void make_gen_crawl(char *dir, size_t n, const char *docs)
{
    snprintf(dir, n, "/tmp/nd-clean-gen-XXXXXX");
    assert_non_null(mkdtemp(dir));
    rmdir(dir);
    const char *b = getenv("ND_BUILD_DIR");
    sh("'%s/%s/gen' --docs %s --seed 7 --out '%s' --truth '%s.truth.json' --quiet", ND_SOURCE_DIR,
       b ? b : "build", docs, dir, dir);
}

static void test_threads_identical(void **state)
{
    (void)state;
    char src[64], d1[200], d2[200], h1[65], h2[65];
    make_gen_crawl(src, sizeof src, "30");
    struct { const char *format; int strip; } runs[] = {{"tree", 0}, {"jsonl", 1}, {"warc", 1}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        out_path(d1, sizeof d1, src, "t1");
        out_path(d2, sizeof d2, src, "t2");
        const char *strip = runs[i].strip ? "--strip-boilerplate" : NULL;
        expect_ok(run_env(SMALL_PIECES, (const char *[]){"clean", src, "--out", d1, "--format",
                                                         runs[i].format, "-q", "--threads", "1", strip, NULL}));
        expect_ok(run_env(SMALL_PIECES, (const char *[]){"clean", src, "--out", d2, "--format",
                                                         runs[i].format, "-q", "--threads", "2", strip, NULL}));
        tree_hash(d1, h1);
        tree_hash(d2, h2);
        if (strcmp(h1, h2))
            fail_msg("--format %s%s: output differs between 1 and 2 threads", runs[i].format,
                     strip ? " --strip-boilerplate" : "");
        /* Nor with how files are read: plain reads one by one, or batches of 3 with
         * 2 KB slots, so that both threads take batches and the larger files (the WARC
         * ones among them) are put aside and read last. */
        const char *reads[] = {SMALL_PIECES " NEARDUP_IO_URING=0", SMALL_PIECES " ND_TEST_PREFETCH=3,2048"};
        for (size_t k = 0; k < 2; k++) {
            char d3[200], h3[65];
            out_path(d3, sizeof d3, src, "t3");
            expect_ok(run_env(reads[k], (const char *[]){"clean", src, "--out", d3, "--format",
                                                         runs[i].format, "-q", "--threads", "2", strip, NULL}));
            tree_hash(d3, h3);
            if (strcmp(h1, h3))
                fail_msg("--format %s: output differs with %s", runs[i].format, reads[k]);
            sh("rm -rf '%s'", d3);
        }
        if (i == 1) {
            struct result r = run_nd((const char *[]){"verify", d2, NULL});
            if (r.code != 0)
                fail_msg("verify %s: %s%s", runs[i].format, r.out, r.err);
            assert_non_null(strstr(r.out, "verify: OK, 30 documents"));
            result_free(&r);
            /* Several gzip members, read as one stream by zlib: every kept document once. */
            char p[1300];
            snprintf(p, sizeof p, "%s/documents.jsonl.gz", d2);
            char *all = gunzip(p), *m = slurp(p);
            assert_non_null(all);
            size_t lines = 0, members = 0;
            for (char *q = all; (q = strchr(q, '\n')); q++)
                lines++;
            struct stat st;
            assert_int_equal(stat(p, &st), 0);
            for (off_t k = 0; k + 3 < st.st_size; k++)
                members += m[k] == '\x1f' && m[k + 1] == '\x8b' && m[k + 2] == 8;
            assert_true(members >= 5);
            char mp[1300];
            snprintf(mp, sizeof mp, "%s/manifest.jsonl", d2);
            char *man = slurp(mp);
            size_t kept = 0;
            for (char *q = man; (q = strstr(q, "\"action\":\"kept\"")); q++)
                kept++;
            assert_int_equal(lines, kept);
            free(man);
            free(m);
            free(all);
        }
        sh("rm -rf '%s' '%s'", d1, d2);
    }
    sh("rm -rf '%s' '%s.truth.json'", src, src);
}

/* Files clean says it read again ("N of M files read again"), 0 when it says nothing. */
static size_t reread_files(const char *out)
{
    const char *q = strstr(out, " files read again");
    if (!q)
        return 0;
    while (q > out && q[-1] != '\n')
        q--;
    size_t n = 0;
    assert_int_equal(sscanf(q, " %zu of", &n), 1);
    return n;
}

/* Writing takes each document's text from pass 1 when it fits the budget (the spill's,
 * NEARDUP_SPILL_MEM per thread), else reads the file again: the same bytes either way,
 * with every document kept, none, or some. */
static void test_kept_text_or_reread(void **state)
{
    (void)state;
    char src[64], d[3][200], h[3][65];
    make_gen_crawl(src, sizeof src, "40");
    static const char *const env[3] = {SMALL_PIECES, SMALL_PIECES " NEARDUP_SPILL_MEM=0",
                                       SMALL_PIECES " NEARDUP_SPILL_MEM=24000"};
    struct { const char *format; int strip; } runs[] = {{"tree", 0}, {"tree", 1}, {"jsonl", 1}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        size_t reread[3];
        for (int k = 0; k < 3; k++) {
            out_path(d[k], sizeof d[k], src, k == 0 ? "all" : k == 1 ? "none" : "some");
            struct result r = run_env(env[k], (const char *[]){"clean", src, "--out", d[k], "--format",
                                                               runs[i].format, "--threads", "2",
                                                               runs[i].strip ? "--strip-boilerplate" : NULL, NULL});
            if (r.code != 0)
                fail_msg("clean (%s): %s%s", env[k], r.out, r.err);
            reread[k] = reread_files(r.out);
            result_free(&r);
            tree_hash(d[k], h[k]);
        }
        assert_int_equal(reread[0], 0);
        assert_true(reread[1] > 0);
        assert_true(reread[2] > 0 && reread[2] < reread[1]);
        for (int k = 1; k < 3; k++)
            if (strcmp(h[0], h[k]))
                fail_msg("--format %s%s: kept text and re-read text differ (%s)", runs[i].format,
                         runs[i].strip ? " --strip-boilerplate" : "", env[k]);
        struct result v = run_nd((const char *[]){"verify", d[0], NULL});
        if (v.code != 0)
            fail_msg("verify: %s%s", v.out, v.err);
        result_free(&v);
        sh("rm -rf '%s' '%s' '%s'", d[0], d[1], d[2]);
    }
    sh("rm -rf '%s' '%s.truth.json'", src, src);
}

/* Unstripped warc takes each text digest from pass 1 instead of extracting the text
 * again: its manifest's text_digest must be the tree's, which hashes the text it
 * writes, for every kept document (text, HTML, gzip, WARC records, invalid UTF-8). */
static void test_warc_text_digest_as_tree(void **state)
{
    (void)state;
    char src[64], d[2][200];
    make_gen_crawl(src, sizeof src, "40");
    write_file(src, "s/bad.txt", "Caf\xE9 opens at nine on the corner of the old market square\n"
                                 "and the baker \xC0\xAF next door sells bread until noon\n");
    write_file(src, "s/page.html", "<p>Tea &amp; cakes at the <b>old</b> mill</p><div>Open\n  daily</div>");
    const char *formats[] = {"tree", "warc"};
    struct mline *m[2];
    size_t n[2];
    for (int f = 0; f < 2; f++) {
        out_path(d[f], sizeof d[f], src, formats[f]);
        expect_ok(run_nd((const char *[]){"clean", src, "--out", d[f], "--format", formats[f], "-q",
                                          "--threads", "2", NULL}));
        m[f] = calloc(400, sizeof *m[f]);
        assert_non_null(m[f]);
        n[f] = read_manifest(d[f], m[f], 400);
    }
    assert_int_equal(n[0], n[1]);
    size_t kept = 0;
    for (size_t i = 0; i < n[0]; i++) {
        const char *a = nd_jget_str(m[0][i].o, "action", ""), *b = nd_jget_str(m[1][i].o, "action", "");
        assert_string_equal(a, b);
        if (strcmp(a, "kept"))
            continue;
        kept++;
        const char *ta = nd_jget_str(m[0][i].o, "text_digest", ""), *tb = nd_jget_str(m[1][i].o, "text_digest", "");
        if (!*ta || strcmp(ta, tb))
            fail_msg("%s: text_digest %s (tree) but %s (warc)", nd_jget_str(m[0][i].o, "path", ""), ta, tb);
    }
    assert_true(kept >= 20);
    assert_non_null(find_line(m[1], n[1], "s/bad.txt"));
    for (int f = 0; f < 2; f++) {
        free_manifest(m[f], n[f]);
        free(m[f]);
        struct result v = run_nd((const char *[]){"verify", d[f], NULL});
        if (v.code != 0)
            fail_msg("verify %s: %s%s", formats[f], v.out, v.err);
        result_free(&v);
    }
    sh("rm -rf '%s' '%s' '%s' '%s.truth.json'", d[0], d[1], src, src);
}

static void test_failed_write_two_threads(void **state)
{
    (void)state;
    char src[64], dst[200], h1[65], h2[65];
    make_gen_crawl(src, sizeof src, "30");
    tree_hash(src, h1);
    out_path(dst, sizeof dst, src, "fail2");
    /* Mid-run while both threads write tree files; the first write of a container. */
    const char *formats[] = {"tree", "jsonl"};
    const char *at[] = {SMALL_PIECES " ND_TEST_FAIL_WRITE=12", SMALL_PIECES " ND_TEST_FAIL_WRITE=1"};
    for (size_t f = 0; f < 2; f++) {
        struct result r = run_env(at[f], (const char *[]){"clean", src, "--out", dst, "-q", "--format",
                                                          formats[f], "--threads", "2", NULL});
        if (r.code != 1 || !strstr(r.err, "No space left on device") || !strstr(r.err, "nothing was written"))
            fail_msg("%s --format %s: exit %d\n%s", at[f], formats[f], r.code, r.err);
        result_free(&r);
        assert_false(exists(dst));
        assert_int_equal(leftovers(dst, 0), 0);
    }
    tree_hash(src, h2);
    assert_string_equal(h1, h2);
    sh("rm -rf '%s' '%s.truth.json'", src, src);
}

/* The commit's sync: where syncfs is missing, every file and folder is fsynced by
 * walking the temporary folder (ND_TEST_NO_SYNCFS takes that path), with the same
 * output; a sync that fails (ND_TEST_FAIL_SYNC: a write-back error) leaves no DST and
 * no temporary folder, in either path, and the fallback names the file it failed on. */
static void test_sync_paths(void **state)
{
    (void)state;
    char src[64], d1[200], d2[200], h1[65], h2[65];
    make_gen_crawl(src, sizeof src, "30");
    out_path(d1, sizeof d1, src, "s1");
    out_path(d2, sizeof d2, src, "s2");
    const char *args1[] = {"clean", src, "--out", d1, "-q", "--threads", "2", NULL};
    const char *args2[] = {"clean", src, "--out", d2, "-q", "--threads", "2", NULL};
    expect_ok(run_nd(args1));
    expect_ok(run_env("ND_TEST_NO_SYNCFS=1", args2));
    tree_hash(d1, h1);
    tree_hash(d2, h2);
    assert_string_equal(h1, h2);
    expect_ok(run_nd((const char *[]){"verify", d2, NULL}));
    sh("rm -rf '%s' '%s'", d1, d2);
    const char *env[] = {"ND_TEST_FAIL_SYNC=1", "ND_TEST_NO_SYNCFS=1 ND_TEST_FAIL_SYNC=1"};
    for (size_t i = 0; i < 2; i++) {
        struct result r = run_env(env[i], args1);
        if (r.code != 1 || !strstr(r.err, "cannot sync") || !strstr(r.err, "nothing was written"))
            fail_msg("%s: exit %d\n%s", env[i], r.code, r.err);
        /* The fallback fails on a file (the hook fails files only), not on the folder. */
        if (i == 1 && !strstr(r.err, ".gz: ") && !strstr(r.err, "manifest.jsonl: "))
            fail_msg("%s: not a file's error: %s", env[i], r.err);
        result_free(&r);
        assert_false(exists(d1));
        assert_int_equal(leftovers(d1, 0), 0);
    }
    sh("rm -rf '%s' '%s.truth.json'", src, src);
}

static void interrupt(const char *src, const char *dst, int sig)
{
    int fo = open("/dev/null", O_WRONLY), fe = open("/dev/null", O_WRONLY);
    pid_t pid = spawn_nd("ND_TEST_PAUSE_WRITE=2", (const char *[]){"clean", src, "--out", dst, "-q", NULL}, fo,
                         fe);
    int st;
    assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
    assert_true(WIFSTOPPED(st));
    /* Mid-run: a temporary folder exists, DST does not. */
    assert_false(exists(dst));
    assert_int_equal(leftovers(dst, 0), 1);
    kill(pid, sig);
    kill(pid, SIGCONT);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    close(fo);
    close(fe);
    if (sig == SIGKILL) {
        assert_true(WIFSIGNALED(st));
    } else {
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 128 + sig);
        assert_int_equal(leftovers(dst, 0), 0);
    }
    assert_false(exists(dst));
    /* Never anything that looks complete. */
    assert_int_equal(leftovers(dst, 1), 0);
}

static void test_signals_leave_no_dst(void **state)
{
    (void)state;
    char src[64], dst[200];
    make_crawl(src);
    out_path(dst, sizeof dst, src, "sig");
    interrupt(src, dst, SIGINT);
    interrupt(src, dst, SIGTERM);
    interrupt(src, dst, SIGKILL);
    rm_leftovers(dst);
    sh("rm -rf '%s'", src);
}

/* Writing the stripped text takes each block's verdict from the analysis for the first
 * 64 blocks and normalises the rest again: both ways, and the test hook that normalises
 * everything, must give the same bytes. Pages of 90 blocks, token-less lines among
 * them (kept: they carry no text to judge), template lines before and after block 64. */
static void test_strip_many_blocks(void **state)
{
    (void)state;
    char src[64], d1[200], d2[200], p[1300];
    strcpy(src, "/tmp/nd-clean-src-XXXXXX");
    assert_non_null(mkdtemp(src));
    static const char *const tmpl[] = {"Menu: home world business sport weather",
                                       "Read also: the council budget debate goes on",
                                       "Footer: copyright the example gazette all rights reserved"};
    char page[16384], name[64];
    for (int pg = 0; pg < 6; pg++) {
        size_t n = 0;
        for (int b = 0; b < 90; b++) {
            const char *line = NULL;
            char buf[160];
            if (b == 0)
                line = tmpl[0];
            else if (b == 40 || b == 63)
                line = tmpl[1];
            else if (b == 64 || b == 80)
                line = tmpl[2];
            else if (b % 7 == 3)
                line = b % 2 ? "----" : "| * |";
            else {
                snprintf(buf, sizeof buf, "page%d line%d tells of river%d and bridge%d near town%d",
                         pg, b, pg * 100 + b, b * 7 + pg, pg + b * 13);
                line = buf;
            }
            n += (size_t)snprintf(page + n, sizeof page - n, "%s\n", line);
        }
        snprintf(name, sizeof name, "site-m/p%d.txt", pg);
        write_file(src, name, page);
    }
    out_path(d1, sizeof d1, src, "a");
    out_path(d2, sizeof d2, src, "b");
    expect_ok(run_nd((const char *[]){"clean", src, "--out", d1, "-q", "--strip-boilerplate", NULL}));
    expect_ok(run_env("ND_TEST_NO_BOILER_MASK=1",
                      (const char *[]){"clean", src, "--out", d2, "-q", "--strip-boilerplate", NULL}));
    for (int pg = 0; pg < 6; pg++) {
        snprintf(p, sizeof p, "%s/site-m/p%d.txt.txt.gz", d1, pg);
        char *a = gunzip(p);
        snprintf(p, sizeof p, "%s/site-m/p%d.txt.txt.gz", d2, pg);
        char *b = gunzip(p);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        for (int t = 0; t < 3; t++)
            assert_null(strstr(a, tmpl[t]));
        assert_non_null(strstr(a, "----"));
        assert_non_null(strstr(a, "| * |"));
        char want[64];
        snprintf(want, sizeof want, "page%d line1 ", pg);
        assert_non_null(strstr(a, want));
        snprintf(want, sizeof want, "page%d line89 ", pg);
        assert_non_null(strstr(a, want));
        /* 90 blocks less the 5 template ones. */
        size_t lines = 1;
        for (const char *q = a; *q; q++)
            lines += *q == '\n';
        assert_int_equal(lines, 85);
        free(a);
        free(b);
    }
    sh("rm -rf '%s' '%s' '%s'", d1, d2, src);
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static int contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    for (size_t i = 0; nn && i + nn <= hn; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nn) == 0)
            return 1;
    return 0;
}

/* --format warc copies a record that is a gzip member of its own in a .warc.gz as
 * stored: the source's compressed bytes (gzip -9, which libdeflate level 1 never
 * writes alike) appear in the output. Records sharing one member are compressed again.
 * Both kinds decode to the same records and pass verify. */
static void test_warc_members_copied(void **state)
{
    (void)state;
    char src[64], d1[200], p[1300], q[1300];
    strcpy(src, "/tmp/nd-clean-src-XXXXXX");
    assert_non_null(mkdtemp(src));
    static const char *const story[] = {
        "The river authority opened the new flood gates on Monday after eleven years of work.",
        "A violin maker in the old quarter has restored an instrument built two centuries ago.",
        "Night trains between the two capitals return in spring, the rail company announced."};
    char buf[2048];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/m%d.warc", src, i);
        FILE *f = fopen(p, "wb");
        assert_non_null(f);
        if (i == 0) {
            add_warc_record(f, "warcinfo", NULL, "2024-01-01T00:00:00Z", "software: test\r\n");
        } else {
            snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n", story[i - 1]);
            snprintf(q, sizeof q, "http://river.example/story%d", i);
            add_warc_record(f, "response", q, "2024-02-01T00:00:00Z", buf);
        }
        fclose(f);
    }
    /* A member holding a record and 4 bytes other than CRLFCRLF: as long as a record
     * with its CRLFCRLF, but it must be compressed again (the gzip CRC tells). */
    snprintf(p, sizeof p, "%s/m4.warc", src);
    FILE *f4 = fopen(p, "wb");
    assert_non_null(f4);
    snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n",
             "Harbour pilots will guide the tall ships in on the evening tide, the port said.");
    add_warc_record_end(f4, "response", "http://river.example/story4", "2024-02-01T00:00:00Z", buf,
                        "\n\n\n\n");
    fclose(f4);
    sh("cd '%s' && mkdir -p site-w site-x && cat m0.warc m1.warc m2.warc m3.warc | gzip -9n > site-x/all.warc.gz"
       " && for i in 0 1 2 3 4; do gzip -9n < m$i.warc > m$i.gz; done && cat m0.gz m1.gz m2.gz m4.gz > site-w/each.warc.gz"
       " && rm m*.warc", src);
    /* Each folder cleaned on its own: the same stories in both. */
    out_path(d1, sizeof d1, src, "a");
    snprintf(p, sizeof p, "%s/site-w", src);
    expect_ok(run_nd((const char *[]){"clean", p, "--out", d1, "--format", "warc", "-q", NULL}));
    struct result r = run_nd((const char *[]){"verify", d1, NULL});
    if (r.code != 0)
        fail_msg("verify: %s%s", r.out, r.err);
    result_free(&r);
    snprintf(p, sizeof p, "%s/crawl.warc.gz", d1);
    char *out = slurp(p);
    size_t on = file_size(p);
    for (int i = 1; i < 3; i++) {
        snprintf(q, sizeof q, "%s/m%d.gz", src, i);
        char *m = slurp(q);
        if (!contains(out, on, m, file_size(q)))
            fail_msg("member %d of each.warc.gz not copied as stored", i);
        free(m);
    }
    for (int i = 0; i <= 4; i += 4) { /* 0 warcinfo: not a document; 4: not as stored */
        snprintf(q, sizeof q, "%s/m%d.gz", src, i);
        char *m = slurp(q);
        if (contains(out, on, m, file_size(q)))
            fail_msg("member %d of each.warc.gz copied as stored", i);
        free(m);
    }
    free(out);
    char *all = gunzip(p);
    assert_non_null(strstr(all, "river.example/story1"));
    assert_non_null(strstr(all, "river.example/story2"));
    assert_non_null(strstr(all, "tall ships in on the evening tide"));
    free(all);
    sh("rm -rf '%s'", d1);
    /* One member for every record: compressed again, and the same records. */
    snprintf(p, sizeof p, "%s/site-x", src);
    expect_ok(run_nd((const char *[]){"clean", p, "--out", d1, "--format", "warc", "-q", NULL}));
    r = run_nd((const char *[]){"verify", d1, NULL});
    if (r.code != 0)
        fail_msg("verify: %s%s", r.out, r.err);
    result_free(&r);
    snprintf(p, sizeof p, "%s/crawl.warc.gz", d1);
    all = gunzip(p);
    for (int i = 1; i <= 3; i++) {
        snprintf(q, sizeof q, "http://river.example/story%d\r\n", i);
        assert_non_null(strstr(all, q));
    }
    free(all);
    sh("rm -rf '%s' '%s'", d1, src);
}

int main(void)
{
    cli_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_end_to_end),
        cmocka_unit_test(test_kept_reasons),
        cmocka_unit_test(test_duplicate_reasons),
        cmocka_unit_test(test_formats_and_strip),
        cmocka_unit_test(test_strip_many_blocks),
        cmocka_unit_test(test_warc_members_copied),
        cmocka_unit_test(test_keep_policies),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_refusals_and_src_untouched),
        cmocka_unit_test(test_failed_write_leaves_nothing),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_kept_text_or_reread),
        cmocka_unit_test(test_warc_text_digest_as_tree),
        cmocka_unit_test(test_failed_write_two_threads),
        cmocka_unit_test(test_sync_paths),
        cmocka_unit_test(test_signals_leave_no_dst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
