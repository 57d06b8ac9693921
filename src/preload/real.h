/*
 * real.h - libzmq's own entry points, for libzguard's code inside
 * libzguard-preload.so.
 *
 * The preload defines zmq_socket, zmq_send, ... for the application. The
 * copy of libzguard inside it must never reach those wrappers (its own
 * sockets, its threads, the hardening itself would recurse or be hardened):
 * its sources are compiled with this file forced in first, so each call
 * below goes to zg_real_*, which calls libzmq's definition found with
 * dlsym(RTLD_NEXT). Nothing else includes it.
 */
#ifndef ZG_PRELOAD_REAL_H
#define ZG_PRELOAD_REAL_H

#define zmq_ctx_new zg_real_zmq_ctx_new
#define zmq_init zg_real_zmq_init
#define zmq_ctx_term zg_real_zmq_ctx_term
#define zmq_ctx_destroy zg_real_zmq_ctx_destroy
#define zmq_term zg_real_zmq_term
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
#define zmq_sendmsg zg_real_zmq_sendmsg
#define zmq_recvmsg zg_real_zmq_recvmsg

#endif
