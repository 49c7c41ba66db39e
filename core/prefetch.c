/* Batched whole-file reads through io_uring (liburing): per file an open into a
 * registered slot, a read of the slot's size, a read that must find the end, and a
 * close, linked so that they run in order; one system call submits and waits for all.
 * Any doubt (an error, a short or partial read, a file not at its end) leaves the file
 * to the caller's plain read path, which reports problems the one way it always does. */
#include "prefetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liburing.h>

#include "error.h"

/* The second read must return 0 (the end); a byte here means the file is longer. */
#define TAIL_BYTES 16u

struct slot {
    int open_res, read_res, tail_res;
};

struct nd_prefetch {
    struct io_uring ring;
    int ring_ok;
    int dirfd;
    unsigned slots;
    size_t slot_bytes;
    char *bufs;                  /* slots x slot_bytes */
    char tail[TAIL_BYTES];       /* the second reads' bytes, never looked at */
    struct slot *st;
    unsigned n;                  /* files in the last batch */
    int broken;                  /* the ring failed once: every file goes the plain way */
};

enum { OP_OPEN, OP_READ, OP_TAIL, OP_CLOSE };

void nd_prefetch_free(nd_prefetch *pf)
{
    if (!pf)
        return;
    /* The ring first: nothing may still write into the buffers. */
    if (pf->ring_ok)
        io_uring_queue_exit(&pf->ring);
    if (pf->dirfd >= 0)
        close(pf->dirfd);
    free(pf->st);
    free(pf->bufs);
    free(pf);
}

/* Whether this kernel has every operation a batch uses (and lets us ask). */
static int ops_supported(struct io_uring *ring)
{
    struct io_uring_probe *p = io_uring_get_probe_ring(ring);
    if (!p)
        return 0;
    int ok = io_uring_opcode_supported(p, IORING_OP_OPENAT) &&
             io_uring_opcode_supported(p, IORING_OP_READ) &&
             io_uring_opcode_supported(p, IORING_OP_CLOSE);
    io_uring_free_probe(p);
    return ok;
}

/* The next completion; a signal only interrupts the wait. */
static int wait_cqe(nd_prefetch *pf, struct io_uring_cqe **cqe)
{
    int rc;
    do
        rc = io_uring_wait_cqe(&pf->ring, cqe);
    while (rc == -EINTR);
    return rc;
}

/* Opening into a registered slot came after the opcodes themselves (Linux 5.15); an
 * older kernel would fail every open of a batch, so one is tried here: the root. */
static int direct_open_works(nd_prefetch *pf)
{
    struct io_uring_sqe *o = io_uring_get_sqe(&pf->ring), *c = o ? io_uring_get_sqe(&pf->ring) : NULL;
    if (!o || !c)
        return 0;
    io_uring_prep_openat_direct(o, pf->dirfd, ".", O_RDONLY | O_DIRECTORY, 0, 0);
    o->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(o, 1);
    io_uring_prep_close_direct(c, 0);
    io_uring_sqe_set_data64(c, 2);
    if (io_uring_submit(&pf->ring) != 2)
        return 0;
    int opened = 0;
    for (int got = 0; got < 2; got++) {
        struct io_uring_cqe *cqe;
        if (wait_cqe(pf, &cqe) < 0)
            return 0;
        if (io_uring_cqe_get_data64(cqe) == 1)
            opened = cqe->res >= 0;
        io_uring_cqe_seen(&pf->ring, cqe);
    }
    return opened;
}

int nd_prefetch_new(const char *root, unsigned slots, size_t slot_bytes, nd_prefetch **out)
{
    *out = NULL;
    const char *env = getenv("NEARDUP_IO_URING");
    if ((env && strcmp(env, "0") == 0) || !slots || slot_bytes < TAIL_BYTES)
        return ND_OK;
    nd_prefetch *pf = calloc(1, sizeof *pf);
    if (!pf)
        return nd_fail(ND_ENOMEM, "out of memory");
    pf->dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pf->slots = slots;
    pf->slot_bytes = slot_bytes;
    /* Zeroed: the kernel fills it behind the back of memory checkers (valgrind). */
    pf->bufs = calloc(slots, slot_bytes);
    pf->st = calloc(slots, sizeof *pf->st);
    if (!pf->bufs || !pf->st) {
        nd_prefetch_free(pf);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    /* Not a folder (root is a single file), or no usable io_uring: the plain path. */
    if (pf->dirfd < 0 || io_uring_queue_init(4 * slots, &pf->ring, 0) != 0) {
        nd_prefetch_free(pf);
        return ND_OK;
    }
    pf->ring_ok = 1;
    if (!ops_supported(&pf->ring) || io_uring_register_files_sparse(&pf->ring, slots) != 0 ||
        !direct_open_works(pf)) {
        nd_prefetch_free(pf);
        return ND_OK;
    }
    *out = pf;
    return ND_OK;
}

static struct io_uring_sqe *sqe(nd_prefetch *pf, unsigned k, unsigned op)
{
    struct io_uring_sqe *s = io_uring_get_sqe(&pf->ring);
    if (s)
        io_uring_sqe_set_data64(s, (uint64_t)k << 2 | op);
    return s;
}

/* The ring failed: nothing more is submitted (requests may still be in flight, so the
 * buffers are never read again), and every file of this batch and the next goes the
 * plain way. */
static int give_up(nd_prefetch *pf)
{
    pf->broken = 1;
    pf->n = 0;
    return ND_OK;
}

int nd_prefetch_run(nd_prefetch *pf, const char *const *rel, unsigned n)
{
    pf->n = 0;
    if (n > pf->slots)
        return nd_fail(ND_EUSAGE, "prefetch batch of %u files for %u slots", n, pf->slots);
    if (pf->broken)
        return ND_OK;
    for (unsigned k = 0; k < n; k++) {
        struct io_uring_sqe *o = sqe(pf, k, OP_OPEN), *r = sqe(pf, k, OP_READ),
                            *t = sqe(pf, k, OP_TAIL), *c = sqe(pf, k, OP_CLOSE);
        if (!o || !r || !t || !c)
            return give_up(pf);
        /* O_NONBLOCK: a FIFO put in a file's place never blocks the open; a read that
         * would wait for the disk then stops short or fails, and the file goes to the
         * plain path, as the tail read only returns 0 at the true end. */
        io_uring_prep_openat_direct(o, pf->dirfd, rel[k], O_RDONLY | O_NONBLOCK, 0, k);
        o->flags |= IOSQE_IO_LINK;
        /* Offset -1: from the file position, so that the tail read follows the first. */
        io_uring_prep_read(r, (int)k, pf->bufs + (size_t)k * pf->slot_bytes,
                           (unsigned)pf->slot_bytes, (uint64_t)-1);
        r->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
        io_uring_prep_read(t, (int)k, pf->tail, TAIL_BYTES, (uint64_t)-1);
        t->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
        /* Hard-linked: the slot is emptied whatever the reads did. */
        io_uring_prep_close_direct(c, k);
        pf->st[k] = (struct slot){-ECANCELED, -ECANCELED, -ECANCELED};
    }
    int rc = io_uring_submit(&pf->ring);
    if (rc < 0 || (unsigned)rc != 4 * n)
        return give_up(pf);
    for (unsigned got = 0; got < 4 * n; got++) {
        struct io_uring_cqe *cqe;
        if (wait_cqe(pf, &cqe) < 0)
            return give_up(pf);
        uint64_t d = io_uring_cqe_get_data64(cqe);
        unsigned k = (unsigned)(d >> 2);
        if (k < n) {
            switch (d & 3) {
            case OP_OPEN: pf->st[k].open_res = cqe->res; break;
            case OP_READ: pf->st[k].read_res = cqe->res; break;
            case OP_TAIL: pf->st[k].tail_res = cqe->res; break;
            default: break;
            }
        }
        io_uring_cqe_seen(&pf->ring, cqe);
    }
    pf->n = n;
    return ND_OK;
}

const char *nd_prefetch_get(const nd_prefetch *pf, unsigned k, size_t *len, int *big)
{
    *len = 0;
    *big = 0;
    if (k >= pf->n)
        return NULL;
    const struct slot *s = &pf->st[k];
    if (s->open_res < 0 || s->read_res <= 0)
        return NULL;
    if ((size_t)s->read_res == pf->slot_bytes || s->tail_res > 0) {
        *big = 1;
        return NULL;
    }
    if (s->tail_res != 0)
        return NULL;
    *len = (size_t)s->read_res;
    return pf->bufs + (size_t)k * pf->slot_bytes;
}
