// result<T>: a value or an error with context, for code paths that see peer input and so never
// throw (g++ 12 has no std::expected). An error reads as a story: each layer that passes it up
// adds what it was doing, e.g. "rtmp session: chunk stream: message length 20000000 > limit".
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace livehouse::core {

struct error {
    std::string message;

    /// Returns this error with `context` prepended ("context: message").
    [[nodiscard]] error wrap(std::string_view context) const {
        return error{std::string(context) + ": " + message};
    }
};

template <class T> class [[nodiscard]] result {
  public:
    result(T value) : v_(std::move(value)) {} // NOLINT(google-explicit-constructor)
    result(error e) : v_(std::in_place_index<1>, std::move(e)) {} // NOLINT

    [[nodiscard]] bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }

    [[nodiscard]] const error& err() const { return std::get<1>(v_); }

  private:
    std::variant<T, error> v_;
};

/// result<void>: success, or an error.
template <> class [[nodiscard]] result<void> {
  public:
    result() = default;
    result(error e) : e_(std::move(e)), ok_(false) {} // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    [[nodiscard]] const error& err() const { return e_; }

  private:
    error e_;
    bool ok_ = true;
};

inline error make_error(std::string message) {
    return error{std::move(message)};
}

} // namespace livehouse::core
