#include "core/util/url.hpp"

#include "core/util/strings.hpp"

namespace va {

namespace {

struct Parts {
    std::string scheme, userinfo, host, port, rest;  // host without brackets; rest: path, query and fragment
    bool bracketed = false;
};

Result<Parts> split_url(std::string_view url) {
    Parts p;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) return make_error(ErrorCode::invalid_request, "must be an http:// or https:// URL");
    p.scheme = to_lower(std::string(url.substr(0, sep)));
    if (p.scheme != "http" && p.scheme != "https")
        return make_error(ErrorCode::invalid_request, "must be an http:// or https:// URL");
    std::string_view after = url.substr(sep + 3);
    auto end = after.find_first_of("/?#");
    std::string_view authority = after.substr(0, end);
    p.rest = end == std::string_view::npos ? "" : std::string(after.substr(end));
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        p.userinfo = std::string(authority.substr(0, at));
        authority = authority.substr(at + 1);
    }
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return make_error(ErrorCode::invalid_request, "has an unclosed [ in its host");
        p.host = std::string(authority.substr(1, close - 1));
        p.bracketed = true;
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return make_error(ErrorCode::invalid_request, "has a malformed host");
            port = authority.substr(close + 2);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        p.host = std::string(authority.substr(0, colon));
        port = authority.substr(colon + 1);
    } else {
        p.host = std::string(authority);
    }
    p.host = to_lower(p.host);
    while (!p.host.empty() && p.host.back() == '.') p.host.pop_back();
    if (p.host.empty()) return make_error(ErrorCode::invalid_request, "has no host");
    if (port.find_first_not_of("0123456789") != std::string_view::npos)
        return make_error(ErrorCode::invalid_request, "has a port that is not a number");
    p.port = std::string(port);
    while (p.port.size() > 1 && p.port.front() == '0') p.port.erase(0, 1);
    return p;
}

}  // namespace

Result<std::string> normalize_base_url(std::string_view url) {
    auto parts = split_url(url);
    if (!parts) return parts.take_error();
    Parts& p = *parts;
    if (!p.userinfo.empty()) return make_error(ErrorCode::invalid_request, "must not carry credentials (user@)");
    if (p.rest.find_first_of("?#") != std::string::npos)
        return make_error(ErrorCode::invalid_request, "must not have a query or a fragment");
    if (url.find_first_of(" \t\r\n") != std::string_view::npos)
        return make_error(ErrorCode::invalid_request, "must not contain white space");
    if ((p.scheme == "http" && p.port == "80") || (p.scheme == "https" && p.port == "443")) p.port.clear();
    while (!p.rest.empty() && p.rest.back() == '/') p.rest.pop_back();
    std::string out = p.scheme + "://" + (p.bracketed ? "[" + p.host + "]" : p.host);
    if (!p.port.empty()) out += ":" + p.port;
    return out + p.rest;
}

std::string url_host(std::string_view url) {
    auto parts = split_url(url);
    return parts ? parts->host : std::string();
}

}  // namespace va
