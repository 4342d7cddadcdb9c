#include "media/broadcast.hpp"

namespace livehouse::media {

std::string_view to_string(broadcast_status s) {
    switch (s) {
    case broadcast_status::idle:
        return "idle";
    case broadcast_status::live:
        return "live";
    case broadcast_status::suspended:
        return "suspended";
    case broadcast_status::ended:
        return "ended";
    }
    return "unknown";
}

std::optional<broadcast_status> parse_broadcast_status(std::string_view s) {
    for (auto v : {broadcast_status::idle, broadcast_status::live, broadcast_status::suspended,
                   broadcast_status::ended}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return std::nullopt;
}

} // namespace livehouse::media
