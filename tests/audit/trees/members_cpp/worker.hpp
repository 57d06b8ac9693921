// Classes that keep the socket their constructor is given (main.cpp makes
// it): the member's type is the caller's socket's.
#include <zmq.hpp>

class Worker {
public:
    explicit Worker(zmq::socket_t &s) : sock_(s) {}
    void run()
    {
        zmq::message_t msg;
        (void)sock_.recv(msg, zmq::recv_flags::none);    // REP: waits forever
        sock_.send(msg, zmq::send_flags::none);          // REP: never waits
    }

private:
    zmq::socket_t &sock_;
};

class Publisher {
public:
    Publisher(int id, zmq::socket_t *out);
    void publish(const zmq::message_t &m)
    {
        out_->send(zmq::buffer(m.data(), m.size()), zmq::send_flags::none); // PUB drops
    }

private:
    int id_;
    zmq::socket_t *out_;
};

inline Publisher::Publisher(int id, zmq::socket_t *out) : id_(id), out_(out) {}

class Poller {
public:
    explicit Poller(zmq::socket_t &s) : in_(s) {}
    bool poll_once()
    {
        zmq::message_t m;
        return in_.recv(m, zmq::recv_flags::none).has_value(); // RCVTIMEO set by main
    }

private:
    zmq::socket_t &in_;
};
