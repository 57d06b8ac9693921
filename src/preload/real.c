/*
 * real.c - the libzmq functions the preload wraps, as libzmq defines them.
 *
 * Looked up once with dlsym(RTLD_NEXT): the preload links libzmq.so.5
 * itself, so the next definition is libzmq's even in a program (pyzmq)
 * that loads libzmq into a local scope. If the lookup failed every call
 * fails with EFAULT rather than crash the host. The pointers are published
 * only when all were found, so a published one needs no pthread_once: the
 * hot path pays for the lookup's once-only guard only before it ran.
 */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

/* X(return type, name, parameters, arguments, value on failure) */
#define REAL_FUNCTIONS(X)                                                     \
    X(void *, zmq_ctx_new, (void), (), NULL)                                  \
    X(int, zmq_ctx_term, (void *c), (c), -1)                                  \
    X(int, zmq_ctx_shutdown, (void *c), (c), -1)                              \
    X(void *, zmq_socket, (void *c, int t), (c, t), NULL)                     \
    X(int, zmq_setsockopt, (void *s, int o, const void *v, size_t l),         \
      (s, o, v, l), -1)                                                       \
    X(int, zmq_bind, (void *s, const char *e), (s, e), -1)                    \
    X(int, zmq_connect, (void *s, const char *e), (s, e), -1)                 \
    X(int, zmq_close, (void *s), (s), -1)                                     \
    X(int, zmq_send, (void *s, const void *b, size_t l, int f), (s, b, l, f), \
      -1)                                                                     \
    X(int, zmq_recv, (void *s, void *b, size_t l, int f), (s, b, l, f), -1)   \
    X(int, zmq_msg_send, (zmq_msg_t * m, void *s, int f), (m, s, f), -1)      \
    X(int, zmq_msg_recv, (zmq_msg_t * m, void *s, int f), (m, s, f), -1)

#define TYPE(ret, name, params, args, fail) typedef ret(*name##_fn) params;
REAL_FUNCTIONS(TYPE)
#define POINTER(ret, name, params, args, fail) _Atomic(name##_fn) name;
static struct {
    REAL_FUNCTIONS(POINTER)
} real; /* all set, or (the lookup failed) none */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool found;

static void lookup(void)
{
    struct {
        REAL_FUNCTIONS(POINTER)
    } next;
    found = true;
#define LOOKUP(ret, name, params, args, fail)                                 \
    *(void **)&next.name = dlsym(RTLD_NEXT, #name);                           \
    found = found && next.name;
    REAL_FUNCTIONS(LOOKUP)
    if (!found) {
        static const char msg[] = "zguard: error: libzguard-preload: no "
                                  "libzmq after the preload: every libzmq "
                                  "call fails with EFAULT\n";
        ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)n;
        return;
    }
#define PUBLISH(ret, name, params, args, fail)                                \
    atomic_store_explicit(&real.name, next.name, memory_order_release);
    REAL_FUNCTIONS(PUBLISH)
}

bool zg_real_ready(void)
{
    pthread_once(&once, lookup);
    return found;
}

/* Every send and receive of a hardened socket comes through here: once the
 * pointers are published a call is a load, a test and a jump to libzmq;
 * the first calls, before the lookup ran, go out of line to run it. */
#define DEFINE(ret, name, params, args, fail)                                 \
    __attribute__((noinline, cold)) static ret first_##name params            \
    {                                                                         \
        if (!zg_real_ready()) {                                               \
            errno = EFAULT;                                                   \
            return fail;                                                      \
        }                                                                     \
        return atomic_load_explicit(&real.name, memory_order_acquire) args;   \
    }                                                                         \
    ret zg_real_##name params                                                 \
    {                                                                         \
        name##_fn next_fn =                                                   \
            atomic_load_explicit(&real.name, memory_order_acquire);           \
        return __builtin_expect(next_fn != NULL, 1) ? next_fn args            \
                                                    : first_##name args;      \
    }
REAL_FUNCTIONS(DEFINE)
