// The JSON API (v1): create, list, read, end broadcasts, and the cheap per-broadcast status
// document that players poll.
//
//   POST   /api/v1/broadcasts              admin   {"title": "..."} -> 201 broadcast object
//   GET    /api/v1/broadcasts              public  {"broadcasts": [...]} live first, at most
//                                                   max_list_items
//   GET    /api/v1/broadcasts/{id}         public  broadcast object
//   DELETE /api/v1/broadcasts/{id}         admin   ends it -> 200 broadcast object
//   GET    /api/v1/broadcasts/{id}/status  public  {"id","status","media_sequence",
//                                                   "target_duration","updated_at"}
//
// The status document is the endpoint players poll (thousands at once): it is rendered from the
// broadcast's immutable snapshot into one string, "public, max-age=1", CORS on. media_sequence
// is the live playlist's EXT-X-MEDIA-SEQUENCE (null before the first segment); updated_at is
// the end of the newest segment while streaming, else the latest of created/started/ended.
//
// Admin is `Authorization: Bearer <token>` (see admin_auth.hpp). Public responses never carry
// the stream key; GETs made with a valid admin token do (and are no-store).
//
// Errors never throw out of a handler: bodies are parsed with exceptions off and validated;
// 400 {"error": "<field>: ..."} for bad input, 401 for missing/wrong credentials, 404 for
// unknown or malformed ids, 413 for bodies over 16 KiB. Content-Type is not checked (clients
// such as curl -d send form types with JSON bodies).
//
// Threading: handlers run on any event-loop thread and answer inline; they touch only the
// thread-safe registry and immutable snapshots.
#pragma once

#include "net/router.hpp"
#include "services/service_context.hpp"

#include <cstddef>

namespace livehouse::services::api {

/// Adds the API routes to `router`. `ctx` must outlive the router (handlers keep a reference).
void register_routes(net::router& router, service_context& ctx);

/// Longest accepted title, in Unicode code points.
inline constexpr std::size_t max_title_length = 200;
/// Most broadcasts in one list response (live first, so the oldest ended ones are cut).
inline constexpr std::size_t max_list_items = 1000;
/// Largest accepted request body.
inline constexpr std::size_t max_body_bytes = 16UL * 1024;

} // namespace livehouse::services::api
