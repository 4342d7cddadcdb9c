// love_tappers: N viewers tapping hearts the way the watch page does (web/static/love.js, seed
// 002): each gets a user token (minted with the scenario's token_secret, or from the guest
// endpoint), reads the broadcast's position once from its status endpoint, then taps
// `taps_per_second` times a second and sends what it tapped every 2 s as one batch of video
// timestamps, with a fresh batch id, on one keep-alive connection. What was sent and what the
// server says it accepted go into run_stats::love, so a run can be checked against the
// broadcast's total (exactness, issue 5).
//
// Requests count in the steps "guest" (when no secret), "status" and "love".
#pragma once

#include "stress/actor_share.hpp"
#include "stress/endpoints.hpp"
#include "stress/recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace livehouse::stress {

struct love_tappers_options {
    std::string host_header;
    std::string broadcast;
    std::string token_secret;
    double taps_per_second = 3;
    actor_share share; ///< this loop's tappers, their ids and join times
};

class love_tappers {
  public:
    love_tappers(boost::asio::io_context& ioc, recorder& rec, const endpoints& targets,
                 love_tappers_options options);
    ~love_tappers();
    love_tappers(const love_tappers&) = delete;
    love_tappers& operator=(const love_tappers&) = delete;

    void start();

  private:
    struct tapper;
    void join(std::size_t i);
    void send(const std::shared_ptr<tapper>& t, std::string step, std::string method,
              std::string target, std::string body,
              std::function<void(int, const std::string&)> done);
    void get_token(const std::shared_ptr<tapper>& t);
    void get_status(const std::shared_ptr<tapper>& t);
    void schedule_batch(const std::shared_ptr<tapper>& t);
    void send_batch(const std::shared_ptr<tapper>& t);
    void stop(const std::shared_ptr<tapper>& t);

    boost::asio::io_context& ioc_;
    recorder& rec_;
    const endpoints& targets_; ///< outlives the run's loops
    const love_tappers_options options_;
    join_schedule joins_;
};

} // namespace livehouse::stress
