// Two livehouse processes on one Redis: issue 3's "many clients incrementing one counter and
// reserving from one inventory from several threads and two livehouse processes: exact totals,
// never oversold". Each process is a livehouse_state_bench (bench/state_bench.cpp) with several
// pipelines over two Redis clients (two connections, two event-loop threads); both wait on a go
// file so their load overlaps, against a private Redis and a private 3-master Redis Cluster
// (livehouse_test/redis_server.hpp). The totals are read back through this process's own
// client.
#include "livehouse_test/process.hpp"
#include "livehouse_test/redis_server.hpp"
#include "livehouse_test/temp_dir.hpp"
#include "state/redis/client.hpp"
#include "state/redis/redis_state.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#ifndef LIVEHOUSE_STATE_BENCH
#error "LIVEHOUSE_STATE_BENCH: path of livehouse_state_bench (tests/backends/CMakeLists.txt)"
#endif

namespace livehouse::state {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct server_kind {
    std::string name;
    std::function<std::string()> seeds; ///< --redis for the processes and for this one
};

// The cluster's nodes, "host:port,host:port,host:port". Not redis_cluster::seeds(): at -O3, g++
// 12 flags its `"lit" + std::string` with a false -Wrestrict, an error under -Werror.
std::string cluster_seeds() {
    auto& cluster = test::shared_redis_cluster();
    std::string s;
    for (std::size_t i = 0; i < 3; ++i) {
        s.append(i == 0 ? "" : ",").append(cluster.node(i).address());
    }
    return s;
}

std::vector<server_kind> server_kinds() {
    return {{"redis", [] { return test::shared_redis().address(); }},
            {"redis_cluster", cluster_seeds}};
}

/// What one bench process printed (its one JSON line) and how it exited.
struct outcome {
    int status = -1;
    std::string output;
    nlohmann::json result; ///< null if no JSON line came out
};

// Completion-style call, waited for (the client completes on its own thread).
template <typename T, typename Call> core::result<T> wait(Call&& call) {
    struct waiter {
        std::mutex mutex;
        std::condition_variable cv;
        std::optional<core::result<T>> value;
    };
    auto w = std::make_shared<waiter>();
    call([w](core::result<T> v) {
        std::lock_guard lock(w->mutex);
        w->value.emplace(std::move(v));
        w->cv.notify_all();
    });
    std::unique_lock lock(w->mutex);
    if (!w->cv.wait_for(lock, 10s, [&] { return w->value.has_value(); })) {
        return core::make_error("completion not called within 10 s");
    }
    return std::move(*w->value);
}

class two_process : public ::testing::TestWithParam<server_kind> {
  protected:
    void SetUp() override {
        seeds_ = GetParam().seeds();
        auto options = redis::parse_redis_urls(seeds_);
        ASSERT_TRUE(options) << options.err().message;
        auto c = redis::client::connect(*options);
        ASSERT_TRUE(c) << c.err().message;
        client_ = *c;
    }

    /// A key no other test of this process uses (the servers are shared by the whole run).
    static std::string unique_key(std::string_view what) {
        static std::atomic<int> n{0};
        return std::string("test|two_process|")
            .append(what)
            .append("-")
            .append(std::to_string(n.fetch_add(1)));
    }

    /// Runs one livehouse_state_bench per argument list at the same time: each connects, says
    /// it is ready, and all start their load together once every one is.
    std::vector<outcome> run_together(const std::vector<std::vector<std::string>>& args) {
        std::vector<outcome> out(args.size());
        const auto go = dir_.path() / "go";
        std::vector<fs::path> ready;
        std::vector<std::thread> runners;
        for (std::size_t i = 0; i < args.size(); ++i) {
            ready.push_back(dir_.path() / std::string("ready").append(std::to_string(i)));
            std::string cmd = LIVEHOUSE_STATE_BENCH;
            for (const auto& a : args[i]) {
                cmd.append(" '").append(a).append("'");
            }
            cmd.append(" --redis '")
                .append(seeds_)
                .append("' --timeout-s 60 --ready-file '")
                .append(ready.back().string())
                .append("' --go-file '")
                .append(go.string())
                .append("' 2>&1");
            runners.emplace_back(
                [cmd, &o = out[i]] { o.status = test::run_command(cmd, &o.output); });
        }
        // Every process connected and set up, or gave up (a failed one exits and never gets
        // ready: then go anyway, the others see the file and the failure shows below).
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            bool all = true;
            for (const auto& r : ready) {
                all = all && fs::exists(r);
            }
            if (all) {
                break;
            }
            std::this_thread::sleep_for(1ms);
        }
        std::ofstream(go).put('\n');
        for (auto& t : runners) {
            t.join();
        }
        fs::remove(go);
        for (const auto& r : ready) {
            fs::remove(r);
        }
        for (auto& o : out) {
            // The JSON line is the last one that starts with '{'; anything else is stderr.
            std::size_t at = 0;
            std::size_t json_at = std::string::npos;
            while (at < o.output.size()) {
                if (o.output[at] == '{') {
                    json_at = at;
                }
                const auto nl = o.output.find('\n', at);
                at = nl == std::string::npos ? o.output.size() : nl + 1;
            }
            if (json_at != std::string::npos) {
                o.result = nlohmann::json::parse(
                    o.output.substr(json_at, o.output.find('\n', json_at) - json_at), nullptr,
                    false);
                if (o.result.is_discarded()) {
                    o.result = nullptr;
                }
            }
        }
        return out;
    }

    /// Checks a process's run: exit 0, every request answered, none failed.
    static void expect_clean(const outcome& o, std::uint64_t requests) {
        EXPECT_EQ(o.status, 0) << o.output;
        ASSERT_TRUE(o.result.is_object()) << o.output;
        EXPECT_EQ(o.result.value("requests", 0ULL), requests) << o.output;
        EXPECT_EQ(o.result.value("ok", 0ULL), requests) << o.output;
        EXPECT_EQ(o.result.value("errors", 1ULL), 0U) << o.output;
    }

    /// Whether the two runs' load windows overlapped (both start at the go file; a run that
    /// ended before the other began would test nothing about concurrency).
    static bool overlapped(const outcome& a, const outcome& b) {
        const auto a0 = a.result.value("start_unix_ms", 0LL);
        const auto a1 = a.result.value("end_unix_ms", 0LL);
        const auto b0 = b.result.value("start_unix_ms", 0LL);
        const auto b1 = b.result.value("end_unix_ms", 0LL);
        return a0 <= b1 && b0 <= a1;
    }

    std::string seeds_;
    std::shared_ptr<redis::client> client_;
    test::temp_dir dir_;
};

TEST_P(two_process, increments_from_two_processes_add_up_exactly) {
    constexpr std::uint64_t per_process = 10000;
    const auto key = unique_key("counter");
    const std::vector<std::string> args{
        "--backend",     "redis", "--op",       "incrby",
        "--key",         key,     "--requests", std::to_string(per_process),
        "--clients",     "4",     "--pipeline", "8",
        "--connections", "2",     "--threads",  "2"};
    const auto runs = run_together({args, args});
    ASSERT_EQ(runs.size(), 2U);
    for (const auto& o : runs) {
        expect_clean(o, per_process);
    }
    EXPECT_TRUE(overlapped(runs[0], runs[1])) << runs[0].output << runs[1].output;

    redis::redis_counters counters(client_);
    auto total = wait<std::int64_t>([&](auto done) { counters.get(key, std::move(done)); });
    ASSERT_TRUE(total) << total.err().message;
    EXPECT_EQ(*total, static_cast<std::int64_t>(2 * per_process));
}

TEST_P(two_process, reservations_from_two_processes_sell_exactly_the_stock) {
    constexpr std::int64_t stock = 1000;
    constexpr std::uint64_t per_process = 1500; // 3000 attempts on 1000 items
    const auto key = unique_key("inventory");
    redis::redis_inventory inv(client_);
    auto set = wait<std::int64_t>([&](auto done) { inv.set_stock(key, stock, std::move(done)); });
    ASSERT_TRUE(set) << set.err().message;
    ASSERT_EQ(*set, stock);

    const std::vector<std::string> args{
        "--backend",     "redis", "--op",       "reserve",
        "--key",         key,     "--requests", std::to_string(per_process),
        "--clients",     "4",     "--pipeline", "4",
        "--connections", "2",     "--threads",  "2"};
    const auto runs = run_together({args, args});
    ASSERT_EQ(runs.size(), 2U);
    std::int64_t sold_by_processes = 0;
    for (const auto& o : runs) {
        expect_clean(o, per_process);
        sold_by_processes += o.result.value("sold", std::int64_t{-1});
    }
    EXPECT_TRUE(overlapped(runs[0], runs[1])) << runs[0].output << runs[1].output;
    // Both processes sold some: the stock really was contended, not drained by one of them.
    EXPECT_GT(runs[0].result.value("sold", std::int64_t{0}), 0) << runs[0].output;
    EXPECT_GT(runs[1].result.value("sold", std::int64_t{0}), 0) << runs[1].output;

    EXPECT_EQ(sold_by_processes, stock);
    auto sold = wait<std::int64_t>([&](auto done) { inv.sold(key, std::move(done)); });
    ASSERT_TRUE(sold) << sold.err().message;
    EXPECT_EQ(*sold, stock);
    auto available = wait<std::int64_t>([&](auto done) { inv.available(key, std::move(done)); });
    ASSERT_TRUE(available) << available.err().message;
    EXPECT_EQ(*available, 0);
}

INSTANTIATE_TEST_SUITE_P(backends, two_process, ::testing::ValuesIn(server_kinds()),
                         [](const auto& p) { return p.param.name; });

} // namespace
} // namespace livehouse::state
