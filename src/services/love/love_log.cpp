// love_log (see love_log.hpp).
#include "services/love/love_log.hpp"

#include "codec/chat/server_messages.hpp"

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace livehouse::services::love {

std::shared_ptr<love_log> love_log::create(std::string data_dir, media::task_runner io,
                                           core::metrics_registry& metrics,
                                           std::size_t max_queued) {
    return std::shared_ptr<love_log>(
        new love_log(std::move(data_dir), std::move(io), metrics, max_queued));
}

love_log::love_log(std::string data_dir, media::task_runner io, core::metrics_registry& metrics,
                   std::size_t max_queued)
    : dir_((std::filesystem::path(data_dir) / "love").string()), io_(std::move(io)),
      max_queued_(max_queued) {
    lines_ = &metrics.add_counter("love_log_lines_total", "Counted love batches logged");
    dropped_ = &metrics.add_counter("love_log_dropped_total",
                                    "Love log lines dropped: the file pool fell behind");
}

love_log::~love_log() {
    if (file_ != nullptr) {
        std::fclose(file_);
    }
}

void love_log::add(const std::string& broadcast_id, const std::string& user_id,
                   std::vector<double> taps, std::int64_t time_ms) {
    bool start = false;
    {
        std::lock_guard lock(mu_);
        if (queued_.size() >= max_queued_) {
            dropped_->inc();
            return;
        }
        queued_.push_back({broadcast_id, user_id, std::move(taps), time_ms});
        start = !std::exchange(writing_, true);
    }
    if (start) {
        io_([self = shared_from_this()] { self->write(); });
    }
}

namespace {

/// One record as its JSON line. A tap (video seconds, >= 0, at most a week: anti_cheat) is
/// written as its milliseconds, "12.500": integer formatting, several times cheaper than a
/// floating-point format, and the same text as "{:.3f}".
void append_line(fmt::memory_buffer& out, const std::string& broadcast_id,
                 const std::string& user_id, const std::vector<double>& taps,
                 std::int64_t time_ms) {
    using codec::chat::json_string;
    fmt::format_to(std::back_inserter(out), FMT_COMPILE(R"({{"broadcast":{},"user":{},"taps":[)"),
                   json_string(broadcast_id), json_string(user_id));
    for (std::size_t i = 0; i < taps.size(); ++i) {
        const auto ms = static_cast<std::int64_t>(std::llround(taps[i] * 1000.0));
        if (i != 0) {
            out.push_back(',');
        }
        fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}.{:03}"), ms / 1000, ms % 1000);
    }
    fmt::format_to(std::back_inserter(out), FMT_COMPILE("],\"time\":{}}}\n"), time_ms);
}

} // namespace

void love_log::write() {
    for (;;) {
        std::vector<record> lines;
        {
            std::lock_guard lock(mu_);
            if (queued_.empty()) {
                writing_ = false;
                return;
            }
            lines.swap(queued_);
        }
        // The file of this UTC hour.
        const std::time_t now = std::time(nullptr);
        std::tm utc{};
        gmtime_r(&now, &utc);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%Y%m%d-%H", &utc);
        const auto name = fmt::format("{}/taps-{}.jsonl", dir_, stamp);
        if (name != file_name_) {
            if (file_ != nullptr) {
                std::fclose(file_);
                file_ = nullptr;
            }
            std::error_code ec;
            std::filesystem::create_directories(dir_, ec);
            file_ = std::fopen(name.c_str(), "ae");
            file_name_ = file_ != nullptr ? name : std::string();
            if (file_ == nullptr) {
                spdlog::warn("love: cannot open {}: dropping {} lines", name, lines.size());
                dropped_->inc(lines.size());
                continue;
            }
        }
        fmt::memory_buffer text;
        for (const auto& r : lines) {
            append_line(text, r.broadcast_id, r.user_id, r.taps, r.time_ms);
            if (text.size() >= 1 << 16) {
                std::fwrite(text.data(), 1, text.size(), file_);
                text.clear();
            }
        }
        std::fwrite(text.data(), 1, text.size(), file_);
        // Whole lines reach the file at each turn: a shipper never reads half a line for long.
        std::fflush(file_);
        lines_->inc(lines.size());
    }
}

} // namespace livehouse::services::love
