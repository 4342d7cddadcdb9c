// EVALSHA with an EVAL fallback (script.hpp).
#include "state/redis/script.hpp"

#include <openssl/sha.h>

namespace livehouse::state::redis {

namespace {

command build(std::string_view verb, const std::string& what, const std::vector<std::string>& keys,
              const std::vector<std::string>& args) {
    command c;
    c.reserve(3 + keys.size() + args.size());
    c.emplace_back(verb);
    c.push_back(what);
    c.push_back(std::to_string(keys.size()));
    c.insert(c.end(), keys.begin(), keys.end());
    c.insert(c.end(), args.begin(), args.end());
    return c;
}

} // namespace

script::script(std::string body) : body_(std::move(body)) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    ::SHA1(reinterpret_cast<const unsigned char*>(body_.data()), body_.size(), digest);
    static constexpr char hex[] = "0123456789abcdef";
    for (const unsigned char b : digest) {
        sha1_.push_back(hex[b >> 4]);
        sha1_.push_back(hex[b & 0xF]);
    }
}

void script::run(client& c, const std::string& route, const std::vector<std::string>& keys,
                 const std::vector<std::string>& args,
                 std::function<void(reply_result)> done) const {
    // The fallback needs the body and the arguments again: they travel with the completion
    // (the script object itself outlives every call: the backends own it).
    c.send(build("EVALSHA", sha1_, keys, args), route,
           [this, &c, route, keys, args, done = std::move(done)](reply_result r) mutable {
               if (r && r->is_error() && r->str.starts_with("NOSCRIPT")) {
                   c.send(build("EVAL", body_, keys, args), route, std::move(done));
                   return;
               }
               done(std::move(r));
           });
}

} // namespace livehouse::state::redis
