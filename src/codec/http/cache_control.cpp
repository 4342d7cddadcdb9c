// Cache-Control and Age parsing, and shared-cache freshness. The parser is a single forward scan
// over at most 4096 bytes that never backs up, so its cost is linear in what it looks at and it
// allocates nothing. Where the origin's value is malformed the choice is always the conservative
// one: a restrictive flag is honoured, a lifetime is dropped.
#include "codec/http/cache_control.hpp"

#include <algorithm>
#include <cstddef>

namespace livehouse::codec::http {

namespace {

constexpr std::size_t max_value_bytes = 4096;
constexpr std::size_t max_directives = 64;
// RFC 9111 §1.2.2: "If a cache receives a delta-seconds value greater than the greatest integer
// it can represent, or if any of its subsequent calculations overflows, the cache MUST consider
// the value to be 2147483648 (2^31) or the greatest positive integer it can conveniently
// represent."
constexpr std::int64_t delta_seconds_cap = 2147483648;

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool is_tchar(char c) {
    if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

// RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text, and a quoted-pair
// escapes HTAB / SP / VCHAR / obs-text.
bool is_qdtext(char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || c == ' ' || c == 0x21 || (u >= 0x23 && u <= 0x5b) ||
           (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}

bool is_quoted_pair_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || c == ' ' || (u >= 0x21 && u <= 0x7e) || u >= 0x80;
}

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9111 §5.2: "Cache directives are identified by a token, to be compared
// case-insensitively".
bool name_is(std::string_view name, std::string_view lower_name) {
    if (name.size() != lower_name.size()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (ascii_lower(name[i]) != lower_name[i]) {
            return false;
        }
    }
    return true;
}

enum class argument_kind { none, token, quoted, malformed };

/// One list element: `name [ "=" argument ]`. `argument` is the token, or the inside of the
/// quoted-string still holding its backslashes.
struct element {
    std::string_view name;
    argument_kind kind = argument_kind::none;
    std::string_view argument;
    bool well_formed = true;
    bool cut = false;
};

/// delta-seconds = 1*DIGIT (RFC 9111 §1.2.2), from a token or from the inside of a
/// quoted-string (where a quoted-pair stands for its second character).
std::optional<std::int64_t> delta_seconds(std::string_view s, bool quoted) {
    std::int64_t v = 0;
    std::size_t digits = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (quoted && c == '\\' && i + 1 < s.size()) {
            c = s[++i];
        }
        if (!is_digit(c)) {
            return std::nullopt;
        }
        ++digits;
        // Once past the cap the value stays capped: v < 2^31 here, so v * 10 + 9 fits.
        if (v < delta_seconds_cap) {
            v = v * 10 + (c - '0');
        }
    }
    if (digits == 0) {
        return std::nullopt;
    }
    return std::min(v, delta_seconds_cap);
}

std::optional<std::int64_t> delta_seconds(const element& e) {
    if (!e.well_formed) {
        return std::nullopt;
    }
    if (e.kind == argument_kind::token) {
        return delta_seconds(e.argument, false);
    }
    if (e.kind == argument_kind::quoted) {
        return delta_seconds(e.argument, true);
    }
    return std::nullopt; // none or malformed: a number directive needs its argument
}

/// Splits a Cache-Control value into elements (RFC 9110 §5.6.1 lists). `ends_mid_element`: the
/// text was cut from a longer value just before a byte that is not a comma, so the last element
/// may be incomplete.
class element_scanner {
  public:
    element_scanner(std::string_view text, bool ends_mid_element)
        : text_(text), ends_mid_element_(ends_mid_element) {}

    /// The next non-empty element; false at the end of the text.
    bool next(element& out) {
        // RFC 9110 §5.6.1: "a recipient MUST parse and ignore a reasonable number of empty list
        // elements" — here any number: they cost one byte each and never count as directives.
        while (pos_ < text_.size() && (is_ows(text_[pos_]) || text_[pos_] == ',')) {
            ++pos_;
        }
        if (pos_ == text_.size()) {
            return false;
        }
        out = element{};
        const std::size_t name_begin = pos_;
        while (pos_ < text_.size() && is_tchar(text_[pos_])) {
            ++pos_;
        }
        out.name = text_.substr(name_begin, pos_ - name_begin);
        if (!out.name.empty() && pos_ < text_.size() && text_[pos_] == '=') {
            ++pos_;
            read_argument(out);
        }
        while (pos_ < text_.size() && is_ows(text_[pos_])) {
            ++pos_;
        }
        if (pos_ < text_.size() && text_[pos_] != ',') {
            out.well_formed = false;
            skip_to_comma();
        }
        out.well_formed = out.well_formed && !out.name.empty();
        out.cut = pos_ == text_.size() && ends_mid_element_;
        return true;
    }

  private:
    void read_argument(element& out) {
        if (pos_ < text_.size() && text_[pos_] == '"') {
            ++pos_;
            const std::size_t begin = pos_;
            bool valid = true;
            bool closed = false;
            while (pos_ < text_.size()) {
                const char c = text_[pos_];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') {
                    if (pos_ + 1 == text_.size() || !is_quoted_pair_char(text_[pos_ + 1])) {
                        valid = false;
                    }
                    pos_ = std::min(pos_ + 2, text_.size());
                    continue;
                }
                valid = valid && is_qdtext(c);
                ++pos_;
            }
            out.argument = text_.substr(begin, pos_ - begin);
            if (closed) {
                ++pos_;
            }
            out.kind = valid && closed ? argument_kind::quoted : argument_kind::malformed;
            return;
        }
        const std::size_t begin = pos_;
        while (pos_ < text_.size() && is_tchar(text_[pos_])) {
            ++pos_;
        }
        out.argument = text_.substr(begin, pos_ - begin);
        out.kind = out.argument.empty() ? argument_kind::malformed : argument_kind::token;
    }

    /// Skips junk up to the next comma that is not inside a quoted-string.
    void skip_to_comma() {
        while (pos_ < text_.size() && text_[pos_] != ',') {
            if (text_[pos_] != '"') {
                ++pos_;
                continue;
            }
            ++pos_;
            while (pos_ < text_.size() && text_[pos_] != '"') {
                pos_ = std::min(pos_ + (text_[pos_] == '\\' ? 2 : 1), text_.size());
            }
            if (pos_ < text_.size()) {
                ++pos_; // the closing quote
            }
        }
    }

    std::string_view text_;
    bool ends_mid_element_;
    std::size_t pos_ = 0;
};

bool cacheable_status(int status) {
    // RFC 9110 §15.1: "Responses with status codes that are defined as heuristically cacheable
    // (e.g., 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, and 501 in this
    // specification) can be reused by a cache". 206 is left out: the edge stores whole
    // responses only and does not combine ranges (RFC 9111 §3.4).
    switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
        return true;
    default:
        return false;
    }
}

std::int64_t non_negative(std::int64_t v) {
    return std::max<std::int64_t>(v, 0);
}

} // namespace

cache_directives parse_cache_control(std::string_view value) {
    const bool truncated = value.size() > max_value_bytes;
    const bool ends_mid_element = truncated && value[max_value_bytes] != ',';
    element_scanner scanner(value.substr(0, std::min(value.size(), max_value_bytes)),
                            ends_mid_element);
    cache_directives d;
    bool max_age_seen = false;
    element e;
    for (std::size_t seen = 0; seen < max_directives && scanner.next(e); ++seen) {
        if (e.cut) {
            continue;
        }
        // RFC 9111 §5.2.2.4 / §5.2.2.7: no-cache and private may carry a list of field names
        // that the cache must not reuse (no-cache) or store (private). The edge does not store
        // part of a response, so the qualified forms count as the whole directive.
        if (name_is(e.name, "no-store")) {
            d.no_store = true;
        } else if (name_is(e.name, "no-cache")) {
            d.no_cache = true;
        } else if (name_is(e.name, "private")) {
            d.private_ = true;
        } else if (name_is(e.name, "public")) {
            d.public_ = true;
        } else if (name_is(e.name, "must-revalidate")) {
            d.must_revalidate = true;
        } else if (name_is(e.name, "proxy-revalidate")) {
            d.proxy_revalidate = true;
        } else if (name_is(e.name, "immutable")) {
            d.immutable = true;
        } else if (name_is(e.name, "max-age")) {
            // RFC 9111 §4.2.1: "When there is more than one value present for a given directive
            // (e.g., two Expires header field lines or multiple Cache-Control: max-age
            // directives), either the first occurrence should be used or the response should be
            // considered stale." Stale: an origin that says two things gets the cautious one.
            d.max_age = max_age_seen ? std::optional<std::int64_t>(0) : delta_seconds(e);
            max_age_seen = true;
        } else if (name_is(e.name, "s-maxage")) {
            if (!d.s_maxage) {
                d.s_maxage = delta_seconds(e);
            }
        } else if (name_is(e.name, "stale-while-revalidate")) {
            if (!d.stale_while_revalidate) {
                d.stale_while_revalidate = delta_seconds(e);
            }
        } else if (name_is(e.name, "stale-if-error")) {
            if (!d.stale_if_error) {
                d.stale_if_error = delta_seconds(e);
            }
        }
        // RFC 9111 §5.2.3: "A cache MUST ignore unrecognized cache directives."
    }
    return d;
}

std::optional<std::int64_t> parse_age(std::string_view value) {
    // RFC 9110 §5.5: a field value excludes its leading and trailing whitespace; a caller may
    // pass it untrimmed.
    while (!value.empty() && is_ows(value.front())) {
        value.remove_prefix(1);
    }
    while (!value.empty() && is_ows(value.back())) {
        value.remove_suffix(1);
    }
    // RFC 9111 §5.1: "The Age field value is a non-negative integer, representing time in
    // seconds"; anything else is invalid and the age is unknown to the caller.
    return delta_seconds(value, false);
}

freshness shared_cache_freshness(int status, const cache_directives& d, std::int64_t age_s,
                                 const freshness_defaults& defaults) {
    freshness f;
    // RFC 9111 §3: a cache MUST NOT store a response unless "the no-store cache directive is
    // not present in the response" and "if the cache is shared: the private response directive
    // is either not present or allows a shared cache to store a modified response".
    if (d.no_store || d.private_ || !cacheable_status(status)) {
        return f;
    }
    std::int64_t lifetime = 0;
    // RFC 9111 §4.2.1: "If the cache is shared and the s-maxage response directive is present,
    // use its value, or if the max-age response directive is present, use its value".
    if (d.s_maxage) {
        lifetime = *d.s_maxage;
    } else if (d.max_age) {
        lifetime = *d.max_age;
    } else if (d.no_cache) {
        lifetime = 0; // nothing to guess: it is never fresh anyway
    } else if (status == 404 || status == 410) {
        // The one heuristic lifetime (RFC 9111 §4.2.2 allows one for these statuses): a short,
        // configured one for a missing resource.
        lifetime = defaults.negative_ttl_s;
    } else {
        // No heuristic freshness for the rest: a live playlist without max-age changes with
        // every segment, and a guessed lifetime would freeze it for every viewer of the edge.
        return f;
    }
    lifetime = non_negative(lifetime);
    const std::int64_t age = non_negative(age_s);
    f.storable = true;
    // RFC 9111 §5.2.2.4: no-cache "indicates that the response MUST NOT be used to satisfy any
    // other request without forwarding it for validation and receiving a successful response".
    // Both are >= 0, so the subtraction cannot overflow.
    f.fresh_for_s = d.no_cache ? 0 : non_negative(lifetime - age);
    // RFC 9111 §4.2.4: "A cache MUST NOT generate a stale response if it is prohibited by an
    // explicit in-protocol directive (e.g., by a no-cache response directive, a must-revalidate
    // response directive, or an applicable s-maxage or proxy-revalidate response directive".
    if (d.no_cache || d.must_revalidate || d.proxy_revalidate) {
        return f;
    }
    // s-maxage "incorporates the semantics of the proxy-revalidate response directive" for a
    // shared cache (RFC 9111 §5.2.2.10), so the edge's own stale-if-error default does not
    // apply to it. An explicit RFC 5861 directive next to s-maxage is the origin granting stale
    // use after all (`s-maxage=60, stale-while-revalidate=30` is the usual CDN idiom), and is
    // honoured.
    const std::int64_t swr = non_negative(d.stale_while_revalidate.value_or(0));
    const std::int64_t sie = d.stale_if_error ? non_negative(*d.stale_if_error)
                             : d.s_maxage     ? 0
                                              : non_negative(defaults.stale_if_error_s);
    // RFC 5861 §3: caches may serve the response "after it becomes stale, up to the indicated
    // number of seconds": a response that arrives already stale has that much less left.
    const std::int64_t stale_already = non_negative(age - lifetime);
    f.stale_while_revalidate_s = non_negative(swr - stale_already);
    f.stale_if_error_s = non_negative(sie - stale_already);
    return f;
}

} // namespace livehouse::codec::http
