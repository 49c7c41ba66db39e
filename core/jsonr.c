/* The JSON reader (jsonr.h): a recursive-descent parser into a tree whose nodes and
 * strings all live in one arena owned by the nd_jdoc, so freeing is one call. Depth is
 * capped; \u escapes (surrogate pairs included) are decoded to UTF-8. */
#include "jsonr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct jchunk {
    struct jchunk *next;
    size_t used, cap;
    max_align_t data[];
};

struct nd_jdoc {
    struct jchunk *chunks;
    nd_jval root;
};

struct parser {
    const char *p, *start, *end;
    nd_jdoc *doc;
    int depth;
};

static void *jalloc(nd_jdoc *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (!d->chunks || d->chunks->cap - d->chunks->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        struct jchunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = d->chunks;
        c->used = 0;
        c->cap = cap;
        d->chunks = c;
    }
    void *r = (char *)d->chunks->data + d->chunks->used;
    d->chunks->used += n;
    return r;
}

static int perr(const struct parser *ps, const char *why)
{
    return nd_fail(ND_EFORMAT, "offset %zu: %s", (size_t)(ps->p - ps->start), why);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            v |= (uint32_t)((c | 32) - 'a' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* At the opening quote. Decoded text is never longer than the source, so one
 * allocation of the source span suffices. */
static int parse_string(struct parser *ps, const char **out, size_t *out_len)
{
    const char *s = ++ps->p;
    const char *q = s;
    while (q < ps->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= ps->end)
        return perr(ps, "unterminated string");
    char *o = jalloc(ps->doc, (size_t)(q - s) + 1);
    if (!o)
        return nd_fail(ND_ENOMEM, "out of memory");
    size_t n = 0;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20)
            return perr(ps, "control character in string");
        if (c != '\\') {
            o[n++] = (char)c;
            ps->p++;
            continue;
        }
        ps->p++;
        char e = *ps->p++;
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (q - ps->p < 4 || hex4(ps->p, &cp))
                return perr(ps, "bad \\u escape");
            ps->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                uint32_t lo;
                if (q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' &&
                    !hex4(ps->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    ps->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            /* "\uXXXX" is 6 source bytes, at most 4 decoded (a pair is 12 for 4). */
            n += put_utf8(o + n, cp);
            break;
        }
        default:
            return perr(ps, "bad escape");
        }
    }
    o[n] = '\0';
    ps->p = q + 1;
    *out = o;
    *out_len = n;
    return ND_OK;
}

static int parse_value(struct parser *ps, nd_jval *v);

/* Elements are gathered in a temporary growable array, then copied into the arena. */
static int parse_container(struct parser *ps, nd_jval *v, int obj)
{
    if (++ps->depth > ND_JSON_MAX_DEPTH)
        return perr(ps, "nesting too deep");
    ps->p++;
    nd_jval *items = NULL;
    const char **keys = NULL;
    size_t n = 0, cap = 0;
    int rc = ND_OK;
    char close = obj ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        goto done;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            nd_jval *ni = realloc(items, cap * sizeof *ni);
            if (ni)
                items = ni;
            const char **nk = obj ? realloc((void *)keys, cap * sizeof *nk) : NULL;
            if (nk)
                keys = nk;
            if (!ni || (obj && !nk)) {
                rc = nd_fail(ND_ENOMEM, "out of memory");
                goto out;
            }
        }
        skip_ws(ps);
        if (obj) {
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"') {
                rc = perr(ps, "expected a key");
                goto out;
            }
            if ((rc = parse_string(ps, &keys[n], &klen)))
                goto out;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                rc = perr(ps, "expected ':'");
                goto out;
            }
            ps->p++;
        }
        if ((rc = parse_value(ps, &items[n])))
            goto out;
        n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        rc = perr(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto out;
    }
done:
    v->type = obj ? ND_JOBJ : ND_JARR;
    v->n = n;
    if (n) {
        v->items = jalloc(ps->doc, n * sizeof *v->items);
        if (obj)
            v->keys = jalloc(ps->doc, n * sizeof *v->keys);
        if (!v->items || (obj && !v->keys)) {
            rc = nd_fail(ND_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(v->items, items, n * sizeof *items);
        if (obj)
            memcpy((void *)v->keys, keys, n * sizeof *keys);
    }
    ps->depth--;
out:
    free((void *)keys);
    free(items);
    return rc;
}

static int parse_number(struct parser *ps, nd_jval *v)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    const char *digits = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    if (ps->p == digits)
        return perr(ps, "bad number");
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        const char *f = ps->p;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
        if (ps->p == f)
            return perr(ps, "bad number");
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        const char *e = ps->p;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
        if (ps->p == e)
            return perr(ps, "bad number");
    }
    char tmp[64];
    size_t n = (size_t)(ps->p - s);
    if (n >= sizeof tmp)
        return perr(ps, "number too long");
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    v->type = ND_JNUM;
    v->num = strtod(tmp, NULL);
    return ND_OK;
}

static int literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return perr(ps, "unexpected character");
    ps->p += n;
    return ND_OK;
}

static int parse_value(struct parser *ps, nd_jval *v)
{
    memset(v, 0, sizeof *v);
    skip_ws(ps);
    if (ps->p >= ps->end)
        return perr(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{':
        return parse_container(ps, v, 1);
    case '[':
        return parse_container(ps, v, 0);
    case '"':
        v->type = ND_JSTR;
        return parse_string(ps, &v->str, &v->len);
    case 't':
        v->type = ND_JBOOL;
        v->boolean = 1;
        return literal(ps, "true");
    case 'f':
        v->type = ND_JBOOL;
        return literal(ps, "false");
    case 'n':
        v->type = ND_JNULL;
        return literal(ps, "null");
    default:
        return parse_number(ps, v);
    }
}

int nd_json_parse(const char *text, size_t len, nd_jdoc **out)
{
    *out = NULL;
    nd_jdoc *d = calloc(1, sizeof *d);
    if (!d)
        return nd_fail(ND_ENOMEM, "out of memory");
    struct parser ps = {text, text, text + len, d, 0};
    int rc = parse_value(&ps, &d->root);
    if (!rc) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            rc = perr(&ps, "trailing characters after the value");
    }
    if (rc) {
        nd_jdoc_free(d);
        return rc;
    }
    *out = d;
    return ND_OK;
}

const nd_jval *nd_jdoc_root(const nd_jdoc *d)
{
    return d ? &d->root : NULL;
}

void nd_jdoc_free(nd_jdoc *d)
{
    if (!d)
        return;
    while (d->chunks) {
        struct jchunk *next = d->chunks->next;
        free(d->chunks);
        d->chunks = next;
    }
    free(d);
}

const nd_jval *nd_jget(const nd_jval *obj, const char *key)
{
    if (!obj || obj->type != ND_JOBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

const char *nd_jget_str(const nd_jval *obj, const char *key, const char *dflt)
{
    const nd_jval *v = nd_jget(obj, key);
    return v && v->type == ND_JSTR ? v->str : dflt;
}

double nd_jget_num(const nd_jval *obj, const char *key, double dflt)
{
    const nd_jval *v = nd_jget(obj, key);
    return v && v->type == ND_JNUM ? v->num : dflt;
}
