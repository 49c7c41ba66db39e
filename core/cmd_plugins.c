/* `neardup plugins`: every plugin found on the search path with its name, version,
 * ABI, file and description, its options, and one line for each file that failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader.h"

static const char plugins_help[] =
    "usage: neardup plugins [--plugin-dir DIR]...\n\n"
    "Lists the fingerprint plugins found (in --plugin-dir folders, $NEARDUP_PLUGIN_PATH,\n"
    "the plugins folder beside the neardup binary, then " ND_PLUGIN_INSTALL_DIR "),\n"
    "with their options, and the reason for every plugin file that could not be used.\n"
    "Exit status: 0 when at least one plugin loaded, 1 when none did, 2 usage error.\n";

int nd_cmd_plugins(int argc, char **argv)
{
    nd_run_opts o;
    nd_run_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(plugins_help, stdout);
            nd_run_opts_release(&o);
            return ND_EXIT_OK;
        }
        int r = strncmp(argv[i], "--plugin-dir", 12) == 0 ? nd_cli_run_opt(argc, argv, &i, &o) : 0;
        if (r == 1)
            continue;
        if (r == 0)
            nd_cli_error("plugins: unexpected argument \"%s\" (see neardup plugins --help)", argv[i]);
        nd_run_opts_release(&o);
        return ND_EXIT_USAGE;
    }
    nd_registry reg = {0};
    if (nd_registry_load(&reg, o.plugin_dirs, o.n_plugin_dirs) < 0) {
        nd_cli_error("%s", nd_errmsg());
        nd_registry_free(&reg);
        nd_run_opts_release(&o);
        return ND_EXIT_FAIL;
    }
    for (size_t i = 0; i < reg.n; i++) {
        const nd_plugin *d = reg.v[i].desc;
        printf("%-10s %-8s ABI %u.%u  %s\n", d->name, d->version, d->abi_major, d->abi_minor,
               reg.v[i].path);
        printf("           %s\n", d->description);
        for (const nd_option *op = d->options; op && op->key; op++)
            printf("           -o %s.%s=%s  %s\n", d->name, op->key,
                   op->default_value ? op->default_value : "", op->help ? op->help : "");
    }
    for (size_t i = 0; i < reg.n_fail; i++)
        printf("failed     %s: %s\n", reg.fail[i].path, reg.fail[i].reason);
    if (reg.n == 0)
        nd_cli_error("no plugin could be loaded (try --plugin-dir, or `make` to build them)");
    int rc = reg.n ? ND_EXIT_OK : ND_EXIT_FAIL;
    nd_registry_free(&reg);
    nd_run_opts_release(&o);
    return rc;
}
