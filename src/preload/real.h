/*
 * real.h - libzmq's own entry points, for libzguard's code inside
 * libzguard-preload.so.
 *
 * The preload defines zmq_socket, zmq_send, ... for the application. The
 * copy of libzguard inside it must never reach those wrappers (its own
 * sockets, its threads, the hardening itself would recurse or be hardened):
 * its sources are compiled with this file forced in first, so each call
 * below goes to zg_real_*, which calls libzmq's definition found with
 * dlsym(RTLD_NEXT). Nothing else includes it. (zmq_init, zmq_term,
 * zmq_ctx_destroy, zmq_sendmsg and zmq_recvmsg are not here: libzmq
 * implements them with the others, through its own exported symbols, so
 * the preload never calls libzmq's - they would come back to it.)
 */
#ifndef ZG_PRELOAD_REAL_H
#define ZG_PRELOAD_REAL_H

#define zmq_ctx_new zg_real_zmq_ctx_new
#define zmq_ctx_term zg_real_zmq_ctx_term
#define zmq_ctx_shutdown zg_real_zmq_ctx_shutdown
#define zmq_socket zg_real_zmq_socket
#define zmq_setsockopt zg_real_zmq_setsockopt
#define zmq_bind zg_real_zmq_bind
#define zmq_connect zg_real_zmq_connect
#define zmq_close zg_real_zmq_close
#define zmq_send zg_real_zmq_send
#define zmq_recv zg_real_zmq_recv
#define zmq_msg_send zg_real_zmq_msg_send
#define zmq_msg_recv zg_real_zmq_msg_recv

#endif
