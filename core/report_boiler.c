/* Boilerplate in the report. Sites are listed in name order so that output does not
 * depend on the order sites were met in; blocks come from nd_boiler, already sorted
 * (most frequent first, ties by text). */
#include "report_boiler.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

static const nd_run *sort_run;

static int site_cmp(const void *a, const void *b)
{
    return strcmp(sort_run->sites[*(const uint32_t *)a], sort_run->sites[*(const uint32_t *)b]);
}

/* Site ids in name order; caller frees. Single-threaded (the comparator's context). */
static uint32_t *sites_by_name(const nd_run *run)
{
    uint32_t *v = malloc((run->n_sites ? run->n_sites : 1) * sizeof *v);
    if (!v) {
        nd_fail(ND_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < run->n_sites; i++)
        v[i] = (uint32_t)i;
    sort_run = run;
    qsort(v, run->n_sites, sizeof *v, site_cmp);
    sort_run = NULL;
    return v;
}

int nd_report_boiler_jsonl(const nd_run *run, FILE *out)
{
    uint32_t *order = sites_by_name(run);
    if (!order)
        return ND_ENOMEM;
    nd_buf b = ND_BUF_INIT;
    int rc = ND_OK;
    for (size_t k = 0; k < run->n_sites && !rc; k++) {
        uint32_t s = order[k];
        size_t n = 0;
        const nd_boiler_block *bl = nd_boiler_site_blocks(run->boiler, s, &n);
        uint32_t sd = nd_boiler_site_docs(run->boiler, s);
        for (size_t i = 0; i < n && !rc; i++) {
            nd_buf_clear(&b);
            rc = nd_buf_puts(&b, "{\"text\":");
            if (!rc)
                rc = nd_json_cstr(&b, bl[i].text);
            if (!rc)
                rc = nd_buf_printf(&b, ",\"docs\":%u,\"site\":", bl[i].docs);
            if (!rc)
                rc = nd_json_cstr(&b, run->sites[s]);
            if (!rc)
                rc = nd_buf_puts(&b, ",\"share\":");
            if (!rc)
                rc = nd_json_num(&b, sd ? (double)bl[i].docs / sd : 0);
            if (!rc)
                rc = nd_buf_printf(&b, ",\"site_docs\":%u}\n", sd);
            if (!rc && fwrite(b.p, 1, b.len, out) != b.len)
                rc = nd_fail(ND_EIO, "write failed");
        }
    }
    nd_buf_free(&b);
    free(order);
    if (!rc && (fflush(out) != 0 || ferror(out)))
        rc = nd_fail(ND_EIO, "write failed");
    return rc;
}

static void print_block(FILE *out, const char *s)
{
    /* Long blocks (a footer paragraph) are cut at a character boundary. */
    size_t n = strlen(s), max = 100;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        fprintf(out, "\"%.*s...\"", (int)n, s);
    } else {
        fprintf(out, "\"%s\"", s);
    }
}

int nd_report_boiler_text(const nd_run *run, FILE *out, size_t top)
{
    uint64_t *tok = calloc(run->n_sites ? run->n_sites : 1, 2 * sizeof *tok);
    uint32_t *order = tok ? sites_by_name(run) : NULL;
    if (!order) {
        free(tok);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < run->n_docs; i++) {
        const nd_docrec *d = &run->docs[i];
        if (d->flags & ND_DOC_SKIPPED)
            continue;
        tok[2 * d->site] += d->n_tokens;
        tok[2 * d->site + 1] += d->n_boiler_tokens;
    }
    size_t with = 0;
    for (size_t k = 0; k < run->n_sites; k++) {
        size_t n = 0;
        nd_boiler_site_blocks(run->boiler, order[k], &n);
        with += n > 0;
    }
    if (with == 0) {
        fprintf(out, "Boilerplate: none found (a block is boilerplate when it repeats on many "
                     "pages of one site).\n");
    } else {
        fprintf(out, "Boilerplate (%zu of %zu sites; blocks repeated across a site's pages):\n",
                with, run->n_sites);
    }
    for (size_t k = 0; k < run->n_sites; k++) {
        uint32_t s = order[k];
        size_t n = 0;
        const nd_boiler_block *bl = nd_boiler_site_blocks(run->boiler, s, &n);
        if (n == 0)
            continue;
        uint32_t sd = nd_boiler_site_docs(run->boiler, s);
        double share = tok[2 * s] ? (double)tok[2 * s + 1] / (double)tok[2 * s] : 0;
        /* One decimal below 10%, so a small template never reads as "0%". */
        fprintf(out, "\n  %s: %u page%s, %zu boilerplate block%s, %.*f%% of the site's text\n",
                run->sites[s], sd, sd == 1 ? "" : "s", n, n == 1 ? "" : "s",
                share < 0.1 ? 1 : 0, 100 * share);
        for (size_t i = 0; i < n && i < top; i++) {
            fprintf(out, "    %5u pages (%3.0f%%)  ", bl[i].docs,
                    sd ? 100.0 * bl[i].docs / sd : 0.0);
            print_block(out, bl[i].text);
            fputc('\n', out);
        }
        if (n > top)
            fprintf(out, "    ... and %zu more (all of them: --boilerplate FILE)\n", n - top);
    }
    free(order);
    free(tok);
    if (fflush(out) != 0 || ferror(out))
        return nd_fail(ND_EIO, "write failed");
    return ND_OK;
}
