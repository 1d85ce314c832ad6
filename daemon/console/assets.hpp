// The web console's files, embedded in the binary at build time (tools/embed_assets.cpp writes their table from
// web/console/** and Debian's Chart.js): each with its URL path, content type, bytes, gzip bytes and ETag.
// Thread-safety: immutable data, safe from any thread.
#pragma once

#include <span>
#include <string_view>

namespace va::console {

struct Asset {
    std::string_view path;          // "/index.html", "/js/pages/agents.js", "/vendor/chart.min.js"
    std::string_view content_type;  // "text/javascript; charset=utf-8"
    std::string_view bytes;
    std::string_view gzip;          // the bytes gzip-compressed; empty when that would not be smaller
    std::string_view etag;          // a strong validator, quoted: "\"3f2a...\""
};

// Every embedded asset, in build order.
std::span<const Asset> assets();

}  // namespace va::console
