/*
 * thread.c - zguard's threads and the application's signals.
 *
 * The authenticator and the monitor each run a thread per context, and
 * observe mode a reporter. A process-directed signal goes to any thread
 * that does not block it: left open, zguard's threads would take signals
 * meant to interrupt the application's own blocking calls (and a handler
 * would run on a thread the application does not know). So they start
 * with every signal blocked, as libzmq's I/O threads do. The application's
 * threads still take signals, so a command sent to a zguard thread from
 * one of them must not give up on EINTR: the thread answers regardless.
 * Nor may zguard's own binds and connects on an application thread (its
 * sockets, their monitors, its threads' pipes) fail because the
 * application handled a signal meanwhile.
 */
#include "zg_thread.h"

#include <errno.h>
#include <signal.h>
#include <zmq.h>

int zg_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &was);
    int rc = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    return rc;
}

int zg_thread_tell(void *pipe, const char *cmd, size_t len)
{
    int n;
    /* no timeout: the thread reads each command and answers it at once */
    while ((n = zmq_send(pipe, cmd, len, 0)) < 0 && errno == EINTR)
        ;
    return n == (int)len ? 0 : -1;
}

int zg_thread_ask(void *pipe, const char *cmd, size_t len, char *answer,
                  size_t cap)
{
    if (zg_thread_tell(pipe, cmd, len) != 0)
        return -1;
    int n;
    while ((n = zmq_recv(pipe, answer, cap, 0)) < 0 && errno == EINTR)
        ;
    return n;
}

int zg_bind_through_signals(void *zsock, const char *endpoint)
{
    int rc;
    while ((rc = zmq_bind(zsock, endpoint)) != 0 && errno == EINTR)
        ;
    return rc;
}

int zg_connect_through_signals(void *zsock, const char *endpoint)
{
    int rc;
    while ((rc = zmq_connect(zsock, endpoint)) != 0 && errno == EINTR)
        ;
    return rc;
}
