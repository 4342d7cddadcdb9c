// One call of a state interface over the Redis client: the transport error or the server's
// error reply becomes the completion's error, anything else goes through `convert`.
#pragma once

#include "state/redis/client.hpp"
#include "state/shared_state.hpp"

#include <utility>

namespace livehouse::state::redis {

/// The reply handler of a call: the transport error or the server's error reply completes
/// `done` with an error, any other reply goes through `convert`.
template <typename T, typename Convert>
std::function<void(reply_result)> complete_with(completion<T> done, Convert convert) {
    return [done = std::move(done), convert = std::move(convert)](reply_result r) {
        if (!r) {
            done(r.err());
        } else if (r->is_error()) {
            done(core::make_error(std::string("redis: ").append(r->str)));
        } else {
            done(convert(std::move(*r)));
        }
    };
}

template <typename T, typename Convert>
void call(client& c, command cmd, std::string route, completion<T> done, Convert convert) {
    c.send(std::move(cmd), std::move(route), complete_with<T>(std::move(done), std::move(convert)));
}

/// Integer replies (and integers in strings) as int64.
inline core::result<std::int64_t> as_int(reply r) {
    return to_int(r);
}

/// "1"/"0" replies (SADD, SISMEMBER, DEL) as whether something happened.
inline core::result<bool> as_bool(reply r) {
    auto v = to_int(r);
    if (!v) {
        return v.err();
    }
    return *v > 0;
}

} // namespace livehouse::state::redis
