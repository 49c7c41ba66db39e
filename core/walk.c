/* nd_walk: the list of regular files under a crawl root, in bytewise path order. Each
 * directory (by device and inode) is entered once, so symlinked directories and loops
 * cost one visit; directories that cannot be read are reported and skipped. */
#include "read.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "error.h"

struct dirkey {
    dev_t dev;
    ino_t ino;
    int used;
};

struct walk {
    nd_filelist *out;
    nd_problems *pr;
    int sizes;              /* stat regular files for their size (ND_WALK_SIZES) */
    nd_buf full;            /* root/rel of the entry being looked at */
    size_t root_len;        /* full.p[0..root_len) is "root/" */
    struct dirkey *seen;    /* open-addressing set of directories entered */
    size_t n_seen, cap_seen;
};

static size_t key_slot(const struct walk *w, dev_t dev, ino_t ino)
{
    uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15u) ^ ((uint64_t)ino * 0xC2B2AE3D27D4EB4Fu);
    h ^= h >> 29;
    return (size_t)h & (w->cap_seen - 1);
}

/* 1 if (dev, ino) was new (now marked), 0 if already entered, negative on failure. */
static int mark_dir(struct walk *w, dev_t dev, ino_t ino)
{
    if (2 * (w->n_seen + 1) > w->cap_seen) {
        size_t cap = w->cap_seen ? 2 * w->cap_seen : 64;
        struct dirkey *old = w->seen;
        size_t ocap = w->cap_seen;
        w->seen = calloc(cap, sizeof *w->seen);
        if (!w->seen) {
            w->seen = old;
            return nd_fail(ND_ENOMEM, "out of memory");
        }
        w->cap_seen = cap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].used) {
                size_t j = key_slot(w, old[i].dev, old[i].ino);
                while (w->seen[j].used)
                    j = (j + 1) & (cap - 1);
                w->seen[j] = old[i];
            }
        free(old);
    }
    size_t j = key_slot(w, dev, ino);
    while (w->seen[j].used) {
        if (w->seen[j].dev == dev && w->seen[j].ino == ino)
            return 0;
        j = (j + 1) & (w->cap_seen - 1);
    }
    w->seen[j] = (struct dirkey){dev, ino, 1};
    w->n_seen++;
    return 1;
}

static int add_file(nd_filelist *l, const char *rel, uint64_t size)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (!p)
            return nd_fail(ND_ENOMEM, "out of memory");
        l->paths = p;
        uint64_t *s = realloc(l->sizes, cap * sizeof *s);
        if (!s)
            return nd_fail(ND_ENOMEM, "out of memory");
        l->sizes = s;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(rel)))
        return nd_fail(ND_ENOMEM, "out of memory");
    l->sizes[l->n++] = size;
    return ND_OK;
}

/* A directory entry and the type readdir gave for it (DT_UNKNOWN on file systems
 * that do not say): a regular file or a folder it names needs no stat of its own. */
struct name {
    char *s;
    unsigned char type;
};

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct name *)a)->s, ((const struct name *)b)->s);
}

static void free_names(struct name *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i].s);
    free(names);
}

/* w->full holds root/rel of a directory already marked; its entries, in name order. */
static int walk_dir(struct walk *w)
{
    const char *rel = w->full.p + w->root_len;
    DIR *d = opendir(w->full.p);
    if (!d) {
        nd_problem(w->pr, ND_SKIPPED, *rel ? rel : ".", "unreadable", "cannot read directory: %s",
                   strerror(errno));
        return ND_OK;
    }
    /* Names are read first and the directory closed, so deep trees do not hold one
     * open descriptor per level. */
    struct name *names = NULL;
    size_t n = 0, cap = 0;
    int rc = ND_OK;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 32;
            struct name *nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = nd_fail(ND_ENOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n].s = strdup(e->d_name))) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            break;
        }
        names[n++].type = e->d_type;
    }
    closedir(d);
    if (rc) {
        free_names(names, n);
        return rc;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_name);
    size_t dir_len = w->full.len;
    for (size_t i = 0; i < n && !rc; i++) {
        w->full.len = dir_len;
        w->full.p[dir_len] = '\0';
        if ((dir_len > w->root_len && (rc = nd_buf_putc(&w->full, '/'))) ||
            (rc = nd_buf_puts(&w->full, names[i].s)))
            break;
        rel = w->full.p + w->root_len;
        /* One stat a file less: on a crawl of small pages it was a tenth of the
         * walk's system time, and the reader stats what it opens anyway. */
        if (names[i].type == DT_REG && !w->sizes) {
            rc = add_file(w->out, rel, ND_SIZE_UNKNOWN);
            continue;
        }
        if (names[i].type != DT_UNKNOWN && names[i].type != DT_REG &&
            names[i].type != DT_DIR && names[i].type != DT_LNK)
            continue; /* FIFOs, sockets and devices are not crawl content */
        struct stat st;
        if (stat(w->full.p, &st) != 0) {
            struct stat lst;
            if (lstat(w->full.p, &lst) == 0 && S_ISLNK(lst.st_mode))
                nd_problem(w->pr, ND_NOTE, rel, "broken link", "symbolic link to nothing: skipped");
            else
                nd_problem(w->pr, ND_SKIPPED, rel, "unreadable", "cannot stat: %s", strerror(errno));
            continue;
        }
        if (S_ISREG(st.st_mode)) {
            rc = add_file(w->out, rel, (uint64_t)st.st_size);
        } else if (S_ISDIR(st.st_mode)) {
            int fresh = mark_dir(w, st.st_dev, st.st_ino);
            if (fresh < 0)
                rc = fresh;
            else if (fresh)
                rc = walk_dir(w);
        }
        /* FIFOs, sockets and devices are not crawl content: left out. */
    }
    w->full.len = dir_len;
    w->full.p[dir_len] = '\0';
    free_names(names, n);
    return rc;
}

struct entry {
    char *path;
    uint64_t size;
};

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/* Bytewise order of the whole path ("a-b" before "a/b"), not the walk's order. */
static int sort_list(nd_filelist *l)
{
    if (l->n < 2)
        return ND_OK;
    struct entry *v = malloc(l->n * sizeof *v);
    if (!v)
        return nd_fail(ND_ENOMEM, "out of memory");
    for (size_t i = 0; i < l->n; i++)
        v[i] = (struct entry){l->paths[i], l->sizes[i]};
    qsort(v, l->n, sizeof *v, cmp_entry);
    for (size_t i = 0; i < l->n; i++) {
        l->paths[i] = v[i].path;
        l->sizes[i] = v[i].size;
    }
    free(v);
    return ND_OK;
}

int nd_walk(const char *root, unsigned flags, nd_filelist *out, nd_problems *pr)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(root, &st) != 0)
        return nd_fail(ND_EIO, "cannot read %s: %s", root, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
            n--;
        size_t b = n;
        while (b > 0 && root[b - 1] != '/')
            b--;
        char *base = strndup(root + b, n - b);
        if (!base)
            return nd_fail(ND_ENOMEM, "out of memory");
        int rc = add_file(out, base, (uint64_t)st.st_size);
        free(base);
        if (rc)
            nd_filelist_free(out);
        return rc;
    }
    if (!S_ISDIR(st.st_mode))
        return nd_fail(ND_EIO, "cannot read %s: not a directory or a regular file", root);
    DIR *d = opendir(root);
    if (!d)
        return nd_fail(ND_EIO, "cannot read %s: %s", root, strerror(errno));
    closedir(d);

    struct walk w = {.out = out, .pr = pr, .sizes = (flags & ND_WALK_SIZES) != 0,
                     .full = ND_BUF_INIT};
    int rc = nd_buf_puts(&w.full, root);
    if (!rc && w.full.len && w.full.p[w.full.len - 1] != '/')
        rc = nd_buf_putc(&w.full, '/');
    w.root_len = w.full.len;
    int fresh = rc ? 0 : mark_dir(&w, st.st_dev, st.st_ino);
    if (fresh < 0)
        rc = fresh;
    if (!rc)
        rc = walk_dir(&w);
    if (!rc)
        rc = sort_list(out);
    free(w.seen);
    nd_buf_free(&w.full);
    if (rc)
        nd_filelist_free(out);
    return rc;
}

void nd_filelist_free(nd_filelist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    free(l->sizes);
    memset(l, 0, sizeof *l);
}
