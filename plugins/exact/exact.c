/* The `exact` fingerprint plugin: a 128-bit XXH3 hash of a document's normalised text.
 * Documents cluster only when their normalised text is identical: re-crawls, mirrors
 * of the same page, the same article saved with different markup or encoding. */
#include <string.h>

#include <neardup/plugin.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static int exact_create(const nd_host *host, const nd_kv *opts, size_t n_opts,
                        void **state, nd_sig_info *info, char *err, size_t err_len)
{
    (void)host;
    (void)opts;
    if (n_opts) {
        /* No options: refuse rather than silently ignore a typo. */
        size_t n = strlen(opts[0].key);
        const char *msg = "unknown option ";
        size_t m = strlen(msg);
        if (err_len > m + n + 1) {
            memcpy(err, msg, m);
            memcpy(err + m, opts[0].key, n + 1);
        }
        return ND_PLUGIN_ERR;
    }
    *state = NULL;
    info->sig_size = 16;
    info->n_keys = 1;
    info->min_tokens = 1;
    info->threshold = 1.0;
    info->containment = 2.0; /* disabled: exact copies only */
    return ND_PLUGIN_OK;
}

static void exact_destroy(void *state)
{
    (void)state;
}

static int exact_sign(const void *state, const nd_text *doc, void *sig, uint64_t *keys)
{
    (void)state;
    XXH128_hash_t h = XXH3_128bits(doc->text, doc->len);
    uint64_t v[2] = {h.low64, h.high64};
    memcpy(sig, v, sizeof v);
    keys[0] = h.low64;
    return ND_PLUGIN_OK;
}

static void exact_compare(const void *state, const void *a, const void *b, nd_score *out)
{
    (void)state;
    out->similarity = memcmp(a, b, 16) == 0 ? 1.0 : 0.0;
    out->containment = -1.0;
}

static const nd_plugin exact_plugin = {
    .abi_major = ND_PLUGIN_ABI_MAJOR,
    .abi_minor = ND_PLUGIN_ABI_MINOR,
    .size = sizeof(nd_plugin),
    .name = "exact",
    .version = "1.0",
    .description = "identical normalised text (XXH3-128): re-crawls and exact copies",
    .options = NULL,
    .create = exact_create,
    .destroy = exact_destroy,
    .sign = exact_sign,
    .compare = exact_compare,
};

ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *host);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *host)
{
    if (!host || host->abi_major != ND_PLUGIN_ABI_MAJOR)
        return NULL;
    return &exact_plugin;
}
