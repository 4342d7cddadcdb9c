// One RTMP publisher connection: handshake, chunk stream, the publish command flow, and media
// handed to its broadcast as frames.
//
// Lifetime and threading: created for one accepted socket and run on that socket's io_context
// (one thread) for its whole life, so its handlers never run concurrently; it keeps itself
// alive through the handlers it has pending (shared_from_this). close_async() is the only call
// that may come from another thread.
//
// Flow (RTMP spec §7.2, as ffmpeg, OBS and librtmp drive it):
//   handshake -> connect(app) -> [releaseStream, FCPublish] -> createStream -> publish(key)
//   -> @setDataFrame/onMetaData, audio/video ... -> [FCUnpublish] deleteStream | disconnect.
// The stream key picks the broadcast (unknown: NetStream.Publish.BadName, then close). The
// broadcast's publish begins at the first media frame, when the tracks are known (onMetaData,
// sequence headers), and ends on unpublish, disconnect, error or timeout.
//
// Limits and policies:
// - input: the chunk reader's limits (ingest_config::limits) and AMF0 limits; a violation closes
//   this connection with one log line naming the peer and the error story;
// - output: a bounded queue (ingest_config::max_write_queue_bytes); exceeding it closes;
// - time: no bytes for `timeout`, a handshake unfinished after `timeout`, or no publish after
//   `publish_timeout` closes;
// - a malformed audio/video tag is dropped and counted (the first is logged), not fatal.
#pragma once

#include "codec/flv/tag_demuxer.hpp"
#include "codec/rtmp/chunk_reader.hpp"
#include "codec/rtmp/chunk_writer.hpp"
#include "codec/rtmp/handshake.hpp"
#include "codec/rtmp/messages.hpp"
#include "media/broadcast.hpp"
#include "services/ingest/ingest_config.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace livehouse::services::ingest {

class rtmp_session;

/// What every session of one ingest service shares. Owned jointly by the service and its
/// sessions, so it outlives both; the registry it refers to must outlive every session.
struct ingest_context {
    ingest_context(media::broadcast_registry& r, ingest_config c)
        : registry(r), config(std::move(c)) {}

    media::broadcast_registry& registry;
    const ingest_config config;
    ingest_counters counters;

    // Open sessions, for close_all(). Touched once per connection open/close.
    std::mutex mutex;
    std::unordered_map<std::uint64_t, std::weak_ptr<rtmp_session>> sessions;
    std::uint64_t next_id = 1;
};

class rtmp_session : public std::enable_shared_from_this<rtmp_session> {
  public:
    rtmp_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ingest_context> ctx);
    ~rtmp_session();
    rtmp_session(const rtmp_session&) = delete;
    rtmp_session& operator=(const rtmp_session&) = delete;

    /// Starts reading. Call once, on the socket's executor thread.
    void start();
    /// Closes the connection (ending its publish, if any). Thread-safe: posted to the
    /// session's executor.
    void close_async(std::string reason);

  private:
    enum class close_kind { normal, protocol_error, timeout };

    // I/O
    void do_read();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void make_room();
    void schedule_timer();
    void on_timer();
    void send(const codec::rtmp::message& m);
    void send_raw(std::string_view bytes);
    void check_queue();
    void start_write();
    void on_write(const boost::system::error_code& ec);
    void close(std::string_view why, close_kind kind);
    void close_after_write(std::string why);

    // Protocol
    bool process();
    bool handle(const codec::rtmp::message& m);
    bool on_command(core::bytes_view payload, const codec::rtmp::message& m);
    void on_connect(const codec::rtmp::command& c);
    void on_publish(const codec::rtmp::command& c, std::uint32_t stream_id);
    void on_unpublish();
    bool on_data(core::bytes_view payload);
    void on_media(const codec::rtmp::message& m);
    void refuse_publish(std::uint32_t stream_id, std::string_view why);
    void end_publish();

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<ingest_context> ctx_;
    std::uint64_t id_ = 0;
    std::string remote_; ///< "address:port", for log lines

    // Input: buf_[begin_, end_) holds bytes received but not yet consumed.
    std::vector<std::uint8_t> buf_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    /// When the read that delivered the bytes being parsed completed (ingest-to-playlist delay).
    std::chrono::steady_clock::time_point read_at_{};
    codec::rtmp::server_handshake handshake_;
    codec::rtmp::chunk_reader reader_;

    // Output: queue_ collects what handlers send while inflight_ is being written.
    codec::rtmp::chunk_writer writer_;
    std::string queue_;
    std::string inflight_;
    bool writing_ = false;

    // Lifecycle
    std::chrono::steady_clock::time_point accepted_at_;
    std::chrono::steady_clock::time_point last_read_;
    std::chrono::steady_clock::time_point closing_since_;
    bool closing_ = false; ///< no more input; close once the queue is written
    std::string closing_reason_;
    bool closed_ = false;

    // Publish state
    bool connected_ = false;
    std::uint32_t streams_created_ = 0;
    bool publish_requested_ = false;   ///< a publish is in progress (or was refused)
    bool published_once_ = false;      ///< a publish was asked for (ends the publish timeout)
    std::uint32_t publish_stream_ = 0; ///< message stream id of the publish; 0: none
    std::shared_ptr<media::broadcast> broadcast_;
    bool began_ = false; ///< broadcast_->begin_publish() succeeded
    media::track_set tracks_;
    bool meta_video_ = false;
    bool meta_audio_ = false;
    codec::flv::tag_demuxer demux_;
    bool media_error_logged_ = false;
    std::uint64_t frames_ = 0;
};

} // namespace livehouse::services::ingest
