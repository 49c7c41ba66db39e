/* Problem counting for a run: a small mutex-guarded table of (effect, kind) counters;
 * runs meet a handful of kinds, so a linear table is enough. */
#include "problems.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ND_PROBLEM_KINDS 64

struct nd_problem_kind {
    const char *kind;
    enum nd_problem_effect effect;
    size_t count;
};

struct nd_problems {
    pthread_mutex_t mu;
    FILE *log;
    struct nd_problem_kind kinds[ND_PROBLEM_KINDS];
    size_t n_kinds;
    size_t by_effect[3];
};

int nd_problems_new(FILE *log, nd_problems **out)
{
    nd_problems *p = calloc(1, sizeof *p);
    if (!p)
        return nd_fail(ND_ENOMEM, "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    p->log = log;
    *out = p;
    return ND_OK;
}

void nd_problems_free(nd_problems *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void nd_problem(nd_problems *p, enum nd_problem_effect effect, const char *path,
                const char *kind, const char *detail_fmt, ...)
{
    char detail[512];
    detail[0] = '\0';
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(detail, sizeof detail, detail_fmt, ap);
        va_end(ap);
    }
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->by_effect[effect]++;
    size_t i;
    for (i = 0; i < p->n_kinds; i++)
        if (p->kinds[i].effect == effect && strcmp(p->kinds[i].kind, kind) == 0)
            break;
    if (i == p->n_kinds && p->n_kinds < ND_PROBLEM_KINDS)
        p->kinds[p->n_kinds++] = (struct nd_problem_kind){kind, effect, 0};
    if (i < p->n_kinds)
        p->kinds[i].count++;
    if (p->log) {
        static const char *const what[] = {"skipped", "partly used", "note"};
        fprintf(p->log, "neardup: %s%s%s (%s)\n", path ? path : "", path ? ": " : "",
                detail[0] ? detail : kind, what[effect]);
    }
    pthread_mutex_unlock(&p->mu);
}

size_t nd_problems_count(const nd_problems *p, enum nd_problem_effect effect)
{
    return p ? p->by_effect[effect] : 0;
}

size_t nd_problems_kind(const nd_problems *p, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; p && i < p->n_kinds; i++)
        if (strcmp(p->kinds[i].kind, kind) == 0)
            n += p->kinds[i].count;
    return n;
}

int nd_problems_summary(const nd_problems *p, nd_buf *out)
{
    static const char *const head[] = {"skipped", "partly used", "noted"};
    int rc = ND_OK;
    const char *sep = "";
    for (int e = 0; p && e < 3 && !rc; e++) {
        if (!p->by_effect[e])
            continue;
        rc = nd_buf_printf(out, "%s%s %zu: ", sep, head[e], p->by_effect[e]);
        const char *comma = "";
        for (size_t i = 0; i < p->n_kinds && !rc; i++) {
            if ((int)p->kinds[i].effect != e)
                continue;
            rc = nd_buf_printf(out, "%s%zu %s", comma, p->kinds[i].count, p->kinds[i].kind);
            comma = ", ";
        }
        sep = "; ";
    }
    return rc;
}
