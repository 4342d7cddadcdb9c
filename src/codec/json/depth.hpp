// A bound on JSON nesting, checked on the raw text before parsing: nlohmann-json's parser
// recurses once per level, so "[[[[..." from a peer must never reach it unbounded. Shared by
// every codec that parses JSON from peers (chat messages, love batches, JWT claims).
#pragma once

#include <string_view>

namespace livehouse::codec {

/// True when no object or array in `text` nests deeper than `max_depth` (strings, with their
/// escapes, are skipped). Does not validate the JSON: the parser does that afterwards.
bool json_depth_within(std::string_view text, int max_depth);

} // namespace livehouse::codec
