// Corpus for zguard audit: cppzmq (zmq.hpp). Expected findings: cppzmq.cpp.expect
#include <memory>
#include <string>
#include <zmq.hpp>

static const std::string kEndpoint = "tcp://*:7001";

// Members made in the constructor, configured in other methods.
class Orders {
  public:
    explicit Orders(zmq::context_t &ctx)
        : in_(ctx, zmq::socket_type::pull), out_{ctx, ZMQ_PUSH}
    {
        in_.set(zmq::sockopt::rcvhwm, 1000);
        in_.set(zmq::sockopt::rcvtimeo, 2000);
        in_.set(zmq::sockopt::maxmsgsize, 1 << 20);
        in_.set(zmq::sockopt::linger, 0);
        in_.set(zmq::sockopt::curve_server, 1);
        in_.bind("tcp://127.0.0.1:7000");
    }
    void start()
    {
        this->out_.set(zmq::sockopt::sndhwm, 0);
        out_.connect("inproc://out");
    }
    void pump()
    {
        zmq::message_t m;
        auto got = in_.recv(m, zmq::recv_flags::none);
        (void)got;
        out_.send(m, zmq::send_flags::dontwait);
    }

  private:
    zmq::socket_t in_;
    zmq::socket_t out_;
};

int main()
{
    zmq::context_t ctx;
    // declaration with parentheses, the old setsockopt with a pointer
    zmq::socket_t a(ctx, ZMQ_REQ);
    int hwm = 100;
    a.setsockopt(ZMQ_SNDHWM, &hwm, sizeof hwm);
    a.setsockopt<int>(ZMQ_RCVHWM, 100);
    a.setsockopt(ZMQ_LINGER, 0);
    a.connect("tcp://server:7002");
    zmq::message_t reply;
    a.send(zmq::str_buffer("req"), zmq::send_flags::none);
    a.recv(reply);

    // brace initialisation and an assignment from a temporary
    zmq::socket_t b{ctx, zmq::socket_type::pub};
    b.set(zmq::sockopt::sndhwm, 50000);
    b.set(zmq::sockopt::curve_secretkey, "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6");
    b.set(zmq::sockopt::curve_server, true);
    b.set(zmq::sockopt::linger, 0);
    b.bind(kEndpoint);
    b.send(zmq::str_buffer("tick"), zmq::send_flags::none);

    auto c = zmq::socket_t(ctx, zmq::socket_type::dealer);
    c.set(zmq::sockopt::sndtimeo, -1);
    c.connect("ipc:///run/app.sock");
    std::vector<zmq::message_t> parts;
    zmq::recv_multipart(c, std::back_inserter(parts));

    // heap sockets
    auto d = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::sub);
    d->set(zmq::sockopt::subscribe, "");
    d->connect("inproc://feed");
    zmq::socket_t *e = new zmq::socket_t(ctx, ZMQ_ROUTER);
    e->bind("tcp://0.0.0.0:7003");
    delete e;

    Orders o(ctx);
    o.start();
    return 0;
}
