// JSON log lines: valid JSON, fixed keys first, key=value fields extracted.
#include "server/logging.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace livehouse::server {
namespace {

const auto t0 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'767'225'600'042));

TEST(logging, json_line_has_ts_level_msg_and_fields) {
    const auto line =
        format_json_line(t0, "info", "livehouse listening http=0.0.0.0:8080 rtmp=[::]:1935");
    ASSERT_TRUE(line.ends_with("\n"));
    EXPECT_EQ(line, R"({"ts":"2026-01-01T00:00:00.042Z","level":"info",)"
                    R"("msg":"livehouse listening http=0.0.0.0:8080 rtmp=[::]:1935",)"
                    R"("http":"0.0.0.0:8080","rtmp":"[::]:1935"})"
                    "\n");
}

TEST(logging, quoted_values_and_reserved_keys) {
    const auto j = nlohmann::json::parse(
        format_json_line(t0, "warn", "broadcast ended title=\"a b\" msg=evil level=x n=3"));
    EXPECT_EQ(j["title"], "a b");
    EXPECT_EQ(j["n"], "3");
    EXPECT_EQ(j["level"], "warn");
    EXPECT_EQ(j["msg"], "broadcast ended title=\"a b\" msg=evil level=x n=3");
}

TEST(logging, escaping_and_invalid_utf8_still_give_valid_json) {
    const auto line = format_json_line(t0, "error", "quote \" backslash \\ newline \n bad \xff");
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["level"], "error");
    EXPECT_EQ(line.find('\n'), line.size() - 1); // one line
}

TEST(logging, setup_rejects_unknown_level_and_format) {
    EXPECT_FALSE(setup_logging(log_section{"loud", "text"}));
    EXPECT_FALSE(setup_logging(log_section{"info", "xml"}));
    EXPECT_TRUE(setup_logging(log_section{"off", "json"}));
    EXPECT_TRUE(setup_logging(log_section{"warn", "text"}));
}

} // namespace
} // namespace livehouse::server
