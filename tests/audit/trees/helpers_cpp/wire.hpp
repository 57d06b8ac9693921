// Send and receive helpers in C++ (server.cpp calls them): free functions,
// a static method of a wrapper class, and a chain.
#include <string>
#include <zmq.hpp>

inline std::string recv_str(zmq::socket_t &sock)
{
    zmq::message_t msg;
    (void)sock.recv(msg, zmq::recv_flags::none);
    return msg.to_string();
}

inline void send_str(zmq::socket_t &sock, const std::string &s)
{
    sock.send(zmq::buffer(s), zmq::send_flags::none);
}

struct Wire {
    // a chain: a helper that calls a helper
    static std::string recv_logged(zmq::socket_t &sock)
    {
        return recv_str(sock);
    }
    // never waits
    static bool try_recv(zmq::socket_t &sock, zmq::message_t &msg)
    {
        return sock.recv(msg, zmq::recv_flags::dontwait).has_value();
    }
};
