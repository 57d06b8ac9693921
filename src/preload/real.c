/*
 * real.c - the libzmq functions the preload wraps, as libzmq defines them.
 *
 * Looked up once with dlsym(RTLD_NEXT): the preload links libzmq.so.5
 * itself, so the next definition is libzmq's even in a program (pyzmq)
 * that loads libzmq into a local scope. If the lookup failed every call
 * fails with EFAULT rather than crash the host.
 */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
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

#define POINTER(ret, name, params, args, fail) ret(*name) params;
static struct {
    REAL_FUNCTIONS(POINTER)
} real;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool found;

static void lookup(void)
{
    found = true;
#define LOOKUP(ret, name, params, args, fail)                                 \
    *(void **)&real.name = dlsym(RTLD_NEXT, #name);                           \
    found = found && real.name;
    REAL_FUNCTIONS(LOOKUP)
    if (!found) {
        static const char msg[] = "zguard: error: libzguard-preload: no "
                                  "libzmq after the preload: every libzmq "
                                  "call fails with EFAULT\n";
        ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)n;
    }
}

bool zg_real_ready(void)
{
    pthread_once(&once, lookup);
    return found;
}

#define DEFINE(ret, name, params, args, fail)                                 \
    ret zg_real_##name params                                                 \
    {                                                                         \
        if (!zg_real_ready()) {                                               \
            errno = EFAULT;                                                   \
            return fail;                                                      \
        }                                                                     \
        return real.name args;                                                \
    }
REAL_FUNCTIONS(DEFINE)
