/* A small JSON reader for what neardup itself writes and reads back: `verify` reads the
 * manifest, the scorer reads clusters, boilerplate and the generator's truth. One line
 * or one file is parsed into a tree owned by one nd_jdoc; strings are decoded UTF-8. */
#ifndef ND_JSONR_H
#define ND_JSONR_H

#include <stddef.h>

enum nd_jtype { ND_JNULL, ND_JBOOL, ND_JNUM, ND_JSTR, ND_JARR, ND_JOBJ };

typedef struct nd_jval nd_jval;
struct nd_jval {
    enum nd_jtype type;
    int boolean;            /* ND_JBOOL */
    double num;             /* ND_JNUM */
    const char *str;        /* ND_JSTR: decoded, NUL-terminated (may hold NUL bytes) */
    size_t len;             /* ND_JSTR: bytes */
    nd_jval *items;         /* ND_JARR elements / ND_JOBJ values, n of them */
    const char **keys;      /* ND_JOBJ: keys, decoded, NUL-terminated, n of them */
    size_t n;
};

typedef struct nd_jdoc nd_jdoc;

/* Parse exactly one JSON value (surrounding whitespace allowed). On failure returns
 * negative with "offset N: reason" via nd_errmsg() and *out is NULL. Nesting is capped
 * (ND_JSON_MAX_DEPTH), so hostile input cannot exhaust the stack. */
#define ND_JSON_MAX_DEPTH 64
int nd_json_parse(const char *text, size_t len, nd_jdoc **out);
const nd_jval *nd_jdoc_root(const nd_jdoc *d);
void nd_jdoc_free(nd_jdoc *d);

/* Member of an object, NULL when absent or when obj is not an object. */
const nd_jval *nd_jget(const nd_jval *obj, const char *key);
/* Conveniences: the member's string / number, or dflt when absent or of another type. */
const char *nd_jget_str(const nd_jval *obj, const char *key, const char *dflt);
double nd_jget_num(const nd_jval *obj, const char *key, double dflt);

#endif
