// hls_viewers: N players of one live HLS playlist on one event loop, each doing what hls.js
// does with a live stream, so the load is a real audience's and the stalls are what viewers
// would see.
//
// A viewer joins (viewers join evenly over the phase's `ramp`), loads the playlist, starts three
// segments from the live edge (hls.js's liveSyncDurationCount), and then, on one keep-alive
// connection, downloads each new segment in order and reloads the playlist as RFC 8216 §6.3.4
// says: a target duration after the last load when it changed, half of one when it did not.
// The playback clock starts when the first segment is in: start-up time = join -> first
// segment. A stall is the playhead reaching the end of what was downloaded; its length is how
// long the viewer waited for the next segment. Responses are read with
// codec/http/response_reader from one scratch buffer per loop (a viewer's socket is waited on,
// then read without blocking), and segment bodies are counted and dropped: a viewer holds its
// socket, a timer, the reader's small state and a short queue of segment names — the memory of
// a simulated viewer is what the "100,000 viewers in 4 GB" goal of issue 7 is about. A request
// (connect, write, the whole response) has a 10 s deadline.
//
// Requests count in the run's steps "playlist" and "segment" (latency from when the request was
// due); player-side figures in run_stats::viewers.
#pragma once

#include "stress/actor_share.hpp"
#include "stress/endpoints.hpp"
#include "stress/recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace livehouse::stress {

struct hls_viewers_options {
    std::string host_header;
    std::string playlist; ///< path of the live playlist
    actor_share share;    ///< this loop's viewers and their join times
};

class hls_viewers {
  public:
    hls_viewers(boost::asio::io_context& ioc, recorder& rec, const endpoints& targets,
                hls_viewers_options options);
    ~hls_viewers();
    hls_viewers(const hls_viewers&) = delete;
    hls_viewers& operator=(const hls_viewers&) = delete;

    /// Schedules the joins; every viewer stops at options.end (its connection closed, a stall
    /// in progress counted).
    void start();

  private:
    struct viewer;
    void join(std::size_t i);
    void load_playlist(const std::shared_ptr<viewer>& v);
    void on_playlist(const std::shared_ptr<viewer>& v);
    void next(const std::shared_ptr<viewer>& v);
    void load_segment(const std::shared_ptr<viewer>& v);
    void on_segment_done(const std::shared_ptr<viewer>& v);
    /// GET target on the viewer's connection (connecting first if needed); the response goes
    /// to on_playlist or on_segment_done.
    void request(const std::shared_ptr<viewer>& v, const std::string& target, bool for_playlist);
    void write(const std::shared_ptr<viewer>& v);
    void wait_read(const std::shared_ptr<viewer>& v);
    void on_response(const std::shared_ptr<viewer>& v);
    void close_unless_reusable(const std::shared_ptr<viewer>& v);
    static const char* step_of(const std::shared_ptr<viewer>& v);
    void broken(const std::shared_ptr<viewer>& v, std::string_view step, std::string_view kind);
    void stop(const std::shared_ptr<viewer>& v);
    [[nodiscard]] std::string resolve(std::string_view uri) const;

    boost::asio::io_context& ioc_;
    recorder& rec_;
    const endpoints& targets_; ///< outlives the run's loops
    const hls_viewers_options options_;
    std::string base_; ///< the playlist's directory, for relative segment URIs
    std::unique_ptr<char[]> scratch_;
    join_schedule joins_;
    std::size_t joined_ = 0;
};

} // namespace livehouse::stress
