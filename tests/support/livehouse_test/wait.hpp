// Waiting on the state layer's asynchronous calls in tests: a completion may run on the caller's
// thread or later on another (a worker, a pool).
#pragma once

#include "core/result.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <gtest/gtest.h>
#include <memory>

namespace livehouse::test {

/// Runs `call(done)` and waits for `done`'s result. A completion called twice, or not within
/// `timeout`, fails the test (the latter returns an error instead of hanging).
template <typename T, typename Call>
core::result<T> wait_result(Call&& call,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    struct state {
        std::promise<core::result<T>> promise;
        std::atomic<int> calls{0};
    };
    auto s = std::make_shared<state>();
    auto f = s->promise.get_future();
    call([s](core::result<T> r) {
        if (s->calls.fetch_add(1) != 0) {
            ADD_FAILURE() << "completion called twice";
            return;
        }
        s->promise.set_value(std::move(r));
    });
    if (f.wait_for(timeout) != std::future_status::ready) {
        ADD_FAILURE() << "completion not called within " << timeout.count() << " ms";
        return core::make_error("test: timeout");
    }
    return f.get();
}

} // namespace livehouse::test
