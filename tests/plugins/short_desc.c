/* A descriptor claiming to be shorter than the ABI needs (an old or broken build). */
#include "broken_common.h"
static nd_plugin desc = {ND_TEST_PLUGIN("shortdesc")};
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h)
{
    (void)h;
    desc.size = (uint32_t)offsetof(nd_plugin, sign);
    return &desc;
}
