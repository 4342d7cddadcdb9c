// The shape every sans-I/O decoder returns from feed(): how many bytes it consumed, and whether
// it wants more or hit an error. need_more is not an error: the caller keeps the unconsumed
// bytes and feeds them again with more appended.
#pragma once

#include <cstddef>
#include <string>

namespace livehouse::core {

enum class parse_state { ok, need_more, error };

struct feed_result {
    std::size_t consumed = 0;
    parse_state state = parse_state::ok;
    std::string error; ///< set when state == error

    static feed_result ok(std::size_t n) { return {n, parse_state::ok, {}}; }
    static feed_result need_more(std::size_t n = 0) { return {n, parse_state::need_more, {}}; }
    static feed_result fail(std::size_t n, std::string why) {
        return {n, parse_state::error, std::move(why)};
    }
};

} // namespace livehouse::core
