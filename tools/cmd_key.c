/*
 * cmd_key.c - `zguard keygen` and `zguard key show|export-secret|passwd`.
 *
 * Key pairs as files (docs/keys.md): NAME.key, the public certificate, and
 * NAME.key_secret, encrypted under a passphrase unless --no-passphrase. A
 * passphrase comes from a file, the environment or the terminal, never from
 * the command line, where every user of the machine could read it.
 *
 * Options are matched exactly (cli_opt.h): otherwise `--passphrase SECRET`
 * would be taken for `--passphrase-file SECRET`. No message quotes an
 * argument that is not an option: it may be a passphrase typed there.
 */
#include "cli.h"
#include "zguard_tools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096

static const char keygen_usage[] =
    "usage: zguard keygen NAME [--dir DIR] [--passphrase-file FILE | "
    "--no-passphrase]\n"
    "                     [--meta NAME=VALUE]... [--cost C] [--force]\n"
    "\n"
    "Makes a CURVE key pair and writes it as two files:\n"
    "\n"
    "  DIR/NAME.key         the public certificate (mode 0644): give it to "
    "the\n"
    "                       peers that must accept this key\n"
    "  DIR/NAME.key_secret  the secret key (mode 0600), encrypted with a\n"
    "                       passphrase (Argon2id + XChaCha20-Poly1305)\n"
    "\n"
    "Both are ZPL certificates as CZMQ and pyzmq write them; they read the\n"
    "public key of either file, and 'zguard key export-secret' makes a\n"
    "plaintext secret for peers that cannot use zguard.\n"
    "\n"
    "  --dir DIR              where to write (default: the current directory)\n"
    "  --passphrase-file FILE the passphrase is FILE's first line; FILE must\n"
    "                         be accessible by its owner only (chmod 600)\n"
    "  --no-passphrase        write the secret unencrypted (CZMQ/pyzmq "
    "layout)\n"
    "  --meta NAME=VALUE      metadata to record (repeatable): NAME is a-z "
    "0-9\n"
    "                         _ - . ; 'expires' is a UTC time like\n"
    "                         2027-01-31T00:00:00Z, which zguard's\n"
    "                         authenticator enforces\n"
    "  --cost C               Argon2id cost: interactive (64 MiB), moderate\n"
    "                         (256 MiB, the default) or sensitive (1 GiB)\n"
    "  --force                replace an existing pair\n"
    "\n"
    "Without --passphrase-file the passphrase comes from the file named by\n"
    "$ZGUARD_PASSPHRASE_FILE, else the systemd credential zguard-passphrase\n"
    "($CREDENTIALS_DIRECTORY), else it is asked twice on the terminal. A\n"
    "passphrase is never taken from the command line.\n"
    "\n"
    "DIR is created (mode 0700) if missing. Metadata 'name' (NAME) and\n"
    "'created' (now) are recorded. Prints the public key, its fingerprint\n"
    "and both paths. Exit 0, or 2 with one line\n"
    "on standard error and nothing written.\n"
    "\n"
    "  zguard keygen orders-in --dir /etc/zguard/keys \\\n"
    "      --passphrase-file /run/secrets/zguard-pass --meta owner=ops\n";

static const char key_usage[] =
    "usage: zguard key show KEY [--json]\n"
    "       zguard key export-secret KEY --out FILE [--passphrase-file F]\n"
    "       zguard key passwd KEY [--passphrase-file OLD]\n"
    "                             [--new-passphrase-file NEW | "
    "--no-passphrase] [--cost C]\n"
    "       zguard key rotate KEY [--passphrase-file F | --no-passphrase]\n"
    "                             [--cost C] [--allowlist DIR]\n"
    "\n"
    "KEY is either file of a pair: DIR/NAME.key or DIR/NAME.key_secret "
    "(CZMQ's\n"
    "NAME and NAME_secret work too).\n"
    "\n"
    "show           The public key (Z85), its fingerprint, the metadata, both\n"
    "               paths, and whether the secret exists and is encrypted. It\n"
    "               never decrypts and never prints the secret. A secret the\n"
    "               others would refuse (readable by others, another owner)\n"
    "               is a warning here. --json for tools.\n"
    "export-secret  Decrypts the secret and writes it UNENCRYPTED to FILE\n"
    "               (mode 0600, never over an existing file), in the layout\n"
    "               CZMQ's zcert_load and pyzmq's load_certificate read, for\n"
    "               peers that cannot use zguard. Delete it when done.\n"
    "passwd         Encrypts the secret under a new passphrase (or, with\n"
    "               --no-passphrase, stores it unencrypted); a plaintext\n"
    "               secret gets encrypted. The file is replaced atomically.\n"
    "rotate         Keeps the pair under a dated name (NAME.YYYYmmddTHHMMSSZ\n"
    "               .key and _secret) and writes a fresh pair with the same\n"
    "               metadata as NAME.key / NAME.key_secret, encrypted under\n"
    "               the passphrase (or not, with --no-passphrase). --allowlist\n"
    "               DIR also authorizes the new key there, beside the old one.\n"
    "               Prints the next steps (docs/key-rotation.md).\n"
    "\n"
    "The passphrase of an encrypted secret: --passphrase-file FILE (its\n"
    "first line; FILE must be chmod 600), else the file named by\n"
    "$ZGUARD_PASSPHRASE_FILE, else the systemd credential zguard-passphrase,\n"
    "else the terminal. passwd asks the new passphrase twice on the terminal\n"
    "unless --new-passphrase-file or --no-passphrase is given.\n"
    "\n"
    "Exit 0, or 2 with one line on standard error and nothing written.\n";

/* ---- options --------------------------------------------------------------
 */

enum { O_DIR, O_PASS_FILE, O_NEW_PASS_FILE, O_NO_PASS, O_META, O_COST,
       O_FORCE, O_JSON, O_OUT, O_ALLOWLIST };

#define OPT_DIR {"dir", 0, "DIR", O_DIR}
#define OPT_PASS_FILE {"passphrase-file", 0, "FILE", O_PASS_FILE}
#define OPT_NEW_PASS_FILE {"new-passphrase-file", 0, "FILE", O_NEW_PASS_FILE}
#define OPT_NO_PASS {"no-passphrase", 0, NULL, O_NO_PASS}
#define OPT_META {"meta", 0, "NAME=VALUE", O_META}
#define OPT_COST {"cost", 0, "C", O_COST}
#define OPT_FORCE {"force", 0, NULL, O_FORCE}
#define OPT_JSON {"json", 0, NULL, O_JSON}
#define OPT_OUT {"out", 0, "FILE", O_OUT}
#define OPT_ALLOWLIST {"allowlist", 0, "DIR", O_ALLOWLIST}
#define OPT_TABLE_END {NULL, 0, NULL, 0}

typedef struct args {
    const char *cmd;
    const char *positional[2];
    int npositional;
} args_t;

/* Calls on(id, value) for each option; the other arguments are kept. */
typedef int(on_opt_fn)(void *arg, int id, const char *value);

static int parse(args_t *a, int argc, char **argv, const cli_opt_t *opts,
                 on_opt_fn *on, void *arg)
{
    cli_opts_t p = {.cmd = a->cmd, .table = opts, .argc = argc, .argv = argv};
    for (int id; (id = cli_opt_next(&p)) != CLI_OPT_END;) {
        if (id == CLI_OPT_ERROR)
            return EXIT_FAIL;
        int rc = on(arg, id, p.value);
        if (rc != EXIT_OK)
            return rc;
    }
    /* not echoed: a passphrase typed here must not be printed */
    if (p.nargs > 2)
        return cli_usage_error(a->cmd, "too many arguments");
    for (int i = 0; i < p.nargs; i++)
        a->positional[a->npositional++] = cli_opt_args(&p)[i];
    return EXIT_OK;
}

static int fail(const char *cmd)
{
    fprintf(stderr, "%s: %s\n", cmd, zg_last_error());
    return EXIT_FAIL;
}

static int parse_cost(const char *cmd, const char *text, zg_kdf_cost_t *out)
{
    static const char *const names[] = {"interactive", "moderate", "sensitive"};
    for (int i = 0; i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (zg_kdf_cost_t)i;
            return EXIT_OK;
        }
    return cli_usage_error(cmd,
                           "--cost is interactive, moderate or "
                           "sensitive, not '%s'",
                           text);
}

/* ---- passphrases ------------------------------------------------------------
 */

/* The pair of KEY, asking a passphrase only when its secret is encrypted. */
static int load_pair(const char *cmd, const char *key, const char *pass_file,
                     zg_cert_t **out)
{
    int encrypted = zg_cert_secret_encrypted(key);
    if (encrypted < 0)
        return fail(cmd);
    zg_passphrase_t *pass = NULL;
    if (encrypted) {
        char prompt[PATH_CAP + 32];
        snprintf(prompt, sizeof prompt, "Passphrase for %s: ", key);
        int rc = cli_get_passphrase(cmd, pass_file, true, prompt, false, &pass);
        if (rc != EXIT_OK)
            return rc;
    }
    *out = zg_cert_load_pair(key, pass);
    zg_passphrase_destroy(&pass);
    return *out ? EXIT_OK : fail(cmd);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

/* ---- keygen -----------------------------------------------------------------
 */

typedef struct keygen {
    const char *dir, *pass_file;
    bool no_pass, force;
    zg_kdf_cost_t cost;
    const char *meta[ZG_META_COUNT_MAX];
    int nmeta;
} keygen_t;

static int keygen_opt(void *arg, int id, const char *value)
{
    keygen_t *k = arg;
    if (id == O_DIR)
        k->dir = value;
    else if (id == O_PASS_FILE)
        k->pass_file = value;
    else if (id == O_NO_PASS)
        k->no_pass = true;
    else if (id == O_FORCE)
        k->force = true;
    else if (id == O_COST)
        return parse_cost("zguard keygen", value, &k->cost);
    else if (k->nmeta == ZG_META_COUNT_MAX - 2)
        return cli_usage_error("zguard keygen", "too many --meta");
    else
        k->meta[k->nmeta++] = value;
    return EXIT_OK;
}

static bool name_ok(const char *name)
{
    return *name && name[0] != '.' && strlen(name) < ZG_META_VALUE_MAX &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == strlen(name);
}

static int set_meta(zg_cert_t *cert, const char *arg)
{
    char name[ZG_META_NAME_MAX];
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof name)
        return cli_usage_error("zguard keygen",
                               "--meta wants NAME=VALUE, "
                               "not '%s'",
                               arg);
    snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
    if (zg_cert_set_meta(cert, name, eq + 1) != 0)
        return cli_usage_error("zguard keygen", "--meta %s", zg_last_error());
    return EXIT_OK;
}

/* Like mkdir -p, but the key directory itself is private (0700): it holds
 * secrets. Parents get the usual 0755 (less the umask). */
static int make_dirs(const char *dir)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int cmd_keygen(int argc, char **argv)
{
    static const char cmd[] = "zguard keygen";
    static const cli_opt_t opts[] = {OPT_DIR,  OPT_PASS_FILE, OPT_NO_PASS,
                                     OPT_META, OPT_COST,      OPT_FORCE,
                                     OPT_TABLE_END};
    if (cli_wants_help(argc, argv)) {
        fputs(keygen_usage, stdout);
        return EXIT_OK;
    }
    keygen_t k = {.dir = ".", .cost = ZG_KDF_MODERATE};
    args_t a = {.cmd = cmd};
    int rc = parse(&a, argc, argv, opts, keygen_opt, &k);
    if (rc != EXIT_OK)
        return rc;
    if (a.npositional != 1)
        return cli_usage_error(cmd, a.npositional ? "one NAME only"
                                                  : "no NAME given");
    const char *name = a.positional[0];
    if (!name_ok(name))
        return cli_usage_error(cmd, "NAME is letters, digits, '.', '_' and "
                                    "'-', not starting with '.'");
    if (k.pass_file && k.no_pass)
        return cli_usage_error(cmd, "--passphrase-file or --no-passphrase, "
                                    "not both");
    char pub[PATH_CAP], sec[PATH_CAP];
    snprintf(pub, sizeof pub, "%s/%s.key", k.dir, name);
    snprintf(sec, sizeof sec, "%s/%s.key_secret", k.dir, name);
    zg_cert_t *cert = zg_cert_new();
    if (!cert)
        return fail(cmd);
    zg_passphrase_t *pass = NULL;
    rc = zg_cert_set_meta(cert, "name", name) == 0 ? EXIT_OK : fail(cmd);
    for (int i = 0; rc == EXIT_OK && i < k.nmeta; i++)
        rc = set_meta(cert, k.meta[i]);
    if (rc == EXIT_OK && !k.force && (exists(pub) || exists(sec))) {
        fprintf(stderr,
                "%s: %s already exists: not overwritten (--force "
                "replaces the pair)\n",
                cmd, exists(pub) ? pub : sec);
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK && !k.no_pass)
        rc = cli_get_passphrase(cmd, k.pass_file, true,
                            "New passphrase for the secret key: ", true, &pass);
    if (rc == EXIT_OK && make_dirs(k.dir) != 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", cmd, k.dir,
                strerror(errno));
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK &&
        zg_cert_write(cert, pub, sec, pass, k.cost,
                      k.force ? ZG_WRITE_REPLACE : ZG_WRITE_NOREPLACE) != 0)
        rc = fail(cmd);
    if (rc == EXIT_OK)
        printf("public key   %s\nfingerprint  %s\npublic       %s\n"
               "secret       %s (%s)\n",
               zg_cert_public_text(cert), zg_cert_fingerprint(cert), pub, sec,
               pass ? "encrypted" : "NOT encrypted");
    zg_passphrase_destroy(&pass);
    zg_cert_destroy(&cert);
    return rc;
}

/* ---- key show
 * ---------------------------------------------------------------- */

typedef struct key_opts {
    bool json, no_pass;
    const char *out, *pass_file, *new_pass_file, *allowlist;
    zg_kdf_cost_t cost;
} key_opts_t;

static int key_opt(void *arg, int id, const char *value)
{
    key_opts_t *o = arg;
    if (id == O_JSON)
        o->json = true;
    else if (id == O_OUT)
        o->out = value;
    else if (id == O_PASS_FILE)
        o->pass_file = value;
    else if (id == O_NEW_PASS_FILE)
        o->new_pass_file = value;
    else if (id == O_NO_PASS)
        o->no_pass = true;
    else if (id == O_ALLOWLIST)
        o->allowlist = value;
    else if (id == O_COST)
        return parse_cost("zguard key", value, &o->cost);
    return EXIT_OK;
}

/* What `key show` says about the secret file: it is read only to learn
 * whether it is encrypted, never decrypted, and a secret the library
 * refuses to load (a loose mode, as pyzmq writes them, or another owner)
 * does not hide the public half: it is reported and warned about. */
typedef struct {
    bool exists;
    int encrypted;       /* 1, 0, or -1: missing or not read */
    const char *problem; /* why it was not read, or NULL */
} secret_state_t;

static const char *secret_word(const secret_state_t *s)
{
    if (!s->exists)
        return "missing";
    if (s->problem)
        return "not read: see the warning";
    return s->encrypted ? "encrypted" : "NOT encrypted";
}

static void show_text(const zg_cert_t *c, const char *pub, const char *sec,
                      const secret_state_t *s)
{
    printf("public key   %s\nfingerprint  %s\npublic       %s\n"
           "secret       %s (%s)\n",
           zg_cert_public_text(c), zg_cert_fingerprint(c), pub, sec,
           secret_word(s));
    if (zg_cert_meta_count(c))
        printf("metadata\n");
    for (size_t i = 0; i < zg_cert_meta_count(c); i++) {
        const char *n = zg_cert_meta_name(c, i);
        printf("    %s = %s\n", n, zg_cert_meta(c, n));
    }
}

static void show_json(const zg_cert_t *c, const char *pub, bool has_pub,
                      const char *sec, const secret_state_t *s)
{
    printf("{\"public_key\": ");
    cli_json_string(stdout, zg_cert_public_text(c));
    printf(", \"fingerprint\": ");
    cli_json_string(stdout, zg_cert_fingerprint(c));
    printf(", \"public_file\": ");
    cli_json_string(stdout, has_pub ? pub : NULL);
    printf(", \"secret_file\": ");
    cli_json_string(stdout, s->exists ? sec : NULL);
    printf(", \"secret_exists\": %s, \"secret_encrypted\": %s",
           s->exists ? "true" : "false", s->encrypted > 0 ? "true" : "false");
    printf(", \"secret_problem\": ");
    cli_json_string(stdout, s->problem);
    printf(", \"metadata\": {");
    for (size_t i = 0; i < zg_cert_meta_count(c); i++) {
        const char *n = zg_cert_meta_name(c, i);
        printf("%s", i ? ", " : "");
        cli_json_string(stdout, n);
        printf(": ");
        cli_json_string(stdout, zg_cert_meta(c, n));
    }
    printf("}}\n");
}

static int key_show(const char *key, const key_opts_t *o)
{
    static const char cmd[] = "zguard key show";
    char pub[PATH_CAP], sec[PATH_CAP];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return fail(cmd);
    bool has_pub = exists(pub);
    secret_state_t s = {.exists = exists(sec), .encrypted = -1};
    /* the public half of a pair whose public file is missing is in its
     * secret file; zg_cert_load keeps only that half */
    zg_cert_t *c = zg_cert_load(has_pub || !s.exists ? pub : sec);
    if (!c)
        return fail(cmd);
    char problem[ZG_ERROR_MAX];
    if (s.exists && (s.encrypted = zg_cert_secret_encrypted(key)) < 0) {
        /* a corrupted secret is an error here too; a mode or an owner the
         * readers refuse is only a warning */
        if (errno != EPERM && errno != EACCES) {
            zg_cert_destroy(&c);
            return fail(cmd);
        }
        snprintf(problem, sizeof problem, "%s", zg_last_error());
        s.problem = problem;
        fprintf(stderr,
                "%s: warning: %s\n%s: the public key is shown; whatever "
                "reads the secret (gate, export-secret, passwd, rotate, a "
                "policy's curve_keys) refuses it until this is fixed\n",
                cmd, problem, cmd);
    }
    if (o->json)
        show_json(c, pub, has_pub, sec, &s);
    else
        show_text(c, has_pub ? pub : "(none)", s.exists ? sec : "(none)", &s);
    zg_cert_destroy(&c);
    return EXIT_OK;
}

/* ---- key export-secret
 * ------------------------------------------------------- */

static int key_export(const char *key, const key_opts_t *o)
{
    static const char cmd[] = "zguard key export-secret";
    if (!o->out)
        return cli_usage_error(cmd, "--out FILE is required");
    if (exists(o->out)) {
        fprintf(stderr, "%s: %s already exists: not overwritten\n", cmd,
                o->out);
        return EXIT_FAIL;
    }
    zg_cert_t *c = NULL;
    int rc = load_pair(cmd, key, o->pass_file, &c);
    if (rc != EXIT_OK)
        return rc;
    if (zg_cert_write(c, NULL, o->out, NULL, ZG_KDF_MODERATE,
                      ZG_WRITE_NOREPLACE) != 0)
        rc = fail(cmd);
    else
        fprintf(stderr,
                "%s: warning: %s holds the secret key UNENCRYPTED: whoever "
                "reads it can act as this key's owner; delete it once the "
                "peer has it\n",
                cmd, o->out);
    zg_cert_destroy(&c);
    return rc;
}

/* ---- key passwd
 * --------------------------------------------------------------- */

static int key_passwd(const char *key, const key_opts_t *o)
{
    static const char cmd[] = "zguard key passwd";
    if (o->new_pass_file && o->no_pass)
        return cli_usage_error(cmd, "--new-passphrase-file or "
                                    "--no-passphrase, not both");
    char pub[PATH_CAP], sec[PATH_CAP];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return fail(cmd);
    zg_cert_t *c = NULL;
    int rc = load_pair(cmd, key, o->pass_file, &c);
    zg_passphrase_t *pass = NULL;
    if (rc == EXIT_OK && !o->no_pass)
        rc = cli_get_passphrase(cmd, o->new_pass_file, false,
                            "New passphrase: ", true, &pass);
    if (rc == EXIT_OK &&
        zg_cert_write(c, NULL, sec, pass, o->cost, ZG_WRITE_REPLACE) != 0)
        rc = fail(cmd);
    if (rc == EXIT_OK)
        printf("%s: %s\n", sec,
               pass ? "encrypted under the new passphrase"
                    : "stored NOT encrypted");
    zg_passphrase_destroy(&pass);
    zg_cert_destroy(&c);
    return rc;
}

/* ---- key rotate
 * --------------------------------------------------------------- */

/* The new public certificate in the allowlist, named after its key so it
 * sits beside the old one (same metadata name: same User-Id). */
static int authorize(const char *cmd, const char *pub, const char *dir,
                     char *out, size_t cap)
{
    zg_cert_t *c = zg_cert_load(pub);
    if (!c)
        return fail(cmd);
    const char *base = strrchr(pub, '/') ? strrchr(pub, '/') + 1 : pub;
    size_t n = strlen(base);
    n -= n > 4 && strcmp(base + n - 4, ".key") == 0 ? 4 : 0;
    char fp[ZG_FINGERPRINT_MAX];
    snprintf(fp, sizeof fp, "%s", zg_cert_fingerprint(c));
    memmove(fp + 4, fp + 5, strlen(fp + 5) + 1); /* "1a2b3c4d": two groups */
    fp[8] = '\0';
    snprintf(out, cap, "%s/%.*s.%s.key", dir, (int)n, base, fp);
    int rc = zg_cert_save_public(c, out) == 0 ? EXIT_OK : fail(cmd);
    zg_cert_destroy(&c);
    return rc;
}

static int key_rotate(const char *key, const key_opts_t *o)
{
    static const char cmd[] = "zguard key rotate";
    char pub[PATH_CAP], sec[PATH_CAP], old[PATH_CAP], listed[PATH_CAP];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return fail(cmd);
    zg_passphrase_t *pass = NULL;
    int rc = EXIT_OK;
    if (!o->no_pass)
        rc = cli_get_passphrase(cmd, o->pass_file, true,
                            "Passphrase for the new key: ", true, &pass);
    if (rc == EXIT_OK &&
        zg_cert_rotate(key, pass, o->cost, old, sizeof old) != 0)
        rc = fail(cmd);
    zg_passphrase_destroy(&pass);
    if (rc == EXIT_OK && o->allowlist)
        rc = authorize(cmd, pub, o->allowlist, listed, sizeof listed);
    if (rc != EXIT_OK)
        return rc;
    printf("new  %s (and %s_secret)\nold  %s (and %s_secret)\n\nnext:\n",
           pub, pub, old, old);
    if (o->allowlist)
        printf("  1. done: the new key is authorized as %s\n", listed);
    else
        printf("  1. authorize the new key beside the old one, e.g.\n"
               "     cp %s ALLOWLIST/NAME.new.key (or use --allowlist)\n",
               pub);
    printf("  2. restart or reload what uses %s (a server key: bind the old\n"
           "     pair %s on a second endpoint meanwhile;\n"
           "     see docs/key-rotation.md)\n"
           "  3. retire the old key: remove its certificate from the "
           "allowlist\n",
           pub, old);
    return EXIT_OK;
}

/* ---- key
 * ----------------------------------------------------------------------- */

typedef int(key_fn)(const char *key, const key_opts_t *o);

static const struct {
    const char *name;
    key_fn *run;
    cli_opt_t opts[5];
} subcommands[] = {
    {"show", key_show, {OPT_JSON, OPT_TABLE_END}},
    {"export-secret", key_export, {OPT_OUT, OPT_PASS_FILE, OPT_TABLE_END}},
    {"passwd",
     key_passwd,
     {OPT_PASS_FILE, OPT_NEW_PASS_FILE, OPT_NO_PASS, OPT_COST, OPT_TABLE_END}},
    {"rotate",
     key_rotate,
     {OPT_PASS_FILE, OPT_NO_PASS, OPT_COST, OPT_ALLOWLIST, OPT_TABLE_END}},
};

int cmd_key(int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(2, argv) || cli_wants_help(argc, argv)) {
        fputs(key_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_FAIL : EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        char cmd[64];
        snprintf(cmd, sizeof cmd, "zguard key %s", subcommands[i].name);
        key_opts_t o = {.cost = ZG_KDF_MODERATE};
        args_t a = {.cmd = cmd};
        int rc =
            parse(&a, argc - 1, argv + 1, subcommands[i].opts, key_opt, &o);
        if (rc != EXIT_OK)
            return rc;
        if (a.npositional != 1)
            return cli_usage_error(cmd, a.npositional ? "one KEY only"
                                                      : "no KEY given");
        return subcommands[i].run(a.positional[0], &o);
    }
    return cli_usage_error("zguard key", "no subcommand '%s'", argv[1]);
}
