// A livehouse Redis client for a test (state/redis/client.hpp) to one of the private servers of
// redis_server.hpp: a seed list ("127.0.0.1:7000" or several, comma-separated, for a cluster).
// A failure is a test failure (EXPECT) and a null client, which the suites check in SetUp.
#pragma once

#include "state/redis/client.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>

namespace livehouse::test {

inline std::shared_ptr<state::redis::client> connect_redis(const std::string& seeds) {
    auto options = state::redis::parse_redis_urls(seeds);
    EXPECT_TRUE(options) << options.err().message;
    if (!options) {
        return nullptr;
    }
    auto c = state::redis::client::connect(*options);
    EXPECT_TRUE(c) << c.err().message;
    return c ? *c : nullptr;
}

} // namespace livehouse::test
