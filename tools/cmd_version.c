/*
 * cmd_version.c - `zguard version`: which zguard, libzmq and libsodium run.
 *
 * libzmq is reported twice because the library loaded at run time can differ
 * from the headers zguard was built with, and only the run-time one matters
 * for advisories.
 */
#include "cli.h"

#include <sodium.h>
#include <zguard.h>

static const char usage[] =
    "usage: zguard version\n"
    "\n"
    "Prints the versions of zguard, of the libzmq loaded at run time (and the\n"
    "one zguard was compiled against, when they differ that is worth knowing)\n"
    "and of libsodium, one per line.\n";

int cmd_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    static const cli_opt_t none[] = {{NULL, 0, NULL, 0}};
    cli_opts_t p = {.cmd = "zguard version", .table = none, .argc = argc,
                    .argv = argv};
    if (cli_opt_next(&p) == CLI_OPT_ERROR)
        return EXIT_FAIL;
    if (p.nargs)
        return cli_usage_error("zguard version", "unexpected argument '%s'",
                               cli_opt_args(&p)[0]);
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("zguard %s\n", zg_version_string());
    printf("libzmq %d.%d.%d (compiled against %d.%d.%d)\n", major, minor,
           patch, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
    printf("libsodium %s\n", sodium_version_string());
    return EXIT_OK;
}
