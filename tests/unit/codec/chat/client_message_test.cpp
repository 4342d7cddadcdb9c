#include "codec/chat/client_message.hpp"

#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::chat {
namespace {

client_command ok(std::string_view text, const client_limits& l = {}) {
    auto r = parse_client_message(text, l);
    EXPECT_TRUE(std::holds_alternative<client_command>(r)) << text;
    return std::holds_alternative<client_command>(r) ? std::get<client_command>(r)
                                                     : client_command{};
}

refusal refused(std::string_view text, const client_limits& l = {}) {
    auto r = parse_client_message(text, l);
    EXPECT_TRUE(std::holds_alternative<refusal>(r)) << text;
    return std::holds_alternative<refusal>(r) ? std::get<refusal>(r) : refusal{};
}

TEST(ChatClientMessage, SendWithTextAndRef) {
    auto c = ok(R"({"type":"send","text":"  hello \u00e9 ","ref":"c-1","extra":[1]})");
    EXPECT_EQ(c.kind, command_kind::send);
    EXPECT_EQ(c.text, "hello \xc3\xa9");
    EXPECT_EQ(c.ref, "c-1");
}

TEST(ChatClientMessage, RefusalsHaveCodesAndKeepTheRef) {
    EXPECT_EQ(refused("{nope").code, "bad_json");
    EXPECT_EQ(refused("[1,2]").code, "bad_message");
    EXPECT_EQ(refused(R"({"text":"x"})").code, "bad_message");
    auto u = refused(R"({"type":"shout","ref":"r9"})");
    EXPECT_EQ(u.code, "unknown_type");
    EXPECT_EQ(u.ref, "r9");
    EXPECT_EQ(refused(R"({"type":"send","text":"   "})").code, "text_empty");
    EXPECT_EQ(refused(R"({"type":"send","text":5})").code, "bad_message");
    EXPECT_EQ(refused(R"({"type":"send","text":"a\u0007b"})").code, "bad_text");
    EXPECT_EQ(refused(R"({"type":"send","text":"x","ref":"has space"})").code, "bad_message");
    EXPECT_EQ(refused(R"({"type":"send","text":"x","ref":7})").code, "bad_message");
}

TEST(ChatClientMessage, LimitsCountCharactersNotBytes) {
    client_limits l;
    l.max_text_chars = 3;
    EXPECT_EQ(ok(R"({"type":"send","text":"\u00e9\u00e9\u00e9"})", l).text.size(), 6U);
    EXPECT_EQ(refused(R"({"type":"send","text":"abcd"})", l).code, "text_too_long");
    l.max_message_bytes = 10;
    EXPECT_EQ(refused(R"({"type":"send","text":"a"})", l).code, "message_too_big");
}

TEST(ChatClientMessage, DeepNestingIsRefusedBeforeParsing) {
    std::string deep(100, '[');
    EXPECT_EQ(refused(deep).code, "bad_json");
    // Brackets inside strings do not count.
    EXPECT_EQ(ok(R"({"type":"send","text":"[[[[[[[[{{{{{"})").text, "[[[[[[[[{{{{{");
    EXPECT_EQ(ok(R"({"type":"send","text":"\"[[[[[[[["})").text, "\"[[[[[[[[");
}

TEST(ChatClientMessage, Utf8Length) {
    EXPECT_EQ(utf8_length(""), 0U);
    EXPECT_EQ(utf8_length("abc"), 3U);
    EXPECT_EQ(utf8_length("\xe3\x81\x82\xf0\x9f\x98\x80"), 2U);
}

} // namespace
} // namespace livehouse::codec::chat
