// Fuzz target: http:// URLs and host:port pairs. Whatever the bytes: an accepted URL has a
// non-empty host without delimiters, a port in 1..65535, an authority that is a piece of the
// input, and a target that starts with '/' and holds no space or control character.
#include "codec/http/url.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace livehouse::codec::http;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto u = parse_http_url(in)) {
        if (u->host.empty() || u->port == 0 || u->target.empty() || u->target.front() != '/' ||
            in.find(u->authority) == std::string_view::npos ||
            u->host.find_first_of("/?#@ ") != std::string::npos) {
            std::abort();
        }
        for (char c : u->target) {
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
                std::abort();
            }
        }
    } else if (u.err().message.empty()) {
        std::abort();
    }
    if (auto hp = parse_host_port(in)) {
        if (hp->host.empty() || hp->port == 0) {
            std::abort();
        }
    }
    return 0;
}
