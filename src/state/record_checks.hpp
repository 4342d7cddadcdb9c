// Field checks for relational records (state/records.hpp), shared by every records backend so
// that each refuses the same values with the same text: identity fields (ids, names, kinds) of
// 1..max_record_id_bytes, texts (paths) of at most max_record_text_bytes, and no field holding a
// NUL byte or invalid UTF-8 — PostgreSQL's text type refuses both, and an embedded store that
// took them would hold records the server one cannot.
#pragma once

#include "core/result.hpp"
#include "state/records.hpp"

#include <optional>

namespace livehouse::state {

[[nodiscard]] std::optional<core::error> check_record(const total_record& r);
[[nodiscard]] std::optional<core::error> check_record(const purchase_record& r);
[[nodiscard]] std::optional<core::error> check_record(const archive_record& r);
/// For the lookups: the id they are keyed by.
[[nodiscard]] std::optional<core::error> check_record_id(std::string_view field,
                                                         std::string_view value);

} // namespace livehouse::state
