/*
 * test_policy.c - the policy model: built-in defaults per type, the three
 * layers a file overrides, where each value came from and why, named
 * sockets, and refusals reported with file, line and key.
 */
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char layered[] =
    "version = 1\n"
    "[defaults]\n"
    "rationale = house rules\n"
    "sndtimeo = 3s\n"
    "rcvtimeo = 4s\n"
    "rcvtimeo.rationale = consumers poll every 4s\n"
    "[type.push]\n"
    "sndhwm = 300\n"
    "sndtimeo = 1s\n"
    "[socket.ingest]\n"
    "type = push\n"
    "sndhwm = 50\n"
    "sndhwm.rationale = one batch in flight\n"
    "[socket.fanout]\n"
    "type = router\n"
    "router_mandatory = no\n"
    "router_mandatory.rationale = peers come and go; drops are expected\n";

static void get(const zg_policy_t *p, int type, const char *name,
                zg_setting_t out[ZG_FIELD_COUNT])
{
    int rc = zg_policy_settings(p, type, name, out, ZG_FIELD_COUNT, sizeof out[0]);
    if (rc != 0)
        fprintf(stderr, "%s\n", zg_last_error());
    assert_int_equal(rc, 0);
}

static void test_builtin_defaults(void **state)
{
    (void)state;
    zg_policy_t *p = zg_policy_builtin();
    zg_setting_t s[ZG_FIELD_COUNT];
    get(p, ZMQ_REQ, NULL, s);
    int64_t req_hwm = s[ZG_FIELD_SNDHWM].value;
    get(p, ZMQ_PUB, NULL, s);
    int64_t pub_hwm = s[ZG_FIELD_SNDHWM].value;
    get(p, ZMQ_SUB, NULL, s);
    int64_t sub_hwm = s[ZG_FIELD_RCVHWM].value;
    assert_true(req_hwm < pub_hwm); /* lower for REQ/REP, higher for PUB/SUB */
    assert_true(req_hwm < sub_hwm);
    for (int t = 0; zg_type_name(t); t++) {
        get(p, t, NULL, s);
        for (int f = 0; f < ZG_FIELD_COUNT; f++) {
            assert_int_equal(s[f].layer, ZG_LAYER_BUILTIN);
            assert_int_equal(s[f].line, 0);
            if (s[f].applies)
                assert_non_null(s[f].rationale); /* every default explained */
        }
        /* nothing unbounded, nothing insecure by default */
        assert_true(s[ZG_FIELD_SNDHWM].value > 0);
        assert_true(s[ZG_FIELD_RCVHWM].value > 0);
        assert_true(s[ZG_FIELD_SNDTIMEO].value > 0);
        assert_true(s[ZG_FIELD_RCVTIMEO].value > 0);
        assert_true(s[ZG_FIELD_MAXMSGSIZE].value > 0);
        assert_true(s[ZG_FIELD_LINGER].value >= 0);
        assert_true(s[ZG_FIELD_HANDSHAKE_IVL].value > 0);
        assert_true(s[ZG_FIELD_HEARTBEAT_IVL].value > 0);
        assert_int_equal(s[ZG_FIELD_SECURITY].value, ZG_SECURITY_CURVE);
        assert_int_equal(s[ZG_FIELD_ROUTER_MANDATORY].applies,
                         t == ZMQ_ROUTER);
        if (t == ZMQ_ROUTER)
            assert_int_equal(s[ZG_FIELD_ROUTER_MANDATORY].value, 1);
    }
    assert_string_equal(zg_policy_file(p), "(built-in)");
    zg_policy_destroy(&p);
    assert_null(p);
}

static void test_layers_and_sources(void **state)
{
    (void)state;
    zg_policy_t *p = tu_policy(layered);
    zg_setting_t s[ZG_FIELD_COUNT];

    get(p, ZMQ_PULL, NULL, s); /* defaults only */
    assert_int_equal(s[ZG_FIELD_SNDTIMEO].value, 3000);
    assert_int_equal(s[ZG_FIELD_SNDTIMEO].layer, ZG_LAYER_DEFAULTS);
    assert_int_equal(s[ZG_FIELD_SNDTIMEO].line, 4);
    assert_string_equal(s[ZG_FIELD_SNDTIMEO].rationale, "house rules");
    assert_string_equal(s[ZG_FIELD_SNDTIMEO].text, "3s");
    assert_string_equal(s[ZG_FIELD_RCVTIMEO].rationale,
                        "consumers poll every 4s");
    assert_int_equal(s[ZG_FIELD_SNDHWM].layer, ZG_LAYER_BUILTIN);

    get(p, ZMQ_PUSH, NULL, s); /* type over defaults */
    assert_int_equal(s[ZG_FIELD_SNDHWM].value, 300);
    assert_int_equal(s[ZG_FIELD_SNDHWM].layer, ZG_LAYER_TYPE);
    assert_int_equal(s[ZG_FIELD_SNDTIMEO].value, 1000);
    assert_int_equal(s[ZG_FIELD_SNDTIMEO].line, 9);
    assert_null(s[ZG_FIELD_SNDTIMEO].rationale);
    assert_int_equal(s[ZG_FIELD_RCVTIMEO].layer, ZG_LAYER_DEFAULTS);

    get(p, ZMQ_PUSH, "ingest", s); /* socket over type over defaults */
    assert_int_equal(s[ZG_FIELD_SNDHWM].value, 50);
    assert_int_equal(s[ZG_FIELD_SNDHWM].layer, ZG_LAYER_SOCKET);
    assert_int_equal(s[ZG_FIELD_SNDHWM].line, 12);
    assert_string_equal(s[ZG_FIELD_SNDHWM].rationale, "one batch in flight");
    assert_int_equal(s[ZG_FIELD_SNDTIMEO].value, 1000);
    assert_int_equal(s[ZG_FIELD_SNDTIMEO].layer, ZG_LAYER_TYPE);
    assert_int_equal(s[ZG_FIELD_RCVTIMEO].layer, ZG_LAYER_DEFAULTS);

    get(p, ZMQ_ROUTER, "fanout", s);
    assert_int_equal(s[ZG_FIELD_ROUTER_MANDATORY].value, 0);
    assert_int_equal(s[ZG_FIELD_ROUTER_MANDATORY].layer, ZG_LAYER_SOCKET);
    zg_policy_destroy(&p);
}

static void test_named_sockets(void **state)
{
    (void)state;
    zg_policy_t *p = tu_policy(layered);
    assert_int_equal(zg_policy_socket_count(p), 2);
    assert_string_equal(zg_policy_socket_name(p, 0), "ingest");
    assert_string_equal(zg_policy_socket_name(p, 1), "fanout");
    assert_null(zg_policy_socket_name(p, 2));
    assert_int_equal(zg_policy_socket_type(p, "ingest"), ZMQ_PUSH);
    assert_int_equal(zg_policy_socket_type(p, "nope"), -1);

    zg_setting_t s[ZG_FIELD_COUNT];
    assert_int_equal(zg_policy_settings(p, ZMQ_PUSH, "ingst", s, ZG_FIELD_COUNT, sizeof s[0]), -1);
    assert_int_equal(errno, ENOENT);
    assert_contains(zg_last_error(), "no [socket.ingst] section");
    assert_contains(zg_last_error(), "test.policy");
    assert_int_equal(zg_policy_settings(p, ZMQ_PULL, "ingest", s, ZG_FIELD_COUNT, sizeof s[0]), -1);
    assert_contains(zg_last_error(), "test.policy:11");
    assert_contains(zg_last_error(), "'type = push', not pull");
    assert_int_equal(zg_policy_settings(p, 99, NULL, s, ZG_FIELD_COUNT, sizeof s[0]), -1);
    zg_policy_destroy(&p);
}

static void test_reference_counting(void **state)
{
    (void)state;
    zg_policy_t *p = tu_policy(layered);
    zg_policy_t *q = zg_policy_ref(p);
    zg_policy_destroy(&p);
    assert_null(p);
    assert_int_equal(zg_policy_socket_count(q), 2); /* still alive */
    zg_policy_destroy(&q);
    zg_policy_destroy(&q); /* NULL is fine */
}

static void test_all_errors_reported(void **state)
{
    (void)state;
    static const char text[] = "version = 1\n"
                               "[defaults]\n"
                               "sndhwm = lots\n"
                               "rcvhwm = 0\n"
                               "colour = blue\n";
    zg_diag_t *d = zg_diag_new();
    zg_policy_t *p = zg_policy_parse(text, strlen(text), "x.policy", d);
    assert_null(p);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(zg_diag_errors(d), 3);
    const zg_problem_t *e = zg_diag_get(d, 0);
    assert_string_equal(e->file, "x.policy");
    assert_int_equal(e->line, 3);
    assert_string_equal(e->key, "sndhwm");
    assert_int_equal(zg_diag_get(d, 1)->line, 4);
    assert_string_equal(zg_diag_get(d, 2)->key, "colour");
    assert_null(zg_diag_get(d, 3));
    /* the thread's last error names the first one */
    assert_contains(zg_last_error(), "x.policy:3: sndhwm:");
    assert_contains(zg_last_error(), "and more errors");
    zg_diag_destroy(&d);
    assert_null(d);
}

static void test_unbounded_needs_flag_and_rationale(void **state)
{
    (void)state;
    static const char ok[] = "version = 1\n"
                             "[type.sub]\n"
                             "unbounded = yes\n"
                             "rcvhwm = 0\n"
                             "rcvhwm.rationale = a lossless feed, sized by "
                             "the producer\n";
    zg_policy_t *p = tu_policy(ok);
    zg_setting_t s[ZG_FIELD_COUNT];
    get(p, ZMQ_SUB, NULL, s);
    assert_int_equal(s[ZG_FIELD_RCVHWM].value, 0);
    zg_policy_destroy(&p);

    /* the flag in another section does not count */
    static const char elsewhere[] = "version = 1\n"
                                    "[defaults]\n"
                                    "unbounded = yes\n"
                                    "rationale = because\n"
                                    "[type.sub]\n"
                                    "rcvhwm = 0\n";
    zg_diag_t *d = zg_diag_new();
    assert_null(zg_policy_parse(elsewhere, strlen(elsewhere), "e", d));
    assert_int_equal(zg_diag_errors(d), 1);
    assert_int_equal(zg_diag_warnings(d), 1);
    /* [defaults] is told its flag covers nothing ... */
    assert_int_equal(zg_diag_get(d, 0)->severity, ZG_SEV_WARNING);
    assert_int_equal(zg_diag_get(d, 0)->line, 3);
    /* ... and [type.sub] that it needs its own */
    assert_int_equal(zg_diag_get(d, 1)->severity, ZG_SEV_ERROR);
    assert_int_equal(zg_diag_get(d, 1)->line, 6);
    assert_contains(zg_diag_get(d, 1)->message, "unbounded = yes");
    zg_diag_destroy(&d);
}

static void test_print_format(void **state)
{
    (void)state;
    static const char text[] = "version = 1\n"
                               "[defaults]\n"
                               "heartbeat_ivl = 0\n"
                               "linger = forever\n";
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    zg_diag_t *d = zg_diag_new();
    assert_null(zg_policy_parse(text, strlen(text), "app.policy", d));
    zg_diag_print(d, out);
    fclose(out);
    assert_string_equal(
        buf, "app.policy:3: heartbeat_ivl: warning: heartbeats are off: a "
             "dead peer is found only when TCP notices, which can take "
             "hours\n"
             "app.policy:4: linger: 'forever' is not a duration: write "
             "250ms, 5s, 2m or 1h, or 'infinite'\n");
    free(buf);
    zg_diag_destroy(&d);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    zg_diag_t *d = zg_diag_new();
    assert_null(zg_policy_load("/nonexistent/app.policy", d));
    assert_int_equal(zg_diag_errors(d), 1);
    assert_string_equal(zg_diag_get(d, 0)->file, "/nonexistent/app.policy");
    assert_contains(zg_diag_get(d, 0)->message, "No such file");
    assert_null(zg_policy_load("/", d)); /* a directory is not a policy */
    zg_diag_destroy(&d);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(zg_type_name(ZMQ_ROUTER), "router");
    assert_int_equal(zg_type_from_name("xsub"), ZMQ_XSUB);
    assert_int_equal(zg_type_from_name("ROUTER"), -1);
    assert_null(zg_type_name(12));
    assert_null(zg_type_name(-1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_defaults),
        cmocka_unit_test(test_layers_and_sources),
        cmocka_unit_test(test_named_sockets),
        cmocka_unit_test(test_reference_counting),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_unbounded_needs_flag_and_rationale),
        cmocka_unit_test(test_print_format),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
