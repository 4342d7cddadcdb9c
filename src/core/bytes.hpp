// Byte views, immutable shared buffers, and bounds-checked big-endian readers/writers.
//
// byte_reader never reads past its span: every read returns false/nullopt instead, so a parser
// cannot forget a bounds check (the SRS buffer habit we do not copy). shared_bytes is the one
// type for payloads shared across threads and viewers: immutable and ref-counted, written to
// sockets without a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace livehouse::core {

using bytes_view = std::span<const std::uint8_t>;

/// Immutable, ref-counted bytes. Never mutated after construction; safe to share across threads.
using shared_bytes = std::shared_ptr<const std::string>;

inline shared_bytes make_shared_bytes(std::string s) {
    return std::make_shared<const std::string>(std::move(s));
}

inline bytes_view as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string_view as_chars(bytes_view b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Sequential bounds-checked reader over a byte span (network byte order unless named _le).
class byte_reader {
  public:
    explicit byte_reader(bytes_view data) : data_(data) {}

    [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }
    [[nodiscard]] std::size_t position() const { return pos_; }
    [[nodiscard]] bool empty() const { return remaining() == 0; }
    [[nodiscard]] bytes_view rest() const { return data_.subspan(pos_); }

    std::optional<std::uint8_t> u8() {
        if (remaining() < 1) {
            return std::nullopt;
        }
        return data_[pos_++];
    }
    std::optional<std::uint16_t> u16() { return be<std::uint16_t>(2); }
    std::optional<std::uint32_t> u24() { return be<std::uint32_t>(3); }
    std::optional<std::uint32_t> u32() { return be<std::uint32_t>(4); }
    std::optional<std::uint64_t> u64() { return be<std::uint64_t>(8); }
    std::optional<std::uint32_t> u32_le() {
        if (remaining() < 4) {
            return std::nullopt;
        }
        std::uint32_t v = 0;
        for (int i = 3; i >= 0; --i) {
            v = (v << 8U) | data_[pos_ + static_cast<std::size_t>(i)];
        }
        pos_ += 4;
        return v;
    }
    std::optional<double> f64() {
        auto bits = u64();
        if (!bits) {
            return std::nullopt;
        }
        double d = 0;
        std::memcpy(&d, &*bits, sizeof d);
        return d;
    }
    /// A view of the next n bytes (no copy; valid while the underlying span is).
    std::optional<bytes_view> take(std::size_t n) {
        if (remaining() < n) {
            return std::nullopt;
        }
        auto v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    bool skip(std::size_t n) {
        if (remaining() < n) {
            return false;
        }
        pos_ += n;
        return true;
    }

  private:
    template <class T> std::optional<T> be(std::size_t n) {
        if (remaining() < n) {
            return std::nullopt;
        }
        T v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = static_cast<T>((v << 8U) | data_[pos_ + i]);
        }
        pos_ += n;
        return v;
    }

    bytes_view data_;
    std::size_t pos_ = 0;
};

/// Appends big-endian values to a std::string used as a byte buffer.
class byte_writer {
  public:
    explicit byte_writer(std::string& out) : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u16(std::uint16_t v) { be(v, 2); }
    void u24(std::uint32_t v) { be(v, 3); }
    void u32(std::uint32_t v) { be(v, 4); }
    void u64(std::uint64_t v) { be(v, 8); }
    void u32_le(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            u8(static_cast<std::uint8_t>(v >> (8U * static_cast<unsigned>(i))));
        }
    }
    void f64(double d) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &d, sizeof d);
        u64(bits);
    }
    void bytes(bytes_view b) { out_.append(reinterpret_cast<const char*>(b.data()), b.size()); }
    void bytes(std::string_view s) { out_.append(s); }
    [[nodiscard]] std::size_t size() const { return out_.size(); }

  private:
    void be(std::uint64_t v, std::size_t n) {
        for (std::size_t i = n; i-- > 0;) {
            u8(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    }

    std::string& out_;
};

} // namespace livehouse::core
