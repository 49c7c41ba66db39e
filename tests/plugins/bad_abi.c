/* Built for a future major ABI: the loader must refuse it before calling create(). */
#include "broken_common.h"
static nd_plugin desc = {ND_TEST_PLUGIN("badabi")};
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h)
{
    (void)h;
    desc.abi_major = ND_PLUGIN_ABI_MAJOR + 1;
    return &desc;
}
