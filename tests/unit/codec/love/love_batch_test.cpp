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

TEST(LoveBatch, IgnoresOtherFieldsAndTakesTheLastOfARepeatedKey) {
    auto r = parse_love_batch(R"({"x":[1,"taps"],"batch_id":"old","y":{"batch_id":"no","taps":8},)"
                              R"("taps":[5],"batch_id":"new","taps":[1.5,2]})");
    ASSERT_TRUE(std::holds_alternative<love_batch>(r)) << std::get<batch_refusal>(r).message;
    const auto& b = std::get<love_batch>(r);
    EXPECT_EQ(b.batch_id, "new");
    EXPECT_EQ(b.taps, (std::vector<double>{1.5, 2}));
    // Integers of every JSON width are numbers of seconds.
    auto big = parse_love_batch(R"({"batch_id":"b","taps":[0, 18446744073709551615, 7]})");
    ASSERT_TRUE(std::holds_alternative<love_batch>(big));
    EXPECT_EQ(std::get<love_batch>(big).taps.size(), 3U);
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
        // The whole body parses before any field is judged; a key given twice counts as its
        // last value; containers where a scalar belongs are the field's error.
        {R"({"batch_id":5,"taps":[1})", "body"},
        {R"("a")", "body"},
        {R"({"batch_id":["a"],"taps":[1]})", "batch_id"},
        {R"({"batch_id":{},"taps":[1]})", "batch_id"},
        {R"({"batch_id":"a","batch_id":7,"taps":[1]})", "batch_id"},
        {R"({"batch_id":"a","taps":{"0":1}})", "taps"},
        {R"({"batch_id":"a","taps":[1],"taps":"x"})", "taps"},
        {R"({"batch_id":"a","taps":[1e999]})", "body"}, // the parser's "number overflow"
        {R"({"batch_id":"a","taps":[true]})", "taps"},
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
