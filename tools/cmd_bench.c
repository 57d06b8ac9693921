/*
 * cmd_bench.c - `zguard bench`: runs zguard-bench, the benchmark program,
 * with the same arguments.
 *
 * The benchmark links CZMQ (one of its contestants) and the zguard command
 * must not, so the work lives in a companion program found beside this
 * zguard (a build tree) or in libexec (an install). exec, not a child: its
 * exit status, signals and output are the command's own.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int cmd_bench(int argc, char **argv)
{
    (void)argc;
    char path[4096];
    if (cli_find_program("zguard bench", "zguard-bench", path, sizeof path) !=
        0)
        return EXIT_FAIL;
    /* argv[0] is "bench"; the program names itself after its argv[0] */
    argv[0] = "zguard bench";
    execv(path, argv);
    fprintf(stderr, "zguard bench: cannot run %s: %s\n", path, strerror(errno));
    return EXIT_FAIL;
}
