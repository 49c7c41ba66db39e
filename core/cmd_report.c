/* `neardup report DIR`: analyse a crawl and print what is duplicated; optionally write
 * the clusters and boilerplate JSON Lines that scripts and the scorer consume. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "report_boiler.h"

static const char report_help[] =
    "usage: neardup report DIR [OPTIONS]\n\n"
    "Reads every document under DIR (text, HTML, gzip, WARC, WARC.gz; detected by\n"
    "content), learns each site's boilerplate, and reports clusters of the same article:\n"
    "syndicated copies across sites, truncated or edited copies, exact re-crawls. DIR is\n"
    "only read.\n\n"
    "Output:\n"
    "  --clusters FILE        write clusters as JSON Lines (- for stdout): one object per\n"
    "                         cluster, {\"cluster\",\"size\",\"similarity\",\"representative\",\n"
    "                         \"members\":[{\"path\",\"uri\",\"site\",\"similarity\",...}]}\n"
    "  --boilerplate FILE     write boilerplate blocks as JSON Lines (- for stdout):\n"
    "                         {\"text\",\"docs\",\"site\",\"share\"}\n"
    "  --top N                clusters shown in the report (20; the rest are counted)\n"
    "  --members N            members listed for each of them (10; 0: all)\n\n"
    "Analysis:\n";

static const char report_exit[] =
    "Exit status: 0 success (whether or not duplicates were found), 1 runtime\n"
    "failure (DIR unreadable, plugin unusable, output not writable), 2 usage error.\n";

static FILE *open_out(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        nd_cli_error("cannot write %s: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    if (f == stdout)
        return fflush(f) == 0 ? 0 : -1;
    if (fclose(f) != 0) {
        nd_cli_error("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Write one JSONL output; returns 0 or -1 (message printed). */
static int write_jsonl(const char *path, const nd_run *run, const nd_cluster_index *ix,
                       int boiler)
{
    FILE *f = open_out(path);
    if (!f)
        return -1;
    int rc = boiler ? nd_report_boiler_jsonl(run, f) : nd_report_clusters_jsonl(run, ix, f);
    if (rc) {
        nd_cli_error("cannot write %s: %s", path, nd_errmsg());
        if (f != stdout)
            fclose(f);
        return -1;
    }
    return close_out(f, path);
}

int nd_cmd_report(int argc, char **argv)
{
    nd_run_opts o;
    nd_run_opts_default(&o);
    o.progress = isatty(STDERR_FILENO);
    const char *root = NULL, *clusters = NULL, *boiler = NULL;
    size_t top = 20, members = 10;
    int code = ND_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (nd_cli_analysis_help(a, report_help, report_exit)) {
            code = ND_EXIT_OK;
            goto out;
        }
        int r = nd_cli_run_opt(argc, argv, &i, &o);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        if ((strcmp(a, "--clusters") == 0 || strcmp(a, "--boilerplate") == 0 ||
             strcmp(a, "--top") == 0 || strcmp(a, "--members") == 0)) {
            if (i + 1 >= argc) {
                nd_cli_error("option %s needs a value (see neardup report --help)", a);
                goto out;
            }
            const char *v = argv[++i];
            if (a[2] == 'c')
                clusters = v;
            else if (a[2] == 'b')
                boiler = v;
            else {
                char *end;
                long t = strtol(v, &end, 10);
                if (!*v || *end || t < 0) {
                    nd_cli_error("%s: \"%s\" is not a whole number", a, v);
                    goto out;
                }
                *(a[2] == 't' ? &top : &members) = (size_t)t;
            }
        } else if (a[0] == '-' && a[1]) {
            nd_cli_error("report: unknown option \"%s\" (see neardup report --help)", a);
            goto out;
        } else if (!root) {
            root = a;
        } else {
            nd_cli_error("report: one DIR only (got \"%s\" and \"%s\")", root, a);
            goto out;
        }
    }
    if (!root) {
        nd_cli_error("report: which crawl? usage: neardup report DIR [OPTIONS]");
        goto out;
    }
    o.root = root;
    nd_run *run = NULL;
    int crawl_rc = nd_run_crawl(&o, &run);
    if (crawl_rc != ND_OK) {
        nd_cli_error("%s", nd_errmsg());
        code = crawl_rc == ND_EUSAGE ? ND_EXIT_USAGE : ND_EXIT_FAIL;
        goto out;
    }
    nd_cluster_index ix = {0};
    code = ND_EXIT_FAIL;
    if (nd_cluster_index_build(run, &ix) != ND_OK) {
        nd_cli_error("%s", nd_errmsg());
        goto out_run;
    }
    /* Machine outputs first: a report to a closed pipe must not lose them. */
    if (clusters && write_jsonl(clusters, run, &ix, 0))
        goto out_ix;
    if (boiler && write_jsonl(boiler, run, &ix, 1))
        goto out_ix;
    FILE *human = (clusters && !strcmp(clusters, "-")) || (boiler && !strcmp(boiler, "-")) ? stderr : stdout;
    if (nd_report_text(run, &ix, human, top, members) != ND_OK) {
        nd_cli_error("cannot write the report: %s", nd_errmsg());
        goto out_ix;
    }
    code = ND_EXIT_OK;
out_ix:
    nd_cluster_index_free(&ix);
out_run:
    nd_run_free(run);
out:
    nd_run_opts_release(&o);
    return code;
}
