// A Redis reply (RESP2), owned: what hiredis's reply parser produced, copied out of its
// redisReply tree so it can travel to another thread and outlive the parser's buffers.
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::state::redis {

struct reply {
    enum class kind : std::uint8_t { nil, integer, string, status, error, array };

    kind type = kind::nil;
    std::int64_t integer = 0;
    std::string str;             ///< string, status and error replies
    std::vector<reply> elements; ///< array replies

    [[nodiscard]] bool is_error() const { return type == kind::error; }
    [[nodiscard]] bool is_nil() const { return type == kind::nil; }
    [[nodiscard]] bool is_array() const { return type == kind::array; }
    [[nodiscard]] bool is_string() const { return type == kind::string || type == kind::status; }
};

/// What a command's completion receives: the reply, or an error for a call that got none
/// (connection lost, timeout, refused before sending). Error replies from the server arrive as
/// a reply of kind::error, so routing code can look at MOVED/ASK before anything else.
using reply_result = core::result<reply>;

/// One command: its arguments, binary-safe.
using command = std::vector<std::string>;

/// Appends `cmd` to `out` in RESP: "*<n>\r\n" then "$<len>\r\n<arg>\r\n" per argument.
void encode_command(const command& cmd, std::string& out);

/// Integer value of a reply: an integer reply, or a string holding a base-10 integer (GET,
/// ZINCRBY and ZSCORE answer with strings). Error for anything else.
core::result<std::int64_t> to_int(const reply& r);

} // namespace livehouse::state::redis
