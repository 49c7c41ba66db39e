/* The safe output folder of `clean`: refusal checks by realpath, a temporary folder
 * beside DST, exclusive file creation, deterministic gzip, fsync of every file and
 * folder, rename into place, and removal of the temporary folder on any failure.
 * Files may be written from several threads at once (clean's workers). */
#define _GNU_SOURCE /* syncfs */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <libdeflate.h>

#include "buf.h"
#include "error.h"

#define OUTBUF (256u << 10)

struct nd_archive {
    char *dst;          /* as given */
    char *parent;       /* folder holding dst and the temporary folder */
    char *tmp;          /* parent/.NAME.neardup-XXXXXX */
    _Atomic uint64_t bytes;
    /* The temporary folder, open from its creation: syncfs reports the write-back
     * errors of the file system since the descriptor was opened, so one opened only at
     * commit would miss those of files the kernel wrote back during a long run. */
    int tfd;
};

struct nd_afile {
    nd_archive *a;
    char *path;         /* full path, for messages */
    int fd;
    unsigned char *buf; /* pending output bytes (compressed or plain) */
    size_t len;
};

static volatile sig_atomic_t caught;
/* Set by nd_archive_begin before any writer thread exists; writes counts every
 * write(2) of all threads, so the test hooks hit exactly one. */
static long fail_at = -1, pause_at = -1;
static int no_syncfs, fail_sync; /* ND_TEST_NO_SYNCFS: the fallback; ND_TEST_FAIL_SYNC: its error */
static atomic_long writes;

static void on_signal(int sig)
{
    caught = sig;
}

void nd_archive_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int nd_archive_signal(void)
{
    return caught;
}

/* ---- checks ---- */

/* realpath of p, or of its parent + its last name when p does not exist yet. */
static char *resolve(const char *p, int *exists)
{
    char *r = realpath(p, NULL);
    *exists = r != NULL;
    if (r || errno != ENOENT)
        return r;
    char *copy = strdup(p);
    if (!copy)
        return NULL;
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    char *slash = strrchr(copy, '/');
    const char *name = slash ? slash + 1 : copy;
    char *pr = realpath(slash ? (slash == copy ? "/" : (*slash = '\0', copy)) : ".", NULL);
    char *out = NULL;
    if (pr && strcmp(name, ".") && strcmp(name, "..") && *name) {
        nd_buf b = ND_BUF_INIT;
        if (!nd_buf_printf(&b, "%s/%s", strcmp(pr, "/") ? pr : "", name))
            out = nd_buf_take(&b);
        nd_buf_free(&b);
    }
    free(pr);
    free(copy);
    return out;
}

/* inner is outer or lies under it. */
static int inside(const char *inner, const char *outer)
{
    size_t n = strlen(outer);
    if (n == 1 && outer[0] == '/')
        return 1;
    return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

static int dir_state(const char *dst, int *empty, int *has_manifest)
{
    DIR *d = opendir(dst);
    if (!d)
        return nd_fail(ND_EIO, "cannot read %s: %s", dst, strerror(errno));
    struct dirent *e;
    *empty = 1;
    *has_manifest = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        *empty = 0;
        if (!strcmp(e->d_name, "manifest.jsonl"))
            *has_manifest = 1;
    }
    closedir(d);
    return ND_OK;
}

int nd_archive_check(const char *src, const char *dst, bool force)
{
    int src_exists, dst_exists, rc = ND_OK;
    char *rs = resolve(src, &src_exists), *rd = NULL;
    if (!rs || !src_exists) {
        rc = nd_fail(ND_EIO, "cannot read %s: %s", src, strerror(errno ? errno : ENOENT));
        goto out;
    }
    rd = resolve(dst, &dst_exists);
    if (!rd) {
        rc = nd_fail(ND_EIO, "cannot use %s as output: its parent folder does not exist or is not readable",
                     dst);
        goto out;
    }
    if (inside(rd, rs)) {
        rc = nd_fail(ND_EEXIST, "refusing to write %s inside the source %s (the source is never changed)",
                     dst, src);
        goto out;
    }
    if (inside(rs, rd)) {
        rc = nd_fail(ND_EEXIST, "refusing to write %s: the source %s lies inside it", dst, src);
        goto out;
    }
    if (dst_exists) {
        struct stat st;
        if (stat(rd, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = nd_fail(ND_EEXIST, "refusing to write %s: it exists and is not a folder", dst);
            goto out;
        }
        int empty = 1, has_manifest = 0;
        if ((rc = dir_state(rd, &empty, &has_manifest)))
            goto out;
        if (!empty && !force)
            rc = nd_fail(ND_EEXIST, "refusing to write %s: it is not empty (--force replaces a previous "
                         "neardup output)", dst);
        else if (!empty && !has_manifest)
            rc = nd_fail(ND_EEXIST, "refusing to replace %s even with --force: it is not a neardup output "
                         "(no manifest.jsonl)", dst);
    }
out:
    free(rd);
    free(rs);
    return rc;
}

/* ---- temporary folder ---- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

static void rm_tree(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int fsync_path(const char *p, int dir)
{
    if (!dir && fail_sync)
        return nd_fail(ND_EIO, "cannot sync %s: %s", p, strerror(EIO));
    int fd = open(p, O_RDONLY | (dir ? O_DIRECTORY : 0) | O_CLOEXEC);
    if (fd < 0)
        return nd_fail(ND_EIO, "cannot open %s: %s", p, strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    /* Some file systems cannot fsync a folder; the rename is still the commit point. */
    if (r != 0 && e != EINVAL && e != ENOTSUP)
        return nd_fail(ND_EIO, "cannot sync %s: %s", p, strerror(e));
    return ND_OK;
}

static void archive_free(nd_archive *a)
{
    if (a->tfd >= 0)
        close(a->tfd);
    free(a->tmp);
    free(a->parent);
    free(a->dst);
    free(a);
}

static long env_long(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : -1;
}

int nd_archive_begin(const char *dst, nd_archive **out)
{
    *out = NULL;
    nd_archive *a = calloc(1, sizeof *a);
    if (a)
        a->tfd = -1;
    if (!a || !(a->dst = strdup(dst)) || !(a->parent = strdup(dst))) {
        if (a)
            archive_free(a);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    size_t n = strlen(a->parent);
    while (n > 1 && a->parent[n - 1] == '/')
        a->parent[--n] = '\0';
    char *slash = strrchr(a->parent, '/');
    const char *name = slash ? slash + 1 : a->parent;
    nd_buf b = ND_BUF_INIT;
    int rc;
    if (slash)
        rc = nd_buf_printf(&b, "%.*s/.%s.neardup-XXXXXX", (int)(slash - a->parent), a->parent, name);
    else
        rc = nd_buf_printf(&b, ".%s.neardup-XXXXXX", name);
    if (rc) {
        archive_free(a);
        return rc;
    }
    if (slash == a->parent)
        a->parent[1] = '\0'; /* dst directly under / */
    else if (slash)
        *slash = '\0';
    else
        strcpy(a->parent, ".");
    a->tmp = nd_buf_take(&b);
    if (!a->tmp || !mkdtemp(a->tmp)) {
        rc = a->tmp ? nd_fail(ND_EIO, "cannot create a temporary folder beside %s: %s", dst, strerror(errno))
                    : nd_fail(ND_ENOMEM, "out of memory");
        archive_free(a);
        return rc;
    }
    /* mkdtemp makes it 0700; the output should get the usual permissions. */
    mode_t um = umask(0);
    umask(um);
    chmod(a->tmp, 0777 & ~um);
    if ((a->tfd = open(a->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = nd_fail(ND_EIO, "cannot open %s: %s", a->tmp, strerror(errno));
        nd_archive_abort(a);
        return rc;
    }
    fail_at = env_long("ND_TEST_FAIL_WRITE");
    pause_at = env_long("ND_TEST_PAUSE_WRITE");
    no_syncfs = getenv("ND_TEST_NO_SYNCFS") != NULL;
    fail_sync = getenv("ND_TEST_FAIL_SYNC") != NULL;
    atomic_store(&writes, 0);
    *out = a;
    return ND_OK;
}

uint64_t nd_archive_bytes(const nd_archive *a)
{
    return atomic_load(&((nd_archive *)(uintptr_t)a)->bytes);
}

void nd_archive_abort(nd_archive *a)
{
    if (!a)
        return;
    rm_tree(a->tmp);
    archive_free(a);
}

/* Where syncfs is missing, every file and folder under tmp is fsynced: found by
 * walking the folder, so that the writers keep no list of what they wrote (adding to a
 * shared list per file made the tree's two writing threads wait for each other). */
static int sync_rc;
static int sync_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F && flag != FTW_DP)
        return 0;
    sync_rc = fsync_path(p, flag == FTW_DP);
    return sync_rc ? 1 : 0;
}

int nd_archive_commit(nd_archive *a)
{
    int rc = ND_OK;
    nd_buf p = ND_BUF_INIT;
    char *old = NULL;
    /* One syncfs writes every file back in one journal commit, and reports write-back
     * errors (Linux 5.8+); an fsync per file cost a commit each. Where syncfs is
     * missing, each file and folder is fsynced (the folders last, after their
     * entries). Commit runs on one thread, so the walk's static status is safe. */
    if (!no_syncfs && syncfs(a->tfd) == 0) {
        if (fail_sync) /* test hook: a write-back error reported at the sync */
            rc = nd_fail(ND_EIO, "cannot sync %s: %s", a->tmp, strerror(EIO));
    } else if (!no_syncfs && errno != ENOSYS) {
        rc = nd_fail(ND_EIO, "cannot sync %s: %s", a->tmp, strerror(errno));
    } else {
        sync_rc = ND_OK;
        if (nftw(a->tmp, sync_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
            rc = sync_rc ? sync_rc : nd_fail(ND_EIO, "cannot walk %s: %s", a->tmp, strerror(errno));
    }
    if (!rc)
        rc = fsync_path(a->tmp, 1);
    if (rc)
        goto fail;
    if (rename(a->tmp, a->dst) != 0) {
        if (errno != ENOTEMPTY && errno != EEXIST) {
            rc = nd_fail(ND_EIO, "cannot rename %s to %s: %s", a->tmp, a->dst, strerror(errno));
            goto fail;
        }
        /* A previous output (checked before the run): move it aside, then swap. */
        nd_buf_clear(&p);
        if ((rc = nd_buf_printf(&p, "%s.old", a->tmp)) || !(old = nd_buf_take(&p))) {
            rc = rc ? rc : nd_fail(ND_ENOMEM, "out of memory");
            goto fail;
        }
        if (rename(a->dst, old) != 0) {
            rc = nd_fail(ND_EIO, "cannot move the previous %s aside: %s", a->dst, strerror(errno));
            goto fail;
        }
        if (rename(a->tmp, a->dst) != 0) {
            rc = nd_fail(ND_EIO, "cannot rename %s to %s: %s", a->tmp, a->dst, strerror(errno));
            rename(old, a->dst);
            goto fail;
        }
    }
    rc = fsync_path(a->parent, 1);
    if (old)
        rm_tree(old);
    free(old);
    nd_buf_free(&p);
    archive_free(a);
    return rc;
fail:
    free(old);
    nd_buf_free(&p);
    nd_archive_abort(a);
    return rc;
}

/* ---- files ---- */

/* Create p.p[0..end) (a folder under tmp, base: where its relative part starts), its
 * missing parents first. The deepest folder is tried first: its parent usually exists,
 * so a new folder costs one mkdir, not one per level. Safe on several threads at once:
 * a folder another thread made first (EEXIST) is as good as one made here. */
static int mkdir_up(nd_buf *p, size_t base, size_t end)
{
    p->p[end] = '\0';
    int rc = ND_OK, r = mkdir(p->p, 0777);
    if (r != 0 && errno == ENOENT) {
        size_t up = end;
        while (up > base && p->p[up - 1] != '/')
            up--;
        if (up > base && !(rc = mkdir_up(p, base, up - 1))) {
            p->p[end] = '\0';
            if (mkdir(p->p, 0777) != 0 && errno != EEXIST)
                rc = nd_fail(ND_EIO, "cannot create %s: %s", p->p, strerror(errno));
        } else if (!rc) {
            rc = nd_fail(ND_EIO, "cannot create %s: %s", p->p, strerror(ENOENT));
        }
    } else if (r != 0 && errno != EEXIST) {
        rc = nd_fail(ND_EIO, "cannot create %s: %s", p->p, strerror(errno));
    }
    p->p[end] = '/';
    return rc;
}

/* The folders of rel under tmp. Called only once creating a file found its folder
 * missing, so no list of known folders is needed (and no lock). */
static int mkdirs(nd_archive *a, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    size_t dl = slash ? (size_t)(slash - rel) + 1 : 0;
    if (dl == 0)
        return ND_OK;
    nd_buf p = ND_BUF_INIT;
    int rc = nd_buf_printf(&p, "%s/", a->tmp);
    size_t base = p.len;
    if (!rc)
        rc = nd_buf_append(&p, rel, dl);
    if (!rc)
        rc = mkdir_up(&p, base, p.len - 1);
    nd_buf_free(&p);
    return rc;
}

/* The path of rel under the temporary folder, for messages. */
static int full_path(const nd_archive *a, const char *rel, nd_buf *b)
{
    nd_buf_clear(b);
    return nd_buf_printf(b, "%s/%s", a->tmp, rel);
}

/* Every write(2) of the output goes through here: the test hooks and the signal flag. */
static int raw_write_fd(nd_archive *a, int fd, const char *path, const char *rel, const unsigned char *p,
                        size_t n)
{
    while (n) {
        if (caught)
            return nd_fail(ND_EINTR, "interrupted by signal %d", (int)caught);
        ssize_t w;
        long nth = atomic_fetch_add(&writes, 1) + 1;
        if (nth == fail_at) {
            errno = ENOSPC;
            w = -1;
        } else {
            w = write(fd, p, n);
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            if (path)
                return nd_fail(ND_EIO, "cannot write %s: %s", path, strerror(errno));
            int e = errno;
            nd_buf b = ND_BUF_INIT;
            int rc = full_path(a, rel, &b) ? nd_fail(ND_ENOMEM, "out of memory")
                                           : nd_fail(ND_EIO, "cannot write %s: %s", b.p, strerror(e));
            nd_buf_free(&b);
            return rc;
        }
        if (nth == pause_at)
            raise(SIGSTOP);
        p += w;
        n -= (size_t)w;
        atomic_fetch_add(&a->bytes, (uint64_t)w);
    }
    return ND_OK;
}

static int raw_write(nd_afile *f, const unsigned char *p, size_t n)
{
    return raw_write_fd(f->a, f->fd, f->path, NULL, p, n);
}

static int flush(nd_afile *f)
{
    int rc = f->len ? raw_write(f, f->buf, f->len) : ND_OK;
    f->len = 0;
    return rc;
}

int nd_archive_open(nd_archive *a, const char *rel, nd_afile **out)
{
    *out = NULL;
    int rc = mkdirs(a, rel);
    if (rc)
        return rc;
    nd_afile *f = calloc(1, sizeof *f);
    nd_buf p = ND_BUF_INIT;
    if (!f || (rc = nd_buf_printf(&p, "%s/%s", a->tmp, rel)) || !(f->buf = malloc(OUTBUF))) {
        nd_buf_free(&p);
        free(f);
        return rc ? rc : nd_fail(ND_ENOMEM, "out of memory");
    }
    f->a = a;
    f->path = nd_buf_take(&p);
    f->fd = f->path ? open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666) : -1;
    if (f->fd < 0) {
        rc = !f->path ? nd_fail(ND_ENOMEM, "out of memory")
             : errno == EEXIST ? nd_fail(ND_EEXIST, "two documents map to the output name %s", rel)
                               : nd_fail(ND_EIO, "cannot create %s: %s", f->path, strerror(errno));
        f->fd = -1;
        nd_afile_discard(f);
        return rc;
    }
    *out = f;
    return ND_OK;
}

int nd_afile_write(nd_afile *f, const void *p, size_t n)
{
    if (!n)
        return caught ? nd_fail(ND_EINTR, "interrupted by signal %d", (int)caught) : ND_OK;
    const unsigned char *s = p;
    while (n) {
        if (f->len == OUTBUF) {
            int rc = flush(f);
            if (rc)
                return rc;
        }
        size_t k = OUTBUF - f->len < n ? OUTBUF - f->len : n;
        memcpy(f->buf + f->len, s, k);
        f->len += k;
        s += k;
        n -= k;
    }
    return ND_OK;
}

int nd_afile_close(nd_afile *f)
{
    int rc = flush(f);
    /* Synced at commit (see nd_archive_commit), all files at once. */
    if (!rc && close(f->fd) != 0)
        rc = nd_fail(ND_EIO, "cannot write %s: %s", f->path, strerror(errno));
    if (!rc)
        f->fd = -1;
    nd_afile_discard(f);
    return rc;
}

void nd_afile_discard(nd_afile *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->buf);
    free(f->path);
    free(f);
}

/* ---- whole files and in-memory gzip members ---- */

/* The folder is created only when the file cannot be: the tree's files come in path
 * order, so nearly all land in a folder that exists, and the common case takes no lock
 * (with a mutex around a list of known folders, two thirds of the large tree's
 * writers' context switches were waits for each other). Relative to the open temporary
 * folder: the kernel walks rel only, not the folders above it. */
static int create_excl(nd_archive *a, const char *rel, int *fd)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, rc = ND_OK;
    *fd = openat(a->tfd, rel, flags, 0666);
    if (*fd < 0 && errno == ENOENT && !(rc = mkdirs(a, rel)))
        *fd = openat(a->tfd, rel, flags, 0666);
    if (rc || *fd >= 0)
        return rc;
    int e = errno;
    nd_buf p = ND_BUF_INIT;
    rc = full_path(a, rel, &p) ? nd_fail(ND_ENOMEM, "out of memory")
         : e == EEXIST         ? nd_fail(ND_EEXIST, "two documents map to the output name %s", rel)
                               : nd_fail(ND_EIO, "cannot create %s: %s", p.p, strerror(e));
    nd_buf_free(&p);
    return rc;
}

int nd_archive_put(nd_archive *a, const char *rel, const void *p, size_t n)
{
    int fd, rc = create_excl(a, rel, &fd);
    if (rc)
        return rc;
    /* The full path is only for messages: made on an error, not for every file. */
    nd_buf path = ND_BUF_INIT;
    rc = raw_write_fd(a, fd, NULL, rel, p, n);
    if (close(fd) != 0 && !rc)
        rc = full_path(a, rel, &path) ? nd_fail(ND_ENOMEM, "out of memory")
                                      : nd_fail(ND_EIO, "cannot write %s: %s", path.p, strerror(errno));
    nd_buf_free(&path);
    return rc;
}

/* Every level is libdeflate's (0: stored blocks). ISA-L's igzip (levels 1-3 until
 * 2026-12-06) was 1.6-1.9x faster, but not deterministic: in about one process in 250
 * (address-layout dependent, persistent for the whole process) the same text at
 * levels 1-2 gave different, valid gzip bytes, so two runs of clean could differ and
 * "running twice gives byte-identical output" did not hold. libdeflate's output
 * depends on the input and level only. */
struct nd_gzip {
    struct libdeflate_compressor *c;
};

int nd_gzip_new(int level, nd_gzip **out)
{
    *out = NULL;
    level = level < 0 ? 0 : level > 9 ? 9 : level;
    nd_gzip *z = calloc(1, sizeof *z);
    if (z)
        z->c = libdeflate_alloc_compressor(level);
    if (!z || !z->c) {
        nd_gzip_free(z);
        return nd_fail(ND_ENOMEM, "out of memory (gzip compressor)");
    }
    *out = z;
    return ND_OK;
}

void nd_gzip_free(nd_gzip *z)
{
    if (!z)
        return;
    if (z->c)
        libdeflate_free_compressor(z->c);
    free(z);
}

int nd_gzip_member(nd_gzip *z, const void *p, size_t n, nd_buf *out)
{
    size_t bound = libdeflate_gzip_compress_bound(z->c, n);
    int rc = nd_buf_reserve(out, bound);
    if (rc)
        return rc;
    static const char empty[1];
    size_t got = libdeflate_gzip_compress(z->c, n ? p : empty, n, out->p + out->len, bound);
    if (!got)
        return nd_fail(ND_EINTERNAL, "gzip compression failed");
    out->len += got;
    return ND_OK;
}
