// What the chat server sends (docs/API.md, "Chat protocol"): pure renderers, each returning the
// JSON text of one WebSocket message. Room-log entries (message, delete) are rendered as a
// prefix and a suffix around their offset, which only the log knows once it appends
// (state/room_log.hpp): the text is built once and the same bytes are stored, published and
// sent to every connection. Every entry starts {"type":"<type>","offset":<n>, so a reader finds
// both without a JSON parse (entry_type, entry_offset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livehouse::codec::chat {

struct user_ref {
    std::string id;
    std::string name;
};

struct message_fields {
    std::string id; ///< unique message id (the node makes it)
    user_ref user;
    std::string text;
    std::int64_t time_ms = 0; ///< server time, unix milliseconds
    double position_s = 0;    ///< the broadcast's media position when it was sent (VOD sync)
    /// A paid message: amount in the smallest currency unit, ISO 4217 currency.
    std::optional<std::int64_t> paid_amount;
    std::string paid_currency;
};

struct entry_parts {
    std::string prefix;
    std::string suffix;
};

/// {"type":"message","offset":N,"id":...,"user":{"id":...,"name":...},"text":...,"time":...,
///  "position":...[,"paid":{"amount":...,"currency":...}]}
entry_parts render_message(const message_fields& m);
/// {"type":"delete","offset":N,"target":T}: message T was removed by a moderator.
entry_parts render_delete(std::uint64_t target);

/// {"type":"history","messages":[<entries as stored>],"next_offset":N,"resumed":bool}
std::string render_history(const std::vector<std::string_view>& entries, std::uint64_t next_offset,
                           bool resumed);
/// {"type":"error","code":...,"message":...[,"ref":...]}
std::string render_error(std::string_view code, std::string_view message,
                         std::string_view ref = {});
/// {"type":"ack","offset":N[,"ref":...]}: the sender's message is in the log at N.
std::string render_ack(std::uint64_t offset, std::string_view ref);
/// {"type":"skipped","count":N}: N messages were not delivered to keep the pace readable.
std::string render_skipped(std::uint64_t count);
/// {"type":"status","status":"live"|"suspended"|"ended"}
std::string render_status(std::string_view status);
/// {"type":"muted","user":...}
std::string render_muted(std::string_view user_id);
/// {"type":"unmuted","user":...}
std::string render_unmuted(std::string_view user_id);

/// {"type":"love","total":N}: the broadcast's love total, at most once a second per room.
std::string render_love(std::int64_t total);

/// "message", "delete", ...: the type of a stored entry; empty if it is not one.
std::string_view entry_type(std::string_view entry);
/// The offset of a stored entry.
std::optional<std::uint64_t> entry_offset(std::string_view entry);

/// A JSON string literal for `s` (quotes included); invalid UTF-8 is replaced, never thrown.
std::string json_string(std::string_view s);

} // namespace livehouse::codec::chat
