/*
 * zg_thread.h - thread.c: zguard's threads and the application's signals:
 * starting the threads, asking them things, and libzmq calls a signal
 * must not break.
 */
#ifndef ZG_THREAD_H
#define ZG_THREAD_H

#include <pthread.h>
#include <stddef.h>

/* pthread_create with every signal blocked in the new thread: signals are
 * the application's and go to its threads. */
int zg_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);
/* Sends cmd on pipe (an inproc PAIR to a zguard thread), whatever signals
 * the calling thread handles meanwhile. 0, or -1. */
int zg_thread_tell(void *pipe, const char *cmd, size_t len);
/* zg_thread_tell, then waits for its
 * answer, up to cap bytes. A signal handled meanwhile does not end the
 * wait: the thread always answers. The answer's length, or -1. */
int zg_thread_ask(void *pipe, const char *cmd, size_t len, char *answer,
                  size_t cap);
/* zmq_bind and zmq_connect, made again when a signal interrupted them:
 * libzmq first processes its pending commands and gives up with EINTR if a
 * signal arrives then, before anything is bound or connected. */
int zg_bind_through_signals(void *zsock, const char *endpoint);
int zg_connect_through_signals(void *zsock, const char *endpoint);

#endif
