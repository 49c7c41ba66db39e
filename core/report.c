/* The report of a run: a readable summary for people (clusters with their sites,
 * similarity range, title and likely original; boilerplate per site; problems) and the
 * clusters JSONL for programs. Both are deterministic for identical input. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_boiler.h"

int nd_cluster_index_build(const nd_run *run, nd_cluster_index *ix)
{
    size_t nc = run->clusters.n_clusters;
    ix->start = calloc(nc + 1, sizeof *ix->start);
    ix->members = malloc((run->n_docs ? run->n_docs : 1) * sizeof *ix->members);
    if (!ix->start || !ix->members) {
        nd_cluster_index_free(ix);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < run->n_docs; i++)
        if (run->clusters.cluster[i] >= 0)
            ix->start[run->clusters.cluster[i] + 1]++;
    for (size_t c = 0; c < nc; c++)
        ix->start[c + 1] += ix->start[c];
    size_t *fill = calloc(nc + 1, sizeof *fill);
    if (!fill) {
        nd_cluster_index_free(ix);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < run->n_docs; i++) {
        int32_t c = run->clusters.cluster[i];
        if (c >= 0)
            ix->members[ix->start[c] + fill[c]++] = (uint32_t)i;
    }
    free(fill);
    return ND_OK;
}

void nd_cluster_index_free(nd_cluster_index *ix)
{
    free(ix->members);
    free(ix->start);
    ix->members = NULL;
    ix->start = NULL;
}

static int write_buf(FILE *out, nd_buf *b)
{
    if (b->len && fwrite(b->p, 1, b->len, out) != b->len)
        return nd_fail(ND_EIO, "write failed");
    nd_buf_clear(b);
    return ND_OK;
}

static int doc_ref(nd_buf *b, const nd_run *run, size_t d)
{
    int rc;
    if ((rc = nd_buf_puts(b, "{\"path\":")) || (rc = nd_json_cstr(b, nd_run_path(run, d))) ||
        (rc = nd_buf_puts(b, ",\"uri\":")) || (rc = nd_json_cstr(b, run->docs[d].uri)))
        return rc;
    /* A WARC file may hold the same URI twice (re-crawls): the record index tells. */
    if (run->docs[d].flags & ND_DOC_WARC)
        rc = nd_buf_printf(b, ",\"record\":%u", run->docs[d].record);
    return rc;
}

static int is_exact_copy(const nd_run *run, size_t d, size_t rep)
{
    return d != rep && run->docs[d].body_digest[0] == run->docs[rep].body_digest[0] &&
           run->docs[d].body_digest[1] == run->docs[rep].body_digest[1];
}

int nd_report_clusters_jsonl(const nd_run *run, const nd_cluster_index *ix, FILE *out)
{
    nd_buf b = ND_BUF_INIT;
    int rc = ND_OK;
    const nd_cluster_out *co = &run->clusters;
    for (size_t c = 0; c < co->n_clusters && !rc; c++) {
        size_t s = ix->start[c], e = ix->start[c + 1];
        uint32_t rep = co->rep[ix->members[s]];
        double minsim = 1.0;
        for (size_t k = s; k < e; k++)
            if (co->similarity[ix->members[k]] < minsim)
                minsim = co->similarity[ix->members[k]];
        rc = nd_buf_printf(&b, "{\"cluster\":%zu,\"size\":%zu,\"similarity\":", c, e - s);
        if (!rc)
            rc = nd_json_num(&b, minsim);
        if (!rc)
            rc = nd_buf_puts(&b, ",\"method\":");
        if (!rc)
            rc = nd_json_cstr(&b, run->method->desc->name);
        if (!rc)
            rc = nd_buf_puts(&b, ",\"representative\":");
        if (!rc)
            rc = doc_ref(&b, run, rep);
        if (!rc)
            rc = nd_buf_puts(&b, "},\"members\":[");
        for (size_t k = s; k < e && !rc; k++) {
            uint32_t d = ix->members[k];
            if (k > s)
                rc = nd_buf_putc(&b, ',');
            if (!rc)
                rc = doc_ref(&b, run, d);
            if (!rc)
                rc = nd_buf_puts(&b, ",\"site\":");
            if (!rc)
                rc = nd_json_cstr(&b, run->sites[run->docs[d].site]);
            if (!rc)
                rc = nd_buf_puts(&b, ",\"similarity\":");
            if (!rc)
                rc = nd_json_num(&b, co->similarity[d]);
            if (!rc && co->containment && co->containment[d] >= 0) {
                rc = nd_buf_puts(&b, ",\"containment\":");
                if (!rc)
                    rc = nd_json_num(&b, co->containment[d]);
            }
            if (!rc)
                rc = nd_buf_printf(&b, ",\"exact\":%s,\"representative\":%s}",
                                   (d == rep || is_exact_copy(run, d, rep)) ? "true" : "false",
                                   d == rep ? "true" : "false");
        }
        if (!rc)
            rc = nd_buf_puts(&b, "]}\n");
        if (!rc)
            rc = write_buf(out, &b);
    }
    nd_buf_free(&b);
    if (!rc && (fflush(out) != 0 || ferror(out)))
        rc = nd_fail(ND_EIO, "write failed");
    return rc;
}

/* Distinct sites among a cluster's members: one bit per site, so that a cluster of
 * many thousand copies across as many sites costs its size, not its size squared. */
static size_t cluster_sites(const nd_run *run, const nd_cluster_index *ix, size_t c)
{
    size_t n = 0;
    unsigned char *seen = calloc(run->n_sites / 8 + 1, 1);
    for (size_t k = ix->start[c]; k < ix->start[c + 1]; k++) {
        uint32_t s = run->docs[ix->members[k]].site;
        if (seen) {
            n += !(seen[s / 8] >> (s % 8) & 1);
            seen[s / 8] |= (unsigned char)(1u << (s % 8));
            continue;
        }
        size_t j = ix->start[c]; /* out of memory: the slow way */
        while (j < k && run->docs[ix->members[j]].site != s)
            j++;
        n += j == k;
    }
    free(seen);
    return n;
}

static void print_clip(FILE *out, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        fprintf(out, "%.*s...", (int)n, s);
    } else {
        fputs(s, out);
    }
}

static void print_doc(FILE *out, const nd_run *run, size_t d)
{
    fputs(nd_run_path(run, d), out);
    if (run->docs[d].uri)
        fprintf(out, " <%s>", run->docs[d].uri);
}

int nd_report_text(const nd_run *run, const nd_cluster_index *ix, FILE *out, size_t top,
                   size_t members)
{
    const nd_cluster_out *co = &run->clusters;
    size_t empty = 0, tmpl = 0, fallback = 0, in_clusters = 0, unsigned_in = 0;
    size_t exact_docs = 0, exact_clusters = 0;
    for (size_t i = 0; i < run->n_docs; i++) {
        uint32_t f = run->docs[i].flags;
        /* Disjoint counts: a page all boilerplate is also template-only. */
        int e = (f & (ND_DOC_EMPTY | ND_DOC_SKIPPED)) == ND_DOC_EMPTY;
        int t = !e && (f & (ND_DOC_TEMPLATE | ND_DOC_SKIPPED)) == ND_DOC_TEMPLATE;
        int fb = !e && !t && (f & ND_DOC_FALLBACK);
        empty += e;
        tmpl += t;
        fallback += fb;
        in_clusters += co->cluster[i] >= 0;
        unsigned_in += (e || t || fb) && co->cluster[i] >= 0;
    }
    for (size_t c = 0; c < co->n_clusters; c++) {
        size_t ex = 0;
        for (size_t k = ix->start[c]; k < ix->start[c + 1]; k++)
            ex += is_exact_copy(run, ix->members[k], co->rep[ix->members[k]]);
        exact_docs += ex;
        exact_clusters += ex > 0;
    }
    double secs = run->seconds[0] + run->seconds[1] + run->seconds[2];
    fprintf(out, "neardup report: %s\n", run->opts.root);
    fprintf(out, "  method %s (%s), similarity >= %.2f", run->method->desc->name,
            run->method->desc->version,
            run->opts.threshold >= 0 ? run->opts.threshold : run->info.threshold);
    double cont = run->opts.containment >= 0 ? run->opts.containment : run->info.containment;
    if (cont <= 1.0)
        fprintf(out, " or containment >= %.2f", cont);
    fprintf(out, ", boilerplate %s\n", run->opts.keep_boilerplate ? "kept" : "stripped");
    fprintf(out, "  %zu document%s in %zu file%s, %.1f MB read in %.2f s on %u thread%s (%.1f MB/s; "
                 "reading %.2f s, fingerprinting %.2f s, clustering %.2f s)\n",
            run->n_docs, run->n_docs == 1 ? "" : "s", run->files.n, run->files.n == 1 ? "" : "s",
            (double)run->file_bytes / 1e6, secs, run->threads,
            run->threads == 1 ? "" : "s", secs > 0 ? (double)run->file_bytes / 1e6 / secs : 0.0,
            run->seconds[0], run->seconds[1], run->seconds[2]);
    fprintf(out, "  %zu duplicate cluster%s holding %zu document%s; %zu exact re-crawl%s in %zu of them\n",
            co->n_clusters, co->n_clusters == 1 ? "" : "s", in_clusters, in_clusters == 1 ? "" : "s",
            exact_docs, exact_docs == 1 ? "" : "s", exact_clusters);
    /* These have no fingerprint of the method: they join a cluster only as exact copies
     * of their text (the count in clusters says how many did). */
    if (tmpl || empty || fallback)
        fprintf(out, "  matched as exact copies only: %zu empty after stripping, %zu template-only "
                     "pages, %zu too short for %s; %zu of them in clusters\n",
                empty, tmpl, fallback, run->method->desc->name, unsigned_in);
    nd_buf sum = ND_BUF_INIT;
    if (nd_problems_summary(run->problems, &sum) == ND_OK && sum.len)
        fprintf(out, "  problems: %s\n", sum.p);
    nd_buf_free(&sum);

    if (co->n_clusters)
        fprintf(out, "\nDuplicate clusters (largest first):\n");
    for (size_t c = 0; c < co->n_clusters && c < top; c++) {
        size_t s = ix->start[c], e = ix->start[c + 1];
        uint32_t rep = co->rep[ix->members[s]];
        double lo = 1.0;
        for (size_t k = s; k < e; k++)
            if (ix->members[k] != rep && co->similarity[ix->members[k]] < lo)
                lo = co->similarity[ix->members[k]];
        size_t sites = cluster_sites(run, ix, c);
        fprintf(out, "\n#%zu  %zu documents, %zu site%s, similarity %.2f-1.00\n", c, e - s, sites,
                sites == 1 ? "" : "s", lo);
        fputs("    \"", out);
        print_clip(out, run->docs[rep].title ? run->docs[rep].title : "", 90);
        fputs("\"\n    original: ", out);
        print_doc(out, run, rep);
        fprintf(out, " (%s)\n", run->docs[rep].date ? run->docs[rep].date : "longest, undated");
        size_t listed = 0;
        for (size_t k = s; k < e; k++) {
            uint32_t d = ix->members[k];
            if (d == rep)
                continue;
            if (members && listed == members) {
                fprintf(out, "    ... and %zu more (all of them: --clusters FILE, or --members 0)\n",
                        e - s - 1 - listed);
                break;
            }
            listed++;
            fprintf(out, "    %.2f  ", co->similarity[d]);
            print_doc(out, run, d);
            if (is_exact_copy(run, d, rep))
                fputs("  [exact re-crawl]", out);
            else if (co->containment && co->containment[d] >= 0 &&
                     co->similarity[d] < run->info.threshold)
                fprintf(out, "  [truncated copy: %.0f%% contained]", 100.0 * co->containment[d]);
            fputc('\n', out);
        }
    }
    if (co->n_clusters > top)
        fprintf(out, "\n... and %zu more clusters (all of them: --clusters FILE)\n",
                co->n_clusters - top);
    if (co->n_clusters == 0)
        fprintf(out, "\nNo duplicates found.\n");
    fputc('\n', out);
    int rc = nd_report_boiler_text(run, out, 5);
    if (!rc && (fflush(out) != 0 || ferror(out)))
        rc = nd_fail(ND_EIO, "write failed");
    return rc;
}
