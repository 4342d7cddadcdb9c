// Chat archives: paging the log, the file format, replay windows.
#include "services/chat/chat_archive.hpp"

#include "codec/chat/server_messages.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace livehouse::services::chat {

using json = nlohmann::json;

namespace {

struct log_reader : std::enable_shared_from_this<log_reader> {
    state::room_log& log;
    std::string key;
    std::size_t cap;
    std::function<void(core::result<state::log_slice>)> done;
    state::log_slice all;
    bool started = false;

    log_reader(state::room_log& l, std::string k, std::size_t c,
               std::function<void(core::result<state::log_slice>)> d)
        : log(l), key(std::move(k)), cap(c), done(std::move(d)) {}

    void next_page(std::uint64_t from) {
        const auto want = std::min<std::size_t>(state::max_room_log_read, cap - all.entries.size());
        log.read(key, from, want, [self = shared_from_this()](core::result<state::log_slice> r) {
            self->on_page(std::move(r));
        });
    }

    void on_page(core::result<state::log_slice> r) {
        if (!r) {
            done(r.err().wrap("chat archive: read log"));
            return;
        }
        if (!started) {
            all.first = r->first;
            started = true;
        }
        all.next = r->next;
        const bool more = !r->entries.empty();
        std::uint64_t last = 0;
        for (auto& e : r->entries) {
            last = e.offset;
            all.entries.push_back(std::move(e));
        }
        if (!more || last + 1 >= all.next || all.entries.size() >= cap) {
            done(std::move(all));
            return;
        }
        next_page(last + 1);
    }
};

double number_or(const json& j, const char* key, double fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

} // namespace

void read_whole_log(state::room_log& log, std::string key, std::size_t cap,
                    std::function<void(core::result<state::log_slice>)> done) {
    auto r = std::make_shared<log_reader>(log, std::move(key), std::max<std::size_t>(cap, 1),
                                          std::move(done));
    r->next_page(0);
}

std::string render_archive(std::string_view broadcast_id, const state::log_slice& log) {
    std::size_t size = 128;
    for (const auto& e : log.entries) {
        size += (e.payload ? e.payload->size() : 0) + 2;
    }
    std::string out;
    out.reserve(size);
    out += fmt::format(R"({{"broadcast_id":{},"next_offset":{},"entries":[)",
                       codec::chat::json_string(broadcast_id), log.next);
    bool first = true;
    for (const auto& e : log.entries) {
        if (!e.payload) {
            continue;
        }
        out += first ? "\n" : ",\n";
        first = false;
        out += *e.payload;
    }
    out += "\n]}\n";
    return out;
}

std::vector<replay_message> replay_window(const std::vector<std::string_view>& entries,
                                          double from_s, double to_s, bool* truncated) {
    std::unordered_set<std::uint64_t> deleted;
    for (auto e : entries) {
        if (codec::chat::entry_type(e) == "delete") {
            const json j = json::parse(e, nullptr, false);
            if (!j.is_discarded() && j.contains("target") && j["target"].is_number_unsigned()) {
                deleted.insert(j["target"].get<std::uint64_t>());
            }
        }
    }
    std::vector<replay_message> out;
    if (truncated != nullptr) {
        *truncated = false;
    }
    for (auto e : entries) {
        if (codec::chat::entry_type(e) != "message") {
            continue;
        }
        const auto offset = codec::chat::entry_offset(e);
        if (!offset || deleted.contains(*offset)) {
            continue;
        }
        const json j = json::parse(e, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            continue;
        }
        const double position = number_or(j, "position", 0);
        if (position < from_s || position >= to_s) {
            continue;
        }
        if (out.size() >= max_replay_messages) {
            if (truncated != nullptr) {
                *truncated = true;
            }
            break;
        }
        out.push_back({*offset, position, std::string(e)});
    }
    // Sent in position order (offsets are send order; positions could step back at a
    // republish). Stable: equal positions keep offset order.
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.position_s < b.position_s; });
    return out;
}

core::result<std::vector<std::string>> archive_entries(std::string_view file_text) {
    if (file_text.size() > max_archive_bytes) {
        return core::make_error("chat archive: file too large");
    }
    const json doc = json::parse(file_text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("entries") ||
        !doc["entries"].is_array()) {
        return core::make_error("chat archive: not an archive file");
    }
    std::vector<std::string> out;
    out.reserve(doc["entries"].size());
    for (const auto& e : doc["entries"]) {
        if (!e.is_object()) {
            continue;
        }
        // Re-rendered with "type" and "offset" first, as the log stores entries, so the
        // offset readers (codec::chat::entry_offset) work on archive entries too.
        json rest = e;
        const auto type = rest.value("type", std::string());
        const auto offset = rest.value("offset", std::uint64_t{0});
        rest.erase("type");
        rest.erase("offset");
        std::string text =
            fmt::format(R"({{"type":{},"offset":{})", codec::chat::json_string(type), offset);
        const auto tail = rest.dump(-1, ' ', false, json::error_handler_t::replace);
        if (tail.size() > 2) {
            text += ',';
            text.append(tail, 1, tail.size() - 2);
        }
        text += '}';
        out.push_back(std::move(text));
    }
    return out;
}

std::string render_replay(std::string_view broadcast_id, double from_s, double to_s,
                          std::string_view source, const std::vector<replay_message>& messages,
                          bool truncated) {
    std::string out = fmt::format(
        R"({{"broadcast_id":{},"from":{},"to":{},"source":{},"truncated":{},"messages":[)",
        codec::chat::json_string(broadcast_id), from_s, to_s, codec::chat::json_string(source),
        truncated);
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += messages[i].json;
    }
    out += "]}";
    return out;
}

} // namespace livehouse::services::chat
