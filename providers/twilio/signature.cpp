#include "providers/twilio/signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <map>
#include <set>

#include "core/util/encoding.hpp"

namespace va::twilio {

namespace {

std::string hmac_sha1(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha1(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         out, &n);
    return std::string(reinterpret_cast<const char*>(out), n);
}

// The URL with its scheme's default port written out, and without it: Twilio signs either, depending on which of
// its services sent the request.
std::vector<std::string> port_variants(std::string_view url) {
    std::vector<std::string> out{std::string(url)};
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return out;
    std::string_view scheme = url.substr(0, scheme_end);
    std::string default_port = (scheme == "https" || scheme == "wss") ? "443" : (scheme == "http" || scheme == "ws") ? "80" : "";
    if (default_port.empty()) return out;
    auto host_start = scheme_end + 3;
    auto host_end = url.find_first_of("/?#", host_start);
    if (host_end == std::string_view::npos) host_end = url.size();
    std::string_view authority = url.substr(host_start, host_end - host_start);
    auto colon = authority.rfind(':');
    bool has_port = colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos;
    std::string rebuilt(url.substr(0, host_start));
    if (has_port) {
        if (authority.substr(colon + 1) != default_port) return out;
        rebuilt += std::string(authority.substr(0, colon));
    } else {
        rebuilt += std::string(authority) + ":" + default_port;
    }
    rebuilt += std::string(url.substr(host_end));
    out.push_back(std::move(rebuilt));
    return out;
}

std::string query_value(std::string_view url, std::string_view name) {
    auto q = url.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view query = url.substr(q + 1);
    if (auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
    for (const auto& [k, v] : parse_form(query))
        if (k == name) return v;
    return {};
}

}  // namespace

std::string signature(std::string_view auth_token, std::string_view url, const Params& params) {
    // Names in byte order; a repeated name contributes each distinct value, sorted.
    std::map<std::string, std::set<std::string>> sorted;
    for (const auto& [k, v] : params) sorted[k].insert(v);
    std::string data(url);
    for (const auto& [k, values] : sorted)
        for (const auto& v : values) data += k + v;
    return base64_encode(hmac_sha1(auth_token, data));
}

bool verify_signature(std::string_view auth_token, std::string_view url, const Params& params, std::string_view body,
                      std::string_view signature_header) {
    if (signature_header.empty() || auth_token.empty()) return false;
    std::string body_hash = query_value(url, "bodySHA256");
    bool ok = false;
    for (const auto& candidate : port_variants(url)) {
        // JSON bodies: the URL alone is signed, and the body must hash to its bodySHA256.
        std::string expected = signature(auth_token, candidate, body_hash.empty() ? params : Params{});
        ok |= constant_time_equal(expected, signature_header);
    }
    if (ok && !body_hash.empty()) ok = constant_time_equal(hex_encode(sha256(body)), body_hash);
    return ok;
}

}  // namespace va::twilio
