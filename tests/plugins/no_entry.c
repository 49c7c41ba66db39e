/* A shared object without the entry symbol. */
#include <neardup/plugin.h>
ND_PLUGIN_EXPORT int some_other_symbol(void);
ND_PLUGIN_EXPORT int some_other_symbol(void) { return 42; }
