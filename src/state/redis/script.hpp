// A Lua script run by its SHA1 (EVALSHA), sent whole (EVAL) only when the server answers
// NOSCRIPT — after a restart, or on a cluster node that has not seen it yet. Scripts run on
// every inventory call; sending 1 KB of Lua each time would cost more than the call itself.
#pragma once

#include "state/redis/client.hpp"

#include <string>
#include <vector>

namespace livehouse::state::redis {

class script {
  public:
    explicit script(std::string body);

    /// Runs the script with `keys` and `args` on the node serving `route`; `done` gets the
    /// reply as from client::send.
    void run(client& c, const std::string& route, const std::vector<std::string>& keys,
             const std::vector<std::string>& args, std::function<void(reply_result)> done) const;

    [[nodiscard]] const std::string& sha1() const { return sha1_; }

  private:
    std::string body_;
    std::string sha1_; ///< lower-case hex, as SCRIPT LOAD returns it
};

} // namespace livehouse::state::redis
