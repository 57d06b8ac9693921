"""Authenticators started after the CURVE server they guard has bound:
later in the same function, or in a thread the binding function starts.
auth_first() is the right order and has no such finding."""
import threading

import zmq
from zmq.auth.thread import ThreadAuthenticator


def bind_then_auth(ctx, secret):
    srv = ctx.socket(zmq.REP)
    srv.curve_secretkey = secret
    srv.curve_server = True
    srv.hwm = 100
    srv.rcvtimeo = 1000
    srv.sndtimeo = 1000
    srv.maxmsgsize = 65536
    srv.linger = 0
    srv.bind("tcp://127.0.0.1:9002")
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location="keys")
    return srv, auth


def run_authenticator(ctx):
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location="keys")


def auth_in_thread(ctx, secret):
    threading.Thread(target=run_authenticator, args=(ctx,), daemon=True).start()
    srv = ctx.socket(zmq.REP)
    srv.curve_secretkey = secret
    srv.curve_server = True
    srv.hwm = 100
    srv.rcvtimeo = 1000
    srv.sndtimeo = 1000
    srv.maxmsgsize = 65536
    srv.linger = 0
    srv.bind("tcp://127.0.0.1:9003")
    return srv


def auth_first(ctx, secret):
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location="keys")
    srv = ctx.socket(zmq.REP)
    srv.curve_secretkey = secret
    srv.curve_server = True
    srv.hwm = 100
    srv.rcvtimeo = 1000
    srv.sndtimeo = 1000
    srv.maxmsgsize = 65536
    srv.linger = 0
    srv.bind("tcp://127.0.0.1:9004")
    return srv, auth
