/* Options shared by the analysing subcommands, parsed in one place so `report` and
 * `clean` accept exactly the same spelling, and the shared error printer. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char nd_cli_run_opts_help[] =
    "  --method NAME          fingerprint plugin: shingle (default), simhash, exact\n"
    "  -o NAME.KEY=VALUE      plugin option, e.g. -o shingle.ngram=5 (see `neardup plugins`)\n"
    "  --threshold X          similarity needed to join a cluster (plugin default)\n"
    "  --containment X        share of the smaller document found in the larger that\n"
    "                         marks a truncated copy (plugin default; >1 disables)\n"
    "  --keep-boilerplate     fingerprint whole pages (default: strip each site's\n"
    "                         learned boilerplate first)\n"
    "  --site-depth N         leading folders of a file's path that name its site (1);\n"
    "                         WARC records use the host of their URI\n"
    "  --max-doc-size SIZE    cap on one document, e.g. 32M (larger ones are truncated)\n"
    "  -j, --threads N        worker threads (default: all cores)\n"
    "  --plugin-dir DIR       look for plugins in DIR first (repeatable)\n"
    "  -q, --quiet            no per-file warnings (still counted in the summary)\n"
    "  --no-progress          no progress line (it is shown only on a terminal)\n";

void nd_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("neardup: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* "--opt VALUE" or "--opt=VALUE"; returns the value or NULL (usage error printed). */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *matched)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    *matched = 0;
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
        return NULL;
    *matched = 1;
    if (a[n] == '=')
        return a + n + 1;
    if (*i + 1 >= argc) {
        nd_cli_error("option %s needs a value (see --help)", name);
        return NULL;
    }
    return argv[++*i];
}

static int parse_uint(const char *name, const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x > max) {
        nd_cli_error("option %s: \"%s\" is not a whole number from 0 to %lu", name, v, max);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_double(const char *name, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || x < 0 || x != x) {
        nd_cli_error("option %s: \"%s\" is not a non-negative number", name, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_size(const char *name, const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1ull << 30, end++;
    if (errno || end == v || *end || v[0] == '-' || x == 0 || x > (1ull << 40) / mul) {
        nd_cli_error("option %s: \"%s\" is not a size like 512K, 32M or 1G", name, v);
        return -1;
    }
    *out = (size_t)(x * mul);
    return 0;
}

static int push(const char ***v, size_t *n, const char *s)
{
    const char **p = realloc((void *)*v, (*n + 1) * sizeof *p);
    if (!p) {
        nd_cli_error("out of memory");
        return -1;
    }
    p[(*n)++] = s;
    *v = p;
    return 0;
}

int nd_cli_run_opt(int argc, char **argv, int *i, nd_run_opts *o)
{
    const char *a = argv[*i], *v;
    int m;
    unsigned long u;
    if (strcmp(a, "--keep-boilerplate") == 0) {
        o->keep_boilerplate = true;
        return 1;
    }
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        o->log = NULL;
        return 1;
    }
    if (strcmp(a, "--no-progress") == 0) {
        o->progress = false;
        return 1;
    }
    if ((v = opt_value(argc, argv, i, "--method", &m)) || m) {
        if (!v)
            return -1;
        o->method = v;
        return 1;
    }
    if ((v = opt_value(argc, argv, i, "-o", &m)) || m) {
        if (!v)
            return -1;
        return push(&o->plugin_opts, &o->n_plugin_opts, v) ? -1 : 1;
    }
    if ((v = opt_value(argc, argv, i, "--plugin-dir", &m)) || m) {
        if (!v)
            return -1;
        return push(&o->plugin_dirs, &o->n_plugin_dirs, v) ? -1 : 1;
    }
    if ((v = opt_value(argc, argv, i, "--threads", &m)) || m ||
        (v = opt_value(argc, argv, i, "-j", &m)) || m) {
        if (!v || parse_uint("--threads", v, 1024, &u))
            return -1;
        o->threads = (unsigned)u;
        return 1;
    }
    if ((v = opt_value(argc, argv, i, "--site-depth", &m)) || m) {
        if (!v || parse_uint("--site-depth", v, 64, &u))
            return -1;
        o->site_depth = (unsigned)u;
        return 1;
    }
    if ((v = opt_value(argc, argv, i, "--max-doc-size", &m)) || m)
        return (!v || parse_size("--max-doc-size", v, &o->max_doc_bytes)) ? -1 : 1;
    if ((v = opt_value(argc, argv, i, "--threshold", &m)) || m)
        return (!v || parse_double("--threshold", v, &o->threshold)) ? -1 : 1;
    if ((v = opt_value(argc, argv, i, "--containment", &m)) || m)
        return (!v || parse_double("--containment", v, &o->containment)) ? -1 : 1;
    return 0;
}

bool nd_cli_analysis_help(const char *a, const char *usage, const char *exit_status)
{
    if (strcmp(a, "--help") != 0 && strcmp(a, "-h") != 0)
        return false;
    fputs(usage, stdout);
    fputs(nd_cli_run_opts_help, stdout);
    fputs("\n", stdout);
    fputs(exit_status, stdout);
    return true;
}
