/* Shared pieces of the plugins built broken on purpose for the loader tests: each
 * test plugin is valid except for the one defect its file name says. */
#ifndef ND_BROKEN_COMMON_H
#define ND_BROKEN_COMMON_H

#include <string.h>

#include <neardup/plugin.h>

static int ok_create(const nd_host *h, const nd_kv *o, size_t n, void **st,
                     nd_sig_info *info, char *err, size_t err_len)
{
    (void)h; (void)o; (void)n; (void)err; (void)err_len;
    *st = NULL;
    info->sig_size = 8;
    info->n_keys = 1;
    info->min_tokens = 1;
    info->threshold = 1.0;
    info->containment = 2.0;
    return ND_PLUGIN_OK;
}
static void ok_destroy(void *st) { (void)st; }
static int ok_sign(const void *st, const nd_text *d, void *sig, uint64_t *keys)
{
    (void)st;
    uint64_t v = d->len;
    memcpy(sig, &v, 8);
    keys[0] = v;
    return ND_PLUGIN_OK;
}
static void ok_compare(const void *st, const void *a, const void *b, nd_score *out)
{
    (void)st;
    out->similarity = memcmp(a, b, 8) == 0;
    out->containment = -1;
}

#define ND_TEST_PLUGIN(NAME) \
    .abi_major = ND_PLUGIN_ABI_MAJOR, .abi_minor = ND_PLUGIN_ABI_MINOR, \
    .size = sizeof(nd_plugin), .name = NAME, .version = "0", .description = "test", \
    .create = ok_create, .destroy = ok_destroy, .sign = ok_sign, .compare = ok_compare

#define ND_TEST_ENTRY(DESC) \
    ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h); \
    ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h) \
    { (void)h; return &DESC; }

#endif
