/*
 * zmtp.h - a ZMTP 3.0 client connection written for zguard's tests
 * (tools/zmtp.c), used by zguard-zmtp-peer. It speaks the wire protocol
 * itself, without libzmq, so that a test can do what no libzmq-based peer
 * can: stream one multipart message for ever (a libzmq sender keeps an
 * unfinished message in its own process), open connections and handshakes
 * at will, and see exactly how the server answered each.
 *
 * What it implements, from the specifications:
 *   RFC 23 (ZMTP 3.0)  greeting, NULL mechanism, READY/ERROR commands,
 *                      short and long frames, the MORE and COMMAND flags,
 *                      PING answered with PONG once messages flow
 *   RFC 26 (CurveZMQ)  the CURVE client: HELLO, WELCOME, INITIATE (vouch
 *                      and metadata), READY, and MESSAGE boxes with short
 *                      nonces that only go up
 * Every cryptographic step is a libsodium call (crypto_box_easy,
 * crypto_box_beforenm, crypto_box_easy_afternm and their _open forms);
 * transient and long-term secrets live in sodium_malloc memory.
 *
 * Each call that talks to the peer returns 0, or -1 with the connection's
 * status saying why (zmtp_status_t): what the peer did (ERROR command,
 * close, reset, silence, a protocol violation) or a local failure. A
 * connection with a non-zero status is finished; only destroy it.
 */
#ifndef ZG_ZMTP_H
#define ZG_ZMTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ZMTP_KEY_BYTES 32         /* a Curve25519 public or secret key */
#define ZMTP_REASON_MAX 256       /* an ERROR reason or a local message */
#define ZMTP_NAME_MAX 256         /* Socket-Type, Identity: one length byte */
#define ZMTP_ENDPOINT_MAX 256     /* "tcp://HOST:PORT", "ipc://PATH" */
#define ZMTP_FRAME_MAX (256u << 20) /* the largest frame sent or received */

typedef enum zmtp_status {
    ZMTP_OK = 0,         /* nothing went wrong (after a handshake: READY) */
    ZMTP_ERROR,          /* the peer sent an ERROR command: reason holds it */
    ZMTP_CLOSED,         /* the peer closed the connection (EOF) */
    ZMTP_RESET,          /* the peer reset it (RST, EPIPE) */
    ZMTP_TIMEOUT,        /* the peer did not answer in time */
    ZMTP_PROTOCOL,       /* the peer broke the protocol: reason says how */
    ZMTP_CONNECT_FAILED, /* refused or unreachable: errno in err */
    ZMTP_LOCAL,          /* a local failure (socket, bind, memory) */
    ZMTP_STOPPED         /* the stop flag was raised (a signal) */
} zmtp_status_t;

/* "ready", "error", "closed", "reset", "timeout", "protocol",
 * "connect_failed", "local", "stopped": the names the JSON reports use. */
const char *zmtp_status_name(zmtp_status_t status);

/* Where to connect: tcp://HOST:PORT (an IPv4 address, [IPv6] or a host
 * name) or ipc://PATH. */
typedef struct zmtp_endpoint {
    struct sockaddr_storage addr;
    socklen_t len;
    char text[ZMTP_ENDPOINT_MAX];
} zmtp_endpoint_t;

/* 0, or -1 with why (one line) in why[cap]. */
int zmtp_endpoint_parse(const char *text, zmtp_endpoint_t *ep, char *why,
                        size_t cap);
/* A local address to bind before connecting (127.0.0.2, ::1): its family
 * must be the endpoint's. 0, or -1 with why. */
int zmtp_source_parse(const char *text, const zmtp_endpoint_t *ep,
                      zmtp_endpoint_t *source, char *why, size_t cap);

typedef enum zmtp_mechanism { ZMTP_MECH_NULL, ZMTP_MECH_CURVE } zmtp_mechanism_t;

/* What every connection of a run shares. The keys must outlive the
 * connections made with it. */
typedef struct zmtp_config {
    zmtp_mechanism_t mechanism;
    const char *socket_type; /* "PUSH": the Socket-Type property */
    const char *identity;    /* the Identity property, or NULL */
    const uint8_t *server_key;                /* CURVE: the server's */
    const uint8_t *public_key, *secret_key;   /* CURVE: this client's long-term
                                                 pair, or NULL for a fresh
                                                 random pair per connection */
    const zmtp_endpoint_t *endpoint;
    const zmtp_endpoint_t *source; /* NULL: the kernel chooses */
    int timeout_ms;          /* bounds connect + greeting + handshake */
    volatile sig_atomic_t *stop; /* when set (by a signal), calls return */
    bool abortive_close;     /* close with a reset (RST): no TIME_WAIT left
                                behind by a loop of short connections */
} zmtp_config_t;

typedef struct zmtp_conn zmtp_conn_t;

/* A connection (not yet connected) for cfg; NULL when out of memory. */
zmtp_conn_t *zmtp_conn_new(const zmtp_config_t *cfg);
/* Closes the socket and wipes the secrets. */
void zmtp_conn_destroy(zmtp_conn_t **c);

/* The TCP (or ipc) connection, bound to cfg->source first when given. */
int zmtp_connect(zmtp_conn_t *c);
/* Greeting, then the mechanism's handshake up to the peer's READY. */
int zmtp_handshake(zmtp_conn_t *c);

/* One frame of a message (a CURVE MESSAGE box once CURVE is up), written
 * whole before deadline (cli_now() seconds; 0: no deadline). Meanwhile what
 * the peer sends is buffered, and its close or reset noticed. */
int zmtp_send(zmtp_conn_t *c, const void *data, size_t len, bool more,
              double deadline);

/* The next frame of a message from the peer, before deadline (0: none):
 * data points into the connection, valid until the next call. Commands
 * (PING, answered with PONG) are handled, not returned. */
typedef struct zmtp_frame {
    const uint8_t *data;
    size_t len;
    bool more;
} zmtp_frame_t;
int zmtp_recv(zmtp_conn_t *c, zmtp_frame_t *frame, double deadline);

/* Reads and handles what the peer sent, without waiting: PINGs answered,
 * messages dropped. For connections held open. 0, or -1 when the peer is
 * gone (status says how). */
int zmtp_service(zmtp_conn_t *c);

int zmtp_fd(const zmtp_conn_t *c);
zmtp_status_t zmtp_status(const zmtp_conn_t *c);
/* The ERROR command's reason, or what was wrong; "" when nothing is. */
const char *zmtp_reason(const zmtp_conn_t *c);
/* The Socket-Type the peer announced in its READY, "" before. */
const char *zmtp_peer_socket_type(const zmtp_conn_t *c);
/* Bytes written to the socket so far: greeting, commands, frames. */
uint64_t zmtp_bytes_sent(const zmtp_conn_t *c);

#endif
