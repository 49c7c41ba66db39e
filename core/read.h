/* Reading a crawl directory: the walker lists its files, the reader turns one file
 * (text, HTML, gzip, WARC, WARC.gz; detected by content) into documents, streamed one
 * at a time to a callback. Bad input is reported through nd_problems, never fatal. */
#ifndef ND_READ_H
#define ND_READ_H

#include <stddef.h>
#include <stdint.h>

#include "problems.h"

/* ---- walker ---- */
typedef struct nd_filelist {
    char **paths;       /* relative to the root, '/'-separated, sorted bytewise */
    uint64_t *sizes;    /* bytes on disk, same order; ND_SIZE_UNKNOWN without
                           ND_WALK_SIZES (nd_read_opts.file_size tells it then) */
    size_t n, cap;
} nd_filelist;

/* List every regular file under root, recursively, in deterministic (bytewise sorted
 * path) order. Symlinks to files are followed; symlinked directories are followed only
 * once each (device+inode), so loops end. Unreadable directories are reported and
 * skipped. root may also be a single file (the list then holds its base name).
 * Returns 0, or negative when root itself cannot be read (message via nd_errmsg). */
#define ND_WALK_SIZES 1u          /* stat every file for its size (for a progress ETA) */
#define ND_SIZE_UNKNOWN UINT64_MAX
int nd_walk(const char *root, unsigned flags, nd_filelist *out, nd_problems *pr);
void nd_filelist_free(nd_filelist *l);

/* ---- reader ---- */
#define ND_RAW_TRUNCATED 1u   /* body shorter than the original (cap or broken stream) */
#define ND_RAW_MEMBER_START 2u /* WARC record that begins a gzip member: member_fd is set */

/* One document. Everything is borrowed for the duration of the callback only. */
typedef struct nd_rawdoc {
    const char *path;          /* relative to the root */
    const char *uri;           /* WARC-Target-URI, or NULL */
    const char *date;          /* WARC-Date, else HTTP Last-Modified, else NULL; as found */
    uint64_t offset;           /* WARC: byte offset of the record in the file as stored
                                  (start of its gzip member for .warc.gz); else 0 */
    uint32_t record;           /* WARC: index of the record in the file; else 0 */
    int is_html;               /* body sniffed (or declared) as HTML */
    unsigned flags;            /* ND_RAW_* */
    const char *skip_reason;   /* non-NULL: the document could not be used at all (binary,
                                  unreadable, corrupt record...); body is then empty. Such
                                  documents are still handed over, so that every input is
                                  accounted for. */
    uint64_t digest[2];        /* XXH3-128 (seed 0) of the original bytes: the whole file
                                  for a plain or gzip file, the record's uncompressed bytes
                                  (header block and content block) for a WARC record */
    const char *body;          /* payload: decoded file content, or the WARC record's
                                  payload with the HTTP header block stripped and chunked
                                  transfer-coding / gzip,deflate content-coding undone */
    size_t body_len;
    const char *record_bytes;  /* WARC only: the whole uncompressed record as stored
                                  (WARC headers, CRLF, block), for archiving; else NULL */
    size_t record_len;
    const char *http_headers;  /* WARC response only: the HTTP header block; else NULL */
    size_t http_headers_len;
    int member_fd;             /* with ND_RAW_MEMBER_START: the file, open read-only, so
                                  that the record's gzip member at offset can be copied
                                  as stored (pread only). The reader's; valid during the
                                  callback */
    uint64_t member_clen;      /* with ND_RAW_MEMBER_START, when the reader decoded that
                                  member whole: its compressed length (else 0), */
    uint64_t member_dlen;      /* its decoded length, */
    uint64_t member_hash;      /* and XXH3-64 of its compressed bytes */
} nd_rawdoc;

/* Return 0 to go on, non-zero to stop reading this file (returned by nd_read_file). */
typedef int (*nd_doc_fn)(void *ctx, const nd_rawdoc *doc);

typedef struct nd_read_opts {
    size_t max_doc_bytes;      /* cap on one document's decoded body; larger ones are
                                  truncated (ND_RAW_TRUNCATED) and reported. 0: default */
    uint64_t *file_size;       /* if not NULL: set to the file's size on disk, 0 when it
                                  could not be opened */
    int *from_file;            /* nd_read_mem: if not NULL, a WARC file is not read from
                                  memory: nothing is handed over, 0 is returned and this
                                  set to 1, so that the caller reads it with nd_read_file
                                  and its records keep member_fd (to copy gzip members) */
} nd_read_opts;

#define ND_DEFAULT_MAX_DOC_BYTES (32u << 20)

/* Read root/relpath and call fn once per document (a plain file is one document, a
 * WARC file one per response/resource record). Never reads a whole WARC into memory.
 * Malformed input is reported to pr and skipped or partly used; returns 0 then.
 * Returns negative only for out-of-memory, or the callback's non-zero value. */
int nd_read_file(const char *root, const char *relpath, const nd_read_opts *opts,
                 nd_problems *pr, nd_doc_fn fn, void *ctx);

/* The same for a file whose whole content is already in memory (data, borrowed for
 * the call): what the batched reads of prefetch.h hand over. A WARC record read this
 * way has no member_fd, so ND_RAW_MEMBER_START is never set (see from_file). */
int nd_read_mem(const char *relpath, const void *data, size_t len, const nd_read_opts *opts,
                nd_problems *pr, nd_doc_fn fn, void *ctx);

/* Hand fn one skipped document for path (no body, no URI, reason copied by fn if kept):
 * a file that yields nothing usable is still one line of the manifest. */
int nd_doc_skipped(const char *path, const char *reason, nd_doc_fn fn, void *ctx);

#endif
