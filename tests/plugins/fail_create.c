/* Loads fine, but create() always fails with a message. */
#include "broken_common.h"
static int fail_create(const nd_host *h, const nd_kv *o, size_t n, void **st,
                       nd_sig_info *info, char *err, size_t err_len)
{
    (void)h; (void)o; (void)n; (void)st; (void)info;
    strncpy(err, "model file missing", err_len - 1);
    err[err_len - 1] = '\0';
    return ND_PLUGIN_ERR;
}
static nd_plugin desc = {ND_TEST_PLUGIN("failcreate")};
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h)
{
    (void)h;
    desc.create = fail_create;
    return &desc;
}
