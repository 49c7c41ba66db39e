/* Plugin loading: dlopen each candidate file, check the descriptor against the ABI
 * before calling anything in it, keep one line of reason for every refusal. Also the
 * host table handed to plugins and the checked creation of an instance. */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "error.h"

#ifndef ND_PLUGIN_INSTALL_DIR
#define ND_PLUGIN_INSTALL_DIR "/usr/local/lib/neardup"
#endif

/* ---- host table ---- */

static void host_log(int level, const char *plugin_name, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level < ND_LOG_ERROR || level > ND_LOG_DEBUG)
        level = ND_LOG_INFO;
    if (level > ND_LOG_WARN && !getenv("NEARDUP_DEBUG"))
        return;
    fprintf(stderr, "neardup: %s: %s: %s\n", plugin_name ? plugin_name : "plugin",
            names[level], msg ? msg : "");
}

static uint64_t host_hash64(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}

static void host_hash128(const void *data, size_t len, uint64_t seed, uint64_t out[2])
{
    XXH128_hash_t h = XXH3_128bits_withSeed(data, len, seed);
    out[0] = h.low64;
    out[1] = h.high64;
}

static const nd_host nd_host_v = {
    .abi_major = ND_PLUGIN_ABI_MAJOR,
    .abi_minor = ND_PLUGIN_ABI_MINOR,
    .size = sizeof(nd_host),
    .malloc = malloc,
    .calloc = calloc,
    .realloc = realloc,
    .free = free,
    .log = host_log,
    .hash64 = host_hash64,
    .hash128 = host_hash128,
};

const nd_host *nd_host_table(void)
{
    return &nd_host_v;
}

/* ---- registry ---- */

static int record_failure(nd_registry *r, const char *path, const char *reason)
{
    nd_fail(ND_EPLUGIN, "%s: %s", path, reason);
    if (r->n_fail == r->cap_fail) {
        size_t cap = r->cap_fail ? r->cap_fail * 2 : 4;
        nd_load_failure *v = realloc(r->fail, cap * sizeof *v);
        if (!v)
            return ND_EPLUGIN;
        r->fail = v;
        r->cap_fail = cap;
    }
    char *p = strdup(path), *why = strdup(reason);
    if (!p || !why) {
        free(p);
        free(why);
        return ND_EPLUGIN;
    }
    r->fail[r->n_fail++] = (nd_load_failure){p, why};
    return ND_EPLUGIN;
}

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* Everything we check before trusting a descriptor; returns a reason or NULL. The
 * size check comes first so that no member beyond what the plugin has is read. */
static const char *check_descriptor(const nd_plugin *d, char *tmp, size_t tmp_len)
{
    if (d->abi_major != ND_PLUGIN_ABI_MAJOR) {
        snprintf(tmp, tmp_len, "ABI mismatch: plugin built for ABI %u.%u, neardup has %u.%u",
                 d->abi_major, d->abi_minor, ND_PLUGIN_ABI_MAJOR, ND_PLUGIN_ABI_MINOR);
        return tmp;
    }
    if (d->size < sizeof(nd_plugin)) {
        snprintf(tmp, tmp_len, "descriptor too short: %u bytes, ABI %u.%u needs %zu",
                 d->size, ND_PLUGIN_ABI_MAJOR, ND_PLUGIN_ABI_MINOR, sizeof(nd_plugin));
        return tmp;
    }
    if (!valid_name(d->name))
        return "invalid name in descriptor (want 1-32 of [a-z0-9_])";
    if (!d->create || !d->destroy || !d->sign || !d->compare) {
        snprintf(tmp, tmp_len, "descriptor lacks a required callback (%s%s%s%s)",
                 d->create ? "" : "create ", d->destroy ? "" : "destroy ",
                 d->sign ? "" : "sign ", d->compare ? "" : "compare");
        return tmp;
    }
    return NULL;
}

int nd_registry_load_file(nd_registry *r, const char *path)
{
    char why[256];
    if (access(path, R_OK) != 0) {
        snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
        return record_failure(r, path, why);
    }
    /* RTLD_LOCAL: one plugin's symbols never satisfy another's; RTLD_NOW: an
     * unresolved symbol fails here, not in the middle of a run. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, sizeof why, "not a loadable shared object: %s", e ? e : "unknown");
        return record_failure(r, path, why);
    }
    dlerror();
    void *sym = dlsym(h, ND_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        dlclose(h);
        return record_failure(r, path, "no entry symbol " ND_PLUGIN_ENTRY_SYMBOL);
    }
    nd_plugin_entry_fn entry;
    /* POSIX guarantees data and function pointers convert for dlsym results. */
    memcpy(&entry, &sym, sizeof entry);
    const nd_plugin *d = entry(&nd_host_v);
    if (!d) {
        dlclose(h);
        return record_failure(r, path, "entry refused to load (returned no descriptor)");
    }
    const char *bad = check_descriptor(d, why, sizeof why);
    if (bad) {
        dlclose(h);
        return record_failure(r, path, bad);
    }
    const nd_loaded *dup = nd_registry_find(r, d->name);
    if (dup) {
        snprintf(why, sizeof why, "duplicate plugin name \"%s\" (already loaded from %s)",
                 d->name, dup->path);
        dlclose(h);
        return record_failure(r, path, why);
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        nd_loaded *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            goto out_nomem;
        r->v = v;
        r->cap = cap;
    }
    char *p = strdup(path);
    if (!p)
        goto out_nomem;
    r->v[r->n++] = (nd_loaded){d, h, p};
    return ND_OK;

out_nomem:
    dlclose(h);
    return nd_fail(ND_ENOMEM, "out of memory loading %s", path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load every *.so of one folder, in name order so duplicates resolve the same way
 * every time. A missing folder is normal for the default search path. */
static int load_dir(nd_registry *r, const char *dir, int must_exist)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (must_exist) {
            char why[256];
            snprintf(why, sizeof why, "cannot open plugin folder: %s", strerror(errno));
            record_failure(r, dir, why);
        }
        return ND_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = ND_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) {
                rc = nd_fail(ND_ENOMEM, "out of memory");
                goto out_free;
            }
            names = v;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            goto out_free;
        }
        n++;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == ND_OK; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (nd_registry_load_file(r, path) == ND_ENOMEM)
            rc = ND_ENOMEM;
    }
out_free:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int nd_registry_load(nd_registry *r, const char *const *dirs, size_t n_dirs)
{
    int rc;
    for (size_t i = 0; i < n_dirs; i++)
        if ((rc = load_dir(r, dirs[i], 1)))
            return rc;
    const char *env = getenv("NEARDUP_PLUGIN_PATH");
    if (env && *env) {
        char *copy = strdup(env);
        if (!copy)
            return nd_fail(ND_ENOMEM, "out of memory");
        char *save = NULL;
        for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
            if ((rc = load_dir(r, tok, 1))) {
                free(copy);
                return rc;
            }
        free(copy);
    }
    /* Beside the binary, so a build tree works without installing; then PREFIX/lib/neardup
     * found from PREFIX/bin/neardup, so an install moved or made with another PREFIX
     * still finds its plugins; then the install folder compiled in, unless it is that
     * same folder (its plugins would all be refused as duplicates). */
    char exe[PATH_MAX], rel[PATH_MAX] = "", real_inst[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            strcpy(slash + 1, "plugins");
            if ((rc = load_dir(r, exe, 0)))
                return rc;
            strcpy(slash + 1, "../lib/neardup");
            if (realpath(exe, rel) && (rc = load_dir(r, rel, 0)))
                return rc;
        }
    }
    if (rel[0] && realpath(ND_PLUGIN_INSTALL_DIR, real_inst) && strcmp(rel, real_inst) == 0)
        return ND_OK;
    return load_dir(r, ND_PLUGIN_INSTALL_DIR, 0);
}

const nd_loaded *nd_registry_find(const nd_registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].desc->name, name) == 0)
            return &r->v[i];
    return NULL;
}

void nd_registry_free(nd_registry *r)
{
    for (size_t i = r->n; i-- > 0;) {
        /* Keep plugins mapped under the leak checker so its stack traces stay readable. */
        if (!getenv("NEARDUP_NO_DLCLOSE"))
            dlclose(r->v[i].handle);
        free(r->v[i].path);
    }
    for (size_t i = 0; i < r->n_fail; i++) {
        free(r->fail[i].path);
        free(r->fail[i].reason);
    }
    free(r->fail);
    free(r->v);
    memset(r, 0, sizeof *r);
}

int nd_plugin_instance(const nd_loaded *p, const char *const *kv, size_t n_kv,
                       void **state, nd_sig_info *info)
{
    const nd_plugin *d = p->desc;
    nd_kv *opts = calloc(n_kv ? n_kv : 1, sizeof *opts);
    char **keys = calloc(n_kv ? n_kv : 1, sizeof *keys);
    int rc = ND_OK;
    if (!opts || !keys) {
        rc = nd_fail(ND_ENOMEM, "out of memory");
        goto out_free;
    }
    for (size_t i = 0; i < n_kv; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq) {
            rc = nd_fail(ND_EUSAGE, "%s: option \"%s\" is not KEY=VALUE", d->name, kv[i]);
            goto out_free;
        }
        if (!(keys[i] = strndup(kv[i], (size_t)(eq - kv[i])))) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            goto out_free;
        }
        opts[i] = (nd_kv){keys[i], eq + 1};
    }
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
    char err[256] = "";
    void *st = NULL;
    int prc = d->create(&nd_host_v, opts, n_kv, &st, info, err, sizeof err);
    if (prc < 0) {
        rc = nd_fail(ND_EPLUGIN, "%s: %s", d->name, err[0] ? err : "create failed");
        goto out_free;
    }
    if (info->sig_size == 0 || info->n_keys == 0 || info->n_keys > 1024 ||
        info->sig_size > (1u << 20)) {
        d->destroy(st);
        rc = nd_fail(ND_EPLUGIN, "%s: create gave an unusable signature layout (%u bytes, %u keys)",
                     d->name, info->sig_size, info->n_keys);
        goto out_free;
    }
    *state = st;
out_free:
    for (size_t i = 0; keys && i < n_kv; i++)
        free(keys[i]);
    free(keys);
    free(opts);
    return rc;
}
