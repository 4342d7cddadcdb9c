// The chat service's routes (docs/API.md, "Chat"):
//
//   GET    /ws/broadcasts/{id}[?token=<user token>][&since=<offset>]    WebSocket (RFC 6455)
//          anonymous readers may connect without a token; a token that does not verify is a
//          401 (a client should know its sign-in failed rather than silently read-only)
//   GET    /api/v1/broadcasts/{id}/chat?from=<s>&to=<s>   public: the messages whose media
//          position is in [from, to), deletes applied, from the archive once the broadcast
//          ended (else from the live log)
//   DELETE /api/v1/broadcasts/{id}/chat/messages/{offset}   admin: removes a message (a
//          "delete" entry in the log; viewers, history and archive drop it)
//   POST   /api/v1/broadcasts/{id}/chat/mutes   admin  {"user_id": "..."}: the user can no
//          longer send in this room
//   POST   /api/v1/broadcasts/{id}/paid-messages   user (Bearer token) + Idempotency-Key
//          {"text": "...", "amount": 500, "currency": "JPY"}: records the payment first
//          (state::records purchase, id from the key), then posts a highlighted message; a
//          retry with the same key answers 200 with "duplicate": true and never posts twice
#pragma once

#include "net/router.hpp"
#include "services/chat/chat_service.hpp"

#include <memory>
#include <string>

namespace livehouse::services::chat {

/// Longest accepted REST body.
inline constexpr std::size_t max_body_bytes = 16UL * 1024;
/// Paid-message amounts, in the currency's smallest unit.
inline constexpr std::int64_t max_paid_amount = 100'000'000;

void register_routes(net::router& router, std::shared_ptr<chat_service> service,
                     std::string admin_token);

} // namespace livehouse::services::chat
