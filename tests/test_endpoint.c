/*
 * test_endpoint.c - what an endpoint string says (src/endpoint.c): whether
 * zguard can use it at all (zg_endpoint_problem), and whether traffic on it
 * stays on this machine (zg_endpoint_is_local), which is what lets the
 * gate's backend carry plaintext.
 */
#include "testutil.h"
#include "zg_endpoint.h"

#include <string.h>

static void usable(const char *ep)
{
    const char *why = zg_endpoint_problem(ep);
    if (why)
        fprintf(stderr, "'%s' refused: %s\n", ep, why);
    assert_null(why);
}

/* Refused, and the reason says what is wrong. */
static void refused(const char *ep, const char *want)
{
    const char *why = zg_endpoint_problem(ep);
    if (!why || !strstr(why, want))
        fprintf(stderr, "'%s': want a problem with '%s', got '%s'\n", ep, want,
                why ? why : "(none)");
    assert_non_null(why);
    assert_non_null(strstr(why, want));
}

static void test_usable(void **state)
{
    (void)state;
    usable("tcp://127.0.0.1:5555");
    usable("tcp://127.0.0.1:*"); /* any free port */
    usable("tcp://0.0.0.0:5555");
    usable("tcp://*:5555");
    usable("tcp://[::1]:5555");
    usable("tcp://localhost:0");
    usable("tcp://app.example.com:65535");
    usable("tcp://10.0.0.1;127.0.0.1:5555"); /* source;destination */
    usable("ipc:///run/app.sock");
    usable("ipc://@abstract-name");
    usable("inproc://orders");
}

static void test_malformed(void **state)
{
    (void)state;
    const char *transport = "is not a tcp://, ipc:// or inproc:// endpoint";
    refused("", transport);
    refused("udp://127.0.0.1:5555", transport);
    refused("pgm://eth0;239.192.1.1:5555", transport);
    refused("127.0.0.1:5555", transport);
    refused("TCP://127.0.0.1:5555", transport);
    refused("tcp:/127.0.0.1:5555", transport);

    const char *address = "needs an address and a port: tcp://127.0.0.1:5555";
    refused("tcp://", address);
    refused("tcp://127.0.0.1", address);
    refused("tcp://localhost", address);
    refused("tcp://:5555", address);

    const char *port = "has no port number after the last ':'";
    refused("tcp://127.0.0.1:", port);
    refused("tcp://127.0.0.1:http", port);
    refused("tcp://127.0.0.1:55x", port);
    refused("tcp://127.0.0.1:-1", port);
    refused("tcp://127.0.0.1:123456", port);
    refused("tcp://[::1]", port); /* the last ':' is inside the brackets */

    refused("ipc://", "has no name after '//'");
    refused("inproc://", "has no name after '//'");
}

static void test_local(void **state)
{
    (void)state;
    static const char *const local[] = {
        "tcp://127.0.0.1:6000",
        "tcp://127.0.0.1:*",
        "tcp://127.1.2.3:6000",   /* all of 127/8 is loopback */
        "tcp://[::1]:6000",
        "tcp://::1:6000",         /* unbracketed, as libzmq also takes it */
        "tcp://localhost:6000",
        "tcp://10.0.0.1;127.0.0.1:6000", /* the destination decides */
        "ipc:///run/app.sock",
        "ipc://@abstract-name",
        "inproc://orders",
    };
    for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
        if (!zg_endpoint_is_local(local[i]))
            fprintf(stderr, "'%s' should be local\n", local[i]);
        assert_true(zg_endpoint_is_local(local[i]));
    }
}

static void test_not_local(void **state)
{
    (void)state;
    static const char *const remote[] = {
        "tcp://0.0.0.0:6000",        /* every interface */
        "tcp://*:6000",
        "tcp://[::]:6000",
        "tcp://10.1.2.3:6000",
        "tcp://192.168.1.20:6000",
        "tcp://[2001:db8::1]:6000",
        "tcp://app.example.com:6000",
        "tcp://127.example.com:6000",  /* a name, not an address in 127/8 */
        "tcp://127.0.0.1.example.com:6000",
        "tcp://localhost.example.com:6000",
        "tcp://eth0:6000",             /* an interface name */
        "tcp://127.0.0.1;10.1.2.3:6000", /* loopback source, remote peer */
        "udp://127.0.0.1:6000",        /* not an endpoint zguard knows */
        "",
    };
    for (size_t i = 0; i < sizeof remote / sizeof *remote; i++) {
        if (zg_endpoint_is_local(remote[i]))
            fprintf(stderr, "'%s' should not be local\n", remote[i]);
        assert_false(zg_endpoint_is_local(remote[i]));
    }
}

/* A backend list: items trimmed, an empty item reported as "", the end
 * as false. */
static void test_list(void **state)
{
    (void)state;
    char ep[ZG_ENDPOINT_MAX];
    const char *list = " tcp://a:1 ,tcp://b:2,, ipc:///x ,";
    assert_true(zg_endpoint_next(&list, ep));
    assert_string_equal(ep, "tcp://a:1");
    assert_true(zg_endpoint_next(&list, ep));
    assert_string_equal(ep, "tcp://b:2");
    assert_true(zg_endpoint_next(&list, ep));
    assert_string_equal(ep, "");
    assert_true(zg_endpoint_next(&list, ep));
    assert_string_equal(ep, "ipc:///x");
    assert_false(zg_endpoint_next(&list, ep));
    char longer[ZG_ENDPOINT_MAX + 16];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    list = longer;
    assert_true(zg_endpoint_next(&list, ep));
    assert_string_equal(ep, ""); /* too long for one endpoint */
    assert_false(zg_endpoint_next(&list, ep));
    list = "   ";
    assert_false(zg_endpoint_next(&list, ep));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usable),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_local),
        cmocka_unit_test(test_not_local),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
