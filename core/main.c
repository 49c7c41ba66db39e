/* neardup's entry point: the subcommand table, global --help and --version. Each
 * subcommand lives in its own cmd_<name>.c and returns an exit code. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef ND_VERSION
#define ND_VERSION "dev"
#endif

static const struct nd_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"report", nd_cmd_report, "find syndicated copies, exact re-crawls and boilerplate in a crawl"},
    {"clean", nd_cmd_clean, "write a deduplicated, boilerplate-stripped copy of a crawl"},
    {"verify", nd_cmd_verify, "check a clean output folder against its manifest"},
    {"plugins", nd_cmd_plugins, "list the fingerprint plugins found, and why others failed"},
};

static void usage(FILE *f)
{
    fputs("usage: neardup COMMAND [OPTIONS] ...\n\n"
          "Finds duplicated content in web crawls (text, HTML, gzip, WARC, WARC.gz).\n\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "`neardup COMMAND --help` describes each command.\n\n"
          "Exit status: 0 success, 1 runtime failure (unreadable input, unusable plugin,\n"
          "write error), 2 usage error. Problems with single files of a crawl are not\n"
          "failures: each is reported in one line, counted in the summary, and the run\n"
          "goes on.\n\n"
          "Environment: NEARDUP_PLUGIN_PATH (':'-separated plugin folders), NEARDUP_IO_URING=0\n"
          "(read files one by one instead of in io_uring batches).\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ND_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            char help[] = "--help";
            char *sub[] = {argv[2], help, NULL};
            for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
                if (strcmp(commands[i].name, argv[2]) == 0)
                    return commands[i].fn(2, sub);
        }
        usage(stdout);
        return ND_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("neardup %s (plugin ABI %d.%d)\n", ND_VERSION, ND_PLUGIN_ABI_MAJOR,
               ND_PLUGIN_ABI_MINOR);
        return ND_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i].name, cmd) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    nd_cli_error("unknown command \"%s\" (see neardup --help)", cmd);
    return ND_EXIT_USAGE;
}
