// One HTTP/1.1 request, run to completion on the calling thread under one deadline: for what
// the load tester does outside the load itself (scraping the target's /metrics once a second,
// posting the webhook). Never on an event loop of the load. http:// only.
#pragma once

#include "core/result.hpp"

#include <chrono>
#include <string>

namespace livehouse::stress {

struct http_answer {
    int status = 0;
    std::string body;
};

/// `url` is http://host[:port][/path]. Bodies up to 16 MiB.
core::result<http_answer> http_once(const std::string& method, const std::string& url,
                                    const std::string& body, const std::string& content_type,
                                    std::chrono::milliseconds timeout);

} // namespace livehouse::stress
