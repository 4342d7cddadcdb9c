// Logging: spdlog sinks and the JSON-lines formatter.
#include "server/logging.hpp"

#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace livehouse::server {

namespace {

bool key_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || c == '_' || (!first && ((c >= '0' && c <= '9') || c == '.'));
}

// Extracts key=value tokens. A value runs to the next space, or is a "..." quoted string.
void add_fields(nlohmann::ordered_json& line, std::string_view msg) {
    std::size_t i = 0;
    while (i < msg.size()) {
        while (i < msg.size() && msg[i] == ' ') {
            ++i;
        }
        const std::size_t key_start = i;
        while (i < msg.size() && key_char(msg[i], i == key_start)) {
            ++i;
        }
        const bool is_pair = i > key_start && i < msg.size() && msg[i] == '=';
        if (!is_pair) {
            while (i < msg.size() && msg[i] != ' ') {
                ++i;
            }
            continue;
        }
        const auto key = msg.substr(key_start, i - key_start);
        ++i; // '='
        std::string_view value;
        if (i < msg.size() && msg[i] == '"') {
            const auto close = msg.find('"', i + 1);
            const auto end = close == std::string_view::npos ? msg.size() : close;
            value = msg.substr(i + 1, end - i - 1);
            i = close == std::string_view::npos ? msg.size() : close + 1;
        } else {
            const auto start = i;
            while (i < msg.size() && msg[i] != ' ') {
                ++i;
            }
            value = msg.substr(start, i - start);
        }
        if (key != "ts" && key != "level" && key != "msg") {
            line[std::string(key)] = std::string(value);
        }
    }
}

class json_formatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto level = spdlog::level::to_string_view(msg.level);
        const auto text =
            format_json_line(msg.time, std::string_view(level.data(), level.size()),
                             std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(text.data(), text.data() + text.size());
    }
    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_formatter>();
    }
};

} // namespace

std::string format_json_line(std::chrono::system_clock::time_point ts, std::string_view level,
                             std::string_view msg) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch());
    const std::time_t secs =
        static_cast<std::time_t>(std::chrono::duration_cast<std::chrono::seconds>(ms).count());
    std::tm tm{};
    gmtime_r(&secs, &tm);
    const auto frac = ((ms.count() % 1000) + 1000) % 1000;
    nlohmann::ordered_json line;
    line["ts"] = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    line["level"] = std::string(level);
    line["msg"] = std::string(msg);
    add_fields(line, msg);
    auto out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
    return out;
}

core::result<void> setup_logging(const log_section& log) {
    const auto level = spdlog::level::from_str(log.level);
    // from_str maps unknown names to "off": only accept "off" when it was asked for.
    if (level == spdlog::level::off && log.level != "off") {
        return core::make_error(fmt::format("log.level: unknown level '{}'", log.level));
    }
    spdlog::drop("livehouse"); // set-up may run again (tests)
    auto logger = spdlog::stderr_color_mt("livehouse");
    if (log.format == "json") {
        logger->set_formatter(std::make_unique<json_formatter>());
    } else if (log.format == "text") {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
    } else {
        spdlog::drop("livehouse");
        return core::make_error(fmt::format("log.format: unknown format '{}'", log.format));
    }
    logger->set_level(level);
    // Warnings and errors reach the terminal at once; info lines are flushed by stderr's
    // own (unbuffered) policy anyway.
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    return {};
}

} // namespace livehouse::server
