// codec::love: love batch bodies, accepted and refused (each refusal names its field).
#include "codec/love/love_batch.hpp"

#include <gtest/gtest.h>
#include <string>

namespace livehouse::codec::love {
namespace {

TEST(LoveBatch, ParsesTheBatchIdAndTheTapsInOrder) {
    auto r = parse_love_batch(R"({"batch_id":"b-17","taps":[12.5, 3, 0, 12.5],"extra":true})");
    ASSERT_TRUE(std::holds_alternative<love_batch>(r)) << std::get<batch_refusal>(r).message;
    const auto& b = std::get<love_batch>(r);
    EXPECT_EQ(b.batch_id, "b-17");
    EXPECT_EQ(b.taps, (std::vector<double>{12.5, 3, 0, 12.5}));
    auto empty = parse_love_batch(R"({"batch_id":"e","taps":[]})");
    ASSERT_TRUE(std::holds_alternative<love_batch>(empty));
    EXPECT_TRUE(std::get<love_batch>(empty).taps.empty());
}

TEST(LoveBatch, RefusalsNameTheField) {
    const batch_limits limits{.max_body_bytes = 200, .max_batch_id_bytes = 4, .max_taps = 3};
    const struct {
        std::string body;
        std::string field;
    } cases[] = {
        {"not json", "body"},
        {"[1]", "body"},
        {R"({"batch_id":"a","taps":[[[1]]]})", "body"},
        {std::string(201, ' '), "body"},
        {R"({"taps":[1]})", "batch_id"},
        {R"({"batch_id":5,"taps":[1]})", "batch_id"},
        {R"({"batch_id":"","taps":[1]})", "batch_id"},
        {R"({"batch_id":"abcde","taps":[1]})", "batch_id"},
        {R"({"batch_id":"a b","taps":[1]})", "batch_id"},
        {R"({"batch_id":"a"})", "taps"},
        {R"({"batch_id":"a","taps":3})", "taps"},
        {R"({"batch_id":"a","taps":[1,"2"]})", "taps"},
        {R"({"batch_id":"a","taps":[1,-0.5]})", "taps"},
        {R"({"batch_id":"a","taps":[null]})", "taps"},
        {R"({"batch_id":"a","taps":[1,2,3,4]})", "taps"},
    };
    for (const auto& c : cases) {
        auto r = parse_love_batch(c.body, limits);
        ASSERT_TRUE(std::holds_alternative<batch_refusal>(r)) << c.body;
        const auto& f = std::get<batch_refusal>(r);
        EXPECT_EQ(f.field, c.field) << c.body << ": " << f.message;
        EXPECT_EQ(f.message.rfind(c.field + ":", 0), 0U) << f.message;
    }
}

} // namespace
} // namespace livehouse::codec::love
