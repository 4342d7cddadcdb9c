#include "server/auth_secret.hpp"

#include "codec/jwt/hs256.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <openssl/rand.h>
#include <sstream>
#include <unistd.h>

namespace livehouse::server {

namespace {

core::result<std::string> read_secret(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return core::make_error(fmt::format("auth secret {}: cannot read", path));
    }
    std::stringstream text;
    text << in.rdbuf();
    auto s = text.str();
    constexpr std::string_view space = " \t\r\n";
    const auto first = s.find_first_not_of(space);
    s = first == std::string::npos ? std::string()
                                   : s.substr(first, s.find_last_not_of(space) - first + 1);
    if (s.size() < codec::jwt::min_secret_bytes) {
        return core::make_error(fmt::format("auth secret {}: shorter than {} bytes", path,
                                            codec::jwt::min_secret_bytes));
    }
    return s;
}

} // namespace

core::result<std::string> load_or_create_auth_secret(const std::string& data_dir, bool& generated) {
    generated = false;
    const auto path = data_dir + "/auth.secret";
    if (::access(path.c_str(), F_OK) == 0) {
        return read_secret(path);
    }
    std::array<unsigned char, 32> raw{};
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
        return core::make_error("auth secret: no randomness available");
    }
    std::string line;
    for (auto b : raw) {
        line += fmt::format("{:02x}", b);
    }
    line += '\n';
    // Written under a private name (O_EXCL, 0600: never readable by others, even for a moment),
    // then link(2)ed into place: link never replaces an existing file, so two nodes starting
    // on one data dir agree on whichever secret got there first.
    const auto tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::make_error(
            fmt::format("auth secret {}: cannot create: {}", tmp, std::strerror(errno)));
    }
    const auto written = ::write(fd, line.data(), line.size());
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (written != static_cast<ssize_t>(line.size()) || !synced) {
        ::unlink(tmp.c_str());
        return core::make_error(fmt::format("auth secret {}: write failed", tmp));
    }
    const int linked = ::link(tmp.c_str(), path.c_str());
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (linked != 0) {
        if (link_errno == EEXIST) {
            return read_secret(path);
        }
        return core::make_error(
            fmt::format("auth secret {}: cannot create: {}", path, std::strerror(link_errno)));
    }
    generated = true;
    line.pop_back();
    return line;
}

} // namespace livehouse::server
