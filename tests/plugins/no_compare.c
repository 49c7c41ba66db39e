/* A descriptor missing a required callback. */
#include "broken_common.h"
static nd_plugin desc = {ND_TEST_PLUGIN("nocompare")};
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h)
{
    (void)h;
    desc.compare = NULL;
    return &desc;
}
