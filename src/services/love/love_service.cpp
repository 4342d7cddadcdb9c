// love_service (see love_service.hpp).
#include "services/love/love_service.hpp"

#include "codec/chat/server_messages.hpp"
#include "media/archive.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace livehouse::services::love {

namespace asio = boost::asio;

std::string ranking_member(const viewer& v) {
    return v.id + '\n' + v.name;
}

viewer viewer_of_member(std::string_view member) {
    const auto nl = member.find('\n');
    if (nl == std::string_view::npos) {
        return {std::string(member), std::string(member)};
    }
    return {std::string(member.substr(0, nl)), std::string(member.substr(nl + 1))};
}

namespace {
std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

submit_result outcome_only(submit_result::outcome o, std::string error = {}) {
    submit_result r;
    r.result = o;
    r.error = std::move(error);
    return r;
}
} // namespace

/// Taps per whole video second (ascending), for the broadcast's timeline: the heat line of the
/// VOD.
std::vector<std::pair<std::int64_t, std::int64_t>> per_second(const std::vector<double>& taps) {
    std::vector<std::int64_t> seconds;
    seconds.reserve(taps.size());
    for (const double t : taps) {
        seconds.push_back(std::min(static_cast<std::int64_t>(t), state::max_love_second));
    }
    std::sort(seconds.begin(), seconds.end());
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (const auto s : seconds) {
        if (!out.empty() && out.back().first == s) {
            ++out.back().second;
        } else {
            out.emplace_back(s, 1);
        }
    }
    return out;
}

std::shared_ptr<love_service> love_service::create(love_config config, love_deps deps) {
    return std::shared_ptr<love_service>(new love_service(std::move(config), std::move(deps)));
}

love_service::love_service(love_config config, love_deps deps)
    : config_(std::move(config)), deps_(std::move(deps)),
      buckets_(core::rate_limit{.per_second = config_.policy.taps_per_second,
                                .burst = config_.policy.burst_taps,
                                .max_keys = config_.max_viewers}),
      log_(config_.analytics_log ? love_log::create(deps_.data_dir, deps_.io, deps_.metrics)
                                 : nullptr),
      timer_(deps_.timer_exec) {
    auto& m = deps_.metrics;
    requests_ = &m.add_counter("love_requests_total", "Love batches received");
    taps_counted_ = &m.add_counter("love_taps_counted_total", "Love taps counted");
    taps_trimmed_ = &m.add_counter("love_taps_trimmed_total",
                                   "Love taps the anti-cheat took out (range, size, rate)");
    duplicates_ = &m.add_counter("love_duplicate_batches_total",
                                 "Love batches not counted again (a retried batch id)");
    applies_ = &m.add_counter("love_applies_total",
                              "Applies to the state backend (one per broadcast per flush)");
    busy_ = &m.add_counter("love_busy_total", "Love batches refused: too many pending (503)");
    finals_ = &m.add_counter("love_finals_total",
                             "Broadcasts whose love counts were written to the records at the end");
}

love_service::~love_service() = default;

std::string love_service::counts_key(std::string_view id) const {
    return deps_.keys.key(fmt::format("{{{}}}", id));
}

void love_service::submit(const std::string& id, const viewer& who, std::string batch_id,
                          const std::vector<double>& taps,
                          std::function<void(submit_result)> done) {
    requests_->inc();
    const auto now = deps_.clock.now();
    double position = 0;
    if (const auto b = deps_.registry.find(id)) {
        const auto snap = b->snapshot();
        if (snap->status != media::broadcast_status::live) {
            done(outcome_only(submit_result::outcome::not_live));
            return;
        }
        position = snap->position_s(now);
    } else if (const auto remote = deps_.clocks ? deps_.clocks->lookup(id) : std::nullopt) {
        if (!remote->live) {
            done(outcome_only(submit_result::outcome::not_live));
            return;
        }
        position = remote->position_s;
    } else {
        done(outcome_only(submit_result::outcome::not_found));
        return;
    }
    // Per viewer and broadcast: tapping in two broadcasts at once is two budgets.
    const auto bucket = fmt::format("{}\n{}", id, who.id);
    auto j = judge(config_.policy, taps, playable(config_.policy, position),
                   [&](std::size_t n) { return buckets_.take(bucket, now, n); });
    taps_trimmed_->inc(j.out_of_range + j.over_batch + j.over_rate);
    std::unique_lock lock(mu_);
    if (closed_ || pending_count_ >= config_.max_pending) {
        lock.unlock();
        busy_->inc();
        done(outcome_only(submit_result::outcome::busy));
        return;
    }
    const auto n = static_cast<std::int64_t>(j.accepted.size());
    pending_[id].push_back({state::love_batch_entry{ranking_member(who), std::move(batch_id), n,
                                                    per_second(j.accepted)},
                            who.id, std::move(j), std::move(done)});
    ++pending_count_;
    schedule_locked();
}

void love_service::schedule_locked() {
    if (armed_ || in_flight_ > 0 || pending_count_ == 0 || closed_) {
        return;
    }
    armed_ = true;
    const auto due = last_flush_ + config_.flush_interval;
    const auto now = std::chrono::steady_clock::now();
    auto fire = [w = weak_from_this()] {
        if (auto self = w.lock()) {
            self->flush();
        }
    };
    if (due <= now) {
        // Idle long enough: this flush starts now (after what the loop already has queued, so
        // requests that arrived together still share it).
        asio::post(deps_.timer_exec, std::move(fire));
        return;
    }
    timer_.expires_at(due);
    timer_.async_wait([fire = std::move(fire)](boost::system::error_code ec) {
        if (!ec) {
            fire();
        }
    });
}

void love_service::applied_one() {
    std::vector<std::function<void()>> idle;
    {
        std::lock_guard lock(mu_);
        if (--in_flight_ > 0) {
            return;
        }
        idle.swap(on_idle_);
        schedule_locked();
    }
    for (auto& fn : idle) {
        fn();
    }
}

void love_service::when_written(std::function<void()> fn) {
    flush();
    {
        std::lock_guard lock(mu_);
        if (in_flight_ > 0) {
            on_idle_.push_back(std::move(fn));
            return;
        }
    }
    fn();
}

void love_service::flush() {
    std::unordered_map<std::string, std::vector<pending_batch>> batches;
    {
        std::lock_guard lock(mu_);
        armed_ = false;
        if (pending_count_ == 0) {
            return;
        }
        batches.swap(pending_);
        pending_count_ = 0;
        last_flush_ = std::chrono::steady_clock::now();
        for (const auto& [id, list] : batches) {
            in_flight_ += (list.size() + state::max_love_apply - 1) / state::max_love_apply;
        }
    }
    for (auto& [id, list] : batches) {
        // One apply per broadcast, in chunks the backend takes.
        for (std::size_t from = 0; from < list.size(); from += state::max_love_apply) {
            const std::size_t to = std::min(list.size(), from + state::max_love_apply);
            std::vector<state::love_batch_entry> entries;
            entries.reserve(to - from);
            auto waiting = std::make_shared<std::vector<pending_batch>>();
            waiting->reserve(to - from);
            for (std::size_t i = from; i < to; ++i) {
                entries.push_back(std::move(list[i].entry));
                waiting->push_back(std::move(list[i]));
            }
            applies_->inc();
            deps_.counts.apply(
                counts_key(id), std::move(entries),
                [self = shared_from_this(), waiting, id](core::result<state::love_applied> r) {
                    // The next flush may start while these are answered.
                    self->applied_one();
                    self->answer(id, *waiting, r);
                });
        }
    }
}

void love_service::answer(const std::string& id, std::vector<pending_batch>& waiting,
                          const core::result<state::love_applied>& r) {
    if (!r) {
        spdlog::warn("love: apply failed: {}", r.err().message);
        for (auto& p : waiting) {
            p.done(outcome_only(submit_result::outcome::unavailable, r.err().message));
        }
        return;
    }
    for (std::size_t i = 0; i < waiting.size(); ++i) {
        auto& p = waiting[i];
        const bool counted = i < r->counted.size() && r->counted[i];
        submit_result res;
        res.result = counted ? submit_result::outcome::counted : submit_result::outcome::duplicate;
        res.accepted = counted ? p.why.accepted.size() : 0;
        res.why = std::move(p.why);
        res.total = r->total;
        if (counted) {
            taps_counted_->inc(res.accepted);
            if (log_) {
                // The answer needs only the counts: the taps themselves go to the log.
                log_->add(id, p.user_id, std::move(res.why.accepted), unix_ms_now());
            }
        } else {
            duplicates_->inc();
        }
        p.done(std::move(res));
    }
}

void love_service::total(const std::string& id,
                         std::function<void(core::result<std::int64_t>)> done) {
    if (ended(id)) {
        // Ended: the records have the final total once finalize() wrote it; until then (or on
        // a node without it) the live counts still do.
        deps_.records.totals(id, [self = shared_from_this(), id,
                                  done](core::result<std::vector<state::total_record>> r) {
            if (r) {
                for (const auto& t : *r) {
                    if (t.name == "love") {
                        done(t.value);
                        return;
                    }
                }
            }
            self->deps_.counts.total(self->counts_key(id), done);
        });
        return;
    }
    deps_.counts.total(counts_key(id), std::move(done));
}

bool love_service::ended(const std::string& id) const {
    const auto b = deps_.registry.find(id);
    return b && b->snapshot()->status == media::broadcast_status::ended;
}

std::optional<nlohmann::json> love_service::final_file(const std::string& id) const {
    std::ifstream in(std::filesystem::path(deps_.data_dir) / "vod" / id / "love.json",
                     std::ios::binary);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!in || !j.is_object()) {
        return std::nullopt;
    }
    return j;
}

void love_service::ranking(const std::string& id, std::size_t limit,
                           std::function<void(core::result<std::vector<ranked_viewer>>)> done) {
    if (!ended(id)) {
        live_ranking(id, limit, std::move(done));
        return;
    }
    // Ended: the final ranking is in love.json (a file read: off the event loop); until
    // finalize() wrote it, the live counts still have it.
    deps_.io([self = shared_from_this(), id, limit, done = std::move(done)]() mutable {
        const auto j = self->final_file(id);
        const auto list = j ? j->find("ranking") : nlohmann::json::const_iterator{};
        if (!j || list == j->end() || !list->is_array()) {
            self->live_ranking(id, limit, std::move(done));
            return;
        }
        std::vector<ranked_viewer> out;
        for (const auto& e : *list) {
            if (out.size() >= limit) {
                break;
            }
            const auto user = e.find("user");
            const auto taps = e.find("taps");
            if (user == e.end() || !user->is_object() || taps == e.end() ||
                !taps->is_number_integer()) {
                continue;
            }
            out.push_back({viewer{user->value("id", ""), user->value("name", "")},
                           taps->get<std::int64_t>()});
        }
        done(std::move(out));
    });
}

void love_service::timeline(const std::string& id,
                            std::function<void(core::result<state::love_timeline>)> done) {
    if (!ended(id)) {
        deps_.counts.timeline(counts_key(id), std::move(done));
        return;
    }
    deps_.io([self = shared_from_this(), id, done = std::move(done)]() mutable {
        const auto j = self->final_file(id);
        const auto list = j ? j->find("timeline") : nlohmann::json::const_iterator{};
        if (!j || list == j->end() || !list->is_array()) {
            self->deps_.counts.timeline(self->counts_key(id), std::move(done));
            return;
        }
        state::love_timeline out;
        for (const auto& e : *list) {
            if (e.is_array() && e.size() == 2 && e[0].is_number_integer() &&
                e[1].is_number_integer()) {
                out.emplace_back(e[0].get<std::int64_t>(), e[1].get<std::int64_t>());
            }
        }
        done(std::move(out));
    });
}

void love_service::live_ranking(
    const std::string& id, std::size_t limit,
    std::function<void(core::result<std::vector<ranked_viewer>>)> done) {
    deps_.counts.top(counts_key(id), limit,
                     [done = std::move(done)](core::result<std::vector<state::scored_member>> r) {
                         if (!r) {
                             done(r.err());
                             return;
                         }
                         std::vector<ranked_viewer> out;
                         out.reserve(r->size());
                         for (const auto& m : *r) {
                             out.push_back({viewer_of_member(m.member), m.score});
                         }
                         done(std::move(out));
                     });
}

void love_service::tick(
    const std::function<void(const std::string& id, std::int64_t total)>& on_total) {
    for (const auto& b : deps_.registry.list()) {
        if (b->snapshot()->status != media::broadcast_status::live) {
            continue;
        }
        deps_.counts.total(counts_key(b->id()), [self = shared_from_this(), id = b->id(),
                                                 on_total](core::result<std::int64_t> r) {
            if (!r) {
                return;
            }
            {
                std::lock_guard lock(self->mu_);
                auto [it, fresh] = self->pushed_.try_emplace(id, *r);
                if (!fresh && it->second == *r) {
                    return;
                }
                it->second = *r;
            }
            on_total(id, *r);
        });
    }
}

void love_service::on_broadcast_change(const media::broadcast_record& record) {
    if (record.status != media::broadcast_status::ended) {
        return;
    }
    {
        std::lock_guard lock(mu_);
        pushed_.erase(record.id); // no more pushes for it
    }
    finalize(record.id, [id = record.id](core::result<void> r) {
        if (!r) {
            spdlog::error("love: final counts of {} not written: {}", id, r.err().message);
        }
    });
}

namespace {} // namespace

std::string render_timeline(const state::love_timeline& t) {
    std::string out = "[";
    for (std::size_t i = 0; i < t.size(); ++i) {
        fmt::format_to(std::back_inserter(out), "{}[{},{}]", i == 0 ? "" : ",", t[i].first,
                       t[i].second);
    }
    out += ']';
    return out;
}

namespace {

/// {"broadcast_id":...,"total":N,"ranking":[{"user":{"id","name"},"taps":n},...]}
std::string render_final(const std::string& id, std::int64_t total,
                         const std::vector<state::scored_member>& top,
                         const state::love_timeline& timeline) {
    using codec::chat::json_string;
    std::string out =
        fmt::format(R"({{"broadcast_id":{},"total":{},"ranking":[)", json_string(id), total);
    for (std::size_t i = 0; i < top.size(); ++i) {
        const auto v = viewer_of_member(top[i].member);
        out += fmt::format(R"({}{{"user":{{"id":{},"name":{}}},"taps":{}}})", i == 0 ? "" : ",",
                           json_string(v.id), json_string(v.name), top[i].score);
    }
    out += "],\"timeline\":";
    out += render_timeline(timeline);
    out += "}\n";
    return out;
}

} // namespace

void love_service::finalize(const std::string& id, std::function<void(core::result<void>)> user) {
    {
        std::lock_guard lock(finals_mu_);
        ++finals_pending_;
    }
    auto done = [self = shared_from_this(), user = std::move(user)](core::result<void> r) {
        user(std::move(r));
        std::lock_guard lock(self->finals_mu_);
        if (--self->finals_pending_ == 0) {
            self->finals_cv_.notify_all();
        }
    };
    // Batches still pending go first, and the reads wait until every apply started has
    // completed (the embedded backend answers reads from memory while an apply is still on its
    // way to the journal).
    when_written([self = shared_from_this(), id, done] {
        self->read_final(id, [self, id, done](core::result<final_counts> c) {
            if (!c) {
                done(c.err());
                return;
            }
            self->store_final(id, std::move(*c), done);
        });
    });
}

void love_service::read_final(const std::string& id,
                              std::function<void(core::result<final_counts>)> done) {
    const auto key = counts_key(id);
    auto out = std::make_shared<final_counts>();
    // Three reads, one after the other (each needs only the key; chained to keep one order).
    deps_.counts.total(
        key, [self = shared_from_this(), key, out, done](core::result<std::int64_t> total) {
            if (!total) {
                done(total.err());
                return;
            }
            out->total = *total;
            self->deps_.counts.top(
                key, final_ranking_size,
                [self, key, out, done](core::result<std::vector<state::scored_member>> top) {
                    if (!top) {
                        done(top.err());
                        return;
                    }
                    out->top = std::move(*top);
                    self->deps_.counts.timeline(key,
                                                [out, done](core::result<state::love_timeline> tl) {
                                                    if (!tl) {
                                                        done(tl.err());
                                                        return;
                                                    }
                                                    out->timeline = std::move(*tl);
                                                    done(std::move(*out));
                                                });
                });
        });
}

void love_service::store_final(const std::string& id, final_counts c,
                               std::function<void(core::result<void>)> done) {
    auto text = std::make_shared<std::string>(render_final(id, c.total, c.top, c.timeline));
    const auto total = c.total;
    // The file first (off the event loop), then the records, then the counts go.
    deps_.io([self = shared_from_this(), id, total, text, done] {
        const auto rel = fmt::format("vod/{}/love.json", id);
        const auto path = std::filesystem::path(self->deps_.data_dir) / rel;
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (auto w = media::write_file_atomic(path, *text); !w) {
            done(w.err().wrap("love"));
            return;
        }
        const state::archive_record index{id, "love", rel, static_cast<std::int64_t>(text->size()),
                                          unix_ms_now()};
        self->deps_.records.put_total({id, "love", total}, [self, index,
                                                            done](core::result<void> put) {
            if (!put) {
                done(put.err().wrap("love: total"));
                return;
            }
            self->deps_.records.put_archive(index, [self, id = index.broadcast_id,
                                                    done](core::result<void> indexed) {
                if (!indexed) {
                    done(indexed.err().wrap("love: index"));
                    return;
                }
                // Last: once the counts are gone there is nothing to redo.
                self->deps_.counts.remove(self->counts_key(id),
                                          [self, id, done](core::result<void> removed) {
                                              if (!removed) {
                                                  done(removed.err().wrap("love: remove counts"));
                                                  return;
                                              }
                                              self->finals_->inc();
                                              spdlog::info("love: final counts of {} written", id);
                                              done({});
                                          });
            });
        });
    });
}

void love_service::recover() {
    for (const auto& b : deps_.registry.list()) {
        if (b->snapshot()->status != media::broadcast_status::ended) {
            continue;
        }
        deps_.counts.total(counts_key(b->id()), [self = shared_from_this(),
                                                 id = b->id()](core::result<std::int64_t> t) {
            if (t && *t > 0) {
                spdlog::info("love: {} ended without its final counts; "
                             "writing them now",
                             id);
                self->finalize(id, [id](core::result<void> r) {
                    if (!r) {
                        spdlog::error("love: final counts of {}: {}", id, r.err().message);
                    }
                });
            }
        });
    }
}

bool love_service::wait_for_finals(std::chrono::milliseconds timeout) {
    std::unique_lock lock(finals_mu_);
    return finals_cv_.wait_for(lock, timeout, [this] { return finals_pending_ == 0; });
}

void love_service::close() {
    {
        std::lock_guard lock(mu_);
        closed_ = true;
        timer_.cancel();
    }
    flush();
}

} // namespace livehouse::services::love
