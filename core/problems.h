/* Problems met while reading a crawl: each is printed as one line naming the file and
 * the reason, counted by kind, and summarised at the end of the run ("skipped 3:
 * 1 binary, 2 unreadable; partly used 1: 1 truncated gzip"). Thread-safe. */
#ifndef ND_PROBLEMS_H
#define ND_PROBLEMS_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum nd_problem_effect {
    ND_SKIPPED = 0,   /* the file or record was not used at all */
    ND_PARTIAL = 1,   /* part of it was used (truncated stream, size cap, ...) */
    ND_NOTE = 2       /* used whole, but worth counting (invalid UTF-8 replaced, ...) */
};

typedef struct nd_problems nd_problems;

/* log may be NULL for silence (counting still happens). */
int nd_problems_new(FILE *log, nd_problems **out);
void nd_problems_free(nd_problems *p);

/* Count one problem and print "neardup: PATH: DETAIL" to the log. kind is a short
 * static label used to group the summary ("binary", "truncated gzip"); detail may be
 * NULL (then kind is printed). path may be NULL. Never fails: a problem that cannot
 * be stored is still counted under its effect. */
void nd_problem(nd_problems *p, enum nd_problem_effect effect, const char *path,
                const char *kind, const char *detail_fmt, ...) ND_PRINTF(5, 6);

size_t nd_problems_count(const nd_problems *p, enum nd_problem_effect effect);
/* Count for one kind (all effects). */
size_t nd_problems_kind(const nd_problems *p, const char *kind);
/* Append the one-line summary (no newline), "" when nothing happened. */
int nd_problems_summary(const nd_problems *p, nd_buf *out);

#endif
