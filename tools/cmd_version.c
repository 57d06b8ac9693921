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
    if (argc > 1)
        return cli_usage_error("zguard version", "unexpected argument '%s'",
                               argv[1]);
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("zguard %s\n", zg_version_string());
    printf("libzmq %d.%d.%d (compiled against %d.%d.%d)\n", major, minor,
           patch, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
    printf("libsodium %s\n", sodium_version_string());
    return EXIT_OK;
}
