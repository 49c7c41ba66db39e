/* neardup plugin ABI: the only header a fingerprint plugin includes.
 * A plugin is a shared object exporting one symbol, ND_PLUGIN_ENTRY_SYMBOL, that
 * returns a static descriptor; the core checks the ABI before calling anything. */
#ifndef NEARDUP_PLUGIN_H
#define NEARDUP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI versioning.
 * MAJOR changes when an existing member changes meaning or place: the core refuses a
 * plugin whose major differs from its own.
 * MINOR grows when members are appended to nd_host or nd_plugin. Both structs carry
 * their own size; each side reads a member only when the other side's size says it
 * is there. Members are only ever appended, never reordered or removed. */
#define ND_PLUGIN_ABI_MAJOR 1
#define ND_PLUGIN_ABI_MINOR 0

/* The one symbol a plugin exports, of type nd_plugin_entry_fn. */
#define ND_PLUGIN_ENTRY_SYMBOL "neardup_plugin_entry"

#if defined(__GNUC__)
#define ND_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define ND_PLUGIN_EXPORT
#endif

/* Status codes a plugin returns. Anything negative is a failure. */
#define ND_PLUGIN_OK 0
#define ND_PLUGIN_FALLBACK 1   /* sign(): text too short for the method; signature is the
                                  exact-hash fallback described at sign() */
#define ND_PLUGIN_ERR (-1)     /* generic failure, message in err (create) or log (sign) */
#define ND_PLUGIN_ENOMEM (-2)

/* Log levels for nd_host.log. */
#define ND_LOG_ERROR 0
#define ND_LOG_WARN 1
#define ND_LOG_INFO 2
#define ND_LOG_DEBUG 3

/* Services the core hands to a plugin. Owned by the core, valid from the entry call
 * until the plugin is unloaded; the plugin keeps the pointer, never a copy. All
 * functions are thread-safe. A plugin reaches the core only through this table. */
typedef struct nd_host {
    uint32_t abi_major;       /* the core's ND_PLUGIN_ABI_MAJOR */
    uint32_t abi_minor;       /* the core's ND_PLUGIN_ABI_MINOR */
    uint32_t size;            /* sizeof(nd_host) in the core */
    uint32_t reserved;
    /* Memory that crosses the boundary (plugin state, nothing else today) comes from
     * here, so the core can account for it. Same contracts as malloc/calloc/realloc/free. */
    void *(*malloc)(size_t size);
    void *(*calloc)(size_t n, size_t size);
    void *(*realloc)(void *p, size_t size);
    void (*free)(void *p);
    /* One line of diagnostics, no trailing newline; msg is copied before return. */
    void (*log)(int level, const char *plugin_name, const char *msg);
    /* XXH3-64 and XXH3-128 of data with a seed: the hashes the core itself uses. A plugin
     * may instead inline its own copy of xxHash (namespaced, see xxhash.h XXH_NAMESPACE)
     * for speed; both give identical values. out[0] is the low 64 bits. */
    uint64_t (*hash64)(const void *data, size_t len, uint64_t seed);
    void (*hash128)(const void *data, size_t len, uint64_t seed, uint64_t out[2]);
} nd_host;

/* A document as the core hands it to sign(): its normalised content, after boilerplate
 * stripping unless the user turned that off. Borrowed: valid only during the call.
 * text holds the tokens separated by one ' ', and blocks separated by one '\n'; it is
 * NUL-terminated. tokens[i].ptr points into text. Scripts written without spaces
 * (Han, Kana, Thai, ...) arrive one character per token with ND_TOKEN_NOSPACE set. */
#define ND_TOKEN_NOSPACE 1u
typedef struct nd_token {
    const char *ptr;
    uint32_t len;             /* bytes, UTF-8 */
    uint16_t flags;           /* ND_TOKEN_* */
    uint16_t reserved;
    uint32_t block;           /* index of the block the token belongs to */
} nd_token;

typedef struct nd_text {
    const char *text;
    size_t len;               /* bytes of text, without the NUL */
    const nd_token *tokens;
    size_t n_tokens;
    size_t n_blocks;
} nd_text;

/* An option the plugin accepts, as -o NAME.KEY=VALUE on the command line. Static. */
typedef struct nd_option {
    const char *key;          /* NULL ends the list */
    const char *default_value;
    const char *help;         /* one line */
} nd_option;

/* Options as given by the user, borrowed during create() only. */
typedef struct nd_kv {
    const char *key;
    const char *value;
} nd_kv;

/* What create() tells the core about the configured instance. Filled by the plugin. */
typedef struct nd_sig_info {
    uint32_t size;            /* set by the core to sizeof(nd_sig_info) before create() */
    uint32_t sig_size;        /* bytes of one signature, fixed for this instance, > 0 */
    uint32_t n_keys;          /* candidate keys per signature (see below), >= 1 */
    uint32_t min_tokens;      /* fewer content tokens than this gives a fallback signature */
    double threshold;         /* compare() similarity at or above which two documents are
                                 the same article */
    double containment;       /* compare() containment at or above which the smaller
                                 document is a truncated copy of the larger; > 1 disables */
} nd_sig_info;

/* How candidate pairs are found: sign() writes n_keys 64-bit keys per document. Two
 * documents are a candidate pair when key[i] of one equals key[i] of the other for
 * some i (same i). MinHash-LSH gives one key per band, SimHash one per table of a
 * multi-index (pigeonhole) scheme, exact hashing one key. The core verifies every
 * candidate with compare() before it joins a cluster: keys never decide alone. */

/* Similarity of two signatures, filled by compare(). */
typedef struct nd_score {
    double similarity;        /* in [0,1]: estimated Jaccard or equivalent */
    double containment;       /* in [0,1]: share of the smaller document found in the
                                 larger, or -1 when the method cannot tell */
} nd_score;

/* The descriptor a plugin returns from its entry. Static storage in the plugin; the
 * core copies nothing out of it and reads it while the plugin is loaded. */
typedef struct nd_plugin {
    uint32_t abi_major;       /* ND_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;       /* ND_PLUGIN_ABI_MINOR the plugin was built with */
    uint32_t size;            /* sizeof(nd_plugin) in the plugin */
    uint32_t reserved;
    const char *name;         /* unique, [a-z0-9_]+, used by --method and -o NAME.KEY */
    const char *version;      /* the plugin's own version, free text */
    const char *description;  /* one line */
    const nd_option *options; /* may be NULL */

    /* Build an instance from the user's options (borrowed, possibly none; unknown keys
     * must be refused). On success store the instance in *state (plugin-owned, freed by
     * destroy()), fill *info and return ND_PLUGIN_OK. On failure write one line into
     * err (err_len bytes, NUL-terminated) and return a negative status; *state is then
     * ignored. After create() the instance is read-only: sign() and compare() are
     * called from several threads at once. */
    int (*create)(const nd_host *host, const nd_kv *opts, size_t n_opts,
                  void **state, nd_sig_info *info, char *err, size_t err_len);

    /* Free an instance. Called once, after the last sign()/compare(). NULL is allowed. */
    void (*destroy)(void *state);

    /* Fingerprint one document into sig (info.sig_size bytes, core-owned, aligned to 8)
     * and keys (info.n_keys values, core-owned). Returns ND_PLUGIN_OK, or
     * ND_PLUGIN_FALLBACK when the document has fewer than info.min_tokens tokens: the
     * signature must then depend on the exact token sequence only, so that short texts
     * match only identical short texts. Negative on failure. The core never calls sign()
     * on a document with no tokens. */
    int (*sign)(const void *state, const nd_text *doc, void *sig, uint64_t *keys);

    /* Compare two signatures made by this instance; fill *out. Pure function. */
    void (*compare)(const void *state, const void *sig_a, const void *sig_b,
                    nd_score *out);
} nd_plugin;

/* The entry symbol's type. Called once after dlopen, before anything else; host is
 * valid until unload. Returns the plugin's static descriptor, or NULL to refuse to
 * load (log why through host->log). The plugin must not call create() itself. */
typedef const nd_plugin *(*nd_plugin_entry_fn)(const nd_host *host);

#ifdef __cplusplus
}
#endif
#endif /* NEARDUP_PLUGIN_H */
