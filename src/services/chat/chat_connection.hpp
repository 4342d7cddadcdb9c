// One chat WebSocket connection (docs/API.md, "Chat protocol"): joins the room, sends the
// history (or what a reconnecting client missed), relays the room's frames, and turns the
// client's messages into log appends after the checks: signed-in user, per-user rate, size,
// banned words, mute, broadcast not ended.
//
// Join without a gap: the connection enters its shard first (live frames are buffered, at most
// max_buffered), waits for the room's subscription, then reads the history; it sends the
// history, then the buffered frames newer than it. A reconnecting client passes ?since=<last
// offset it saw>: it gets exactly the entries after it, or, when they are no longer kept or
// more than max_resume, an error "history_gap" naming the range lost, then the recent history
// (never a silent gap).
//
// Threading: every method runs on the connection's thread; state completions are posted back.
#pragma once

#include "net/ws_types.hpp"
#include "services/auth/user_tokens.hpp"
#include "services/chat/chat_service.hpp"
#include "services/chat/room.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace livehouse::services::chat {

class chat_connection final : public net::ws_handler,
                              public room_member,
                              public std::enable_shared_from_this<chat_connection> {
  public:
    /// Frames buffered while the history loads; more closes the connection (1013, try again).
    static constexpr std::size_t max_buffered = 4096;

    chat_connection(std::shared_ptr<chat_service> service, std::string broadcast_id,
                    std::optional<auth::user> user, std::optional<std::uint64_t> since,
                    boost::asio::any_io_executor exec);
    ~chat_connection() override;

    void on_open(std::shared_ptr<net::ws_connection> c) override;
    void on_message(std::string_view text) override;
    void on_close(std::uint16_t code, std::string_view reason) override;
    void begin_batch() override;
    void deliver(const core::shared_bytes& frame, std::uint64_t offset) override;
    void end_batch() override;

  private:
    enum class phase { joining, live, closed };

    void load_history();
    void on_history(core::result<state::log_slice> r, bool resumed);
    void send_json(const std::string& json);
    void refuse(std::string_view code, std::string_view message, std::string_view ref);
    void send_checked(std::string text, std::string ref);
    /// Runs `f` on this connection's thread if it is still open.
    template <class F> void on_thread(F&& f);

    std::shared_ptr<chat_service> service_;
    const std::string broadcast_id_;
    const std::optional<auth::user> user_;
    const std::optional<std::uint64_t> since_;
    const boost::asio::any_io_executor exec_;

    std::shared_ptr<net::ws_connection> conn_;
    std::shared_ptr<room> room_;
    std::shared_ptr<room::shard> shard_;
    phase phase_ = phase::joining;
    std::uint64_t last_offset_ = 0; ///< newest log offset sent
    std::vector<std::pair<core::shared_bytes, std::uint64_t>> buffered_;
};

} // namespace livehouse::services::chat
