// Shared test support: a private temporary directory for tests that touch the file system.
// Every unit-test executable links livehouse_test_support (tests/CMakeLists.txt), so the layers'
// tests use this one class instead of each keeping its own copy.
#pragma once

#include <cerrno>
#include <cstdlib> // mkdtemp
#include <filesystem>
#include <string>
#include <system_error>

namespace livehouse::test {

/// A fresh, uniquely named directory under the system temp dir (mkdtemp), removed with
/// everything in it on destruction. Throws if the directory cannot be created.
class temp_dir {
  public:
    temp_dir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "livehouse-test-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            const int err = errno;
            throw std::system_error(err, std::generic_category(), "mkdtemp " + tmpl);
        }
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::string str() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

} // namespace livehouse::test
