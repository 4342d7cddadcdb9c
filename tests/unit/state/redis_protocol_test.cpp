// The Redis client's pure parts: RESP command encoding, integer decoding of replies, and
// cluster key slots (cluster spec: CRC16/XMODEM, hash tags).
#include "state/redis/reply.hpp"
#include "state/redis/slots.hpp"

#include <gtest/gtest.h>

namespace livehouse::state::redis {
namespace {

TEST(redis_resp, commands_are_arrays_of_bulk_strings) {
    std::string out;
    encode_command({"SET", "k", std::string("a\0\r\nb", 5)}, out);
    EXPECT_EQ(out, std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0\r\nb\r\n", 31));
    out.clear();
    encode_command({"PING", ""}, out);
    EXPECT_EQ(out, "*2\r\n$4\r\nPING\r\n$0\r\n\r\n");
    out.clear();
    encode_command({std::string(1234567, 'x')}, out);
    EXPECT_EQ(out.substr(0, 15), "*1\r\n$1234567\r\nx");
}

TEST(redis_resp, integers_from_integer_and_string_replies) {
    reply r;
    r.type = reply::kind::integer;
    r.integer = -42;
    EXPECT_EQ(*to_int(r), -42);
    r.type = reply::kind::string;
    r.str = "9223372036854775807";
    EXPECT_EQ(*to_int(r), 9223372036854775807LL);
    r.str = "7.0"; // a sorted-set score
    EXPECT_EQ(*to_int(r), 7);
    r.str = "7.5";
    EXPECT_FALSE(to_int(r));
    r.str = "12abc";
    EXPECT_FALSE(to_int(r));
    r.type = reply::kind::error;
    r.str = "ERR increment or decrement would overflow";
    EXPECT_EQ(to_int(r).err().message, r.str);
    r.type = reply::kind::nil;
    EXPECT_FALSE(to_int(r));
}

TEST(redis_slots, crc16_and_slots_match_the_cluster_spec) {
    // Cluster spec, appendix A: "The output of CRC16 for '123456789' is 0x31C3."
    EXPECT_EQ(crc16("123456789"), 0x31C3);
    EXPECT_EQ(key_slot("foo"), 12182); // CLUSTER KEYSLOT foo
    EXPECT_LT(key_slot(""), slot_count);
}

TEST(redis_slots, hash_tags_put_related_keys_in_one_slot) {
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
    EXPECT_EQ(key_slot("love|release|{b42}:inv"), key_slot("b42"));
    // Only the first {...} counts; an empty one means "hash the whole key".
    EXPECT_EQ(key_slot("foo{}{bar}"), key_slot(std::string_view("foo{}{bar}")));
    EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
    EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
    EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
}

} // namespace
} // namespace livehouse::state::redis
