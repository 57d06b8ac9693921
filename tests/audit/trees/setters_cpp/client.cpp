// Its sockets get their options from the setters of tuning.cpp.
#include <zmq.hpp>

void bound_queues(zmq::socket_t &sock);
void production(zmq::socket_t &sock);
void set_curve_server(zmq::socket_t *sock);

int main()
{
    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    production(dealer);               // every mitigation but MAXMSGSIZE and CURVE
    dealer.connect("tcp://broker:8000");
    zmq::message_t msg;
    (void)dealer.recv(msg);           // bounded by RCVTIMEO

    zmq::socket_t pull(ctx, zmq::socket_type::pull);
    bound_queues(pull);
    set_curve_server(&pull);          // a CURVE server, and no authenticator
    pull.bind("tcp://10.0.0.1:8001");
    (void)pull.recv(msg);             // waits forever
    return 0;
}
