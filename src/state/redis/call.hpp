// One call of a state interface over the Redis client: the transport error or the server's
// error reply becomes the completion's error, anything else goes through `convert`.
#pragma once

#include "state/redis/client.hpp"
#include "state/shared_state.hpp"

#include <utility>

namespace livehouse::state::redis {

template <typename T, typename Convert>
void call(client& c, command cmd, std::string route, completion<T> done, Convert convert) {
    c.send(std::move(cmd), std::move(route),
           [done = std::move(done), convert = std::move(convert)](reply_result r) {
               if (!r) {
                   done(r.err());
               } else if (r->is_error()) {
                   done(core::make_error(std::string("redis: ").append(r->str)));
               } else {
                   done(convert(std::move(*r)));
               }
           });
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
