/* Whole small files in few system calls: a worker's next files are opened, read and
 * closed by io_uring in one submission, so that the reader parses them from memory.
 * Here a system call costs about 1 µs and open+fstat+read+close of a page ~10 µs. */
#ifndef ND_PREFETCH_H
#define ND_PREFETCH_H

#include <stddef.h>

typedef struct nd_prefetch nd_prefetch;

/* Up to slots files a batch, slot_bytes each, read relative to the folder root. *out
 * is NULL (and 0 returned) where io_uring cannot be used: not built in, refused by the
 * kernel or a seccomp filter, root not a folder, or $NEARDUP_IO_URING set to 0. The
 * caller then reads each file itself. ND_ENOMEM on failure. */
int nd_prefetch_new(const char *root, unsigned slots, size_t slot_bytes, nd_prefetch **out);
void nd_prefetch_free(nd_prefetch *pf);

/* Open, read and close rel[0..n) (n <= slots, else ND_EUSAGE), waiting for all of
 * them. Returns 0 otherwise: should the ring fail, no file of this batch or a later one
 * is handed over, and the caller reads each itself as for any file not read whole. */
int nd_prefetch_run(nd_prefetch *pf, const char *const *rel, unsigned n);

/* File k of the last batch: its whole content (borrowed until the next run), or NULL
 * when it was not read whole: open or read failed, it is empty, or it is at least
 * slot_bytes long (*big set then). The caller reads those itself, so that every error
 * is reported by one path. */
const char *nd_prefetch_get(const nd_prefetch *pf, unsigned k, size_t *len, int *big);

#endif
