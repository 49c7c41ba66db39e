/* Writing a clean output safely: every file goes into a hidden temporary folder beside
 * the destination, is fsynced, and the folder is renamed onto DST only once complete,
 * so a failed or interrupted run never leaves a DST that looks complete. */
#ifndef ND_ARCHIVE_H
#define ND_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct nd_archive nd_archive;
typedef struct nd_afile nd_afile;

/* Refuse what could lose data: DST inside SRC or SRC inside DST (compared by realpath;
 * DST may not exist yet, then its parent is resolved), DST not a folder, a non-empty
 * DST without force, and even with force a non-empty DST that holds no manifest.jsonl
 * (not a previous neardup output). ND_EEXIST or ND_EUSAGE with a message. */
int nd_archive_check(const char *src, const char *dst, bool force);

/* Create the temporary folder ".NAME.neardup-XXXXXX" beside dst. */
int nd_archive_begin(const char *dst, nd_archive **out);
/* Bytes written to disk so far, all files. */
uint64_t nd_archive_bytes(const nd_archive *a);
/* Sync every file and folder written (one syncfs; where it is missing, fsync each),
 * rename the temporary folder onto dst (a previous output is moved aside first and
 * removed after), fsync the parent. Frees a whatever happens; on failure the temporary
 * folder is removed. */
int nd_archive_commit(nd_archive *a);
/* Remove the temporary folder and everything in it; frees a. NULL is a no-op. */
void nd_archive_abort(nd_archive *a);

/* Every function below may be called from several threads at once on one archive
 * (each nd_afile used by one thread at a time); begin, commit and abort may not. */

/* Open rel (missing folders created) for writing plain bytes, exclusively: two
 * documents mapping to one name is an error, never a silent overwrite. Compressed
 * output is made of nd_gzip members. */
int nd_archive_open(nd_archive *a, const char *rel, nd_afile **out);
int nd_afile_write(nd_afile *f, const void *p, size_t n);
/* Flush, close, free f (also on failure); the data is synced by nd_archive_commit. */
int nd_afile_close(nd_afile *f);
/* Close and free without finishing (error path). NULL is a no-op. */
void nd_afile_discard(nd_afile *f);

/* Write the whole file rel (missing folders created, exclusively as nd_archive_open)
 * holding p[0..n): for bytes already complete in memory, such as one gzip member. */
int nd_archive_put(nd_archive *a, const char *rel, const void *p, size_t n);

/* A whole-buffer gzip compressor, one per thread: deterministic members (no name,
 * mtime 0) that readers of concatenated members (zcat, gzread, Python gzip) read as
 * one stream. level 0..9. */
typedef struct nd_gzip nd_gzip;
int nd_gzip_new(int level, nd_gzip **out);
void nd_gzip_free(nd_gzip *z);
/* Append one complete gzip member holding p[0..n) to out. */
int nd_gzip_member(nd_gzip *z, const void *p, size_t n, nd_buf *out);

/* SIGINT/SIGTERM/SIGHUP only set a flag from now on; every write checks it and fails
 * with ND_EINTR, so the caller unwinds and removes the temporary folder. */
void nd_archive_catch_signals(void);
/* The signal caught, or 0. */
int nd_archive_signal(void);

/* Test-only hooks, read from the environment by nd_archive_begin:
 * ND_TEST_FAIL_WRITE=N   the Nth write(2) of the output fails with ENOSPC;
 * ND_TEST_PAUSE_WRITE=N  the process stops itself (SIGSTOP) after the Nth write, so a
 *                        test can signal it mid-run;
 * ND_TEST_NO_SYNCFS=1    commit syncs as where syncfs is missing (fsync of each file);
 * ND_TEST_FAIL_SYNC=1    the sync at commit fails with EIO (in the fallback: the first
 *                        file's fsync). */

#endif
