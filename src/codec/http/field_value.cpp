// HTTP field syntax helpers (see field_value.hpp).
#include "codec/http/field_value.hpp"

#include <algorithm>

namespace livehouse::codec::http {

bool iequals(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<std::string_view> list_elements(std::string_view value) {
    std::vector<std::string_view> out;
    for_each_element(value, [&](std::string_view e) {
        out.push_back(e);
        return true;
    });
    return out;
}

bool lists_token(std::string_view value, std::string_view token) {
    return !for_each_element(value, [&](std::string_view e) { return !iequals(e, token); });
}

} // namespace livehouse::codec::http
