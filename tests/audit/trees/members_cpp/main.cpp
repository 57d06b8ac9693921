// Hands its sockets to the classes of worker.hpp.
#include "worker.hpp"

int main()
{
    zmq::context_t ctx;
    zmq::socket_t rep(ctx, zmq::socket_type::rep);
    for (auto hwm : {zmq::sockopt::sndhwm, zmq::sockopt::rcvhwm})
        rep.set(hwm, 100);
    rep.set(zmq::sockopt::maxmsgsize, 4096);
    rep.bind("ipc:///tmp/members-cpp");
    Worker w(rep);
    w.run();

    zmq::socket_t pub(ctx, zmq::socket_type::pub);
    pub.set(zmq::sockopt::sndhwm, 100);
    pub.set(zmq::sockopt::linger, 0);
    pub.bind("inproc://updates");
    auto *p = new Publisher(7, &pub);
    delete p;

    zmq::socket_t pull(ctx, zmq::socket_type::pull);
    pull.set(zmq::sockopt::rcvhwm, 100);
    pull.set(zmq::sockopt::rcvtimeo, 250);
    pull.set(zmq::sockopt::linger, 0);
    pull.connect("inproc://jobs");
    Poller poller{pull};
    poller.poll_once();
    return 0;
}
