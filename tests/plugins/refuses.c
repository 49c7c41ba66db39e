/* The entry returns NULL: the plugin declines to load on this host. */
#include <neardup/plugin.h>
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h);
ND_PLUGIN_EXPORT const nd_plugin *neardup_plugin_entry(const nd_host *h)
{
    (void)h;
    return NULL;
}
