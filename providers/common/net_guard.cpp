#include "providers/common/net_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>

namespace va {

std::optional<IpBytes> parse_ip(const std::string& text) {
    IpBytes out{};
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return out;
    }
    std::string t = text;
    if (t.size() > 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, t.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        return out;
    }
    return std::nullopt;
}

namespace {

bool is_v4(const IpBytes& a) {
    for (int i = 0; i < 10; ++i)
        if (a[i]) return false;
    return a[10] == 0xff && a[11] == 0xff;
}

bool in_block(const IpBytes& a, const IpBytes& base, int prefix) {
    for (int bit = 0; bit < prefix; ++bit) {
        int byte = bit / 8, shift = 7 - bit % 8;
        if (((a[byte] >> shift) & 1) != ((base[byte] >> shift) & 1)) return false;
    }
    return true;
}

bool in_v4(const IpBytes& a, std::uint8_t b0, std::uint8_t b1, std::uint8_t b2, int prefix) {
    IpBytes base{};
    base[10] = base[11] = 0xff;
    base[12] = b0;
    base[13] = b1;
    base[14] = b2;
    return in_block(a, base, 96 + prefix);
}

// An IPv6 block from its first bytes ("64:ff9b:1::/48" is {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48).
bool in_v6(const IpBytes& a, std::initializer_list<std::uint8_t> head, int prefix) {
    IpBytes base{};
    std::copy(head.begin(), head.end(), base.begin());
    return in_block(a, base, prefix);
}

// IANA's IPv4 Special-Purpose Address Registry (RFC 6890 and later), plus multicast and the reserved 240/4: every
// block that is not an ordinary public destination. Checked in order, so the more specific names come first.
std::string v4_kind(const IpBytes& a) {
    struct Range {
        std::uint8_t b0, b1, b2;
        int prefix;
        const char* kind;
    };
    static const Range ranges[] = {
        {0, 0, 0, 8, "unspecified"},                     // "this network"
        {10, 0, 0, 8, "private"},
        {100, 64, 0, 10, "carrier-grade NAT"},
        {127, 0, 0, 8, "loopback"},
        {169, 254, 169, 24, nullptr},                    // decided below: 169.254.169.254 is the metadata service
        {169, 254, 0, 16, "link-local"},
        {172, 16, 0, 12, "private"},
        {192, 0, 0, 24, "IETF protocol assignment"},     // DS-Lite, NAT64 discovery, PCP anycast...
        {192, 0, 2, 24, "documentation"},
        {192, 31, 196, 24, "reserved"},                  // AS112-v4
        {192, 52, 193, 24, "reserved"},                  // AMT
        {192, 88, 99, 24, "6to4"},                       // the deprecated 6to4 relay anycast
        {192, 168, 0, 16, "private"},
        {192, 175, 48, 24, "reserved"},                  // direct delegation AS112
        {198, 18, 0, 15, "benchmarking"},
        {198, 51, 100, 24, "documentation"},
        {203, 0, 113, 24, "documentation"},
        {224, 0, 0, 4, "multicast"},
        {240, 0, 0, 4, "reserved"},                      // includes the limited broadcast 255.255.255.255
    };
    for (const auto& r : ranges) {
        if (!in_v4(a, r.b0, r.b1, r.b2, r.prefix)) continue;
        if (!r.kind) {
            if (a[15] == 254) return "cloud metadata";
            continue;
        }
        if (r.prefix == 4 && r.b0 == 240 && a[12] == 255 && a[13] == 255 && a[14] == 255 && a[15] == 255) return "broadcast";
        return r.kind;
    }
    return "";
}

// IPv6: only global unicast (2000::/3) can be public; inside it, IANA's special-purpose blocks are refused too.
// Forms that carry an IPv4 address inside (IPv4-compatible, SIIT, NAT64, 6to4, Teredo) are refused outright rather
// than judged by the embedded address: a gateway on the path would turn them into that IPv4 address, and naming
// each gateway's behaviour is not worth the risk.
std::string v6_kind(const IpBytes& a) {
    IpBytes loopback{};
    loopback[15] = 1;
    if (a == loopback) return "loopback";
    if (a == IpBytes{}) return "unspecified";
    if (in_v6(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 96)) return "IPv4-compatible";          // ::a.b.c.d
    if (in_v6(a, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96)) return "IPv4-translated";  // ::ffff:0:a.b.c.d
    if (in_v6(a, {0x00, 0x64, 0xff, 0x9b}, 32)) return "NAT64";                              // 64:ff9b::/96, 64:ff9b:1::/48
    if (in_v6(a, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64)) return "discard-only";                 // 100::/64
    if ((a[0] & 0xfe) == 0xfc) return "private";                   // fc00::/7 unique local (AWS metadata fd00:ec2::254 too)
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";  // fe80::/10
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "site-local";  // fec0::/10, deprecated
    if (a[0] == 0xff) return "multicast";
    if ((a[0] & 0xe0) != 0x20) return "reserved";                  // outside 2000::/3
    if (in_v6(a, {0x20, 0x01, 0x0d, 0xb8}, 32)) return "documentation";
    if (in_v6(a, {0x20, 0x01, 0x00, 0x00}, 32)) return "Teredo";
    if (in_v6(a, {0x20, 0x01, 0x00, 0x10}, 28) || in_v6(a, {0x20, 0x01, 0x00, 0x20}, 28)) return "ORCHID";
    if (in_v6(a, {0x20, 0x01, 0x00, 0x02, 0, 0}, 48)) return "benchmarking";
    if (in_v6(a, {0x20, 0x01, 0x00, 0x00}, 23)) return "IETF protocol assignment";          // 2001::/23, the rest
    if (in_v6(a, {0x20, 0x02}, 16)) return "6to4";
    if (in_v6(a, {0x26, 0x20, 0x00, 0x4f, 0x80, 0x00}, 48)) return "reserved";              // direct delegation AS112
    if (in_v6(a, {0x3f, 0xff}, 20)) return "documentation";                                 // 3fff::/20 (RFC 9637)
    return "";
}

}  // namespace

std::string format_ip(const IpBytes& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_v4(a)) inet_ntop(AF_INET, a.data() + 12, buf, sizeof buf);
    else inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
    return buf;
}

std::string internal_address_kind(const IpBytes& a) { return is_v4(a) ? v4_kind(a) : v6_kind(a); }

Result<NetworkAllowlist> NetworkAllowlist::parse(const std::string& text) {
    NetworkAllowlist list;
    std::size_t at = 0;
    while (at <= text.size()) {
        auto comma = text.find(',', at);
        std::string entry = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        at = comma == std::string::npos ? text.size() + 1 : comma + 1;
        while (!entry.empty() && entry.front() == ' ') entry.erase(0, 1);
        while (!entry.empty() && entry.back() == ' ') entry.pop_back();
        if (entry.empty()) continue;
        Block b;
        std::string address = entry;
        int prefix = -1;
        if (auto slash = entry.find('/'); slash != std::string::npos) {
            address = entry.substr(0, slash);
            try {
                prefix = std::stoi(entry.substr(slash + 1));
            } catch (...) {
                return invalid_field("tools.allowed_networks", "\"" + entry + "\" has a bad prefix length");
            }
        }
        auto ip = parse_ip(address);
        if (!ip) return invalid_field("tools.allowed_networks", "\"" + entry + "\" is not an address or CIDR block");
        int max = is_v4(*ip) ? 32 : 128;
        if (prefix < 0) prefix = max;
        if (prefix > max) return invalid_field("tools.allowed_networks", "\"" + entry + "\" has a bad prefix length");
        b.base = *ip;
        b.prefix = is_v4(*ip) ? prefix + 96 : prefix;
        list.m_blocks.push_back(b);
    }
    return list;
}

bool NetworkAllowlist::contains(const IpBytes& address) const {
    for (const auto& b : m_blocks)
        if (in_block(address, b.base, b.prefix)) return true;
    return false;
}

Result<std::vector<std::string>> resolve_public(const std::string& host, const std::string& port,
                                                const NetworkAllowlist& allowed) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0) return make_error(ErrorCode::unavailable, "cannot resolve " + host + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, freeaddrinfo);
    std::vector<std::string> out;
    for (auto* ai = found; ai; ai = ai->ai_next) {
        IpBytes a{};
        if (ai->ai_family == AF_INET) {
            a[10] = a[11] = 0xff;
            std::memcpy(a.data() + 12, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            std::memcpy(a.data(), &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        // IPv4-mapped IPv6 is checked as the IPv4 address it is.
        std::string kind = internal_address_kind(a);
        if (!kind.empty() && !allowed.contains(a))
            // The address itself stays out of the message: the caller (an agent's author) must not learn what
            // a name resolves to inside the daemon's network.
            return make_error(ErrorCode::forbidden, host + " resolves to a refused address (" + kind +
                                                        "; allow it in tools.allowed_networks)");
        std::string text = format_ip(a);
        if (!is_v4(a)) text = "[" + text + "]";
        if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(text);
    }
    if (out.empty()) return make_error(ErrorCode::unavailable, "cannot resolve " + host + ": no addresses");
    return out;
}

Result<std::pair<std::string, std::string>> split_host_port(const std::string& hostport, const std::string& default_port) {
    std::string host = hostport, port = default_port;
    if (!hostport.empty() && hostport.front() == '[') {
        auto close = hostport.find(']');
        if (close == std::string::npos) return make_error(ErrorCode::invalid_request, "unclosed [ in the host");
        host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size() && hostport[close + 1] == ':') port = hostport.substr(close + 2);
    } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    if (host.empty() || port.empty()) return make_error(ErrorCode::invalid_request, "no host and port in the URL");
    return std::make_pair(host, port);
}

Result<CheckedUrl> check_http_url(const std::string& url, const NetworkAllowlist& allowed) {
    std::size_t scheme_end = url.rfind("http://", 0) == 0 ? 7 : url.rfind("https://", 0) == 0 ? 8 : 0;
    if (!scheme_end) return make_error(ErrorCode::invalid_request, "the URL must be http:// or https://");
    // Characters that URL parsers disagree about (curl's and ours) could make the checked host differ from the
    // one connected to.
    for (unsigned char c : url)
        if (c <= 0x20 || c == '\\' || c == 0x7f)
            return make_error(ErrorCode::invalid_request, "the URL contains a space, a control character or a backslash");
    std::string hostport = url.substr(scheme_end, url.find_first_of("/?#", scheme_end) - scheme_end);
    if (auto at = hostport.rfind('@'); at != std::string::npos) hostport = hostport.substr(at + 1);
    auto split = split_host_port(hostport, scheme_end == 8 ? "443" : "80");
    if (!split) return split.take_error();
    CheckedUrl out;
    out.host = split->first;
    out.port = split->second;
    if (out.port.find_first_not_of("0123456789") != std::string::npos)
        return make_error(ErrorCode::invalid_request, "the URL's port is not a number");
    auto addresses = resolve_public(out.host, out.port, allowed);
    if (!addresses) return addresses.take_error();
    if (parse_ip(out.host)) return out;  // a literal: nothing to resolve, so nothing to pin
    for (const auto& a : *addresses) out.resolve.push_back(out.host + ":" + out.port + ":" + a);
    return out;
}

}  // namespace va
