#include "services/web/static_assets.hpp"

#include "services/origin/file_reader.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fmt/format.h>
#include <optional>
#include <spdlog/spdlog.h>
#include <utility>

namespace livehouse::services::web {

namespace {

struct type_entry {
    std::string_view extension;
    std::string_view content_type;
};

constexpr std::array<type_entry, 11> types{{
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".html", "text/html; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
}};

/// FNV-1a, 64 bits: a content hash for ETags (not a security boundary).
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

static_asset make_asset(std::string_view name, std::string content) {
    static_asset a;
    a.etag = fmt::format("\"{:016x}-{:x}\"", fnv1a(content), content.size());
    a.content_type = std::string(content_type_for(name));
    a.data = core::make_shared_bytes(std::move(content));
    return a;
}

std::optional<std::string> read_whole(const std::string& path) {
    auto f = origin::read_file(path, static_assets::max_file_bytes);
    if (f.status != origin::read_status::ok) {
        spdlog::warn("web: not serving {}: {}", path, f.error);
        return std::nullopt;
    }
    return *f.data;
}

} // namespace

std::string_view content_type_for(std::string_view name) {
    for (const auto& t : types) {
        if (name.size() > t.extension.size() && name.ends_with(t.extension)) {
            return t.content_type;
        }
    }
    return {};
}

bool is_valid_static_name(std::string_view name) {
    if (name.empty() || name.size() > 128 || name.front() == '.') {
        return false;
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return !content_type_for(name).empty();
}

static_assets static_assets::load(const std::string& web_dir) {
    namespace fs = std::filesystem;
    static_assets assets;
    if (web_dir.empty()) {
        spdlog::warn("web: no web directory configured; pages are not served");
        return assets;
    }
    for (const char* page : {"index.html", "watch.html"}) {
        if (auto content = read_whole(web_dir + "/" + page)) {
            assets.add_page(page, std::move(*content));
        }
    }
    std::error_code ec;
    const fs::path static_dir = fs::path(web_dir) / "static";
    for (fs::directory_iterator it(static_dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (!it->is_regular_file(ec) || !is_valid_static_name(name)) {
            continue;
        }
        if (assets.files_.size() >= max_files) {
            spdlog::warn("web: more than {} static files; skipping {}", max_files, name);
            continue;
        }
        if (auto content = read_whole(it->path().string())) {
            assets.add_file(name, std::move(*content));
        }
    }
    if (ec) {
        spdlog::warn("web: cannot list {}: {}", static_dir.string(), ec.message());
    }
    // hls.js comes from npm (package.json at the repository root), not from web/static/.
    const auto hls = (fs::path(web_dir) / ".." / "node_modules" / "hls.js" / "dist" / "hls.min.js")
                         .lexically_normal()
                         .string();
    if (auto content = read_whole(hls)) {
        assets.add_file("hls.min.js", std::move(*content));
    } else {
        spdlog::warn("web: hls.js missing; run `npm ci` in the repository root");
    }
    spdlog::info("web: {} pages and {} static files from {}", assets.pages_.size(),
                 assets.files_.size(), web_dir);
    return assets;
}

const static_asset* static_assets::page(std::string_view name) const {
    const auto it = pages_.find(name);
    return it == pages_.end() ? nullptr : &it->second;
}

const static_asset* static_assets::file(std::string_view name) const {
    const auto it = files_.find(name);
    return it == files_.end() ? nullptr : &it->second;
}

void static_assets::add_page(std::string name, std::string content) {
    auto asset = make_asset(name, std::move(content));
    pages_.insert_or_assign(std::move(name), std::move(asset));
}

void static_assets::add_file(std::string name, std::string content) {
    auto asset = make_asset(name, std::move(content));
    files_.insert_or_assign(std::move(name), std::move(asset));
}

} // namespace livehouse::services::web
