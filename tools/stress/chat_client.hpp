// chat_clients: N viewers in one broadcast's chat room on one event loop, speaking the chat
// WebSocket protocol (docs/API.md "Chat"): each opens /ws/broadcasts/{id} (with a minted user
// token when it sends), waits for the history, and — the first `senders` of the phase — sends
// a message every 1/send_rate seconds. Every message it sends carries its wall-clock send time
// in its text ("lh <client> <seq> <unix µs> ..."), so every client that receives it measures
// its delivery latency: the room's fan-out as viewers see it, across nodes and processes (on
// several hosts, as good as their clocks agree).
//
// Sending starts a second after the ramp is over (everyone has joined) and stops one second
// before the phase ends, so that what was sent is delivered while everyone is still there:
// then a room that loses nothing has delivered == acked × clients exactly (a client whose join
// completed after sending began counts in late_joins: what it missed is in its history).
//
// Figures: steps "chat_join" (join due -> history received; status 101 or the refusal's) and
// "chat_send" (send due -> ack; 200, or 0 with the server's error code as the error kind,
// e.g. rate_limited); run_stats::chat has what was received, the delivery latency and the
// server's "skipped" notices. Reads go through one scratch buffer per loop (the socket is
// waited on, then read without blocking), so an idle client holds only its socket and what it
// has not parsed yet.
#pragma once

#include "stress/actor_share.hpp"
#include "stress/endpoints.hpp"
#include "stress/recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace livehouse::stress {

struct chat_clients_options {
    std::string host_header;
    std::string broadcast;
    std::string token_secret;       ///< mints the senders' tokens ("": every client reads only)
    double send_rate = 0.5;         ///< messages per second per sender
    std::size_t senders = 0;        ///< clients of the phase (by ordinal) that send
    std::size_t message_bytes = 48; ///< text length (at least what the timestamp needs)
    actor_share share;
    std::chrono::steady_clock::time_point send_from;  ///< sending starts
    std::chrono::steady_clock::time_point send_until; ///< and stops
};

class chat_clients {
  public:
    chat_clients(boost::asio::io_context& ioc, recorder& rec, const endpoints& targets,
                 chat_clients_options options);
    ~chat_clients();
    chat_clients(const chat_clients&) = delete;
    chat_clients& operator=(const chat_clients&) = delete;

    /// Schedules the joins and the end (every connection closed at share.end).
    void start();

  private:
    struct client;
    using client_ptr = std::shared_ptr<client>;
    void join(std::size_t i);
    void wait_read(const client_ptr& c);
    void on_readable(const client_ptr& c);
    void on_handshake(const client_ptr& c);
    void on_frames(const client_ptr& c);
    void on_text(const client_ptr& c, const std::string& payload);
    void on_answer(const client_ptr& c, bool acked, std::string_view ref, std::string_view code);
    void schedule_send(const client_ptr& c);
    void send_message(const client_ptr& c);
    void queue_frame(const client_ptr& c, std::string frame);
    void flush(const client_ptr& c);
    void broken(const client_ptr& c, std::string_view kind);
    void stop(const client_ptr& c, bool say_goodbye);
    void end_all();

    boost::asio::io_context& ioc_;
    recorder& rec_;
    const endpoints& targets_; ///< outlives the run's loops
    const chat_clients_options options_;
    join_schedule joins_;
    boost::asio::steady_timer end_timer_;
    std::vector<client_ptr> clients_;
    std::unique_ptr<char[]> scratch_;
    std::mt19937 rng_; ///< WebSocket keys and masks (RFC 6455 §5.3: unpredictable to a proxy)
};

} // namespace livehouse::stress
