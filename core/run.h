/* One analysis of a crawl, shared by `report` and `clean`: read every document (pass 1:
 * extract, normalise, count blocks per site), learn boilerplate, fingerprint the
 * content (pass 2), cluster. The result, nd_run, is what reports and writers consume. */
#ifndef ND_RUN_H
#define ND_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <neardup/plugin.h>

#include "boiler.h"
#include "cluster.h"
#include "loader.h"
#include "problems.h"
#include "read.h"

typedef struct nd_run_opts {
    const char *root;              /* the crawl directory (or one file) */
    const char *method;            /* plugin name; NULL: ND_DEFAULT_METHOD */
    const char **plugin_dirs;      /* --plugin-dir values, searched first */
    size_t n_plugin_dirs;
    const char **plugin_opts;      /* "-o NAME.KEY=VALUE" values as given */
    size_t n_plugin_opts;
    unsigned threads;              /* 0: all cores */
    bool keep_boilerplate;         /* fingerprint whole pages */
    unsigned site_depth;           /* folders under root that name a file's site (1) */
    size_t max_doc_bytes;          /* 0: ND_DEFAULT_MAX_DOC_BYTES */
    double threshold;              /* < 0: the plugin's default */
    double containment;            /* < 0: the plugin's default */
    bool keep_text;                /* pass 1 keeps every document's extracted blocks in
                                      memory (up to a budget), so that nd_run_each_text
                                      need not read the source again (clean's tree and
                                      jsonl; see there) */
    bool keep_text_digest;         /* pass 1 keeps each document's text digest (XXH3-128
                                      of its blocks joined by '\n'), so that
                                      nd_run_each_text with ND_EACH_DIGEST_ONLY need not
                                      extract the text again (clean's warc) */
    bool progress;                 /* draw a progress line on stderr */
    FILE *log;                     /* one line per problem; NULL: silent */
} nd_run_opts;

void nd_run_opts_default(nd_run_opts *o);
/* Free the arrays nd_cli_run_opt grew (plugin_dirs, plugin_opts); not the strings. */
void nd_run_opts_release(nd_run_opts *o);

#define ND_DEFAULT_METHOD "shingle"

/* nd_docrec.flags */
#define ND_DOC_SKIPPED   0x01u  /* not usable at all (reason says why) */
#define ND_DOC_PARTIAL   0x02u  /* truncated or partly decoded; used as far as read */
#define ND_DOC_EMPTY     0x04u  /* no content token (after stripping): never clustered */
#define ND_DOC_TEMPLATE  0x08u  /* almost all boilerplate: index/tag page, never clustered */
#define ND_DOC_FALLBACK  0x10u  /* too short for the method: exact-hash fallback */
#define ND_DOC_HTML      0x20u
#define ND_DOC_WARC      0x40u
#define ND_DOC_BADUTF8   0x80u  /* its extracted text held invalid UTF-8 when read */

typedef struct nd_docrec {
    uint32_t file;             /* index into run->files */
    uint32_t record;           /* WARC record index, else 0 */
    uint64_t offset;           /* WARC record offset as stored, else 0 */
    uint32_t site;             /* index into run->sites */
    uint32_t flags;            /* ND_DOC_* */
    const char *uri;           /* owned by the run, NULL when none */
    const char *date;          /* as found, NULL when none */
    int64_t time;              /* date as Unix seconds, INT64_MAX when unknown */
    const char *title;         /* title or first words, NULL when none */
    const char *reason;        /* why skipped/partial, NULL otherwise */
    uint64_t digest[2];        /* XXH3-128 of the original bytes (nd_rawdoc.digest) */
    uint64_t body_digest[2];   /* XXH3-128 of the decoded body: byte-identical payloads
                                  (exact re-crawls) match whatever their WARC headers */
    uint64_t bytes;            /* decoded body bytes */
    uint32_t n_blocks;         /* text blocks extracted */
    uint32_t n_boiler_blocks;  /* of which boilerplate for its site */
    uint32_t n_tokens;         /* tokens in all blocks */
    uint32_t n_content_tokens; /* tokens fingerprinted */
    uint32_t n_boiler_tokens;  /* tokens in its boilerplate blocks (stripped or not) */
    uint64_t boiler_mask;      /* bit i: extracted block i (i < 64) is boilerplate, so that
                                  writing the stripped text need not normalise it again */
} nd_docrec;

typedef struct nd_run {
    nd_run_opts opts;          /* copy; pointers borrowed from the caller */
    nd_filelist files;
    nd_docrec *docs;           /* ordered by file path, then record: the report order */
    size_t n_docs;
    char **sites;              /* host of the URI, or leading folders of the path */
    size_t n_sites;
    nd_boiler *boiler;
    nd_problems *problems;
    nd_registry *plugins;
    const nd_loaded *method;   /* the plugin used */
    void *method_state;
    nd_sig_info info;
    nd_cluster_out clusters;
    uint64_t bytes_read;       /* decoded document bytes */
    uint64_t file_bytes;       /* bytes of the files as stored */
    double seconds[3];         /* pass 1, pass 2, clustering wall time */
    unsigned threads;
    struct nd_run_priv *priv;  /* implementation detail of run.c */
} nd_run;

/* Analyse opts->root. On failure returns negative with a message (nd_errmsg) and *out
 * is NULL; problems with single files are never failures. */
int nd_run_crawl(const nd_run_opts *opts, nd_run **out);
void nd_run_free(nd_run *run);

/* Path of a document relative to the root. */
const char *nd_run_path(const nd_run *run, size_t doc);

/* Similarity of two documents' signatures with the run's plugin (compare()). Both must
 * have been fingerprinted (not skipped, empty or template-only): returns ND_EUSAGE
 * otherwise. containment is -1 when the method cannot tell. For `clean --keep`. */
int nd_run_compare(const nd_run *run, size_t a, size_t b, double *similarity,
                   double *containment);

/* Re-read the source (only ever read) for the documents with want[doc] != 0 (all when
 * want is NULL), each file once, in document order, and call fn with the document's
 * raw record and its extracted text: blocks joined by '\n', without the site's
 * boilerplate blocks with ND_EACH_STRIP (flags below). Everything passed to fn is
 * borrowed for the call. fn returns 0 to go on; its non-zero value stops the walk and
 * is returned. A document that can no longer be read (source changed) is reported to
 * run->problems and passed with raw == NULL. For `clean` and `verify`.
 * With opts.keep_text, a file whose wanted documents all had their text kept by pass 1
 * is not read again: fn gets that text, and a raw that holds the record's metadata and
 * digest only (path, uri, date, offset, record, is_html, ND_RAW_TRUNCATED; body and
 * record_bytes NULL, member_fd -1), so fn must not need the bytes. */
typedef int (*nd_run_text_fn)(void *ctx, size_t doc, const nd_rawdoc *raw,
                              const char *text, size_t len);
/* Asked, when not NULL, before each file holding a wanted document, with the first
 * one: 1 read the file, 0 skip it, negative stop the walk (returning 0), so that
 * several threads can share the files as they go. */
typedef int (*nd_run_claim_fn)(void *ctx, size_t first_wanted);
/* flags: ND_EACH_STRIP drops the boilerplate blocks. ND_EACH_DIGEST_ONLY (ignored with
 * ND_EACH_STRIP) is for a caller that needs the bytes but not the text: with
 * opts.keep_text_digest, a document read again whose bytes are those pass 1 read and
 * whose text was valid UTF-8 is not extracted, and fn gets text NULL (len 0): its text
 * digest is nd_run_text_digest's. */
#define ND_EACH_STRIP       0x1u
#define ND_EACH_DIGEST_ONLY 0x2u
int nd_run_each_text(const nd_run *run, const uint8_t *want, unsigned flags,
                     nd_run_claim_fn claim, nd_run_text_fn fn, void *ctx);
/* The digest pass 1 took of document doc's text (opts.keep_text_digest): XXH3-128, low
 * half first, of its blocks joined by '\n', as nd_run_each_text passes them unstripped.
 * ND_EUSAGE when it was not taken. */
int nd_run_text_digest(const nd_run *run, size_t doc, uint64_t digest[2]);
/* Files that nd_run_each_text has read again so far (with opts.keep_text: those holding
 * a wanted document whose text was over the budget). */
size_t nd_run_files_reread(const nd_run *run);

#endif
