// io_pool: one io_context per thread.
#include "net/io_pool.hpp"

#include <algorithm>
#include <exception>
#include <spdlog/spdlog.h>

namespace livehouse::net {

io_pool::io_pool(std::size_t threads) {
    if (threads == 0) {
        threads = std::max(1U, std::thread::hardware_concurrency());
    }
    contexts_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
        // concurrency_hint 1: each context is run by exactly one thread, which lets Asio skip
        // the scheduler's internal locking.
        contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    }
}

io_pool::~io_pool() {
    stop();
    join();
}

boost::asio::io_context& io_pool::next() {
    return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void io_pool::run() {
    for (auto& ctx : contexts_) {
        guards_.push_back(boost::asio::make_work_guard(*ctx));
    }
    for (std::size_t i = 0; i < contexts_.size(); ++i) {
        threads_.emplace_back([ctx = contexts_[i].get(), i] {
            for (;;) {
                try {
                    ctx->run();
                    return;
                } catch (const std::exception& e) {
                    // A bug in some handler; the other connections on this thread live on.
                    spdlog::error("io thread {}: unhandled exception: {}", i, e.what());
                }
            }
        });
    }
}

void io_pool::stop() {
    // The work guards stay: io_context::stop() alone makes run() return, and leaving guards_
    // untouched keeps stop() free of data races when two threads call it.
    for (auto& ctx : contexts_) {
        ctx->stop();
    }
}

void io_pool::join() {
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    threads_.clear();
}

} // namespace livehouse::net
