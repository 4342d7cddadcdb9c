// AMF0 decoder and encoder. The decoder is recursive (objects nest), so depth is bounded by
// amf0_limits::max_depth; every length is checked against both the limit and the bytes left
// before anything is allocated.
#include "codec/rtmp/amf0.hpp"

#include <algorithm>
#include <bit>
#include <fmt/format.h>

namespace livehouse::codec::rtmp {

namespace {

bool same_bits(double a, double b) {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

class decoder {
  public:
    decoder(core::byte_reader& r, const amf0_limits& limits) : r_(r), limits_(limits) {}

    core::result<amf0_value> value(std::size_t depth) {
        if (++values_ > limits_.max_values) {
            return core::make_error(fmt::format("more than {} values", limits_.max_values));
        }
        auto marker_byte = r_.u8();
        if (!marker_byte) {
            return core::make_error("truncated: no type marker");
        }
        switch (static_cast<amf0_marker>(*marker_byte)) {
        case amf0_marker::number: {
            // §2.2: "an 8 byte IEEE-754 double precision floating point value in network byte
            // order".
            auto d = r_.f64();
            if (!d) {
                return core::make_error("truncated number");
            }
            return amf0_value(*d);
        }
        case amf0_marker::boolean: {
            // §2.3: "a single byte ... 0 is false, non-zero is true".
            auto b = r_.u8();
            if (!b) {
                return core::make_error("truncated boolean");
            }
            return amf0_value(*b != 0);
        }
        case amf0_marker::string: {
            auto s = utf8(false);
            if (!s) {
                return s.err().wrap("string");
            }
            return amf0_value(std::move(*s));
        }
        case amf0_marker::long_string: {
            auto s = utf8(true);
            if (!s) {
                return s.err().wrap("long string");
            }
            return amf0_value(std::move(*s));
        }
        case amf0_marker::object: {
            auto props = properties(depth);
            if (!props) {
                return props.err().wrap("object");
            }
            return amf0_value(amf0_object{std::move(*props)});
        }
        case amf0_marker::typed_object: {
            // §2.18: class-name (UTF-8) then the object's properties.
            auto name = utf8(false);
            if (!name) {
                return name.err().wrap("typed object class name");
            }
            auto props = properties(depth);
            if (!props) {
                return props.err().wrap("typed object");
            }
            return amf0_value(amf0_typed_object{std::move(*name), std::move(*props)});
        }
        case amf0_marker::ecma_array: {
            // §2.10: "associative-count" U32 then object properties up to object-end. The count
            // is only a hint (encoders disagree), so the end marker decides.
            if (!r_.u32()) {
                return core::make_error("truncated ECMA array count");
            }
            auto props = properties(depth);
            if (!props) {
                return props.err().wrap("ECMA array");
            }
            return amf0_value(amf0_ecma_array{std::move(*props)});
        }
        case amf0_marker::strict_array: {
            // §2.12: "array-count" U32 then that many values.
            auto count = r_.u32();
            if (!count) {
                return core::make_error("truncated strict array count");
            }
            if (*count > limits_.max_elements) {
                return core::make_error(
                    fmt::format("strict array count {} > limit {}", *count, limits_.max_elements));
            }
            // Every value takes at least its marker byte: refuse a count the input cannot hold
            // before reserving memory for it.
            if (*count > r_.remaining()) {
                return core::make_error(
                    fmt::format("strict array count {} > {} bytes left", *count, r_.remaining()));
            }
            if (depth + 1 > limits_.max_depth) {
                return core::make_error(fmt::format("nesting depth > limit {}", limits_.max_depth));
            }
            amf0_strict_array array;
            array.items.reserve(*count);
            for (std::uint32_t i = 0; i < *count; ++i) {
                auto item = value(depth + 1);
                if (!item) {
                    return item.err().wrap(fmt::format("strict array item {}", i));
                }
                array.items.push_back(std::move(*item));
            }
            return amf0_value(std::move(array));
        }
        case amf0_marker::date: {
            // §2.13: DOUBLE milliseconds, then S16 time-zone (reserved, "should be 0").
            auto ms = r_.f64();
            auto tz = r_.u16();
            if (!ms || !tz) {
                return core::make_error("truncated date");
            }
            return amf0_value(amf0_date{*ms, static_cast<std::int16_t>(*tz)});
        }
        case amf0_marker::null:
            return amf0_value(amf0_null{});
        case amf0_marker::undefined:
            return amf0_value(amf0_undefined{});
        case amf0_marker::object_end:
            return core::make_error("object-end marker outside an object");
        case amf0_marker::reference:
            return core::make_error("reference marker (0x07) not supported");
        case amf0_marker::avmplus_object:
            return core::make_error("AMF3 (avmplus-object marker 0x11) not supported");
        case amf0_marker::movieclip:
        case amf0_marker::recordset:
        case amf0_marker::unsupported:
        case amf0_marker::xml_document:
            break;
        }
        return core::make_error(fmt::format("unsupported type marker 0x{:02x}", *marker_byte));
    }

  private:
    // §2.4 UTF-8 = U16 length + bytes; §2.14 UTF-8-long = U32 length + bytes. We do not validate
    // the UTF-8 itself: keys and names are compared bytewise and never rendered unescaped.
    core::result<std::string> utf8(bool long_form) {
        std::size_t len = 0;
        if (long_form) {
            auto n = r_.u32();
            if (!n) {
                return core::make_error("truncated length");
            }
            len = *n;
        } else {
            auto n = r_.u16();
            if (!n) {
                return core::make_error("truncated length");
            }
            len = *n;
        }
        if (len > limits_.max_string) {
            return core::make_error(fmt::format("length {} > limit {}", len, limits_.max_string));
        }
        auto bytes = r_.take(len);
        if (!bytes) {
            return core::make_error(
                fmt::format("truncated: length {} > {} bytes left", len, r_.remaining()));
        }
        return std::string(core::as_chars(*bytes));
    }

    // §2.5: object-property = (UTF-8 value-type) | (UTF-8-empty object-end-marker). Shared by
    // object, ECMA array and typed object.
    core::result<amf0_properties> properties(std::size_t depth) {
        if (depth + 1 > limits_.max_depth) {
            return core::make_error(fmt::format("nesting depth > limit {}", limits_.max_depth));
        }
        amf0_properties props;
        for (;;) {
            auto key = utf8(false);
            if (!key) {
                return key.err().wrap(fmt::format("property {} key", props.size()));
            }
            if (key->empty()) {
                auto next = r_.rest();
                if (next.empty()) {
                    return core::make_error("truncated: no object-end marker");
                }
                if (next[0] == static_cast<std::uint8_t>(amf0_marker::object_end)) {
                    r_.skip(1);
                    return props;
                }
                // An empty key followed by a value: legal, if odd. Fall through.
            }
            if (props.size() >= limits_.max_elements) {
                return core::make_error(
                    fmt::format("more than {} properties", limits_.max_elements));
            }
            auto v = value(depth + 1);
            if (!v) {
                return v.err().wrap(fmt::format("property '{}'", *key));
            }
            props.push_back(amf0_property{std::move(*key), std::move(*v)});
        }
    }

    core::byte_reader& r_;
    const amf0_limits& limits_;
    std::size_t values_ = 0;
};

void encode_utf8(std::string_view s, core::byte_writer& w) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(s.size(), 0xFFFF));
    w.u16(n);
    w.bytes(s.substr(0, n));
}

void encode_properties(const amf0_properties& props, std::string& out) {
    core::byte_writer w(out);
    for (const auto& p : props) {
        encode_utf8(p.key, w);
        amf0_encode(p.value, out);
    }
    // §2.5 / §2.11: UTF-8-empty then object-end-marker.
    w.u16(0);
    w.u8(static_cast<std::uint8_t>(amf0_marker::object_end));
}

void marker(amf0_marker m, core::byte_writer& w) {
    w.u8(static_cast<std::uint8_t>(m));
}

} // namespace

bool amf0_object::operator==(const amf0_object& o) const {
    return properties == o.properties;
}
bool amf0_ecma_array::operator==(const amf0_ecma_array& o) const {
    return properties == o.properties;
}
bool amf0_strict_array::operator==(const amf0_strict_array& o) const {
    return items == o.items;
}
bool amf0_date::operator==(const amf0_date& o) const {
    return same_bits(epoch_ms, o.epoch_ms) && timezone == o.timezone;
}
bool amf0_typed_object::operator==(const amf0_typed_object& o) const {
    return class_name == o.class_name && properties == o.properties;
}

bool amf0_value::operator==(const amf0_value& other) const {
    if (v.index() != other.v.index()) {
        return false;
    }
    if (const auto* d = as_number()) {
        return same_bits(*d, *other.as_number());
    }
    return v == other.v;
}

const amf0_properties* amf0_value::properties() const {
    if (const auto* o = std::get_if<amf0_object>(&v)) {
        return &o->properties;
    }
    if (const auto* a = std::get_if<amf0_ecma_array>(&v)) {
        return &a->properties;
    }
    if (const auto* t = std::get_if<amf0_typed_object>(&v)) {
        return &t->properties;
    }
    return nullptr;
}

const amf0_value* amf0_value::get(std::string_view key) const {
    const auto* props = properties();
    if (props == nullptr) {
        return nullptr;
    }
    for (const auto& p : *props) {
        if (p.key == key) {
            return &p.value;
        }
    }
    return nullptr;
}

std::string_view amf0_value::get_string(std::string_view key, std::string_view fallback) const {
    const auto* p = get(key);
    const auto* s = p != nullptr ? p->as_string() : nullptr;
    return s != nullptr ? std::string_view(*s) : fallback;
}

double amf0_value::get_number(std::string_view key, double fallback) const {
    const auto* p = get(key);
    const auto* d = p != nullptr ? p->as_number() : nullptr;
    return d != nullptr ? *d : fallback;
}

core::result<amf0_value> amf0_decode(core::byte_reader& reader, const amf0_limits& limits) {
    decoder d(reader, limits);
    auto v = d.value(0);
    if (!v) {
        return v.err().wrap("amf0");
    }
    return v;
}

core::result<std::vector<amf0_value>> amf0_decode_all(core::bytes_view payload,
                                                      const amf0_limits& limits) {
    core::byte_reader reader(payload);
    decoder d(reader, limits); // one decoder: max_values bounds the whole payload
    std::vector<amf0_value> values;
    while (!reader.empty()) {
        auto v = d.value(0);
        if (!v) {
            return v.err().wrap(fmt::format("amf0: value {}", values.size()));
        }
        values.push_back(std::move(*v));
    }
    return values;
}

void amf0_encode(const amf0_value& value, std::string& out) {
    core::byte_writer w(out);
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, double>) {
                marker(amf0_marker::number, w);
                w.f64(x);
            } else if constexpr (std::is_same_v<T, bool>) {
                marker(amf0_marker::boolean, w);
                w.u8(x ? 1 : 0);
            } else if constexpr (std::is_same_v<T, std::string>) {
                if (x.size() <= 0xFFFF) {
                    marker(amf0_marker::string, w);
                    w.u16(static_cast<std::uint16_t>(x.size()));
                } else {
                    // §2.14: "used for encoding strings that would occupy more than 65535
                    // bytes when UTF-8 encoded".
                    marker(amf0_marker::long_string, w);
                    w.u32(static_cast<std::uint32_t>(x.size()));
                }
                w.bytes(x);
            } else if constexpr (std::is_same_v<T, amf0_object>) {
                marker(amf0_marker::object, w);
                encode_properties(x.properties, out);
            } else if constexpr (std::is_same_v<T, amf0_null>) {
                marker(amf0_marker::null, w);
            } else if constexpr (std::is_same_v<T, amf0_undefined>) {
                marker(amf0_marker::undefined, w);
            } else if constexpr (std::is_same_v<T, amf0_ecma_array>) {
                marker(amf0_marker::ecma_array, w);
                w.u32(static_cast<std::uint32_t>(x.properties.size()));
                encode_properties(x.properties, out);
            } else if constexpr (std::is_same_v<T, amf0_strict_array>) {
                marker(amf0_marker::strict_array, w);
                w.u32(static_cast<std::uint32_t>(x.items.size()));
                for (const auto& item : x.items) {
                    amf0_encode(item, out);
                }
            } else if constexpr (std::is_same_v<T, amf0_date>) {
                marker(amf0_marker::date, w);
                w.f64(x.epoch_ms);
                w.u16(static_cast<std::uint16_t>(x.timezone));
            } else if constexpr (std::is_same_v<T, amf0_typed_object>) {
                marker(amf0_marker::typed_object, w);
                encode_utf8(x.class_name, w);
                encode_properties(x.properties, out);
            }
        },
        value.v);
}

void amf0_encode_all(std::span<const amf0_value> values, std::string& out) {
    for (const auto& v : values) {
        amf0_encode(v, out);
    }
}

} // namespace livehouse::codec::rtmp
