/*
 * zguard.c - the zguard command: one subcommand per job, like wg(8).
 */
#include "cli.h"

#include <string.h>

static const command_t commands[] = {
    {"audit", cmd_audit, "find ZeroMQ sockets in C, C++, Python code and the mitigations they lack"},
    {"auth", cmd_auth, "check an allowlist directory as the authenticator sees it"},
    {"bench", cmd_bench, "zguard next to raw libzmq and CZMQ on this machine, interleaved"},
    {"demo", cmd_demo, "attack a gate live, one row per threat: each mitigation holds"},
    {"doctor", cmd_doctor, "check libzmq: version, advisories, CURVE, draft API; and a policy"},
    {"gate", cmd_gate, "CURVE and the whole policy in front of a service that cannot change yet"},
    {"key", cmd_key, "show, export, re-encrypt or rotate a key pair"},
    {"keygen", cmd_keygen, "make a CURVE key pair: NAME.key and NAME.key_secret"},
    {"policy", cmd_policy, "check a policy file, or document every value"},
    {"run", cmd_run, "the policy on every socket of an unmodified program (LD_PRELOAD)"},
    {"stats", cmd_stats, "the sockets of a running process, from its metrics"},
    {"version", cmd_version, "versions of zguard, libzmq and libsodium"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("usage: zguard <command> [arguments]\n"
          "\n"
          "zguard hardens ZeroMQ sockets from a written policy: bounded\n"
          "queues, timeouts on every send and receive, CURVE on every\n"
          "endpoint that leaves the process.\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'zguard <command> --help' explains a command.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_FAIL;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            char *help_argv[] = {argv[2], "--help", NULL};
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(commands[i].name, argv[2]) == 0)
                    return commands[i].run(2, help_argv);
            fprintf(stderr, "zguard: no command '%s'\n", argv[2]);
            return EXIT_FAIL;
        }
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "zguard: no command '%s' (see 'zguard --help')\n", name);
    return EXIT_FAIL;
}
