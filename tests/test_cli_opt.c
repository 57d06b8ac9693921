/*
 * test_cli_opt.c - the one option parser of every zguard command
 * (tools/cli_opt.c): exact names only (a unique prefix is refused), both
 * --name=value and --name value, short forms, a missing value, an unknown
 * option, `--`, repeats returned in order, the other arguments kept in
 * order, and the one message shape, checked word for word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_opt.h"

#define ARGS_MAX 16

enum { O_FRONTEND, O_FRONTEND_KEY, O_JSON, O_COUNT, O_PASS_FILE };

static const cli_opt_t table[] = {
    {"frontend", 0, "EP", O_FRONTEND},
    {"frontend-key", 0, "KEY", O_FRONTEND_KEY},
    {"json", 'j', NULL, O_JSON},
    {"count", 'c', "N", O_COUNT},
    {NULL, 0, NULL, 0},
};

/* A parse of one command line, its messages caught in memory. */
typedef struct run {
    char *argv[ARGS_MAX];
    int argc;
    cli_opts_t p;
    char *msg;
    size_t msg_len;
} run_t;

/* "cmd", then the NULL-terminated arguments; uses the given table. */
static run_t *run_new(const cli_opt_t *opts, ...)
{
    run_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->argv[r->argc++] = "cmd";
    va_list ap;
    va_start(ap, opts);
    for (char *a; (a = va_arg(ap, char *));)
        r->argv[r->argc++] = a;
    va_end(ap);
    r->p = (cli_opts_t){.cmd = "zguard test", .table = opts,
                        .argc = r->argc, .argv = r->argv,
                        .err = open_memstream(&r->msg, &r->msg_len)};
    assert_non_null(r->p.err);
    return r;
}

/* The next id, with the messages so far flushed into r->msg. */
static int next(run_t *r)
{
    int id = cli_opt_next(&r->p);
    fflush(r->p.err);
    return id;
}

static void run_destroy(run_t **rp)
{
    fclose((*rp)->p.err);
    free((*rp)->msg);
    free(*rp);
    *rp = NULL;
}

/* The next option of r is refused with "zguard test: WHAT (see ...)", the
 * whole message, one line; r is destroyed. */
static void refused(run_t *r, const char *what)
{
    char want[512];
    snprintf(want, sizeof want, "zguard test: %s (see 'zguard test --help')\n",
             what);
    assert_int_equal(next(r), CLI_OPT_ERROR);
    assert_string_equal(r->msg, want);
    run_destroy(&r);
}

static void test_value_forms(void **state)
{
    (void)state;
    run_t *r = run_new(table, "--frontend", "tcp://a:1", "--frontend=tcp://b:2",
                       "--frontend=", "-c", "3", "-c4", "-j", "--json", NULL);
    assert_int_equal(next(r), O_FRONTEND);
    assert_string_equal(r->p.value, "tcp://a:1");
    assert_string_equal(r->p.opt->name, "frontend");
    assert_int_equal(next(r), O_FRONTEND);
    assert_string_equal(r->p.value, "tcp://b:2");
    assert_int_equal(next(r), O_FRONTEND); /* an empty value is a value */
    assert_string_equal(r->p.value, "");
    assert_int_equal(next(r), O_COUNT);
    assert_string_equal(r->p.value, "3");
    assert_int_equal(next(r), O_COUNT);
    assert_string_equal(r->p.value, "4");
    assert_int_equal(next(r), O_JSON);
    assert_null(r->p.value);
    assert_int_equal(next(r), O_JSON);
    assert_int_equal(next(r), CLI_OPT_END);
    assert_int_equal(r->p.nargs, 0);
    assert_int_equal(r->msg_len, 0);
    run_destroy(&r);
}

static void test_exact_names_only(void **state)
{
    (void)state;
    /* "--jso" is a unique prefix (getopt_long would take it), "--front" an
     * ambiguous one: both refused, as are other cases and bundled flags */
    const char *prefixes[] = {"--front", "--frontend-k", "--jso", "--JSON",
                              "--json-x", "-json"};
    const char *want[] = {"unknown option '--front'", "unknown option '--frontend-k'",
                          "unknown option '--jso'", "unknown option '--JSON'",
                          "unknown option '--json-x'", "-j takes no value"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        refused(run_new(table, (char *)prefixes[i], "v", NULL), want[i]);
    /* the longer of two names that share a start is its own option */
    run_t *r = run_new(table, "--frontend-key", "k", NULL);
    assert_int_equal(next(r), O_FRONTEND_KEY);
    assert_string_equal(r->p.value, "k");
    run_destroy(&r);
}

static void test_unknown_option_not_echoing_its_value(void **state)
{
    (void)state;
    refused(run_new(table, "--bogus=s3cret", NULL), "unknown option '--bogus'");
    refused(run_new(table, "-x", NULL), "unknown option '-x'");
}

static void test_missing_value(void **state)
{
    (void)state;
    run_t *r = run_new(table, "--json", "--frontend", NULL);
    assert_int_equal(next(r), O_JSON);
    refused(r, "--frontend needs a value");
    refused(run_new(table, "-c", NULL), "-c needs a value");
    /* a flag refuses one */
    refused(run_new(table, "--json=yes", NULL), "--json takes no value");
}

static void test_value_taken_as_is(void **state)
{
    (void)state;
    /* the next argument is the value, even when it looks like an option */
    run_t *r = run_new(table, "--frontend", "--json", NULL);
    assert_int_equal(next(r), O_FRONTEND);
    assert_string_equal(r->p.value, "--json");
    assert_int_equal(next(r), CLI_OPT_END);
    run_destroy(&r);
}

static void test_double_dash_and_arguments(void **state)
{
    (void)state;
    run_t *r = run_new(table, "a", "--json", "-", "b", "--", "--frontend",
                       "-j", "--", NULL);
    assert_int_equal(next(r), O_JSON);
    assert_int_equal(next(r), CLI_OPT_END);
    assert_int_equal(next(r), CLI_OPT_END); /* and stays at the end */
    /* every other argument, in order; after "--" even "--" itself */
    assert_int_equal(r->p.nargs, 6);
    char **args = cli_opt_args(&r->p);
    const char *want[] = {"a", "-", "b", "--frontend", "-j", "--"};
    for (int i = 0; i < 6; i++)
        assert_string_equal(args[i], want[i]);
    assert_int_equal(r->msg_len, 0);
    run_destroy(&r);
}

static void test_repeats_in_order(void **state)
{
    (void)state;
    run_t *r = run_new(table, "--count", "1", "x", "--count=2", "-c3", NULL);
    const char *want[] = {"1", "2", "3"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(next(r), O_COUNT);
        assert_string_equal(r->p.value, want[i]);
    }
    assert_int_equal(next(r), CLI_OPT_END);
    assert_int_equal(r->p.nargs, 1);
    assert_string_equal(cli_opt_args(&r->p)[0], "x");
    run_destroy(&r);
}

static void test_passphrase_refused_unechoed(void **state)
{
    (void)state;
    static const cli_opt_t with_file[] = {
        {"passphrase-file", 0, "FILE", O_PASS_FILE}, {NULL, 0, NULL, 0}};
    const char *why = "a passphrase is never taken from the command line: "
                      "use --passphrase-file FILE, ZGUARD_PASSPHRASE_FILE or "
                      "the terminal; every user can read a command line";
    refused(run_new(with_file, "--passphrase", "s3cret", NULL), why);
    refused(run_new(with_file, "--passphrase=s3cret", NULL), why);
    /* a command without passphrases: just an unknown option */
    refused(run_new(table, "--passphrase", "s3cret", NULL),
            "unknown option '--passphrase'");
}

static void test_wants_help(void **state)
{
    (void)state;
    char *help[] = {"cmd", "x", "--json", "-h", NULL};
    char *after_dashes[] = {"cmd", "--", "--help", NULL};
    char *none[] = {"cmd", "--helpful", NULL};
    assert_true(cli_wants_help(4, help));
    assert_false(cli_wants_help(3, after_dashes));
    assert_false(cli_wants_help(2, none));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_exact_names_only),
        cmocka_unit_test(test_unknown_option_not_echoing_its_value),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_value_taken_as_is),
        cmocka_unit_test(test_double_dash_and_arguments),
        cmocka_unit_test(test_repeats_in_order),
        cmocka_unit_test(test_passphrase_refused_unechoed),
        cmocka_unit_test(test_wants_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
