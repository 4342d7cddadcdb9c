// queued_records: the outbox (JSON entries in a durable stream) and its drain thread.
#include "state/queued_records.hpp"

#include "state/record_checks.hpp"

#include <fmt/format.h>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <spdlog/spdlog.h>
#include <variant>

namespace livehouse::state {

// Field lists for JSON (to_json is found by argument-dependent lookup: it lives beside the
// records' own namespace). Decoding does not use from_json, which throws: see decode().
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(total_record, broadcast_id, name, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(purchase_record, id, user_id, item, quantity, amount, time_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(archive_record, broadcast_id, kind, path, bytes, time_ms)

namespace {

using json = nlohmann::json;
using any_record = std::variant<total_record, purchase_record, archive_record>;

bool is_unavailable(const core::error& e) {
    return e.message.rfind(records_unavailable, 0) == 0;
}

// --- entry format: {"type": "total" | "purchase" | "archive", "record": {its fields}} -----------

template <typename Record> std::string encode(const char* type, const Record& r) {
    // The fields passed record_checks (valid UTF-8), so `replace` never replaces: it only keeps
    // dump() from throwing.
    return json{{"type", type}, {"record", r}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Reads fields of a decoded entry without throwing; `ok` turns false at the first missing or
/// mistyped one.
class fields {
  public:
    explicit fields(const json& j) : j_(j) {}
    fields& get(const char* k, std::string& out) {
        const auto it = j_.find(k);
        if (it == j_.end() || !it->is_string()) {
            ok_ = false;
        } else {
            out = it->get<std::string>();
        }
        return *this;
    }
    fields& get(const char* k, std::int64_t& out) {
        const auto it = j_.find(k);
        if (it == j_.end() || !it->is_number_integer() ||
            (it->is_number_unsigned() &&
             it->get<std::uint64_t>() >
                 static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
            ok_ = false;
        } else {
            out = it->get<std::int64_t>();
        }
        return *this;
    }
    [[nodiscard]] bool ok() const { return ok_; }

  private:
    const json& j_;
    bool ok_ = true;
};

/// The record of an entry, checked as a new write would be.
core::result<any_record> decode(std::string_view payload) {
    const auto j = json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return core::make_error("not a JSON object");
    }
    const auto type_it = j.find("type");
    const auto rec = j.find("record");
    if (type_it == j.end() || !type_it->is_string() || rec == j.end() || !rec->is_object()) {
        return core::make_error("no type or record");
    }
    const auto type = type_it->get<std::string>();
    fields f(*rec);
    any_record out;
    if (type == "total") {
        total_record r;
        f.get("broadcast_id", r.broadcast_id).get("name", r.name).get("value", r.value);
        out = std::move(r);
    } else if (type == "purchase") {
        purchase_record r;
        f.get("id", r.id).get("user_id", r.user_id).get("item", r.item);
        f.get("quantity", r.quantity).get("amount", r.amount).get("time_ms", r.time_ms);
        out = std::move(r);
    } else if (type == "archive") {
        archive_record r;
        f.get("broadcast_id", r.broadcast_id).get("kind", r.kind).get("path", r.path);
        f.get("bytes", r.bytes).get("time_ms", r.time_ms);
        out = std::move(r);
    } else {
        return core::make_error(fmt::format("unknown type '{}'", type));
    }
    if (!f.ok()) {
        return core::make_error("a field is missing or mistyped");
    }
    if (auto e = std::visit([](const auto& r) { return check_record(r); }, out)) {
        return *e;
    }
    return out;
}

/// Runs one asynchronous call and waits for its completion, at most `timeout`.
template <typename T, typename Call>
core::result<T> await(Call&& call, std::chrono::milliseconds timeout) {
    auto p = std::make_shared<std::promise<core::result<T>>>();
    auto f = p->get_future();
    call([p](core::result<T> r) { p->set_value(std::move(r)); });
    if (f.wait_for(timeout) != std::future_status::ready) {
        return core::make_error(
            fmt::format("{}: no answer within {} ms", records_unavailable, timeout.count()));
    }
    return f.get();
}

} // namespace

core::result<std::unique_ptr<queued_records>> queued_records::open(streams& outbox, std::string key,
                                                                   records& target,
                                                                   queued_records_options options) {
    // The group must exist before the first entry, or trimming could drop entries it never saw
    // (streams.hpp); a read of 0 creates it.
    auto made = await<std::vector<stream_entry>>(
        [&](auto done) {
            outbox.read(key, options.group, options.consumer, 0, options.claim_after,
                        std::move(done));
        },
        options.call_timeout);
    if (!made) {
        return made.err().wrap("records outbox");
    }
    return std::unique_ptr<queued_records>(
        new queued_records(outbox, std::move(key), target, std::move(options)));
}

queued_records::queued_records(streams& outbox, std::string key, records& target,
                               queued_records_options options)
    : outbox_(outbox), key_(std::move(key)), target_(target), options_(std::move(options)),
      thread_([this] { drain(); }) {}

queued_records::~queued_records() {
    std::unique_lock lock(mutex_);
    // Appends still queued in the stream complete into this object: wait for them (the stream
    // bounds its calls).
    cv_.wait(lock, [&] { return in_flight_ == 0; });
    stopping_ = true;
    lock.unlock();
    cv_.notify_all();
    thread_.join();
}

void queued_records::append(std::optional<core::error> refused, std::string payload,
                            std::function<void(core::result<void>)> done) {
    if (refused) {
        done(std::move(*refused));
        return;
    }
    {
        std::lock_guard lock(mutex_);
        ++in_flight_;
    }
    outbox_.append(key_, std::move(payload),
                   [this, done = std::move(done)](core::result<std::string> r) {
                       {
                           std::lock_guard lock(mutex_);
                           appended_ += r ? 1 : 0;
                       }
                       if (r) {
                           done({});
                       } else {
                           done(r.err().wrap(std::string(records_unavailable).append(": outbox")));
                       }
                       // Last: once in_flight_ is 0 the destructor may run, and destroy cv_.
                       // Notified under the lock so that it cannot until notify_all returned
                       // (ThreadSanitizer caught pthread_cond_destroy racing the broadcast).
                       std::lock_guard lock(mutex_);
                       --in_flight_;
                       cv_.notify_all();
                   });
}

void queued_records::put_total(total_record r, completion<void> done) {
    append(check_record(r), encode("total", r), std::move(done));
}

void queued_records::put_purchase(purchase_record r, completion<bool> done) {
    append(check_record(r), encode("purchase", r), [done = std::move(done)](core::result<void> q) {
        if (q) {
            done(true); // queued; whether it existed is known only to the target
        } else {
            done(q.err());
        }
    });
}

void queued_records::put_archive(archive_record r, completion<void> done) {
    append(check_record(r), encode("archive", r), std::move(done));
}

void queued_records::totals(std::string broadcast_id, completion<std::vector<total_record>> done) {
    target_.totals(std::move(broadcast_id), std::move(done));
}

void queued_records::purchases(std::string user_id, completion<std::vector<purchase_record>> done) {
    target_.purchases(std::move(user_id), std::move(done));
}

void queued_records::archives(std::string broadcast_id,
                              completion<std::vector<archive_record>> done) {
    target_.archives(std::move(broadcast_id), std::move(done));
}

bool queued_records::wait_drained(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const auto target = appended_;
    return cv_.wait_for(lock, timeout, [&] { return drained_ >= target; });
}

bool queued_records::pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex_);
    return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

void queued_records::drain() {
    auto claim_after = options_.claim_after_at_start;
    auto backoff = options_.backoff_first;
    for (;;) {
        std::uint64_t seen = 0;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) {
                return;
            }
            seen = appended_; // every append counted here is visible to the read below
        }
        auto got = await<std::vector<stream_entry>>(
            [&](auto done) {
                outbox_.read(key_, options_.group, options_.consumer, options_.batch, claim_after,
                             std::move(done));
            },
            options_.call_timeout);
        if (!got) {
            spdlog::warn("records outbox {}: read: {}", key_, got.err().message);
            if (!pause(backoff)) {
                return;
            }
            backoff = std::min(backoff * 2, options_.backoff_max);
            continue;
        }
        backoff = options_.backoff_first;
        claim_after = options_.claim_after;
        if (got->empty()) {
            std::unique_lock lock(mutex_);
            drained_ = std::max(drained_, seen);
            cv_.notify_all();
            cv_.wait_for(lock, options_.idle_poll, [&] { return stopping_ || appended_ != seen; });
            continue;
        }
        std::vector<std::string> written;
        for (const auto& e : *got) {
            if (!apply(e)) {
                break; // stopping: the rest stays pending for the next start
            }
            written.push_back(e.id);
        }
        if (written.empty()) {
            continue;
        }
        // A failed ack leaves the entries pending: re-delivered after claim_after and written
        // again, which an upsert shrugs off.
        auto acked = await<std::size_t>(
            [&](auto done) { outbox_.ack(key_, options_.group, written, std::move(done)); },
            options_.call_timeout);
        if (!acked) {
            spdlog::warn("records outbox {}: ack: {}", key_, acked.err().message);
        }
    }
}

bool queued_records::apply(const stream_entry& e) {
    auto rec = decode(e.payload);
    if (!rec) {
        spdlog::error("records outbox {}: entry {} dropped: {}", key_, e.id, rec.err().message);
        return true;
    }
    auto backoff = options_.backoff_first;
    for (bool first = true;; first = false) {
        auto r = std::visit(
            [&](const auto& v) -> core::result<void> {
                using record = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<record, purchase_record>) {
                    auto added =
                        await<bool>([&](auto done) { target_.put_purchase(v, std::move(done)); },
                                    options_.call_timeout);
                    return added ? core::result<void>() : core::result<void>(added.err());
                } else if constexpr (std::is_same_v<record, total_record>) {
                    return await<void>([&](auto done) { target_.put_total(v, std::move(done)); },
                                       options_.call_timeout);
                } else {
                    return await<void>([&](auto done) { target_.put_archive(v, std::move(done)); },
                                       options_.call_timeout);
                }
            },
            *rec);
        if (r) {
            if (!first) {
                spdlog::info("records outbox {}: writing again", key_);
            }
            return true;
        }
        if (!is_unavailable(r.err())) {
            spdlog::error("records outbox {}: entry {} refused, dropped: {}", key_, e.id,
                          r.err().message);
            return true;
        }
        if (first) {
            spdlog::warn("records outbox {}: {}; keeping entries, retrying", key_, r.err().message);
        }
        if (!pause(backoff)) {
            return false;
        }
        backoff = std::min(backoff * 2, options_.backoff_max);
    }
}

} // namespace livehouse::state
