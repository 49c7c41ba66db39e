/* The `shingle` fingerprint plugin: MinHash over word n-gram shingles with LSH banding.
 * Finds near-duplicate articles (edited syndications) and, through the containment
 * estimate, truncated copies. Only the plugin ABI (neardup/plugin.h) is visible here.
 *
 * Definitions (the exact-Jaccard reference tool in corpora/ follows them):
 *  - A shingle is n consecutive tokens (default n=5) joined by single spaces, hashed
 *    with XXH3-64, seed 0. Every token counts alike, whatever its flags: text written
 *    without spaces arrives one character per token, so for Han/Kana/Thai a shingle is
 *    a character n-gram with the same n (5 characters ~ 2-3 words: a little looser
 *    than 5 words, still far from chance). Shingles span block boundaries: a block
 *    shorter than n keeps its words, and a document is one token sequence.
 *  - The set is the distinct shingle hashes; its size is stored in the signature.
 *  - MinHash: each shingle hash x is used as is (seed=0, default) or remixed with the
 *    seed option (splitmix64 of x ^ splitmix64(seed)); then either one-permutation hashing (scheme=oph, default: the top 32 bits pick one
 *    of k bins, the low 32 bits are kept as that bin's minimum; empty bins filled by
 *    optimal densification, Shrivastava 2017) or k independent multiply-shift hashes
 *    (scheme=kperm). compare(): Jaccard = share of equal slots.
 *  - Containment of the smaller set in the larger, from the Jaccard estimate J and the
 *    set sizes a <= b: |A^B| = J(a+b)/(1+J), containment = |A^B|/a.
 *  - LSH: b bands of r rows, chosen for the `lsh` threshold by minimising the weighted
 *    false positive and false negative areas under the S-curve 1-(1-s^r)^b; key i is
 *    XXH3-64 of band i's rows with seed i. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <neardup/plugin.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ngram.h"

#define SH_NAME "shingle"
#define SH_MAX_NGRAM 16
#define SH_MAX_PERM 1024
#define SH_FLAG_FALLBACK 1u
/* Distinct-shingle set on the stack up to this many slots (4 bytes each, 32 KB). */
#define SH_STACK_SET 8192

enum { SCHEME_OPH, SCHEME_KPERM };

typedef struct sh_state {
    const nd_host *host;
    unsigned ngram, k, bands, rows, scheme;
    uint64_t seed;
    double threshold, containment, lsh, fn_weight;
    /* kperm: slot i hashes x to (a[i] * x32 + b[i]) >> 32 */
    uint64_t *mul, *add;
} sh_state;

/* Signature: header then k 32-bit slots. A fallback signature keeps the 64-bit hash
 * of the token sequence in slots[0..1], the other slots zero. */
typedef struct sh_sig {
    uint32_t flags;
    uint32_t size;     /* distinct shingles (1 for a fallback) */
    uint32_t slot[];
} sh_sig;

static const nd_option sh_options[] = {
    {"ngram", "5", "tokens per shingle, 1..16 (characters for scripts without spaces)"},
    {"perm", "128", "MinHash slots (signature size), 8..1024"},
    {"scheme", "oph", "oph (one-permutation hashing, densified; fast) or kperm (k hashes)"},
    {"threshold", "0.3", "estimated Jaccard at or above which two documents are one article "
                         "(chosen on the generated crawl: see README, Accuracy)"},
    {"containment", "0.55", "containment of the smaller in the larger that makes a truncated "
                            "copy; above 1 disables"},
    {"lsh", "0.1", "Jaccard the LSH bands aim at, below threshold so truncated copies are "
                   "found: 0.1 with perm=128 gives 64 bands x 2 rows, P(candidate)=0.93 at "
                   "Jaccard 0.2 (a 20% head), 0.15 at Jaccard 0.05"},
    {"bands", "0", "LSH bands, overrides the choice from lsh (with rows; bands*rows<=perm)"},
    {"rows", "0", "rows per LSH band, with bands"},
    {"fn_weight", "0.5", "weight of false negatives against false positives choosing bands"},
    {"seed", "0", "seed of the MinHash permutations (signatures only compare with the same)"},
    {NULL, NULL, NULL},
};

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- LSH parameters ---- */

static double s_curve(double s, unsigned b, unsigned r)
{
    return 1.0 - pow(1.0 - pow(s, (double)r), (double)b);
}

/* Simpson's rule over [lo, hi] of the curve (fp) or of 1 - curve (fn). */
static double s_area(double lo, double hi, unsigned b, unsigned r, int fn)
{
    const int steps = 64;
    double h = (hi - lo) / steps, sum = 0;
    for (int i = 0; i <= steps; i++) {
        double y = s_curve(lo + h * i, b, r);
        if (fn)
            y = 1.0 - y;
        sum += y * (i == 0 || i == steps ? 1 : i % 2 ? 4 : 2);
    }
    return sum * h / 3;
}

static void choose_bands(double t, unsigned k, double wfn, unsigned *pb, unsigned *pr)
{
    double best = INFINITY;
    *pb = 1;
    *pr = k;
    for (unsigned b = 1; b <= k; b++) {
        for (unsigned r = 1; r <= k / b; r++) {
            double err = (1 - wfn) * s_area(0, t, b, r, 0) + wfn * s_area(t, 1, b, r, 1);
            if (err < best) {
                best = err;
                *pb = b;
                *pr = r;
            }
        }
    }
}

/* ---- options ---- */

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!v || !*v || *v == '-' || *v == '+')
        return -1;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || x > max)
        return -1;
    *out = x;
    return 0;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
    char *end;
    if (!v || !*v)
        return -1;
    double x = strtod(v, &end);
    if (*end || !(x >= lo && x <= hi))
        return -1;
    *out = x;
    return 0;
}

static int set_option(sh_state *s, const char *key, const char *v, int *band_opts)
{
    unsigned long long u;
    if (!strcmp(key, "ngram")) {
        if (parse_uint(v, SH_MAX_NGRAM, &u) || u < 1)
            return -1;
        s->ngram = (unsigned)u;
    } else if (!strcmp(key, "perm")) {
        if (parse_uint(v, SH_MAX_PERM, &u) || u < 8)
            return -1;
        s->k = (unsigned)u;
    } else if (!strcmp(key, "scheme")) {
        if (!strcmp(v, "oph"))
            s->scheme = SCHEME_OPH;
        else if (!strcmp(v, "kperm"))
            s->scheme = SCHEME_KPERM;
        else
            return -1;
    } else if (!strcmp(key, "threshold")) {
        if (parse_double(v, 1e-9, 1.0, &s->threshold))
            return -1;
    } else if (!strcmp(key, "containment")) {
        if (parse_double(v, 1e-9, 1e9, &s->containment))
            return -1;
    } else if (!strcmp(key, "lsh")) {
        if (parse_double(v, 0.01, 0.99, &s->lsh))
            return -1;
    } else if (!strcmp(key, "bands")) {
        if (parse_uint(v, SH_MAX_PERM, &u))
            return -1;
        s->bands = (unsigned)u;
        *band_opts |= 1;
    } else if (!strcmp(key, "rows")) {
        if (parse_uint(v, SH_MAX_PERM, &u))
            return -1;
        s->rows = (unsigned)u;
        *band_opts |= 2;
    } else if (!strcmp(key, "fn_weight")) {
        if (parse_double(v, 0.0, 1.0, &s->fn_weight))
            return -1;
    } else if (!strcmp(key, "seed")) {
        if (parse_uint(v, UINT64_MAX, &u))
            return -1;
        s->seed = u;
    } else {
        return -2;
    }
    return 0;
}

static void sh_destroy(void *state)
{
    sh_state *s = state;
    if (!s)
        return;
    s->host->free(s->mul);
    s->host->free(s->add);
    s->host->free(s);
}

static int sh_create(const nd_host *host, const nd_kv *opts, size_t n_opts, void **state,
                     nd_sig_info *info, char *err, size_t err_len)
{
    sh_state *s = host->calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return ND_PLUGIN_ENOMEM;
    }
    s->host = host;
    s->ngram = 5;
    s->k = 128;
    s->scheme = SCHEME_OPH;
    s->threshold = 0.3;
    s->containment = 0.55;
    s->lsh = 0.1;
    s->fn_weight = 0.5;
    int band_opts = 0;
    for (size_t i = 0; i < n_opts; i++) {
        int rc = set_option(s, opts[i].key, opts[i].value, &band_opts);
        if (rc == -2)
            snprintf(err, err_len, "unknown option %s.%s (known: ngram, perm, scheme, "
                     "threshold, containment, lsh, bands, rows, fn_weight, seed)",
                     SH_NAME, opts[i].key);
        else if (rc)
            snprintf(err, err_len, "bad value '%s' for %s.%s", opts[i].value ? opts[i].value : "",
                     SH_NAME, opts[i].key);
        if (rc) {
            sh_destroy(s);
            return ND_PLUGIN_ERR;
        }
    }
    if (band_opts == 3 && (s->bands || s->rows)) {
        if (!s->bands || !s->rows || s->bands * s->rows > s->k) {
            snprintf(err, err_len, "%s.bands x %s.rows must be between 1 and perm (%u)",
                     SH_NAME, SH_NAME, s->k);
            sh_destroy(s);
            return ND_PLUGIN_ERR;
        }
    } else if (band_opts && (s->bands || s->rows)) {
        snprintf(err, err_len, "%s.bands and %s.rows go together", SH_NAME, SH_NAME);
        sh_destroy(s);
        return ND_PLUGIN_ERR;
    } else {
        choose_bands(s->lsh, s->k, s->fn_weight, &s->bands, &s->rows);
    }
    if (s->scheme == SCHEME_KPERM) {
        s->mul = host->malloc(s->k * sizeof *s->mul);
        s->add = host->malloc(s->k * sizeof *s->add);
        if (!s->mul || !s->add) {
            snprintf(err, err_len, "out of memory");
            sh_destroy(s);
            return ND_PLUGIN_ENOMEM;
        }
        for (unsigned i = 0; i < s->k; i++) {
            s->mul[i] = mix64(s->seed ^ (0x1000u + i)) | 1; /* odd multiplier */
            s->add[i] = mix64(s->seed ^ (0x2000u + i));
        }
    }
    *state = s;
    info->sig_size = (uint32_t)((sizeof(sh_sig) + 4u * s->k + 7) & ~(size_t)7);
    info->n_keys = s->bands;
    info->min_tokens = s->ngram;
    info->threshold = s->threshold;
    info->containment = s->containment;
    return ND_PLUGIN_OK;
}

/* ---- signing ---- */

static int sh_fallback(const sh_state *s, const nd_text *doc, sh_sig *sig, uint64_t *keys)
{
    uint64_t h = ngram_hash_joined(doc->tokens, doc->n_tokens);
    memset(sig->slot, 0, 4u * s->k);
    sig->flags = SH_FLAG_FALLBACK;
    sig->size = 1;
    sig->slot[0] = (uint32_t)h;
    sig->slot[1] = (uint32_t)(h >> 32);
    /* identical short texts share every key; nothing else shares them */
    for (unsigned i = 0; i < s->bands; i++)
        keys[i] = mix64(h ^ (0xFA11BAC000000000ull + i));
    return ND_PLUGIN_FALLBACK;
}

/* Fill the bins no shingle fell into. A bin still at UINT32_MAX is taken as empty: a
 * shingle whose low 32 bits are all ones (1 in 2^32) would be taken for empty and
 * overwritten, which changes nothing measurable. */
static void oph_densify(const sh_state *s, uint32_t *slot)
{
    unsigned k = s->k;
    uint8_t filled[SH_MAX_PERM];
    unsigned n_filled = 0;
    for (unsigned i = 0; i < k; i++) {
        filled[i] = slot[i] != UINT32_MAX;
        n_filled += filled[i];
    }
    if (n_filled == k || n_filled == 0)
        return;
    for (unsigned i = 0; i < k; i++) {
        if (filled[i])
            continue;
        /* the same probe sequence for bin i in every document (optimal densification) */
        for (uint64_t attempt = 1;; attempt++) {
            uint64_t h = mix64(s->seed ^ ((uint64_t)i << 32) ^ attempt);
            unsigned j = (unsigned)(((h >> 32) * (uint64_t)k) >> 32);
            if (filled[j]) {
                slot[i] = slot[j];
                break;
            }
        }
    }
}

static int sh_sign(const void *state, const nd_text *doc, void *sigp, uint64_t *keys)
{
    const sh_state *s = state;
    sh_sig *sig = sigp;
    size_t n = s->ngram, nt = doc->n_tokens;
    unsigned k = s->k;
    if (nt < n)
        return sh_fallback(s, doc, sig, keys);

    /* distinct shingles: open addressing on the high 32 bits of each hash, 0 marks an
     * empty slot. 32-bit entries keep the table in L1 for most documents; two distinct
     * shingles agreeing on 32 bits (about 1 in 2^32 per pair) only make the counted size
     * one smaller. At most a quarter full, so that most probes meet an empty slot at
     * once: fingerprinting the large crawl took 4.75-4.87 s against 4.92-5.04 s at half
     * full (one thread, three alternating runs, same clusters). */
    size_t nsh = nt - n + 1, cap = 64;
    while (cap < nsh * 4)
        cap *= 2;
    uint32_t stack_set[SH_STACK_SET];
    uint32_t *set = stack_set;
    if (cap > SH_STACK_SET) {
        set = s->host->malloc(cap * sizeof *set);
        if (!set)
            return ND_PLUGIN_ENOMEM;
    }
    memset(set, 0, cap * sizeof *set);
    size_t mask = cap - 1;

    uint32_t *slot = sig->slot;
    for (unsigned i = 0; i < k; i++)
        slot[i] = UINT32_MAX;

    uint32_t distinct = 0;
    uint64_t seedmix = s->seed ? mix64(s->seed) : 0;
    ngram_iter it;
    ngram_init(&it, doc, n);
    for (size_t i = 0; i < nsh; i++) {
        uint64_t x = ngram_next(&it);
        uint32_t e = (uint32_t)(x >> 32);
        e += !e;
        size_t h = (size_t)x & mask;
        while (set[h] && set[h] != e)
            h = (h + 1) & mask;
        distinct += !set[h];
        set[h] = e;

        /* the seed remixes the shingle hash (a bijection); seed 0 keeps it as is, so the
         * OPH bin is the top bits of XXH3 itself. A repeated shingle updates the minima
         * again, harmlessly. */
        uint64_t m = seedmix ? mix64(x ^ seedmix) : x;
        if (s->scheme == SCHEME_OPH) {
            unsigned bin = (unsigned)(((m >> 32) * (uint64_t)k) >> 32);
            uint32_t v = (uint32_t)m, cur = slot[bin];
            slot[bin] = v < cur ? v : cur;
        } else {
            uint64_t m32 = (uint32_t)m;
            for (unsigned j = 0; j < k; j++) {
                uint32_t v = (uint32_t)((s->mul[j] * m32 + s->add[j]) >> 32);
                slot[j] = v < slot[j] ? v : slot[j];
            }
        }
    }
    if (set != stack_set)
        s->host->free(set);
    if (s->scheme == SCHEME_OPH)
        oph_densify(s, slot);
    sig->flags = 0;
    sig->size = distinct;
    for (unsigned b = 0; b < s->bands; b++)
        keys[b] = XXH3_64bits_withSeed(&slot[b * s->rows], 4u * s->rows, b);
    return ND_PLUGIN_OK;
}

static void sh_compare(const void *state, const void *pa, const void *pb, nd_score *out)
{
    const sh_state *s = state;
    const sh_sig *a = pa, *b = pb;
    if ((a->flags | b->flags) & SH_FLAG_FALLBACK) {
        /* short texts match only the identical short text */
        int same = a->flags == b->flags && a->slot[0] == b->slot[0] && a->slot[1] == b->slot[1];
        out->similarity = same ? 1.0 : 0.0;
        out->containment = same ? 1.0 : 0.0;
        return;
    }
    unsigned eq = 0;
    for (unsigned i = 0; i < s->k; i++)
        eq += a->slot[i] == b->slot[i];
    double j = (double)eq / s->k;
    double sa = a->size, sb = b->size;
    double small = sa < sb ? sa : sb;
    double c = small > 0 ? j * (sa + sb) / (1 + j) / small : 0;
    out->similarity = j;
    out->containment = c > 1 ? 1 : c;
}

static const nd_plugin sh_plugin = {
    .abi_major = ND_PLUGIN_ABI_MAJOR,
    .abi_minor = ND_PLUGIN_ABI_MINOR,
    .size = sizeof(nd_plugin),
    .name = SH_NAME,
    .version = "1.0",
    .description = "MinHash-LSH over word 5-gram shingles: edited and truncated copies",
    .options = sh_options,
    .create = sh_create,
    .destroy = sh_destroy,
    .sign = sh_sign,
    .compare = sh_compare,
};

ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *host);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *host)
{
    if (!host || host->abi_major != ND_PLUGIN_ABI_MAJOR)
        return NULL;
    if (host->size < offsetof(nd_host, hash128) + sizeof host->hash128) {
        if (host->log)
            host->log(ND_LOG_ERROR, SH_NAME, "host table too small");
        return NULL;
    }
    return &sh_plugin;
}
