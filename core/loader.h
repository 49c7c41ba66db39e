/* Finding and loading fingerprint plugins with dlopen: search path, ABI checks before
 * any call, duplicate names refused, each failure kept as one line naming the file and
 * the reason. A broken plugin never takes neardup down with it. */
#ifndef ND_LOADER_H
#define ND_LOADER_H

#include <stddef.h>

#include <neardup/plugin.h>

typedef struct nd_loaded {
    const nd_plugin *desc;   /* the plugin's static descriptor */
    void *handle;            /* dlopen handle */
    char *path;              /* file it was loaded from */
} nd_loaded;

typedef struct nd_load_failure {
    char *path;
    char *reason;            /* one line */
} nd_load_failure;

typedef struct nd_registry {
    nd_loaded *v;
    size_t n, cap;
    nd_load_failure *fail;
    size_t n_fail, cap_fail;
} nd_registry;

/* The search path, in order: dirs (--plugin-dir), $NEARDUP_PLUGIN_PATH (':'-separated),
 * the "plugins" folder beside the running binary, ../lib/neardup from the binary's
 * folder, then the install folder (when it is not that same one). Every
 * "*.so" found is tried; the first plugin of a name wins and later ones are refused as
 * duplicates. Returns 0 (failures are recorded, not fatal) or negative (no memory). */
int nd_registry_load(nd_registry *r, const char *const *dirs, size_t n_dirs);
/* Load one file (also used by tests). 0 when loaded, negative with the reason
 * recorded in r->fail and in nd_errmsg(). */
int nd_registry_load_file(nd_registry *r, const char *path);
const nd_loaded *nd_registry_find(const nd_registry *r, const char *name);
void nd_registry_free(nd_registry *r);

/* The host table handed to every plugin. */
const nd_host *nd_host_table(void);

/* Create an instance of p with options "KEY=VALUE" (already stripped of "NAME.").
 * Checks what create() returned (sig_size, n_keys); on failure returns negative with
 * "PLUGIN: reason" via nd_errmsg() and no instance. */
int nd_plugin_instance(const nd_loaded *p, const char *const *kv, size_t n_kv,
                       void **state, nd_sig_info *info);

#endif
