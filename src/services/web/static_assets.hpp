// The web pages and their static files, loaded into memory once at start-up so a request never
// touches the disk: each is an immutable shared buffer with a content-hash ETag.
//
// What is loaded (the whitelist):
//   pages   <web_dir>/index.html, <web_dir>/watch.html
//   static  regular files directly in <web_dir>/static/ whose names match [A-Za-z0-9._-]+
//           (no leading dot) with a known extension (.js .mjs .css .html .svg .png .ico .json
//           .txt .map), plus hls.js from <web_dir>/../node_modules/hls.js/dist/hls.min.js
//           served as "hls.min.js".
// Limits: at most 256 static files, 16 MiB each; larger or extra files are skipped with a
// warning. Files added after start-up are not served until a restart.
#pragma once

#include "core/bytes.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace livehouse::services::web {

struct static_asset {
    core::shared_bytes data;
    std::string etag;         ///< quoted content hash
    std::string content_type; ///< with charset for text types
};

class static_assets {
  public:
    static constexpr std::size_t max_files = 256;
    static constexpr std::size_t max_file_bytes = 16UL * 1024 * 1024;

    /// Loads everything listed above from `web_dir` (blocking; start-up only). Missing files
    /// are logged, not fatal: the server still runs its API and origin without pages.
    static static_assets load(const std::string& web_dir);

    /// A page ("index.html", "watch.html") or nullptr.
    [[nodiscard]] const static_asset* page(std::string_view name) const;
    /// A file under /static/ or nullptr.
    [[nodiscard]] const static_asset* file(std::string_view name) const;
    [[nodiscard]] std::size_t file_count() const { return files_.size(); }

    /// Adds an asset from memory (tests, and load()).
    void add_page(std::string name, std::string content);
    void add_file(std::string name, std::string content);

  private:
    std::map<std::string, static_asset, std::less<>> pages_;
    std::map<std::string, static_asset, std::less<>> files_;
};

/// The Content-Type for a file name's extension, or an empty view when it is not whitelisted.
[[nodiscard]] std::string_view content_type_for(std::string_view name);
/// True for names the /static/ route may serve: [A-Za-z0-9._-]{1,128}, no leading dot, a
/// whitelisted extension.
[[nodiscard]] bool is_valid_static_name(std::string_view name);

} // namespace livehouse::services::web
