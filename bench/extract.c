/* The reader's own speed on HTML, one core, apart from the rest of the pipeline:
 * `extract FILES...` (or "-": one path per line on stdin) times reading the files from
 * the page cache, extracting blocks from memory, extracting and normalising from
 * memory, and all three per file as the reader does (in io_uring batches, where usable;
 * reading alone is timed both ways). One line per measure: name, MB of HTML in,
 * seconds, MB/s. A file that cannot be read is counted and left out. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/extract.h"
#include "../core/norm.h"
#include "../core/prefetch.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct file {
    char *path;
    size_t off, len; /* into the loaded bytes */
};

/* Read one file into *buf (grown as needed) as the reader does: open, read to the end,
 * close. Returns the bytes read or -1. */
static long read_into(const char *path, char **buf, size_t *cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        if (len == *cap) {
            size_t ncap = *cap ? *cap * 2 : 1 << 20;
            char *p = realloc(*buf, ncap);
            if (!p) {
                close(fd);
                return -1;
            }
            *buf = p;
            *cap = ncap;
        }
        ssize_t r = read(fd, *buf + len, *cap - len);
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    return (long)len;
}

static int norm_blocks(nd_norm *nm, const nd_blocks *b, nd_buf *out, nd_toks *toks)
{
    for (size_t i = 0; i < b->n; i++) {
        nd_buf_clear(out);
        toks->n = 0;
        if (nd_norm_block(nm, b->text.p + b->v[i].off, b->v[i].len, out, toks, NULL))
            return -1;
    }
    return 0;
}

/* Seconds to extract (and normalise, when nm is set) every loaded file; -1 on failure. */
static double from_memory(const struct file *files, size_t n, const char *all, nd_blocks *b,
                          nd_norm *nm, nd_buf *out, nd_toks *toks)
{
    double t = now();
    for (size_t i = 0; i < n; i++)
        if (files[i].len != SIZE_MAX) {
            nd_blocks_clear(b);
            if (nd_html_extract(all + files[i].off, files[i].len, b) ||
                (nm && norm_blocks(nm, b, out, toks)))
                return -1;
        }
    return now() - t;
}

/* Reads as the reader makes them, each file then handed to fn: in batches (prefetch.h;
 * 32 files of up to 64 KiB), files not read whole one by one; without pf (no io_uring
 * here), all one by one. As the reader opens paths relative to the crawl's root, these
 * are opened relative to the folder all of them share (skip: its name and slash). */
#define SLOTS 32u
static int batched(nd_prefetch *pf, const struct file *files, size_t n, size_t skip, char **tmp,
                   size_t *cap, int (*fn)(const char *, size_t, void *), void *arg)
{
    const char *rel[SLOTS];
    for (size_t i = 0; i < n; i += SLOTS) {
        unsigned m = n - i < SLOTS ? (unsigned)(n - i) : SLOTS;
        for (unsigned k = 0; k < m; k++)
            rel[k] = files[i + k].path + skip;
        if (pf && nd_prefetch_run(pf, rel, m))
            return -1;
        for (unsigned k = 0; k < m; k++) {
            if (files[i + k].len == SIZE_MAX)
                continue;
            size_t len = 0;
            int big;
            const char *p = pf ? nd_prefetch_get(pf, k, &len, &big) : NULL;
            if (!p) {
                long r = read_into(files[i + k].path, tmp, cap);
                if (r < 0)
                    return -1;
                p = *tmp;
                len = (size_t)r;
            }
            if (fn && fn(p, len, arg))
                return -1;
        }
    }
    return 0;
}

/* Length of the folder prefix (through its last '/') that every path shares; 0 if none. */
static size_t common_dir(const struct file *files, size_t n)
{
    size_t k = n ? strlen(files[0].path) : 0;
    for (size_t i = 1; i < n && k; i++) {
        size_t j = 0;
        while (j < k && files[i].path[j] == files[0].path[j])
            j++;
        k = j;
    }
    while (k && files[0].path[k - 1] != '/')
        k--;
    return k;
}

struct per_file {
    nd_blocks *b;
    nd_norm *nm;
    nd_buf *out;
    nd_toks *toks;
};

static int extract_norm(const char *p, size_t len, void *arg)
{
    struct per_file *pf = arg;
    nd_blocks_clear(pf->b);
    return nd_html_extract(p, len, pf->b) || norm_blocks(pf->nm, pf->b, pf->out, pf->toks) ? -1 : 0;
}

static void line(const char *name, double bytes, double secs)
{
    printf("%-28s %10.1f MB %8.3f s %8.1f MB/s\n", name, bytes / 1e6, secs,
           secs > 0 ? bytes / 1e6 / secs : 0);
}

int main(int argc, char **argv)
{
    struct file *files = NULL;
    size_t n = 0, cap = 0;
    char *line_buf = NULL;
    size_t line_cap = 0;
    int from_stdin = argc == 2 && strcmp(argv[1], "-") == 0;
    for (int a = 1;; a++) {
        char *path;
        if (from_stdin) {
            ssize_t got = getline(&line_buf, &line_cap, stdin);
            if (got <= 0)
                break;
            if (line_buf[got - 1] == '\n')
                line_buf[got - 1] = '\0';
            path = strdup(line_buf);
        } else {
            if (a >= argc)
                break;
            path = strdup(argv[a]);
        }
        if (!path)
            return 1;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            struct file *p = realloc(files, cap * sizeof *files);
            if (!p)
                return 1;
            files = p;
        }
        files[n++] = (struct file){path, 0, 0};
    }
    free(line_buf);
    if (!n) {
        fprintf(stderr, "usage: extract FILES... | extract - < list\n");
        return 2;
    }

    /* Load every file into one buffer for the measures from memory (not timed: the
     * buffer's first touch would be counted as reading). */
    char *all = NULL, *tmp = NULL;
    size_t all_cap = 0, all_len = 0, tmp_cap = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        long r = read_into(files[i].path, &tmp, &tmp_cap);
        if (r < 0) {
            bad++;
            files[i].len = SIZE_MAX;
            continue;
        }
        if (all_len + (size_t)r > all_cap) {
            size_t ncap = all_cap ? all_cap : 1 << 24;
            while (ncap < all_len + (size_t)r)
                ncap *= 2;
            char *p = realloc(all, ncap);
            if (!p)
                return 1;
            all = p;
            all_cap = ncap;
        }
        memcpy(all + all_len, tmp, (size_t)r);
        files[i].off = all_len;
        files[i].len = (size_t)r;
        all_len += (size_t)r;
    }

    /* Reading alone, as cat does it: one buffer reused. */
    double t = now();
    for (size_t i = 0; i < n; i++)
        if (files[i].len != SIZE_MAX && read_into(files[i].path, &tmp, &tmp_cap) < 0)
            return 1;
    double t_read = now() - t;

    /* The same in batches, as the reader reads (where io_uring is usable). */
    size_t skip = common_dir(files, n);
    char *root = skip ? strndup(files[0].path, skip - 1) : strdup(".");
    nd_prefetch *pf = NULL;
    if (!root || nd_prefetch_new(*root ? root : "/", SLOTS, (size_t)64 << 10, &pf))
        return 1;
    free(root);
    double t_batch = -1;
    if (pf) {
        t = now();
        if (batched(pf, files, n, skip, &tmp, &tmp_cap, NULL, NULL))
            return 1;
        t_batch = now() - t;
    }

    nd_blocks b;
    nd_blocks_init(&b);
    nd_norm *nm = NULL;
    nd_buf out = {0};
    nd_toks toks = {0};
    if (nd_norm_new(&nm))
        return 1;

    /* Extraction alone (from memory), then extraction and normalisation. */
    double t_ext = from_memory(files, n, all, &b, NULL, &out, &toks);
    double t_norm = from_memory(files, n, all, &b, nm, &out, &toks);
    if (t_ext < 0 || t_norm < 0)
        return 1;

    /* All three per file, as the reader does them. */
    t = now();
    struct per_file per = {&b, nm, &out, &toks};
    if (batched(pf, files, n, skip, &tmp, &tmp_cap, extract_norm, &per))
        return 1;
    double t_all = now() - t;

    double bytes = (double)all_len;
    printf("%zu files, %zu unreadable\n", n - bad, bad);
    line("read (open/read/close)", bytes, t_read);
    if (t_batch >= 0)
        line("read (batched, as the reader)", bytes, t_batch);
    line("extract, from memory", bytes, t_ext);
    line("extract+normalise, memory", bytes, t_norm);
    line("read+extract+normalise", bytes, t_all);

    nd_prefetch_free(pf);
    nd_toks_free(&toks);
    nd_buf_free(&out);
    nd_norm_free(nm);
    nd_blocks_free(&b);
    free(tmp);
    free(all);
    for (size_t i = 0; i < n; i++)
        free(files[i].path);
    free(files);
    return 0;
}
