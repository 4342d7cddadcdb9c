// AMF0 (Action Message Format 0, Adobe "AMF 0 File Format Specification" §2): the value encoding
// of RTMP commands (connect, publish, onStatus ...) and data messages (onMetaData).
//
// Decoding is bounded: nesting depth, elements per object/array, string length and the total
// number of values are limited (amf0_limits), and the decoder never reads past its input. Markers
// we refuse, with an error: movieclip and recordset (reserved, §2.1), reference (§2.9; no encoder
// we talk to sends one for commands), unsupported (§2.14), XML document (§2.17) and the switch
// to AMF3 (§3.1 avmplus-object).
#pragma once

#include "core/bytes.hpp"
#include "core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace livehouse::codec::rtmp {

/// Type markers, AMF0 spec §2.1.
enum class amf0_marker : std::uint8_t {
    number = 0x00,
    boolean = 0x01,
    string = 0x02,
    object = 0x03,
    movieclip = 0x04,
    null = 0x05,
    undefined = 0x06,
    reference = 0x07,
    ecma_array = 0x08,
    object_end = 0x09,
    strict_array = 0x0A,
    date = 0x0B,
    long_string = 0x0C,
    unsupported = 0x0D,
    recordset = 0x0E,
    xml_document = 0x0F,
    typed_object = 0x10,
    avmplus_object = 0x11,
};

struct amf0_value;
struct amf0_property;
/// Object members in wire order (order matters to some peers, and keys may repeat).
using amf0_properties = std::vector<amf0_property>;

struct amf0_null {
    bool operator==(const amf0_null&) const = default;
};
struct amf0_undefined {
    bool operator==(const amf0_undefined&) const = default;
};
/// §2.5 anonymous object.
struct amf0_object {
    amf0_properties properties;
    bool operator==(const amf0_object&) const;
};
/// §2.10 ECMA array: an object with an associative-count hint (the count is not trusted on
/// decode; the encoder writes properties.size()).
struct amf0_ecma_array {
    amf0_properties properties;
    bool operator==(const amf0_ecma_array&) const;
};
/// §2.12 strict array.
struct amf0_strict_array {
    std::vector<amf0_value> items;
    bool operator==(const amf0_strict_array&) const;
};
/// §2.13 date: milliseconds since the epoch (UTC) and a time-zone field that "should be 0".
struct amf0_date {
    double epoch_ms = 0;
    std::int16_t timezone = 0;
    bool operator==(const amf0_date&) const;
};
/// §2.18 typed object: an object with a registered class name.
struct amf0_typed_object {
    std::string class_name;
    amf0_properties properties;
    bool operator==(const amf0_typed_object&) const;
};

/// One AMF0 value. Strings and long strings are both std::string: the encoder picks the long
/// form (§2.14) only when the string does not fit a 16-bit length.
struct amf0_value {
    using variant = std::variant<double, bool, std::string, amf0_object, amf0_null, amf0_undefined,
                                 amf0_ecma_array, amf0_strict_array, amf0_date, amf0_typed_object>;
    variant v;

    // Converting constructors, so values read like literals: {"app", "live"}, 1.0, amf0_null{}.
    // Defined below amf0_property: a variant of objects needs the property type complete.
    amf0_value();
    amf0_value(double d);            // NOLINT(google-explicit-constructor)
    amf0_value(int i);               // NOLINT(google-explicit-constructor)
    amf0_value(bool b);              // NOLINT(google-explicit-constructor)
    amf0_value(std::string s);       // NOLINT(google-explicit-constructor)
    amf0_value(std::string_view s);  // NOLINT(google-explicit-constructor)
    amf0_value(const char* s);       // NOLINT(google-explicit-constructor)
    amf0_value(amf0_object o);       // NOLINT(google-explicit-constructor)
    amf0_value(amf0_null n);         // NOLINT(google-explicit-constructor)
    amf0_value(amf0_undefined u);    // NOLINT(google-explicit-constructor)
    amf0_value(amf0_ecma_array a);   // NOLINT(google-explicit-constructor)
    amf0_value(amf0_strict_array a); // NOLINT(google-explicit-constructor)
    amf0_value(amf0_date d);         // NOLINT(google-explicit-constructor)
    amf0_value(amf0_typed_object o); // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool is_null() const { return std::holds_alternative<amf0_null>(v); }
    [[nodiscard]] bool is_undefined() const { return std::holds_alternative<amf0_undefined>(v); }
    [[nodiscard]] bool is_number() const { return std::holds_alternative<double>(v); }
    [[nodiscard]] bool is_string() const { return std::holds_alternative<std::string>(v); }
    /// Object, ECMA array or typed object: anything with named properties.
    [[nodiscard]] bool is_object_like() const { return properties() != nullptr; }

    /// The number, or nullptr when this is not a number. Same shape for the others: a pointer
    /// into this value, valid while it lives and is not reassigned.
    [[nodiscard]] const double* as_number() const { return std::get_if<double>(&v); }
    [[nodiscard]] const bool* as_bool() const { return std::get_if<bool>(&v); }
    [[nodiscard]] const std::string* as_string() const { return std::get_if<std::string>(&v); }
    /// The properties of an object, ECMA array or typed object; nullptr otherwise.
    [[nodiscard]] const amf0_properties* properties() const;
    /// The first property named `key` of an object-like value; nullptr when absent or when this
    /// is not object-like.
    [[nodiscard]] const amf0_value* get(std::string_view key) const;
    /// Shorthands: the property's string/number, or the fallback when absent or of another type.
    [[nodiscard]] std::string_view get_string(std::string_view key,
                                              std::string_view fallback = {}) const;
    [[nodiscard]] double get_number(std::string_view key, double fallback = 0) const;

    /// Structural equality. Numbers (and dates) compare by bit pattern, so that a value that
    /// survived encode/decode compares equal even when it is NaN.
    bool operator==(const amf0_value& other) const;
};

struct amf0_property {
    std::string key;
    amf0_value value;
    bool operator==(const amf0_property&) const = default;
};

inline amf0_value::amf0_value() : v(amf0_null{}) {}
inline amf0_value::amf0_value(double d) : v(d) {}
inline amf0_value::amf0_value(int i) : v(static_cast<double>(i)) {}
inline amf0_value::amf0_value(bool b) : v(b) {}
inline amf0_value::amf0_value(std::string s) : v(std::move(s)) {}
inline amf0_value::amf0_value(std::string_view s) : v(std::string(s)) {}
inline amf0_value::amf0_value(const char* s) : v(std::string(s)) {}
inline amf0_value::amf0_value(amf0_object o) : v(std::move(o)) {}
inline amf0_value::amf0_value(amf0_null n) : v(n) {}
inline amf0_value::amf0_value(amf0_undefined u) : v(u) {}
inline amf0_value::amf0_value(amf0_ecma_array a) : v(std::move(a)) {}
inline amf0_value::amf0_value(amf0_strict_array a) : v(std::move(a)) {}
inline amf0_value::amf0_value(amf0_date d) : v(d) {}
inline amf0_value::amf0_value(amf0_typed_object o) : v(std::move(o)) {}

struct amf0_limits {
    std::size_t max_depth = 32;           ///< nested objects/arrays
    std::size_t max_elements = 1024;      ///< properties per object, items per strict array
    std::size_t max_string = 1024 * 1024; ///< bytes in one string, long string or key
    std::size_t max_values = 65536;       ///< values in one decode call (bounds memory)
};

/// Decodes one value from `reader`, advancing it. On error the reader position is unspecified.
/// Errors (never throws): truncated input, a limit exceeded, a refused marker. Each error names
/// what was being decoded, e.g. "amf0: object property 'app': string length 70000 > limit".
core::result<amf0_value> amf0_decode(core::byte_reader& reader, const amf0_limits& limits = {});

/// Decodes every value in `payload` (a command or data message body), in order. An empty
/// payload gives an empty vector.
core::result<std::vector<amf0_value>> amf0_decode_all(core::bytes_view payload,
                                                      const amf0_limits& limits = {});

/// Appends the encoding of `value` to `out`. Precondition: strings and keys fit their length
/// fields (keys < 64 KiB; values < 4 GiB) and arrays have < 2^32 elements; a longer key is
/// truncated (we only encode what the server itself builds).
void amf0_encode(const amf0_value& value, std::string& out);
/// Appends every value in order.
void amf0_encode_all(std::span<const amf0_value> values, std::string& out);

} // namespace livehouse::codec::rtmp
