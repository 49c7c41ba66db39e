/* The command line: one nd_cmd_<name>() per subcommand (cmd_<name>.c), the options
 * every analysing subcommand shares, and the exit codes scripts rely on. */
#ifndef ND_CLI_H
#define ND_CLI_H

#include <stdbool.h>

#include "run.h"

#define ND_EXIT_OK 0      /* success (duplicates found or not) */
#define ND_EXIT_FAIL 1    /* runtime failure: unreadable root, unusable plugin, write error */
#define ND_EXIT_USAGE 2   /* bad command line */

/* A subcommand: argv[0] is its name. Returns an ND_EXIT_* code; prints its own errors
 * as "neardup: ..." on stderr. */
int nd_cmd_report(int argc, char **argv);
int nd_cmd_plugins(int argc, char **argv);
int nd_cmd_clean(int argc, char **argv);
int nd_cmd_verify(int argc, char **argv);

/* Options shared by report and clean (--method, -o, --plugin-dir, --threads,
 * --keep-boilerplate, --site-depth, --max-doc-size, --threshold, --containment,
 * --quiet, --no-progress). If argv[*i] is one of them, consume it (and its value,
 * advancing *i) into o and return 1; return 0 if it is not one; print a usage error
 * and return -1 when its value is missing or bad. */
int nd_cli_run_opt(int argc, char **argv, int *i, nd_run_opts *o);
/* Help text for those options, for each subcommand's --help. */
extern const char nd_cli_run_opts_help[];

/* If a is --help or -h: print usage, then the shared analysis options, then
 * exit_status (its own paragraph) on stdout, and return true. */
bool nd_cli_analysis_help(const char *a, const char *usage, const char *exit_status);

/* "neardup: " + message + newline on stderr. */
void nd_cli_error(const char *fmt, ...) ND_PRINTF(1, 2);

#endif
