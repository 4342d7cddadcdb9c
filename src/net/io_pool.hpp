// Thread per core: N io_contexts, one thread each. A connection is handed to one context for its
// whole life (tcp_listener uses next()), so its handlers never run concurrently and need no
// strand; cross-thread work is posted to the owning context.
//
// Limits: the size is fixed at construction. A handler that throws is logged and its context
// keeps running (an exception must not take a whole core's connections down with it).
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace livehouse::net {

class io_pool {
  public:
    /// `threads` contexts (0: std::thread::hardware_concurrency(), at least 1). Starts nothing.
    explicit io_pool(std::size_t threads);
    /// Stops and joins if still running.
    ~io_pool();
    io_pool(const io_pool&) = delete;
    io_pool& operator=(const io_pool&) = delete;

    [[nodiscard]] std::size_t size() const { return contexts_.size(); }
    /// Round-robin over the contexts. Thread-safe.
    boost::asio::io_context& next();
    /// Context i (0 <= i < size()).
    boost::asio::io_context& at(std::size_t i) { return *contexts_.at(i); }

    /// Starts one thread per context. The contexts keep running (work guards) until stop().
    /// Call once.
    void run();
    /// Stops every context: pending handlers are abandoned (they are destroyed with the pool).
    /// Thread-safe; callable from a pool thread.
    void stop();
    /// Waits for the threads. Must not be called from a pool thread.
    void join();

  private:
    using guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
    std::vector<guard> guards_;
    std::vector<std::thread> threads_;
    std::atomic<std::size_t> next_{0};
};

} // namespace livehouse::net
