#include "codec/chat/server_messages.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace livehouse::codec::chat {
namespace {

using json = nlohmann::json;

TEST(ChatServerMessages, MessageIsValidJsonWithTheOffsetFirst) {
    message_fields m;
    m.id = "m1";
    m.user = {"u-1", "Ann \"the\" <b>"};
    m.text = "hi\nthere \xe2\x9c\x93";
    m.time_ms = 1700000000123;
    m.position_s = 12.3456;
    auto p = render_message(m);
    const std::string text = p.prefix + "42" + p.suffix;
    auto j = json::parse(text);
    EXPECT_EQ(j["type"], "message");
    EXPECT_EQ(j["offset"], 42);
    EXPECT_EQ(j["id"], "m1");
    EXPECT_EQ(j["user"]["id"], "u-1");
    EXPECT_EQ(j["user"]["name"], "Ann \"the\" <b>");
    EXPECT_EQ(j["text"], "hi\nthere \xe2\x9c\x93");
    EXPECT_EQ(j["time"], 1700000000123);
    EXPECT_DOUBLE_EQ(j["position"].get<double>(), 12.346);
    EXPECT_FALSE(j.contains("paid"));
    EXPECT_EQ(entry_type(text), "message");
    EXPECT_EQ(entry_offset(text), 42U);

    m.paid_amount = 500;
    m.paid_currency = "JPY";
    auto paid = json::parse(render_message(m).prefix + "7" + render_message(m).suffix);
    EXPECT_EQ(paid["paid"]["amount"], 500);
    EXPECT_EQ(paid["paid"]["currency"], "JPY");
}

TEST(ChatServerMessages, InvalidUtf8IsReplacedNotThrown) {
    message_fields m;
    m.text = "bad \xff\xfe";
    m.position_s = -1; // clamped
    auto p = render_message(m);
    auto j = json::parse(p.prefix + "1" + p.suffix);
    EXPECT_NE(j["text"].get<std::string>().find("bad"), std::string::npos);
    EXPECT_EQ(j["position"], 0.0);
}

TEST(ChatServerMessages, DeleteHistoryAndControlMessages) {
    auto d = render_delete(9);
    const std::string del = d.prefix + "10" + d.suffix;
    EXPECT_EQ(json::parse(del)["target"], 9);
    EXPECT_EQ(entry_type(del), "delete");
    EXPECT_EQ(entry_offset(del), 10U);

    auto h = json::parse(render_history({del, del}, 11, true));
    EXPECT_EQ(h["type"], "history");
    EXPECT_EQ(h["messages"].size(), 2U);
    EXPECT_EQ(h["next_offset"], 11);
    EXPECT_EQ(h["resumed"], true);
    EXPECT_EQ(json::parse(render_history({}, 1, false))["messages"].size(), 0U);

    auto e = json::parse(render_error("rate_limited", "slow \"down\"", "r1"));
    EXPECT_EQ(e["code"], "rate_limited");
    EXPECT_EQ(e["message"], "slow \"down\"");
    EXPECT_EQ(e["ref"], "r1");
    EXPECT_FALSE(json::parse(render_error("x", "y"))["ref"].is_string());
    EXPECT_EQ(json::parse(render_ack(5, ""))["offset"], 5);
    EXPECT_EQ(json::parse(render_skipped(3))["count"], 3);
    EXPECT_EQ(json::parse(render_status("suspended"))["status"], "suspended");
    EXPECT_EQ(json::parse(render_muted("u1"))["user"], "u1");
    EXPECT_EQ(json::parse(render_unmuted("u\"1"))["user"], "u\"1");
    EXPECT_EQ(json::parse(render_unmuted("u1"))["type"], "unmuted");
    EXPECT_EQ(json::parse(render_love(1234))["total"], 1234);
}

TEST(ChatServerMessages, EntryOffsetRejectsWhatIsNotAnEntry) {
    EXPECT_FALSE(entry_offset(""));
    EXPECT_FALSE(entry_offset(R"({"type":"message"})"));
    EXPECT_FALSE(entry_offset(R"({"type":"message","offset":x})"));
    EXPECT_FALSE(entry_offset(R"({"offset":1,"type":"message"})"));
    EXPECT_EQ(entry_type(R"({"type":"status","status":"live"})"), "status");
}

} // namespace
} // namespace livehouse::codec::chat
