/* The `simhash` fingerprint plugin: a 64-bit SimHash (Charikar) of a document's word
 * n-gram features; near-identical pages (re-crawls with a changed date, a counter, a
 * few edits) are within a small Hamming distance. Candidates by multi-index hashing.
 *
 * Definitions:
 *  - A feature is n consecutive tokens (default n=3) joined by single spaces, hashed
 *    with XXH3-64 seed 0, exactly as the shingle plugin hashes its shingles (spanning
 *    blocks; scripts without spaces give character n-grams).
 *  - Weight of a distinct feature seen c times: 1 + ln(c) (weight=log, default: a
 *    repeated phrase counts more, but not linearly) or 1 (weight=uniform).
 *  - Bit b of the fingerprint is set when the weighted sum over features of +1 (bit b
 *    of the feature hash set) or -1 (clear) is positive.
 *  - compare(): similarity = 1 - hamming/64, containment -1 (SimHash cannot tell).
 *  - Keys: the 64 bits cut into k+1 blocks (pigeonhole: two fingerprints within
 *    Hamming distance k agree on at least one block); key i = hash of (i, block i).
 *    So every pair within k is a candidate; blocks are 64/(k+1) bits, 16 for k=3, so
 *    on a million documents a bucket holds ~15 unrelated ones (cheap popcounts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <neardup/plugin.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../shingle/ngram.h"

#define SM_NAME "simhash"
#define SM_MAX_NGRAM 16
#define SM_MAX_K 7 /* 8 blocks of 8 bits: beyond this the buckets are all documents */
#define SM_FLAG_FALLBACK 1u
/* sign() scratch on the stack up to this size (features of a ~5000-token page) */
#define SM_STACK_BYTES 49152

typedef struct sm_state {
    const nd_host *host;
    unsigned ngram, k, log_weight;
    double threshold;
    unsigned block_lo[SM_MAX_K + 1], block_bits[SM_MAX_K + 1];
    /* spread[v]: the 8 bits of byte v, one per byte lane (lane j = bit j) */
    uint64_t spread[256];
} sm_state;

/* A feature seen more than once: its hash and its slot in the count table. */
typedef struct sm_rep {
    uint64_t hash;
    uint32_t slot;
} sm_rep;

typedef struct sm_sig {
    uint64_t fp;
    uint32_t flags;
    uint32_t pad;
} sm_sig;

static const nd_option sm_options[] = {
    {"ngram", "3", "tokens per feature, 1..16 (characters for scripts without spaces)"},
    {"k", "3", "Hamming distance (of 64 bits) within which pages are near-identical, 0..7"},
    {"threshold", "auto", "similarity 1-hamming/64 to verify; auto = 1-k/64 (a lower one "
                          "finds no more candidates than k allows)"},
    {"weight", "log", "feature weight: log (1+ln count) or uniform"},
    {NULL, NULL, NULL},
};

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

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

static void sm_destroy(void *state)
{
    sm_state *s = state;
    if (s)
        s->host->free(s);
}

static int sm_create(const nd_host *host, const nd_kv *opts, size_t n_opts, void **state,
                     nd_sig_info *info, char *err, size_t err_len)
{
    sm_state *s = host->calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return ND_PLUGIN_ENOMEM;
    }
    s->host = host;
    s->ngram = 3;
    s->k = 3;
    s->log_weight = 1;
    s->threshold = -1;
    for (size_t i = 0; i < n_opts; i++) {
        const char *key = opts[i].key, *v = opts[i].value ? opts[i].value : "";
        unsigned long long u;
        int bad = 0;
        if (!strcmp(key, "ngram")) {
            bad = parse_uint(v, SM_MAX_NGRAM, &u) || u < 1;
            s->ngram = (unsigned)u;
        } else if (!strcmp(key, "k")) {
            bad = parse_uint(v, SM_MAX_K, &u) != 0;
            s->k = (unsigned)u;
        } else if (!strcmp(key, "threshold")) {
            char *end;
            double x = strcmp(v, "auto") ? strtod(v, &end) : -1;
            if (x != -1)
                bad = !*v || *end || !(x > 0 && x <= 1);
            s->threshold = x;
        } else if (!strcmp(key, "weight")) {
            bad = strcmp(v, "log") && strcmp(v, "uniform");
            s->log_weight = !strcmp(v, "log");
        } else {
            snprintf(err, err_len, "unknown option %s.%s (known: ngram, k, threshold, weight)",
                     SM_NAME, key);
            sm_destroy(s);
            return ND_PLUGIN_ERR;
        }
        if (bad) {
            snprintf(err, err_len, "bad value '%s' for %s.%s", v, SM_NAME, key);
            sm_destroy(s);
            return ND_PLUGIN_ERR;
        }
    }
    if (s->threshold < 0)
        s->threshold = 1.0 - (double)s->k / 64.0;
    /* k+1 blocks covering the 64 bits, the first 64 % (k+1) one bit wider */
    unsigned nb = s->k + 1, lo = 0;
    for (unsigned i = 0; i < nb; i++) {
        s->block_lo[i] = lo;
        s->block_bits[i] = 64 / nb + (i < 64 % nb);
        lo += s->block_bits[i];
    }
    for (unsigned v = 0; v < 256; v++) {
        uint64_t w = 0;
        for (unsigned j = 0; j < 8; j++)
            w |= (uint64_t)((v >> j) & 1) << (8 * j);
        s->spread[v] = w;
    }
    *state = s;
    info->sig_size = sizeof(sm_sig);
    info->n_keys = nb;
    info->min_tokens = s->ngram;
    info->threshold = s->threshold;
    info->containment = 2.0; /* SimHash gives no containment */
    return ND_PLUGIN_OK;
}

static void make_keys(const sm_state *s, uint64_t fp, uint64_t *keys)
{
    for (unsigned i = 0; i <= s->k; i++) {
        uint64_t block = (fp >> s->block_lo[i]) & ((1ull << s->block_bits[i]) - 1);
        keys[i] = mix64(block ^ ((uint64_t)(i + 1) << 56));
    }
}

/* Add the byte-lane counters into the 64 wide ones. */
static void flush_lanes(uint64_t lanes[8], uint32_t cnt[64])
{
    for (unsigned i = 0; i < 8; i++) {
        for (unsigned j = 0; j < 8; j++)
            cnt[8 * i + j] += (uint32_t)((lanes[i] >> (8 * j)) & 0xff);
        lanes[i] = 0;
    }
}

static int sm_sign(const void *state, const nd_text *doc, void *sigp, uint64_t *keys)
{
    const sm_state *s = state;
    sm_sig *sig = sigp;
    const nd_token *t = doc->tokens;
    size_t n = s->ngram, nt = doc->n_tokens;
    if (nt < n) {
        /* short text: the fingerprint is the hash of the token sequence itself */
        sig->fp = ngram_hash_joined(t, nt);
        sig->flags = SM_FLAG_FALLBACK;
        sig->pad = 0;
        for (unsigned i = 0; i <= s->k; i++)
            keys[i] = mix64(sig->fp ^ (0xFA11BAC000000000ull + i));
        return ND_PLUGIN_FALLBACK;
    }

    /* distinct features: open addressing on the high 32 bits of each hash (0 marks an
     * empty slot; two features agreeing on 32 bits, ~1 in 2^32 per pair, count as one)
     * with a saturating count, and the list of features seen twice or more */
    size_t nf = nt - n + 1, cap = 64;
    while (cap < nf * 2)
        cap *= 2;
    size_t bytes = cap * (sizeof(uint32_t) + 1) + (nf / 2 + 1) * sizeof(sm_rep);
    sm_rep stack_buf[SM_STACK_BYTES / sizeof(sm_rep)];
    void *buf = stack_buf;
    if (bytes > sizeof stack_buf) {
        buf = s->host->malloc(bytes);
        if (!buf)
            return ND_PLUGIN_ENOMEM;
    }
    sm_rep *rep = buf; /* a repeated feature occurs twice: at most nf/2 of them */
    uint32_t *tag = (uint32_t *)(rep + nf / 2 + 1);
    uint8_t *cnt = (uint8_t *)(tag + cap);
    memset(tag, 0, cap * sizeof *tag);
    size_t mask = cap - 1, n_rep = 0;

    /* bit counts of the distinct features: 8-bit lanes flushed every 255 features */
    uint64_t lanes[8] = {0};
    uint32_t bits[64] = {0};
    unsigned in_lanes = 0;
    size_t distinct = 0;
    ngram_iter it;
    ngram_init(&it, doc, n);
    for (size_t i = 0; i < nf; i++) {
        uint64_t x = ngram_next(&it);

        uint32_t e = (uint32_t)(x >> 32);
        e += !e;
        size_t h = (size_t)x & mask;
        while (tag[h] && tag[h] != e)
            h = (h + 1) & mask;
        if (tag[h]) {
            if (cnt[h] == 1)
                rep[n_rep++] = (sm_rep){x, (uint32_t)h};
            cnt[h] += cnt[h] < UINT8_MAX;
            continue;
        }
        tag[h] = e;
        cnt[h] = 1;
        distinct++;
        for (unsigned b = 0; b < 8; b++)
            lanes[b] += s->spread[(x >> (8 * b)) & 0xff];
        if (++in_lanes == 255) {
            flush_lanes(lanes, bits);
            in_lanes = 0;
        }
    }
    flush_lanes(lanes, bits);

    /* each distinct feature weighs 1: sum_b = 2*bits[b] - distinct; features seen
     * c > 1 times add ln(c) more */
    double extra[64] = {0};
    if (s->log_weight) {
        for (size_t r = 0; r < n_rep; r++) {
            double w = log((double)cnt[rep[r].slot]);
            uint64_t x = rep[r].hash;
            for (unsigned b = 0; b < 64; b++)
                extra[b] += w * (double)(int)(((x >> b) & 1) * 2 - 1);
        }
    }
    uint64_t fp = 0;
    for (unsigned b = 0; b < 64; b++) {
        double sum = 2.0 * bits[b] - (double)distinct + extra[b];
        fp |= (uint64_t)(sum > 0) << b;
    }
    if (buf != stack_buf)
        s->host->free(buf);
    sig->fp = fp;
    sig->flags = 0;
    sig->pad = 0;
    make_keys(s, fp, keys);
    return ND_PLUGIN_OK;
}

static unsigned popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

static void sm_compare(const void *state, const void *pa, const void *pb, nd_score *out)
{
    (void)state;
    const sm_sig *a = pa, *b = pb;
    out->containment = -1.0;
    if ((a->flags | b->flags) & SM_FLAG_FALLBACK) {
        out->similarity = a->flags == b->flags && a->fp == b->fp ? 1.0 : 0.0;
        return;
    }
    out->similarity = 1.0 - (double)popcount64(a->fp ^ b->fp) / 64.0;
}

static const nd_plugin sm_plugin = {
    .abi_major = ND_PLUGIN_ABI_MAJOR,
    .abi_minor = ND_PLUGIN_ABI_MINOR,
    .size = sizeof(nd_plugin),
    .name = SM_NAME,
    .version = "1.0",
    .description = "64-bit SimHash of word 3-grams, Hamming <= k: near-identical pages",
    .options = sm_options,
    .create = sm_create,
    .destroy = sm_destroy,
    .sign = sm_sign,
    .compare = sm_compare,
};

ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *host);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *host)
{
    if (!host || host->abi_major != ND_PLUGIN_ABI_MAJOR)
        return NULL;
    return &sm_plugin;
}
