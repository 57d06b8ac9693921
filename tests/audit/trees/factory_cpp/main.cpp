// Its sockets come from the helpers of sockets.hpp.
#include "sockets.hpp"

int main()
{
    zmq::context_t ctx;
    auto router = make_router(ctx);
    router.set(zmq::sockopt::maxmsgsize, 65536);
    router.bind("tcp://127.0.0.1:7000");
    zmq::message_t msg;
    (void)router.recv(msg);           // bounded by make_router's RCVTIMEO

    zmq::socket_t sub = make_socket(ctx, zmq::socket_type::sub);
    sub.connect("tcp://feed:7001");
    (void)sub.recv(msg);              // waits forever
    return 0;
}
