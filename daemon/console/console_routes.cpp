#include "daemon/console/console_routes.hpp"

#include <optional>
#include <string>

#include "core/util/strings.hpp"

namespace va::console {

namespace {

// The ETag of the gzip representation: a strong validator must differ between encodings of the same file.
std::string gzip_etag(std::string_view etag) {
    std::string out(etag.substr(0, etag.size() - 1));
    return out + "-gz\"";
}

}  // namespace

std::string_view content_security_policy() {
    return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}

bool accepts_gzip(std::string_view accept_encoding) {
    std::optional<bool> gzip;  // what the client said of gzip by name
    bool any = false;          // what it said of "*"
    while (!accept_encoding.empty()) {
        auto comma = accept_encoding.find(',');
        auto item = trim_blanks(accept_encoding.substr(0, comma));
        accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
        auto semi = item.find(';');
        std::string name = to_lower(trim_blanks(item.substr(0, semi)));
        bool allowed = true;
        if (semi != std::string_view::npos) {
            std::string params = to_lower(trim_blanks(item.substr(semi + 1)));
            auto eq = params.find('=');
            // q=0, q=0.0, q=0.000: refused; any other weight is some preference.
            if (eq != std::string::npos && trim_blanks(std::string_view(params).substr(0, eq)) == "q")
                allowed = trim_blanks(std::string_view(params).substr(eq + 1)).find_first_not_of("0.") != std::string_view::npos;
        }
        if (name == "gzip" || name == "x-gzip") gzip = allowed;
        else if (name == "*") any = allowed;
    }
    return gzip.value_or(any);
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    auto opaque = [](std::string_view tag) {
        tag = trim_blanks(tag);
        if (tag.size() > 2 && tag.substr(0, 2) == "W/") tag.remove_prefix(2);
        return tag;
    };
    while (!if_none_match.empty()) {
        auto comma = if_none_match.find(',');
        auto item = opaque(if_none_match.substr(0, comma));
        if (item == "*" || (!item.empty() && item == etag)) return true;
        if (comma == std::string_view::npos) break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

http::Response serve_asset(const Asset& asset, const http::Request& request) {
    http::Response r;
    bool gzip = !asset.gzip.empty() && accepts_gzip(request.header("accept-encoding"));
    std::string gzip_tag = gzip_etag(asset.etag);
    std::string etag = gzip ? gzip_tag : std::string(asset.etag);
    r.set_header("ETag", etag);
    r.set_header("Cache-Control", "no-cache");
    r.set_header("Content-Security-Policy", std::string(content_security_policy()));
    if (!asset.gzip.empty()) r.set_header("Vary", "Accept-Encoding");
    // Either representation the client holds is still this file's current content.
    auto if_none_match = request.header("if-none-match");
    if (!if_none_match.empty() &&
        (etag_matches(if_none_match, asset.etag) || etag_matches(if_none_match, gzip_tag))) {
        r.status = 304;
        r.content_type.clear();
        return r;
    }
    r.content_type = std::string(asset.content_type);
    if (gzip) {
        r.set_header("Content-Encoding", "gzip");
        r.body = std::string(asset.gzip);
    } else {
        r.body = std::string(asset.bytes);
    }
    return r;
}

const Asset* find_asset(std::string_view path) {
    for (const auto& asset : assets())
        if (asset.path == path) return &asset;
    return nullptr;
}

void register_console_routes(http::Router& router) {
    http::RouteOptions options;
    options.public_route = true;
    options.hidden = true;
    for (const auto& asset : assets()) {
        const Asset* a = &asset;
        auto handler = [a](http::Request& request) { return serve_asset(*a, request); };
        for (const char* method : {"GET", "HEAD"}) {
            router.add(method, std::string(asset.path), handler, options);
            if (asset.path == "/index.html") router.add(method, "/", handler, options);
        }
    }
}

}  // namespace va::console
