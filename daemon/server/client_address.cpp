#include "daemon/server/client_address.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>

#include "core/util/strings.hpp"

namespace va::http {

namespace {

namespace ip = boost::asio::ip;

// The value of parameter `name` (lower case) in one Forwarded element ("for=1.2.3.4;proto=https"), names compared
// without case; the last one when it repeats, nullopt when it is absent or empty.
std::optional<std::string_view> forwarded_param(std::string_view element, std::string_view name) {
    std::optional<std::string_view> found;
    while (!element.empty()) {
        auto semi = element.find(';');
        std::string_view pair = trim_blanks(element.substr(0, semi));
        element = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
        auto eq = pair.find('=');
        if (eq == name.size() && eq + 1 < pair.size() && to_lower(pair.substr(0, eq)) == name)
            found = trim_blanks(pair.substr(eq + 1));
    }
    return found;
}

// An address as text; IPv4-mapped IPv6 becomes the IPv4 address it carries.
std::optional<ip::address> parse_address(std::string_view text) {
    boost::system::error_code ec;
    auto a = ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::address(ip::make_address_v4(ip::v4_mapped, a.to_v6()));
    return a;
}

std::array<std::uint8_t, 16> bytes_of(const ip::address& a) {
    if (a.is_v6()) return a.to_v6().to_bytes();
    return ip::make_address_v6(ip::v4_mapped, a.to_v4()).to_bytes();
}

// One hop as a proxy writes it: "1.2.3.4", "1.2.3.4:80", "::1", "[::1]", "[::1]:80", optionally in quotes
// (Forwarded). nullopt for "unknown", obfuscated identifiers and garbage.
std::optional<ip::address> parse_hop(std::string_view hop) {
    hop = trim_blanks(hop);
    if (hop.size() >= 2 && hop.front() == '"' && hop.back() == '"') hop = hop.substr(1, hop.size() - 2);
    if (!hop.empty() && hop.front() == '[') {
        auto close = hop.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        return parse_address(hop.substr(1, close - 1));
    }
    if (std::count(hop.begin(), hop.end(), ':') == 1) hop = hop.substr(0, hop.find(':'));  // IPv4 with a port
    return parse_address(hop);
}

// The hops, left (client side) to right (nearest proxy), from Forwarded's for= parameters when any Forwarded
// header is present, else from X-Forwarded-For. Every header of the name counts, in order.
std::vector<std::string> hops_of(const std::vector<std::pair<std::string, std::string>>& headers) {
    std::vector<std::string> hops;
    bool forwarded = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "forwarded"; });
    for (const auto& [name, value] : headers) {
        if (forwarded && name == "forwarded") {
            std::string_view rest = value;
            while (!rest.empty()) {  // elements split by ',', parameters by ';'
                auto comma = rest.find(',');
                std::string_view element = rest.substr(0, comma);
                rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
                // An element without for= is a hop we cannot name.
                hops.emplace_back(forwarded_param(element, "for").value_or("unknown"));
            }
        } else if (!forwarded && name == "x-forwarded-for") {
            std::string_view rest = value;
            while (!rest.empty()) {
                auto comma = rest.find(',');
                hops.emplace_back(trim_blanks(rest.substr(0, comma)));
                rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            }
        }
    }
    return hops;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::parse(const std::string& text) {
    TrustedProxies out;
    std::string_view rest = text;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view entry = trim_blanks(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (entry.empty()) continue;
        auto slash = entry.find('/');
        auto address = parse_address(entry.substr(0, slash));
        if (!address) return invalid_field("server.trusted_proxies", "\"" + std::string(entry) + "\" is not an IP address or CIDR block");
        int max = address->is_v4() ? 32 : 128, prefix = max;
        if (slash != std::string_view::npos) {
            auto bits = entry.substr(slash + 1);
            auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
            if (ec != std::errc() || end != bits.data() + bits.size() || prefix < 0 || prefix > max)
                return invalid_field("server.trusted_proxies", "\"" + std::string(entry) + "\" has a bad prefix length");
        }
        Block block;
        block.base = bytes_of(*address);
        block.prefix = address->is_v4() ? prefix + 96 : prefix;
        out.m_blocks.push_back(block);
    }
    return out;
}

bool TrustedProxies::contains(std::string_view address) const {
    if (m_blocks.empty()) return false;
    auto parsed = parse_address(address);
    if (!parsed) return false;
    auto bytes = bytes_of(*parsed);
    return std::any_of(m_blocks.begin(), m_blocks.end(), [&bytes](const Block& b) {
        int full = b.prefix / 8, rest = b.prefix % 8;
        if (!std::equal(b.base.begin(), b.base.begin() + full, bytes.begin())) return false;
        if (rest == 0) return true;
        auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
        return (b.base[full] & mask) == (bytes[full] & mask);
    });
}

std::string client_address(const std::string& peer, const std::vector<std::pair<std::string, std::string>>& headers,
                           const TrustedProxies& trusted) {
    if (!trusted.contains(peer)) return peer;
    std::string client = peer;
    auto hops = hops_of(headers);
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        auto hop = parse_hop(*it);
        if (!hop) break;
        client = hop->to_string();
        if (!trusted.contains(client)) break;
    }
    return client;
}

bool forwarded_https(const std::string& peer, const std::vector<std::pair<std::string, std::string>>& headers,
                     const TrustedProxies& trusted) {
    if (!trusted.contains(peer)) return false;
    // The nearest value is the one our trusted proxy wrote; what a client put further left is not believed.
    bool forwarded = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "forwarded"; });
    std::string last;
    for (const auto& [name, value] : headers) {
        std::string_view rest = value;
        if (forwarded && name == "forwarded") {
            auto comma = rest.rfind(',');
            std::string_view element = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
            last = std::string(forwarded_param(element, "proto").value_or(""));
        } else if (!forwarded && name == "x-forwarded-proto") {
            auto comma = rest.rfind(',');
            last = std::string(trim_blanks(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
        }
    }
    if (last.size() >= 2 && last.front() == '"' && last.back() == '"') last = last.substr(1, last.size() - 2);
    return to_lower(last) == "https";
}

bool is_loopback_address(std::string_view address) {
    auto parsed = parse_address(address);
    return parsed && parsed->is_loopback();
}

}  // namespace va::http
