// Receives and sends only through the helpers of wire.hpp.
#include "wire.hpp"

int main()
{
    zmq::context_t ctx;
    zmq::socket_t rep(ctx, zmq::socket_type::rep);
    rep.set(zmq::sockopt::sndhwm, 100);
    rep.set(zmq::sockopt::rcvhwm, 100);
    rep.set(zmq::sockopt::maxmsgsize, 4096);
    rep.set(zmq::sockopt::linger, 0);
    rep.bind("ipc:///tmp/helpers-cpp");
    recv_str(rep);                    // waits forever: no RCVTIMEO
    send_str(rep, "ok");              // REP: a send never waits
    Wire::recv_logged(rep);           // the same, one helper further
    zmq::message_t msg;
    Wire::try_recv(rep, msg);         // DONTWAIT

    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::sndhwm, 100);
    push.set(zmq::sockopt::linger, 0);
    push.connect("inproc://sink");
    send_str(push, "x");              // waits forever: no SNDTIMEO
    return 0;
}
