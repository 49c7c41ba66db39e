/* Scorer: compares neardup's --clusters and --boilerplate JSONL with the generator's
 * truth. Pairwise precision/recall/F1, recall by transform, format and role, exact
 * re-crawl recall, false joins of hard negatives, boilerplate line precision/recall. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "jsonr.h"

#define MAX_NAMES 64

/* A small interned list of names (roles, formats, transforms, sites). */
struct names {
    char *v[MAX_NAMES];
    int n;
};

static int name_id(struct names *t, const char *s, int add)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->v[i], s))
            return i;
    if (!add || t->n == MAX_NAMES)
        return -1;
    t->v[t->n] = strdup(s);
    return t->v[t->n] ? t->n++ : -1;
}

static void names_free(struct names *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->v[i]);
    t->n = 0;
}

struct doc {
    char *key;          /* path '\0' uri */
    size_t key_len;
    int64_t group;      /* -1: none */
    int64_t source;     /* exact re-crawl: the document it copies; -1 otherwise */
    uint64_t tf;        /* transform ids, bits */
    int role, fmt, site;
    int64_t cluster;    /* predicted, -1: none */
};

struct site_truth {
    nd_buf lines;       /* template lines, each followed by '\n' */
    size_t n_lines;
};

struct score {
    struct doc *d;
    size_t n, cap;
    uint32_t *ht;       /* open addressing, doc index + 1 */
    size_t ht_cap;
    struct names roles, fmts, tfs, sites;
    struct site_truth st[MAX_NAMES];
    /* predictions */
    size_t n_clusters, unknown, dup_members, bad_lines;
    int have_clusters, have_boiler;
};

static const char *const NEG_ROLES[] = {"follow_up", "same_topic", "index", "noise"};

/* Whitespace collapsed and trimmed, as the extractor makes a block. */
static size_t collapse(const char *s, size_t n, char *out)
{
    size_t w = 0;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            sp = w > 0;
        } else {
            if (sp)
                out[w++] = ' ';
            sp = 0;
            out[w++] = c;
        }
    }
    return w;
}

static uint64_t key_hash(const char *k, size_t n)
{
    return XXH3_64bits(k, n);
}

static int make_key(nd_buf *b, const char *path, const char *uri)
{
    nd_buf_clear(b);
    int rc = nd_buf_puts(b, path);
    if (!rc)
        rc = nd_buf_putc(b, '\0');
    if (!rc && uri)
        rc = nd_buf_puts(b, uri);
    return rc;
}

static int64_t lookup(const struct score *s, const char *k, size_t n)
{
    if (!s->ht_cap)
        return -1;
    size_t m = s->ht_cap - 1, i = (size_t)key_hash(k, n) & m;
    while (s->ht[i]) {
        const struct doc *d = &s->d[s->ht[i] - 1];
        if (d->key_len == n && !memcmp(d->key, k, n))
            return s->ht[i] - 1;
        i = (i + 1) & m;
    }
    return -1;
}

static int build_index(struct score *s)
{
    size_t cap = 16;
    while (cap < 2 * s->n + 2)
        cap *= 2;
    s->ht = calloc(cap, sizeof *s->ht);
    if (!s->ht)
        return nd_fail(ND_ENOMEM, "out of memory");
    s->ht_cap = cap;
    for (size_t j = 0; j < s->n; j++) {
        if (lookup(s, s->d[j].key, s->d[j].key_len) >= 0)
            return nd_fail(ND_EFORMAT, "truth: document %zu (%s) listed twice", j, s->d[j].key);
        size_t i = (size_t)key_hash(s->d[j].key, s->d[j].key_len) & (cap - 1);
        while (s->ht[i])
            i = (i + 1) & (cap - 1);
        s->ht[i] = (uint32_t)(j + 1);
    }
    return ND_OK;
}

static int64_t jint(const nd_jval *o, const char *k)
{
    const nd_jval *v = nd_jget(o, k);
    return v && v->type == ND_JNUM ? (int64_t)v->num : -1;
}

static int add_doc(struct score *s, const nd_jval *o, nd_buf *kb)
{
    const char *path = nd_jget_str(o, "path", NULL);
    if (!path)
        return nd_fail(ND_EFORMAT, "document without a path");
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        struct doc *v = realloc(s->d, cap * sizeof *v);
        if (!v)
            return nd_fail(ND_ENOMEM, "out of memory");
        s->d = v;
        s->cap = cap;
    }
    struct doc *d = &s->d[s->n];
    memset(d, 0, sizeof *d);
    if (make_key(kb, path, nd_jget_str(o, "uri", NULL)))
        return nd_fail(ND_ENOMEM, "out of memory");
    d->key = malloc(kb->len + 1);
    if (!d->key)
        return nd_fail(ND_ENOMEM, "out of memory");
    memcpy(d->key, kb->p, kb->len + 1);
    d->key_len = kb->len;
    d->group = jint(o, "group");
    d->source = jint(o, "source");
    d->cluster = -1;
    d->role = name_id(&s->roles, nd_jget_str(o, "role", "?"), 1);
    d->fmt = name_id(&s->fmts, nd_jget_str(o, "format", "?"), 1);
    d->site = name_id(&s->sites, nd_jget_str(o, "site", "?"), 1);
    const nd_jval *t = nd_jget(o, "transforms");
    for (size_t i = 0; t && t->type == ND_JARR && i < t->n; i++) {
        if (t->items[i].type != ND_JSTR)
            continue;
        int x = name_id(&s->tfs, t->items[i].str, 1);
        if (x >= 0)
            d->tf |= 1ull << x;
    }
    s->n++;
    return ND_OK;
}

static int add_site(struct score *s, const nd_jval *o, nd_buf *tmp)
{
    int id = name_id(&s->sites, nd_jget_str(o, "site", "?"), 1);
    if (id < 0)
        return nd_fail(ND_ELIMIT, "too many sites");
    struct site_truth *st = &s->st[id];
    const nd_jval *t = nd_jget(o, "template_lines");
    for (size_t i = 0; t && t->type == ND_JARR && i < t->n; i++) {
        const nd_jval *v = &t->items[i];
        if (v->type != ND_JSTR)
            continue;
        if (nd_buf_reserve(tmp, v->len + 1))
            return ND_ENOMEM;
        size_t n = collapse(v->str, v->len, tmp->p);
        if (nd_buf_append(&st->lines, tmp->p, n) || nd_buf_putc(&st->lines, '\n'))
            return nd_fail(ND_ENOMEM, "out of memory");
        st->n_lines++;
    }
    return ND_OK;
}

/* The truth is written one document (and one site, one group) per line, so it is read
 * line by line: a million documents never need one million-node tree. */
static int read_truth(struct score *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nd_fail(ND_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    nd_buf kb = ND_BUF_INIT, tmp = ND_BUF_INIT;
    int rc = ND_OK;
    size_t lineno = 0;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == ','))
            n--;
        int is_doc = !strncmp(line, "{\"path\":", 8), is_site = !strncmp(line, "{\"site\":", 8);
        if (!is_doc && !is_site)
            continue;
        nd_jdoc *jd = NULL;
        if (nd_json_parse(line, (size_t)n, &jd) < 0) {
            rc = nd_fail(ND_EFORMAT, "%s:%zu: %s", path, lineno, nd_errmsg());
            break;
        }
        rc = is_doc ? add_doc(s, nd_jdoc_root(jd), &kb) : add_site(s, nd_jdoc_root(jd), &tmp);
        nd_jdoc_free(jd);
    }
    free(line);
    nd_buf_free(&kb);
    nd_buf_free(&tmp);
    fclose(f);
    if (!rc && s->n == 0)
        rc = nd_fail(ND_EFORMAT, "%s: no documents (not a truth file?)", path);
    return rc ? rc : build_index(s);
}

/* Predicted members as doc indices; unknown documents get ids past the truth's. */
struct clusters {
    int64_t *m;
    size_t n, cap;
    size_t *start;      /* n_clusters + 1 */
    size_t nc, ccap;
};

static int push(struct clusters *c, int64_t v)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        int64_t *p = realloc(c->m, cap * sizeof *p);
        if (!p)
            return nd_fail(ND_ENOMEM, "out of memory");
        c->m = p;
        c->cap = cap;
    }
    c->m[c->n++] = v;
    return ND_OK;
}

/* Call fn on every JSON line of path: blank lines skipped, malformed ones reported and
 * counted (s->bad_lines), the run goes on. fn's non-zero value stops it. */
typedef int (*jsonl_fn)(void *ctx, const nd_jval *obj, const char *path, size_t lineno);

static int each_jsonl(struct score *s, const char *path, jsonl_fn fn, void *ctx)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nd_fail(ND_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = ND_OK;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        nd_jdoc *jd = NULL;
        if (n <= 1)
            continue;
        if (nd_json_parse(line, (size_t)n, &jd) < 0) {
            fprintf(stderr, "score: %s:%zu: %s (line ignored)\n", path, lineno, nd_errmsg());
            s->bad_lines++;
            continue;
        }
        rc = fn(ctx, nd_jdoc_root(jd), path, lineno);
        nd_jdoc_free(jd);
    }
    free(line);
    fclose(f);
    return rc;
}

struct clusters_ctx {
    struct score *s;
    struct clusters *c;
    nd_buf kb;
};

/* One cluster line: its members get the cluster's number. */
static int cluster_line(void *ctx, const nd_jval *obj, const char *path, size_t lineno)
{
    struct clusters_ctx *x = ctx;
    struct score *s = x->s;
    struct clusters *c = x->c;
    int rc = ND_OK;
    const nd_jval *mem = nd_jget(obj, "members");
    for (size_t i = 0; mem && mem->type == ND_JARR && i < mem->n && !rc; i++) {
        const char *p = nd_jget_str(&mem->items[i], "path", NULL);
        if (!p)
            continue;
        if (make_key(&x->kb, p, nd_jget_str(&mem->items[i], "uri", NULL)))
            return nd_fail(ND_ENOMEM, "out of memory");
        int64_t d = lookup(s, x->kb.p, x->kb.len);
        if (d < 0) {
            if (s->unknown < 5)
                fprintf(stderr, "score: %s:%zu: document unknown to the truth: %s%s%s\n",
                        path, lineno, p, x->kb.len > strlen(p) + 1 ? " " : "",
                        x->kb.p + strlen(p) + 1);
            s->unknown++;
            d = (int64_t)(s->n + s->unknown);
        } else if (s->d[d].cluster >= 0) {
            s->dup_members++;
            continue;
        } else {
            s->d[d].cluster = (int64_t)c->nc;
        }
        rc = push(c, d);
    }
    if (rc)
        return rc;
    if (c->nc + 2 > c->ccap) {
        size_t cc = c->ccap * 2 + 2;
        size_t *v = realloc(c->start, cc * sizeof *v);
        if (!v)
            return nd_fail(ND_ENOMEM, "out of memory");
        c->start = v;
        c->ccap = cc;
    }
    c->start[++c->nc] = c->n;
    return ND_OK;
}

static int read_clusters(struct score *s, struct clusters *c, const char *path)
{
    c->start = malloc(sizeof *c->start);
    if (!c->start)
        return nd_fail(ND_ENOMEM, "out of memory");
    c->start[0] = 0;
    c->ccap = 1;
    struct clusters_ctx x = {s, c, ND_BUF_INIT};
    int rc = each_jsonl(s, path, cluster_line, &x);
    nd_buf_free(&x.kb);
    s->n_clusters = c->nc;
    return rc;
}

/* ------------------------------------------------------------ metrics ---- */

struct counts {
    double tot, hit;
};

struct result {
    double true_pairs, pred_pairs, tp;
    double exact_pairs, exact_hit;
    struct counts by_tf[MAX_NAMES], by_fmt[MAX_NAMES], by_role[MAX_NAMES];
    double fj_role[MAX_NAMES], fj_total;
    /* boilerplate */
    double b_true, b_pred, b_tp, b_unknown_site;
    double bs_true[MAX_NAMES], bs_pred[MAX_NAMES], bs_tp[MAX_NAMES];
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int is_neg(const struct score *s, int role)
{
    for (size_t i = 0; i < sizeof NEG_ROLES / sizeof *NEG_ROLES; i++)
        if (role >= 0 && !strcmp(s->roles.v[role], NEG_ROLES[i]))
            return 1;
    return 0;
}

static int same_cluster(const struct score *s, size_t a, size_t b)
{
    return s->d[a].cluster >= 0 && s->d[a].cluster == s->d[b].cluster;
}

/* True pairs: within each group (and, for exact recall, within each source's set of
 * re-crawls). Groups are small, so pairs are enumerated. */
static int true_pair_metrics(const struct score *s, struct result *r)
{
    size_t *ord = malloc((s->n ? s->n : 1) * sizeof *ord);
    if (!ord)
        return nd_fail(ND_ENOMEM, "out of memory");
    /* order by group via counting into buckets of a sort */
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->d[i].group >= 0)
            ord[k++] = i;
    /* sort indices by group: pack (group, index) */
    int64_t *packed = malloc((k ? k : 1) * 2 * sizeof *packed);
    if (!packed) {
        free(ord);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        packed[2 * i] = s->d[ord[i]].group;
        packed[2 * i + 1] = (int64_t)ord[i];
    }
    qsort(packed, k, 2 * sizeof *packed, cmp_i64); /* compares the group (first field) */
    for (size_t a = 0; a < k;) {
        size_t b = a;
        while (b < k && packed[2 * b] == packed[2 * a])
            b++;
        for (size_t i = a; i < b; i++)
            for (size_t j = i + 1; j < b; j++) {
                size_t x = (size_t)packed[2 * i + 1], y = (size_t)packed[2 * j + 1];
                int hit = same_cluster(s, x, y);
                r->true_pairs++;
                uint64_t tf = s->d[x].tf | s->d[y].tf;
                for (int t = 0; t < s->tfs.n; t++)
                    if (tf >> t & 1) {
                        r->by_tf[t].tot++;
                        r->by_tf[t].hit += hit;
                    }
                int f1 = s->d[x].fmt, f2 = s->d[y].fmt;
                r->by_fmt[f1].tot++;
                r->by_fmt[f1].hit += hit;
                if (f2 != f1) {
                    r->by_fmt[f2].tot++;
                    r->by_fmt[f2].hit += hit;
                }
                int r1 = s->d[x].role, r2 = s->d[y].role;
                r->by_role[r1].tot++;
                r->by_role[r1].hit += hit;
                if (r2 != r1) {
                    r->by_role[r2].tot++;
                    r->by_role[r2].hit += hit;
                }
            }
        a = b;
    }
    /* exact re-crawls: the source and every copy of it */
    k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->d[i].source >= 0 && (size_t)s->d[i].source < s->n) {
            packed[2 * k] = s->d[i].source;
            packed[2 * k + 1] = (int64_t)i;
            k++;
        }
    qsort(packed, k, 2 * sizeof *packed, cmp_i64);
    for (size_t a = 0; a < k;) {
        size_t b = a;
        while (b < k && packed[2 * b] == packed[2 * a])
            b++;
        size_t src = (size_t)packed[2 * a];
        for (size_t i = a; i < b; i++) {
            r->exact_pairs++;
            r->exact_hit += same_cluster(s, src, (size_t)packed[2 * i + 1]);
            for (size_t j = i + 1; j < b; j++) {
                r->exact_pairs++;
                r->exact_hit += same_cluster(s, (size_t)packed[2 * i + 1], (size_t)packed[2 * j + 1]);
            }
        }
        a = b;
    }
    free(packed);
    free(ord);
    return ND_OK;
}

/* Predicted pairs, correct ones and false joins, counted per cluster from group
 * counts (a cluster of 10,000 documents costs 10,000 steps, not 50 million). */
static int pred_pair_metrics(const struct score *s, const struct clusters *c, struct result *r)
{
    size_t maxc = 0;
    for (size_t i = 0; i < c->nc; i++)
        if (c->start[i + 1] - c->start[i] > maxc)
            maxc = c->start[i + 1] - c->start[i];
    int64_t *g = malloc((maxc ? maxc : 1) * 2 * sizeof *g);
    if (!g)
        return nd_fail(ND_ENOMEM, "out of memory");
    for (size_t ci = 0; ci < c->nc; ci++) {
        size_t a = c->start[ci], n = c->start[ci + 1] - a;
        r->pred_pairs += (double)n * (double)(n - 1) / 2;
        /* (group, doc) with a unique negative pseudo-group for documents without one */
        for (size_t i = 0; i < n; i++) {
            int64_t d = c->m[a + i];
            int64_t grp = d < (int64_t)s->n ? s->d[d].group : -1;
            g[2 * i] = grp >= 0 ? grp : -1 - (int64_t)i;
            g[2 * i + 1] = d;
        }
        qsort(g, n, 2 * sizeof *g, cmp_i64);
        double neg = 0, neg_same = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            size_t negs = 0;
            while (j < n && g[2 * j] == g[2 * i]) {
                int64_t d = g[2 * j + 1];
                if (d < (int64_t)s->n && is_neg(s, s->d[d].role))
                    negs++;
                j++;
            }
            double run = (double)(j - i);
            if (g[2 * i] >= 0)
                r->tp += run * (run - 1) / 2;
            /* every member of a hard-negative role is wrongly joined to the members
             * outside its own group */
            for (size_t k = i; k < j; k++) {
                int64_t d = g[2 * k + 1];
                if (d < (int64_t)s->n && is_neg(s, s->d[d].role))
                    r->fj_role[s->d[d].role] += (double)n - run;
            }
            neg += (double)negs;
            neg_same += (double)negs * (double)(negs - 1) / 2;
            i = j;
        }
        /* total counts each wrong pair once even when both ends are hard negatives */
        double wrong_neg_pairs = neg * (neg - 1) / 2 - neg_same;
        double sum = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i, negs = 0;
            while (j < n && g[2 * j] == g[2 * i]) {
                int64_t d = g[2 * j + 1];
                negs += d < (int64_t)s->n && is_neg(s, s->d[d].role);
                j++;
            }
            sum += (double)negs * (double)(n - (j - i));
            i = j;
        }
        r->fj_total += sum - wrong_neg_pairs;
    }
    free(g);
    return ND_OK;
}

/* --------------------------------------------------------- boilerplate ---- */

static int line_in(const nd_buf *lines, const char *s, size_t n)
{
    const char *p = lines->p, *end = lines->p + lines->len;
    while (p && p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if ((size_t)(e - p) == n && !memcmp(p, s, n))
            return 1;
        p = e + 1;
    }
    return 0;
}

struct boiler_ctx {
    struct score *s;
    struct result *r;
    nd_buf pred[MAX_NAMES];   /* lines predicted per site, each once */
    char *tmp;
};

/* One boilerplate block: a block may hold several lines, each scored on its own. */
static int boiler_line(void *ctx, const nd_jval *o, const char *path, size_t lineno)
{
    (void)path;
    (void)lineno;
    struct boiler_ctx *x = ctx;
    struct score *s = x->s;
    struct result *r = x->r;
    const nd_jval *t = nd_jget(o, "text");
    int site = name_id(&s->sites, nd_jget_str(o, "site", "?"), 0);
    if (!t || t->type != ND_JSTR)
        return ND_OK;
    char *nt = realloc(x->tmp, t->len + 1);
    if (!nt)
        return nd_fail(ND_ENOMEM, "out of memory");
    x->tmp = nt;
    int rc = ND_OK;
    const char *p = t->str, *end = t->str + t->len;
    while (p <= end && !rc) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        size_t k = collapse(p, (size_t)(e - p), x->tmp);
        if (k > 0) {
            if (site < 0) {
                r->b_unknown_site++;
                r->b_pred++;
            } else if (!line_in(&x->pred[site], x->tmp, k)) {
                rc = nd_buf_append(&x->pred[site], x->tmp, k) || nd_buf_putc(&x->pred[site], '\n');
                r->bs_pred[site]++;
                r->b_pred++;
                if (line_in(&s->st[site].lines, x->tmp, k)) {
                    r->bs_tp[site]++;
                    r->b_tp++;
                }
            }
        }
        p = e + 1;
    }
    return rc;
}

static int read_boiler(struct score *s, struct result *r, const char *path)
{
    struct boiler_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return nd_fail(ND_ENOMEM, "out of memory");
    x->s = s;
    x->r = r;
    int rc = each_jsonl(s, path, boiler_line, x);
    for (int i = 0; i < s->sites.n; i++) {
        r->bs_true[i] = (double)s->st[i].n_lines;
        r->b_true += (double)s->st[i].n_lines;
    }
    for (int i = 0; i < MAX_NAMES; i++)
        nd_buf_free(&x->pred[i]);
    free(x->tmp);
    free(x);
    return rc;
}

/* -------------------------------------------------------------- output ---- */

static double ratio(double a, double b, double dflt)
{
    return b > 0 ? a / b : dflt;
}

static double f1(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

static int jnum(nd_buf *b, const char *key, double v, int comma)
{
    return (comma ? nd_buf_putc(b, ',') : 0) || nd_json_cstr(b, key) || nd_buf_putc(b, ':') ||
           nd_json_num(b, v);
}

static int jcounts(nd_buf *b, const char *key, const struct names *nm, const struct counts *c)
{
    int rc = nd_buf_puts(b, ",") || nd_json_cstr(b, key) || nd_buf_puts(b, ":{");
    int first = 1;
    for (int i = 0; i < nm->n && !rc; i++) {
        if (c[i].tot == 0)
            continue;
        rc = (first ? 0 : nd_buf_putc(b, ',')) || nd_json_cstr(b, nm->v[i]) ||
             nd_buf_puts(b, ":{") || jnum(b, "pairs", c[i].tot, 0) ||
             jnum(b, "recall", ratio(c[i].hit, c[i].tot, 1), 1) || nd_buf_putc(b, '}');
        first = 0;
    }
    return rc || nd_buf_putc(b, '}');
}

static int print_json(const struct score *s, const struct result *r, FILE *out)
{
    nd_buf b = ND_BUF_INIT;
    double p = ratio(r->tp, r->pred_pairs, 1), rc_ = ratio(r->tp, r->true_pairs, 1);
    int rc = nd_buf_puts(&b, "{") || jnum(&b, "documents", (double)s->n, 0) ||
             jnum(&b, "clusters", (double)s->n_clusters, 1) ||
             jnum(&b, "unknown_documents", (double)s->unknown, 1) ||
             jnum(&b, "duplicate_members", (double)s->dup_members, 1) ||
             jnum(&b, "bad_lines", (double)s->bad_lines, 1);
    if (!rc && s->have_clusters) {
        rc = nd_buf_puts(&b, ",\"pairs\":{") || jnum(&b, "true", r->true_pairs, 0) ||
             jnum(&b, "predicted", r->pred_pairs, 1) || jnum(&b, "correct", r->tp, 1) ||
             jnum(&b, "precision", p, 1) || jnum(&b, "recall", rc_, 1) ||
             jnum(&b, "f1", f1(p, rc_), 1) || nd_buf_putc(&b, '}');
        rc = rc || nd_buf_puts(&b, ",\"exact\":{") || jnum(&b, "pairs", r->exact_pairs, 0) ||
             jnum(&b, "recall", ratio(r->exact_hit, r->exact_pairs, 1), 1) || nd_buf_putc(&b, '}');
        rc = rc || jcounts(&b, "by_transform", &s->tfs, r->by_tf) ||
             jcounts(&b, "by_format", &s->fmts, r->by_fmt) ||
             jcounts(&b, "by_role", &s->roles, r->by_role);
        rc = rc || nd_buf_puts(&b, ",\"false_joins\":{") || jnum(&b, "total", r->fj_total, 0);
        for (size_t i = 0; i < sizeof NEG_ROLES / sizeof *NEG_ROLES && !rc; i++) {
            int id = name_id((struct names *)&s->roles, NEG_ROLES[i], 0);
            rc = jnum(&b, NEG_ROLES[i], id >= 0 ? r->fj_role[id] : 0, 1);
        }
        rc = rc || nd_buf_putc(&b, '}');
    }
    if (!rc && s->have_boiler) {
        double bp = ratio(r->b_tp, r->b_pred, 1), br = ratio(r->b_tp, r->b_true, 1);
        rc = nd_buf_puts(&b, ",\"boilerplate\":{") || jnum(&b, "true_lines", r->b_true, 0) ||
             jnum(&b, "predicted_lines", r->b_pred, 1) || jnum(&b, "correct", r->b_tp, 1) ||
             jnum(&b, "unknown_site_lines", r->b_unknown_site, 1) ||
             jnum(&b, "precision", bp, 1) || jnum(&b, "recall", br, 1) ||
             jnum(&b, "f1", f1(bp, br), 1) || nd_buf_puts(&b, ",\"by_site\":{");
        for (int i = 0; i < s->sites.n && !rc; i++) {
            rc = (i ? nd_buf_putc(&b, ',') : 0) || nd_json_cstr(&b, s->sites.v[i]) ||
                 nd_buf_puts(&b, ":{") || jnum(&b, "true_lines", r->bs_true[i], 0) ||
                 jnum(&b, "predicted_lines", r->bs_pred[i], 1) ||
                 jnum(&b, "precision", ratio(r->bs_tp[i], r->bs_pred[i], 1), 1) ||
                 jnum(&b, "recall", ratio(r->bs_tp[i], r->bs_true[i], 1), 1) || nd_buf_putc(&b, '}');
        }
        rc = rc || nd_buf_puts(&b, "}}");
    }
    rc = rc || nd_buf_puts(&b, "}\n");
    if (rc) {
        nd_buf_free(&b);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    rc = fwrite(b.p, 1, b.len, out) == b.len ? ND_OK : nd_fail(ND_EIO, "write failed");
    nd_buf_free(&b);
    return rc;
}

static void print_counts(FILE *out, const char *title, const struct names *nm,
                         const struct counts *c)
{
    fprintf(out, "\n  recall by %s:\n", title);
    for (int i = 0; i < nm->n; i++)
        if (c[i].tot > 0)
            fprintf(out, "    %-16s %8.0f pairs  %6.3f\n", nm->v[i], c[i].tot,
                    ratio(c[i].hit, c[i].tot, 1));
}

static void print_human(const struct score *s, const struct result *r, FILE *out)
{
    fprintf(out, "score: %zu documents in the truth, %zu predicted clusters\n", s->n,
            s->n_clusters);
    if (s->unknown)
        fprintf(out, "  ERROR: %zu clustered documents are unknown to the truth (counted as "
                     "false pairs)\n", s->unknown);
    if (s->dup_members)
        fprintf(out, "  ERROR: %zu documents listed in more than one cluster (later ones "
                     "ignored)\n", s->dup_members);
    if (s->bad_lines)
        fprintf(out, "  ERROR: %zu unparsable JSONL lines ignored\n", s->bad_lines);
    if (s->have_clusters) {
        double p = ratio(r->tp, r->pred_pairs, 1), rc = ratio(r->tp, r->true_pairs, 1);
        fprintf(out, "\n  pairs: %.0f true, %.0f predicted, %.0f correct\n", r->true_pairs,
                r->pred_pairs, r->tp);
        fprintf(out, "  precision %.3f  recall %.3f  F1 %.3f\n", p, rc, f1(p, rc));
        fprintf(out, "  exact re-crawls: %.0f pairs, recall %.3f\n", r->exact_pairs,
                ratio(r->exact_hit, r->exact_pairs, 1));
        print_counts(out, "transform", &s->tfs, r->by_tf);
        print_counts(out, "format", &s->fmts, r->by_fmt);
        print_counts(out, "role", &s->roles, r->by_role);
        fprintf(out, "\n  false joins (pairs joining a hard negative to another article): %.0f\n",
                r->fj_total);
        for (size_t i = 0; i < sizeof NEG_ROLES / sizeof *NEG_ROLES; i++) {
            int id = name_id((struct names *)&s->roles, NEG_ROLES[i], 0);
            fprintf(out, "    %-16s %8.0f\n", NEG_ROLES[i], id >= 0 ? r->fj_role[id] : 0);
        }
    }
    if (s->have_boiler) {
        double bp = ratio(r->b_tp, r->b_pred, 1), br = ratio(r->b_tp, r->b_true, 1);
        fprintf(out, "\n  boilerplate lines: %.0f true, %.0f predicted, %.0f correct: "
                     "precision %.3f  recall %.3f\n", r->b_true, r->b_pred, r->b_tp, bp, br);
        for (int i = 0; i < s->sites.n; i++)
            fprintf(out, "    %-30s %4.0f true %4.0f predicted  P %.3f  R %.3f\n", s->sites.v[i],
                    r->bs_true[i], r->bs_pred[i], ratio(r->bs_tp[i], r->bs_pred[i], 1),
                    ratio(r->bs_tp[i], r->bs_true[i], 1));
        if (r->b_unknown_site)
            fprintf(out, "    (%.0f lines of sites unknown to the truth)\n", r->b_unknown_site);
    }
}

static int usage(FILE *out)
{
    fputs("usage: score --truth FILE [--clusters FILE] [--boilerplate FILE] [--json]\n"
          "Scores neardup's clusters and boilerplate JSONL against the generator's truth.\n",
          out);
    return 2;
}

int main(int argc, char **argv)
{
    const char *truth = NULL, *clusters = NULL, *boiler = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (i + 1 < argc && !strcmp(argv[i], "--truth")) {
            truth = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--clusters")) {
            clusters = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--boilerplate")) {
            boiler = argv[++i];
        } else {
            fprintf(stderr, "score: unknown option or missing value: %s\n", argv[i]);
            return usage(stderr);
        }
    }
    if (!truth)
        return usage(stderr);
    static struct score s;
    static struct result r;
    struct clusters c = {0};
    int rc = read_truth(&s, truth);
    if (!rc && clusters) {
        s.have_clusters = 1;
        rc = read_clusters(&s, &c, clusters);
        if (!rc)
            rc = true_pair_metrics(&s, &r);
        if (!rc)
            rc = pred_pair_metrics(&s, &c, &r);
    }
    if (!rc && boiler) {
        s.have_boiler = 1;
        rc = read_boiler(&s, &r, boiler);
    }
    if (!rc) {
        if (json)
            rc = print_json(&s, &r, stdout);
        else
            print_human(&s, &r, stdout);
    }
    if (rc)
        fprintf(stderr, "score: %s\n", nd_errmsg());
    for (size_t i = 0; i < s.n; i++)
        free(s.d[i].key);
    free(s.d);
    free(s.ht);
    for (int i = 0; i < MAX_NAMES; i++)
        nd_buf_free(&s.st[i].lines);
    names_free(&s.roles);
    names_free(&s.fmts);
    names_free(&s.tfs);
    names_free(&s.sites);
    free(c.m);
    free(c.start);
    return rc ? 1 : 0;
}
