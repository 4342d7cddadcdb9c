// Chat archives: the file format round trip and replay windows by position with deletes.
#include "codec/chat/server_messages.hpp"
#include "services/chat/chat_archive.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace livehouse::services::chat {
namespace {

std::string message(std::uint64_t offset, double position, std::string text) {
    codec::chat::message_fields m;
    m.id = fmt::format("m{}", offset);
    m.user = {"u1", "Ann"};
    m.text = std::move(text);
    m.position_s = position;
    auto p = codec::chat::render_message(m);
    return fmt::format("{}{}{}", p.prefix, offset, p.suffix);
}

TEST(ChatArchive, ReplayWindowAppliesDeletesAndPositions) {
    auto del = codec::chat::render_delete(2);
    std::vector<std::string> entries = {message(1, 1.0, "a"), message(2, 2.0, "b"),
                                        message(3, 3.5, "c"), del.prefix + "4" + del.suffix,
                                        message(5, 10.0, "d")};
    std::vector<std::string_view> views(entries.begin(), entries.end());
    bool truncated = true;
    auto w = replay_window(views, 0, 5, &truncated);
    EXPECT_FALSE(truncated);
    ASSERT_EQ(w.size(), 2U);
    EXPECT_EQ(w[0].offset, 1U);
    EXPECT_EQ(w[1].offset, 3U);
    EXPECT_EQ(replay_window(views, 3.5, 10.0, nullptr).size(), 1U); // [from, to)
    EXPECT_EQ(replay_window(views, 10.0, 11.0, nullptr).at(0).offset, 5U);
}

TEST(ChatArchive, FileRoundTripKeepsEntriesReadable) {
    state::log_slice log;
    log.first = 1;
    log.next = 3;
    log.entries.push_back({1, core::make_shared_bytes(message(1, 1.0, "hi \"there\""))});
    log.entries.push_back({2, core::make_shared_bytes(message(2, 2.0, "\xe2\x9c\x93"))});
    const auto text = render_archive("b1", log);
    const auto doc = nlohmann::json::parse(text);
    EXPECT_EQ(doc["broadcast_id"], "b1");
    EXPECT_EQ(doc["next_offset"], 3);
    auto entries = archive_entries(text);
    ASSERT_TRUE(entries) << entries.err().message;
    ASSERT_EQ(entries->size(), 2U);
    EXPECT_EQ(codec::chat::entry_offset((*entries)[1]), 2U);
    EXPECT_EQ(nlohmann::json::parse((*entries)[0])["text"], "hi \"there\"");
    std::vector<std::string_view> views(entries->begin(), entries->end());
    EXPECT_EQ(replay_window(views, 0, 100, nullptr).size(), 2U);
    EXPECT_FALSE(archive_entries("[]"));
    EXPECT_FALSE(archive_entries("{nope"));
}

TEST(ChatArchive, ReplayIsBoundedAndRendered) {
    std::vector<std::string> entries;
    for (std::uint64_t i = 1; i <= max_replay_messages + 5; ++i) {
        entries.push_back(message(i, 1.0, "x"));
    }
    std::vector<std::string_view> views(entries.begin(), entries.end());
    bool truncated = false;
    auto w = replay_window(views, 0, 2, &truncated);
    EXPECT_TRUE(truncated);
    EXPECT_EQ(w.size(), max_replay_messages);
    const auto doc = nlohmann::json::parse(render_replay("b1", 0, 2, "live", w, truncated));
    EXPECT_EQ(doc["messages"].size(), max_replay_messages);
    EXPECT_EQ(doc["truncated"], true);
    EXPECT_EQ(doc["source"], "live");
}

} // namespace
} // namespace livehouse::services::chat
