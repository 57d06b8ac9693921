// Option setters applied to the socket their caller passes (client.cpp).
#include <zmq.hpp>

void bound_queues(zmq::socket_t &sock)
{
    sock.set(zmq::sockopt::sndhwm, 1000);
    sock.set(zmq::sockopt::rcvhwm, 1000);
}

// a chain: timeouts and LINGER here, the queues through bound_queues
void production(zmq::socket_t &sock)
{
    bound_queues(sock);
    sock.set(zmq::sockopt::sndtimeo, 3000);
    sock.set(zmq::sockopt::rcvtimeo, 3000);
    sock.set(zmq::sockopt::linger, 0);
}

// the old interface, on a pointer
void set_curve_server(zmq::socket_t *sock)
{
    sock->set(zmq::sockopt::curve_server, 1);
}
