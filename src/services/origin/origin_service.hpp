// The HLS origin: live playlists and segments from memory, and the VOD archive from disk.
//
//   GET /hls/{id}/index.m3u8   the live snapshot's playlist (shared bytes, no copy)
//   GET /hls/{id}/seg-<n>.ts   a segment of the live window (shared bytes, immutable); one
//                              that has left memory is read from the archive instead
//   GET /vod/{id}/index.m3u8   <data_dir>/vod/<id>/index.m3u8, read on the io runner
//   GET /vod/{id}/seg-<n>.ts   <data_dir>/vod/<id>/seg-<n>.ts
//
// Headers are CDN-correct (RFC 9111): playlists "public, max-age=<about half the target
// duration>" while live (RFC 8216 §6.2.2 lets a client reload no sooner than the target
// duration, so a cache may hold one that long at most, and half keeps players near the edge),
// segments "public, max-age=31536000, immutable", every 404 "max-age=1" so a player polling a
// broadcast that has not started does not keep a stale miss. All carry CORS and ETags.
//
// Lifecycle: idle (no playlist yet) -> 404 whose JSON names the status endpoint to poll;
// suspended -> the last playlist, unchanged (no 404 while the publisher reconnects); ended ->
// the final playlist (with EXT-X-ENDLIST) while the live window still holds it, else 404
// naming vod_url.
//
// Path safety: {id} must be [a-z0-9]{1,64} and the file `index.m3u8` or `seg-<digits>.ts`
// (origin/path_rules.hpp) before any lookup, so no request reaches outside <data_dir>/vod/.
//
// Memory: archive files are kept in a small LRU (segments always, since they never change once
// written; playlists only once the broadcast ended), so a popular recording is not re-read.
//
// Threading: live requests answer inline from an immutable snapshot; archive reads that miss
// the cache run on ctx.io and answer from that thread (the responder is thread-safe).
#pragma once

#include "net/router.hpp"
#include "services/service_context.hpp"

#include <cstddef>

namespace livehouse::services::origin {

/// Adds the /hls and /vod routes. `ctx` must outlive the router.
void register_routes(net::router& router, service_context& ctx);

/// The archive file cache: total bytes and the largest file kept.
inline constexpr std::size_t vod_cache_bytes = 64UL * 1024 * 1024;
inline constexpr std::size_t vod_cache_max_entry_bytes = 8UL * 1024 * 1024;
/// Larger archive files are refused (500): a segment is a few seconds of video.
inline constexpr std::size_t vod_max_file_bytes = 256UL * 1024 * 1024;

} // namespace livehouse::services::origin
