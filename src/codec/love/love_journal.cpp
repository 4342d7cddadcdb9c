// love_journal (see love_journal.hpp).
#include "codec/love/love_journal.hpp"

#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <optional>

namespace livehouse::codec::love {

namespace {

constexpr std::uint8_t batches_version = 1;
constexpr std::uint8_t state_version = 1;

class writer {
  public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
        }
    }
    void i64(std::int64_t v) {
        const auto u = static_cast<std::uint64_t>(v);
        for (int i = 0; i < 8; ++i) {
            out_.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
        }
    }
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
    }
    void pairs(const std::vector<std::pair<std::int64_t, std::int64_t>>& v) {
        u32(static_cast<std::uint32_t>(v.size()));
        for (const auto& [a, b] : v) {
            i64(a);
            i64(b);
        }
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

/// Reads what writer wrote; any read past the end sets failed() and returns zeros.
class reader {
  public:
    explicit reader(std::string_view in) : in_(in) {}
    [[nodiscard]] bool failed() const { return failed_; }
    [[nodiscard]] bool at_end() const { return in_.empty(); }

    std::uint8_t u8() {
        if (!need(1)) {
            return 0;
        }
        const auto v = static_cast<std::uint8_t>(in_[0]);
        in_.remove_prefix(1);
        return v;
    }
    std::uint32_t u32() {
        if (!need(4)) {
            return 0;
        }
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in_[i])) << (8 * i);
        }
        in_.remove_prefix(4);
        return v;
    }
    std::int64_t i64() {
        if (!need(8)) {
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) {
            v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[i])) << (8 * i);
        }
        in_.remove_prefix(8);
        return static_cast<std::int64_t>(v);
    }
    std::string str() {
        const auto n = u32();
        if (!need(n)) {
            return {};
        }
        std::string s(in_.substr(0, n));
        in_.remove_prefix(n);
        return s;
    }
    /// A count of elements each at least `min_bytes` long: more than the bytes left can hold
    /// is damage (checked before anything is reserved).
    std::uint32_t count(std::size_t min_bytes) {
        const auto n = u32();
        if (static_cast<std::uint64_t>(n) * min_bytes > in_.size()) {
            failed_ = true;
            return 0;
        }
        return n;
    }
    std::vector<std::pair<std::int64_t, std::int64_t>> pairs() {
        std::vector<std::pair<std::int64_t, std::int64_t>> v;
        const auto n = count(16);
        v.reserve(n);
        for (std::uint32_t i = 0; i < n && !failed_; ++i) {
            const auto a = i64();
            v.emplace_back(a, i64());
        }
        return v;
    }

  private:
    bool need(std::size_t n) {
        if (failed_ || in_.size() < n) {
            failed_ = true;
            return false;
        }
        return true;
    }

    std::string_view in_;
    bool failed_ = false;
};

core::error damaged(std::string_view what, std::size_t size) {
    return core::make_error(fmt::format("love journal: damaged {} ({} bytes)", what, size));
}

} // namespace

std::string encode_batches(const std::vector<counted_batch>& batches) {
    writer w;
    w.u8(batches_version);
    w.u32(static_cast<std::uint32_t>(batches.size()));
    for (const auto& b : batches) {
        w.str(b.user);
        w.str(b.batch_id);
        w.i64(b.taps);
        w.pairs(b.per_second);
    }
    return w.take();
}

core::result<std::vector<counted_batch>> decode_batches(std::string_view bytes) {
    reader r(bytes);
    if (r.u8() != batches_version) {
        return damaged("batches (version)", bytes.size());
    }
    std::vector<counted_batch> out;
    const auto n = r.count(4 + 4 + 8 + 4);
    out.reserve(n);
    for (std::uint32_t i = 0; i < n && !r.failed(); ++i) {
        counted_batch b;
        b.user = r.str();
        b.batch_id = r.str();
        b.taps = r.i64();
        b.per_second = r.pairs();
        out.push_back(std::move(b));
    }
    if (r.failed() || !r.at_end()) {
        return damaged("batches", bytes.size());
    }
    return out;
}

std::string encode_state(const journal_state& s) {
    writer w;
    w.u8(state_version);
    w.i64(s.total);
    w.pairs(s.timeline);
    w.u32(static_cast<std::uint32_t>(s.users.size()));
    for (const auto& u : s.users) {
        w.str(u.id);
        w.i64(u.score);
        w.u32(static_cast<std::uint32_t>(u.seen.size()));
        for (const auto& id : u.seen) {
            w.str(id);
        }
    }
    return w.take();
}

core::result<journal_state> decode_state(std::string_view bytes) {
    reader r(bytes);
    if (r.u8() != state_version) {
        return damaged("snapshot (version)", bytes.size());
    }
    journal_state s;
    s.total = r.i64();
    s.timeline = r.pairs();
    const auto n = r.count(4 + 8 + 4);
    s.users.reserve(n);
    for (std::uint32_t i = 0; i < n && !r.failed(); ++i) {
        journal_state::user u;
        u.id = r.str();
        u.score = r.i64();
        const auto k = r.count(4);
        u.seen.reserve(k);
        for (std::uint32_t j = 0; j < k && !r.failed(); ++j) {
            u.seen.push_back(r.str());
        }
        s.users.push_back(std::move(u));
    }
    if (r.failed() || !r.at_end()) {
        return damaged("snapshot", bytes.size());
    }
    return s;
}

} // namespace livehouse::codec::love
