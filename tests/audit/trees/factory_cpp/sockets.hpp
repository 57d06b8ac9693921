// Helpers that make sockets for their callers (main.cpp).
#include <zmq.hpp>

// a ROUTER with bounded queues, timeouts and LINGER 0
inline zmq::socket_t make_router(zmq::context_t &ctx)
{
    zmq::socket_t s(ctx, zmq::socket_type::router);
    s.set(zmq::sockopt::sndhwm, 200);
    s.set(zmq::sockopt::rcvhwm, 200);
    s.set(zmq::sockopt::sndtimeo, 500);
    s.set(zmq::sockopt::rcvtimeo, 500);
    s.set(zmq::sockopt::linger, 0);
    return s;
}

// the type is the caller's
inline zmq::socket_t make_socket(zmq::context_t &ctx, zmq::socket_type type)
{
    zmq::socket_t s(ctx, type);
    return s;
}
