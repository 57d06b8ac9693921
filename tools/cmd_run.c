/*
 * cmd_run.c - `zguard run`: the policy on an unmodified program.
 *
 * Checks up front what would otherwise fail silently or later (a program
 * the loader would not preload into, a policy that does not load, a key
 * whose passphrase cannot be had), then execs the program with
 * libzguard-preload.so in LD_PRELOAD, so that the exit status is the
 * program's own. The policy and the passphrase file reach the preload as
 * paths in the environment: the secret itself never does.
 */
#include "cli.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD "zguard run"
#define PRELOAD_NAME "libzguard-preload.so"
#define NEEDED_MAX 64
#define ELF_READ_MAX (64 * 1024 * 1024)

static const char usage[] =
    "usage: zguard run [--policy FILE] [--passphrase-file F] -- CMD [ARGS...]\n"
    "       zguard run --observe --report FILE [--policy FILE] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD, an unmodified program that uses libzmq (C, C++, CZMQ, pyzmq),\n"
    "with the policy on every one of its sockets, through libzguard-preload.so\n"
    "in LD_PRELOAD (inherited by its children). Enforce mode:\n"
    "  - every socket is hardened at its first bind or connect: the policy's\n"
    "    HWM, timeouts, MAXMSGSIZE, LINGER, handshake limit, heartbeats, and\n"
    "    CURVE where the policy gives keys (a server gets its pair, ZAP and\n"
    "    zguard's fail-closed authenticator with the [auth] allowlist; a\n"
    "    client its pair and the pinned server key);\n"
    "  - [socket.NAME] sections with 'bind = tcp://*:5555' or\n"
    "    'connect = tcp://10.0.0.7:*' say which socket is which (first\n"
    "    endpoint wins, type must match); others get their [type.T] values;\n"
    "    an unmatched socket whose first endpoint is inproc:// is left alone;\n"
    "  - a call that weakens the policy fails: HWM 0 or an infinite timeout\n"
    "    (EINVAL), PLAIN, GSSAPI, other CURVE keys, a tcp bind without CURVE\n"
    "    where required (EACCES), each with one log line on standard error;\n"
    "    'app_overrides = allow' in the socket's section permits it;\n"
    "  - [metrics] listen serves the program's sockets to `zguard stats`.\n"
    "\n"
    "Refused before CMD starts: a setuid/setgid CMD (the loader ignores\n"
    "LD_PRELOAD there), a CMD linked statically or without libzmq.so.5 (a\n"
    "private libzmq copy is out of reach; interpreters such as python3 load\n"
    "libzmq later and cannot be checked), a policy that does not load, an\n"
    "encrypted key whose passphrase cannot be had.\n"
    "\n"
    "The -- is required: everything after it is the program's.\n"
    "\n"
    "  --policy FILE          the policy (default: the built-in one)\n"
    "  --passphrase-file F    passphrase of encrypted secret keys in the\n"
    "                         policy; else $ZGUARD_PASSPHRASE_FILE or the\n"
    "                         systemd credential zguard-passphrase. The\n"
    "                         program's zguard reads the same file.\n"
    "\n"
    "Observe mode (--observe --report FILE) changes nothing: every call goes\n"
    "through to libzmq as the program made it, and zguard records each\n"
    "context and socket: type, endpoints, the options the program set and\n"
    "libzmq's defaults of the others, messages and bytes each way, the\n"
    "longest time one send and one receive blocked, the mechanism (CURVE or\n"
    "not), and with --policy the [socket.NAME] that would match it. Reports:\n"
    "FILE (JSON, for `zguard policy suggest --from FILE`) and FILE.md (the\n"
    "analysis' shape: per mitigation, Currently Implemented / Missing\n"
    "Implementation), mode 0600, written atomically at exit, when the\n"
    "program terminates its last context, and on `kill -USR1 PID` (when\n"
    "the program does not handle SIGUSR1 itself). A forked child writes\n"
    "FILE.<pid> and FILE.<pid>.md.\n"
    "\n"
    "  --observe              observe mode (needs --report)\n"
    "  --report FILE          where observe mode writes its report\n"
    "\n"
    "Exit status: CMD's own; 2 when refused, 127 when CMD cannot be run.\n"
    "See docs/run.md.\n";

typedef struct run_args {
    const char *policy;
    const char *pass_file;
    const char *report;
    bool observe;
    char **cmd;
} run_args_t;

/* Options up to `--`, the program after it. The `--` is required, so that
 * an option of the program (its own --policy, say) is never taken for
 * zguard's. */
static int parse(int argc, char **argv, run_args_t *a)
{
    enum { OPT_POLICY, OPT_PASS, OPT_OBSERVE, OPT_REPORT };
    static const cli_opt_t opts[] = {
        {"policy", 0, "FILE", OPT_POLICY},
        {"passphrase-file", 0, "F", OPT_PASS},
        {"observe", 0, NULL, OPT_OBSERVE},
        {"report", 0, "FILE", OPT_REPORT},
        {NULL, 0, NULL, 0}};
    int dd = 1;
    while (dd < argc && strcmp(argv[dd], "--") != 0)
        dd++;
    if (dd >= argc - 1)
        return cli_usage_error(CMD, "no program to run: zguard run "
                               "[OPTIONS] -- CMD [ARGS...]");
    cli_opts_t op = {.cmd = CMD, .table = opts, .argc = dd, .argv = argv};
    for (int c; (c = cli_opt_next(&op)) != CLI_OPT_END;) {
        switch (c) {
        case OPT_POLICY: a->policy = op.value; break;
        case OPT_PASS: a->pass_file = op.value; break;
        case OPT_OBSERVE: a->observe = true; break;
        case OPT_REPORT: a->report = op.value; break;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (op.nargs)
        return cli_usage_error(CMD, "'%s' before '--': the program and its "
                               "arguments go after it",
                               cli_opt_args(&op)[0]);
    if (a->observe != (a->report != NULL))
        return cli_usage_error(CMD, a->observe
                                        ? "--observe needs --report FILE"
                                        : "--report FILE is for --observe");
    a->cmd = argv + dd + 1;
    return EXIT_OK;
}

/* ---- the program: where it is, and whether a preload can reach it ------- */

static int find_program(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return access(out, X_OK);
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(out, cap, "%.*s/%s", (int)n, n ? p : ".", name);
        if (access(out, X_OK) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    errno = ENOENT;
    return -1;
}

static bool is_interpreter(const char *path)
{
    static const char *const names[] = {"python", "perl", "ruby", "node",
                                        "nodejs", "java", "sh", "bash",
                                        "dash", "env", "lua", "php"};
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(base, names[i], n) == 0 &&
            (!base[n] || (base[n] >= '0' && base[n] <= '9') || base[n] == '.'))
            return true;
    }
    return false;
}

/* The file offset of a virtual address, through the PT_LOAD segments. */
static bool vaddr_offset(const Elf64_Phdr *ph, int n, uint64_t addr,
                         uint64_t *off)
{
    for (int i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && addr >= ph[i].p_vaddr &&
            addr < ph[i].p_vaddr + ph[i].p_filesz) {
            *off = addr - ph[i].p_vaddr + ph[i].p_offset;
            return true;
        }
    return false;
}

/* DT_NEEDED of a 64-bit ELF image: how many, or -1 with why. */
static int elf_needed(const unsigned char *img, size_t len,
                      const char **needed, int cap, const char **why)
{
    const Elf64_Ehdr *eh = (const void *)img;
    if (len < sizeof *eh || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phoff > len ||
        (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff) {
        *why = "is not a 64-bit ELF program (libzguard-preload.so is)";
        return -1;
    }
    const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff);
    const Elf64_Phdr *dyn = NULL;
    bool interp = false; /* static-pie has a dynamic section, no loader */
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = &ph[i];
        interp |= ph[i].p_type == PT_INTERP;
    }
    if (!dyn || !interp) {
        *why = "is linked statically: a preload cannot reach a libzmq "
               "inside it";
        return -1;
    }
    if (dyn->p_offset > len || dyn->p_filesz > len - dyn->p_offset) {
        *why = "has a truncated dynamic section";
        return -1;
    }
    const Elf64_Dyn *d = (const void *)(img + dyn->p_offset);
    size_t nd = dyn->p_filesz / sizeof *d;
    uint64_t strtab = 0, stroff;
    for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++)
        if (d[i].d_tag == DT_STRTAB)
            strtab = d[i].d_un.d_ptr;
    if (!strtab || !vaddr_offset(ph, eh->e_phnum, strtab, &stroff) ||
        stroff >= len) {
        *why = "has no readable string table in its dynamic section";
        return -1;
    }
    int n = 0;
    for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL && n < cap; i++)
        if (d[i].d_tag == DT_NEEDED && stroff + d[i].d_un.d_val < len &&
            memchr(img + stroff + d[i].d_un.d_val, '\0',
                   len - stroff - d[i].d_un.d_val))
            needed[n++] = (const char *)img + stroff + d[i].d_un.d_val;
    return n;
}

static unsigned char *read_image(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > ELF_READ_MAX) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    unsigned char *img = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (img && got < (size_t)st.st_size) {
        ssize_t r = read(fd, img + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return img;
}

/* EXIT_OK when a preload reaches the program's libzmq (or it cannot be
 * known before it runs), else EXIT_FAIL with the reason. */
static int check_program(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "zguard run: %s: %s\n", path, strerror(errno));
        return EXIT_FAIL;
    }
    if (st.st_mode & (S_ISUID | S_ISGID)) {
        fprintf(stderr, "zguard run: %s is set%sid: the loader ignores "
                "LD_PRELOAD for it, so it would run without the policy\n",
                path, st.st_mode & S_ISUID ? "u" : "g");
        return EXIT_FAIL;
    }
    size_t len = 0;
    unsigned char *img = read_image(path, &len);
    if (!img) {
        fprintf(stderr, "zguard run: %s: cannot read it\n", path);
        return EXIT_FAIL;
    }
    int rc = EXIT_OK;
    if (len >= 2 && img[0] == '#' && img[1] == '!') {
        fprintf(stderr, "zguard run: note: %s is a script: which libzmq its "
                "interpreter loads cannot be checked before it runs\n", path);
    } else if (len < SELFMAG || memcmp(img, ELFMAG, SELFMAG) != 0) {
        fprintf(stderr, "zguard run: %s is neither an ELF program nor a "
                "script\n", path);
        rc = EXIT_FAIL;
    } else {
        const char *needed[NEEDED_MAX], *why = NULL;
        int n = elf_needed(img, len, needed, NEEDED_MAX, &why);
        const char *zmq = NULL;
        for (int i = 0; i < n && !zmq; i++)
            if (strncmp(needed[i], "libzmq", 6) == 0)
                zmq = needed[i];
        if (n < 0) {
            fprintf(stderr, "zguard run: %s %s\n", path, why);
            rc = EXIT_FAIL;
        } else if (zmq && strcmp(zmq, "libzmq.so.5") != 0) {
            fprintf(stderr, "zguard run: %s uses %s, not libzmq.so.5, "
                    "which libzguard-preload.so wraps\n", path, zmq);
            rc = EXIT_FAIL;
        } else if (!zmq && is_interpreter(path)) {
            fprintf(stderr, "zguard run: note: %s is an interpreter: which "
                    "libzmq it loads cannot be checked before it runs (a "
                    "private copy, as in zeromq.js, is out of reach)\n",
                    path);
        } else if (!zmq) {
            fprintf(stderr, "zguard run: %s does not link libzmq.so.5 "
                    "(%d libraries in its dynamic section, none libzmq): a "
                    "static or private libzmq copy is out of reach of the "
                    "preload\n", path, n);
            rc = EXIT_FAIL;
        }
    }
    free(img);
    return rc;
}

/* ---- the policy's keys: every encrypted secret must open now ----------- */

static int check_secret(const char *cmd, const char *key,
                        const char *pass_file, zg_passphrase_t **pass)
{
    int enc = zg_cert_secret_encrypted(key);
    if (enc < 0) {
        fprintf(stderr, "%s: %s\n", cmd, zg_last_error());
        return EXIT_FAIL;
    }
    if (enc == 0)
        return EXIT_OK;
    if (!*pass) {
        *pass = pass_file ? zg_passphrase_from_file(pass_file)
                          : zg_passphrase_from_env();
        if (!*pass) {
            if (pass_file || errno != ENOENT)
                fprintf(stderr, "%s: %s\n", cmd, zg_last_error());
            else
                fprintf(stderr, "%s: %s is encrypted and no passphrase is "
                        "given: use --passphrase-file F, "
                        "ZGUARD_PASSPHRASE_FILE or the systemd credential "
                        "%s (the program has no terminal to ask on)\n",
                        cmd, key, ZG_PASSPHRASE_CREDENTIAL);
            return EXIT_FAIL;
        }
    }
    zg_cert_t *c = zg_cert_load_pair(key, *pass);
    if (!c) {
        fprintf(stderr, "%s: %s\n", cmd, zg_last_error());
        return EXIT_FAIL;
    }
    zg_cert_destroy(&c);
    return EXIT_OK;
}

static int check_keys(const zg_policy_t *p, const char *pass_file)
{
    zg_passphrase_t *pass = NULL;
    zg_setting_t set[ZG_FIELD_COUNT];
    int rc = EXIT_OK;
    size_t n = zg_policy_socket_count(p);
    /* every named socket, then every type's unnamed sockets */
    for (size_t i = 0; rc == EXIT_OK; i++) {
        const char *name = i < n ? zg_policy_socket_name(p, i) : NULL;
        int type = i < n ? zg_policy_socket_type(p, name) : (int)(i - n);
        if (i >= n && !zg_type_name(type))
            break;
        if (zg_policy_settings(p, type, name, set, ZG_FIELD_COUNT,
                               sizeof set[0]) != 0 ||
            !set[ZG_FIELD_CURVE_KEYS].str)
            continue;
        rc = check_secret("zguard run", set[ZG_FIELD_CURVE_KEYS].str,
                          pass_file, &pass);
    }
    zg_passphrase_destroy(&pass);
    return rc;
}

/* ---- the environment of the program ------------------------------------ */

static int find_preload(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            snprintf(out, cap, "%.*s/%s", (int)(slash - self), self,
                     PRELOAD_NAME);
            if (access(out, R_OK) == 0)
                return 0;
        }
    }
    snprintf(out, cap, "%s/%s", ZG_PRELOAD_DIR, PRELOAD_NAME);
    if (access(out, R_OK) == 0)
        return 0;
    fprintf(stderr, "zguard run: cannot find %s beside zguard or in %s (is "
            "zguard fully built or installed?)\n", PRELOAD_NAME, ZG_PRELOAD_DIR);
    return -1;
}

/* A sanitizer runtime must be the first library of all (ASan refuses to
 * start otherwise): one already in LD_PRELOAD stays in front. */
static bool is_sanitizer_runtime(const char *entry, size_t n)
{
    static const char *const names[] = {"libasan.so", "libtsan.so",
                                        "libubsan.so", "libclang_rt."};
    const char *base = entry;
    for (size_t i = 0; i < n; i++)
        if (entry[i] == '/')
            base = entry + i + 1;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strncmp(base, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

/* The preload's LD_PRELOAD entry: its path, or, when the path holds a
 * space (the loader splits LD_PRELOAD on spaces and colons: a clone in
 * "~/my projects" would have one), its bare name, found through its
 * directory put first in LD_LIBRARY_PATH (split on colons only). A colon
 * in the directory cannot be written in either. */
static int preload_entry(const char *preload, const char **entry)
{
    *entry = preload;
    if (!strchr(preload, ' ') && !strchr(preload, ':'))
        return 0;
    const char *slash = strrchr(preload, '/');
    size_t dir = slash ? (size_t)(slash - preload) : 0;
    if (memchr(preload, ':', dir ? dir : strlen(preload))) {
        fprintf(stderr, "zguard run: %s: neither LD_PRELOAD nor "
                "LD_LIBRARY_PATH can hold a path with ':'\n", preload);
        return -1;
    }
    const char *old = getenv("LD_LIBRARY_PATH");
    char *v = malloc(dir + (old ? strlen(old) : 0) + 2);
    if (!v)
        return -1;
    sprintf(v, "%.*s%s%s", (int)dir, preload, old && *old ? ":" : "",
            old ? old : "");
    int rc = setenv("LD_LIBRARY_PATH", v, 1);
    free(v);
    *entry = slash ? slash + 1 : preload;
    return rc;
}

/* LD_PRELOAD with the preload before what was there (but after sanitizer
 * runtimes). */
static int set_env(const char *path, const char *policy,
                   const char *pass_file)
{
    const char *preload;
    if (preload_entry(path, &preload) != 0)
        return -1;
    const char *old = getenv("LD_PRELOAD");
    old = old ? old : "";
    size_t cap = strlen(preload) + strlen(old) + 3;
    char *v = malloc(cap);
    if (!v)
        return -1;
    size_t used = 0;
    for (int pass = 0; pass < 3; pass++) { /* runtimes, preload, the rest */
        if (pass == 1) {
            used += (size_t)snprintf(v + used, cap - used, "%s%s",
                                     used ? ":" : "", preload);
            continue;
        }
        for (const char *p = old; *p;) {
            size_t n = strcspn(p, ": ");
            if (n && is_sanitizer_runtime(p, n) == (pass == 0))
                used += (size_t)snprintf(v + used, cap - used, "%s%.*s",
                                         used ? ":" : "", (int)n, p);
            p += n;
            p += *p != '\0';
        }
    }
    int rc = setenv("LD_PRELOAD", v, 1);
    free(v);
    char abs[PATH_MAX];
    if (rc == 0 && policy)
        rc = realpath(policy, abs) ? setenv("ZGUARD_POLICY", abs, 1) : -1;
    else if (rc == 0)
        rc = unsetenv("ZGUARD_POLICY");
    if (rc == 0 && pass_file)
        rc = realpath(pass_file, abs)
                 ? setenv("ZGUARD_PASSPHRASE_FILE", abs, 1)
                 : -1;
    if (rc != 0)
        fprintf(stderr, "zguard run: cannot set the environment: %s\n",
                strerror(errno));
    return rc;
}

/* The report's absolute path (the program may chdir), in a directory we
 * can write: checked now, not found out at the program's exit. */
static int report_env(const char *report)
{
    if (!report) {
        unsetenv("ZGUARD_REPORT_PID");
        return unsetenv("ZGUARD_REPORT");
    }
    char dir[PATH_MAX], abs[PATH_MAX];
    const char *slash = strrchr(report, '/');
    const char *base = slash ? slash + 1 : report;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - report) : 1,
             slash ? (slash == report ? "/" : report) : ".");
    if (!*base || !realpath(dir, abs) || access(abs, W_OK | X_OK) != 0) {
        fprintf(stderr, "zguard run: --report %s: %s\n", report,
                *base ? strerror(errno) : "names a directory, not a file");
        return -1;
    }
    char path[PATH_MAX + NAME_MAX + 2], pid[32];
    snprintf(path, sizeof path, "%s/%s", strcmp(abs, "/") ? abs : "", base);
    snprintf(pid, sizeof pid, "%d", (int)getpid()); /* exec keeps it */
    return setenv("ZGUARD_REPORT", path, 1) || setenv("ZGUARD_REPORT_PID",
                                                      pid, 1);
}

int cmd_run(int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_FAIL : EXIT_OK;
    }
    run_args_t a = {0};
    if (parse(argc, argv, &a) != EXIT_OK)
        return EXIT_FAIL;
    char path[PATH_MAX], preload[PATH_MAX];
    if (find_program(a.cmd[0], path, sizeof path) != 0) {
        fprintf(stderr, "zguard run: %s: %s\n", a.cmd[0], strerror(errno));
        return 127;
    }
    if (check_program(path) != EXIT_OK || find_preload(preload, sizeof preload))
        return EXIT_FAIL;
    if (a.policy) {
        zg_diag_t *diag = zg_diag_new();
        zg_policy_t *p = zg_policy_load(a.policy, diag);
        if (!p) {
            zg_diag_print(diag, stderr);
            fprintf(stderr, "zguard run: %s does not load: nothing was run\n",
                    a.policy);
        }
        zg_diag_destroy(&diag);
        /* observe mode only matches sections: it needs no keys */
        int rc = !p ? EXIT_FAIL : a.observe ? EXIT_OK
                                            : check_keys(p, a.pass_file);
        zg_policy_destroy(&p);
        if (rc != EXIT_OK)
            return EXIT_FAIL;
    }
    if (report_env(a.report) != 0 ||
        set_env(preload, a.policy, a.pass_file) != 0)
        return EXIT_FAIL;
    execv(path, a.cmd);
    fprintf(stderr, "zguard run: %s: %s\n", path, strerror(errno));
    return 127;
}
