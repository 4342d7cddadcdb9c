// user_token: the user token a simulated viewer presents, minted with the node's token secret
// ([auth] token_secret) — the same claims the guest endpoint mints
// (services/auth/user_tokens.hpp), valid for a day. Minting here, not asking the guest
// endpoint, is what lets 100,000 viewers from one address sign in: the guest endpoint is
// rate-limited per address.
#pragma once

#include "core/result.hpp"

#include <string>
#include <string_view>

namespace livehouse::stress {

core::result<std::string> mint_user_token(std::string_view secret, std::string_view subject,
                                          std::string_view name);

} // namespace livehouse::stress
