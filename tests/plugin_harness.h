/* Test helper for fingerprint plugins: loads build/plugins/NAME.so with dlopen, hands it
 * a mock nd_host (libc allocation, XXH3 hashing, a log that keeps the last line) and
 * builds nd_text documents from plain strings, so plugin tests go through the ABI only. */
#ifndef ND_PLUGIN_HARNESS_H
#define ND_PLUGIN_HARNESS_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include <neardup/plugin.h>

static char ph_last_log[512];

static inline void ph_log(int level, const char *plugin, const char *msg)
{
    (void)level;
    snprintf(ph_last_log, sizeof ph_last_log, "%s: %s", plugin, msg);
}

static inline uint64_t ph_hash64(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}

static inline void ph_hash128(const void *data, size_t len, uint64_t seed, uint64_t out[2])
{
    XXH128_hash_t h = XXH3_128bits_withSeed(data, len, seed);
    out[0] = h.low64;
    out[1] = h.high64;
}

static const nd_host ph_host = {
    ND_PLUGIN_ABI_MAJOR, ND_PLUGIN_ABI_MINOR, sizeof(nd_host), 0,
    malloc, calloc, realloc, free, ph_log, ph_hash64, ph_hash128,
};

/* dlopen ND_BUILD_DIR/plugins/NAME.so (ND_BUILD_DIR from the environment, "build"
 * by default) and call its entry. *handle is for ph_unload(). NULL on failure. */
static inline const nd_plugin *ph_load(const char *name, void **handle)
{
    const char *dir = getenv("ND_BUILD_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/plugins/%s.so", dir && *dir ? dir : "build", name);
    *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!*handle) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return NULL;
    }
    nd_plugin_entry_fn entry;
    void *sym = dlsym(*handle, ND_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        dlclose(*handle);
        *handle = NULL;
        return NULL;
    }
    memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer */
    return entry(&ph_host);
}

static inline void ph_unload(void *handle)
{
    if (handle)
        dlclose(handle);
}

/* An instance from "key=value" strings (at most 16). Returns create()'s status; the
 * message, if any, is in err. */
static inline int ph_create(const nd_plugin *p, const char *const *kv, size_t n, void **state,
                            nd_sig_info *info, char *err, size_t err_len)
{
    nd_kv opts[16];
    char keys[16][64];
    if (n > 16)
        return ND_PLUGIN_ERR;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        size_t kl = eq ? (size_t)(eq - kv[i]) : strlen(kv[i]);
        if (kl >= sizeof keys[i])
            kl = sizeof keys[i] - 1;
        memcpy(keys[i], kv[i], kl);
        keys[i][kl] = '\0';
        opts[i].key = keys[i];
        opts[i].value = eq ? eq + 1 : "";
    }
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
    err[0] = '\0';
    return p->create(&ph_host, opts, n, state, info, err, err_len);
}

/* A document built from a string: tokens split on ' ', blocks on '\n', laid out as
 * the core does (one separator between tokens). A token that is a single 3- or 4-byte
 * UTF-8 character (CJK and the like) gets ND_TOKEN_NOSPACE. */
typedef struct ph_doc {
    nd_text t;
    char *text;
    nd_token *tok;
} ph_doc;

static inline void ph_doc_make(ph_doc *d, const char *s)
{
    size_t len = strlen(s);
    d->text = malloc(len + 1);
    d->tok = malloc((len / 2 + 2) * sizeof *d->tok);
    if (!d->text || !d->tok)
        abort();
    memcpy(d->text, s, len + 1);
    size_t n = 0;
    uint32_t block = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] == ' ' || s[i] == '\n') {
            if (s[i] == '\n')
                block++;
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && s[j] != ' ' && s[j] != '\n')
            j++;
        unsigned char c = (unsigned char)s[i];
        size_t cl = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 1;
        d->tok[n] = (nd_token){s + 0, (uint32_t)(j - i), 0, 0, block};
        d->tok[n].ptr = d->text + i;
        if (cl >= 3 && j - i == cl)
            d->tok[n].flags = ND_TOKEN_NOSPACE;
        n++;
        i = j;
    }
    d->t.text = d->text;
    d->t.len = len;
    d->t.tokens = d->tok;
    d->t.n_tokens = n;
    d->t.n_blocks = block + 1;
}

static inline void ph_doc_free(ph_doc *d)
{
    free(d->text);
    free(d->tok);
    memset(d, 0, sizeof *d);
}

#endif
