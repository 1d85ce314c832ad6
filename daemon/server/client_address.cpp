#include "daemon/server/client_address.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>

namespace va::http {

namespace {

namespace ip = boost::asio::ip;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
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
    hop = trim(hop);
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
                std::string found = "unknown";  // an element without for= is a hop we cannot name
                while (!element.empty()) {
                    auto semi = element.find(';');
                    std::string_view pair = trim(element.substr(0, semi));
                    element = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
                    if (pair.size() > 4 && (pair[0] | 0x20) == 'f' && (pair[1] | 0x20) == 'o' && (pair[2] | 0x20) == 'r' &&
                        pair[3] == '=')
                        found = std::string(pair.substr(4));
                }
                hops.push_back(found);
            }
        } else if (!forwarded && name == "x-forwarded-for") {
            std::string_view rest = value;
            while (!rest.empty()) {
                auto comma = rest.find(',');
                hops.emplace_back(trim(rest.substr(0, comma)));
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
        std::string_view entry = trim(rest.substr(0, comma));
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
            last.clear();
            while (!element.empty()) {
                auto semi = element.find(';');
                std::string_view pair = trim(element.substr(0, semi));
                element = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
                if (pair.size() > 6 && (pair[0] | 0x20) == 'p' && (pair[1] | 0x20) == 'r' && (pair[2] | 0x20) == 'o' &&
                    (pair[3] | 0x20) == 't' && (pair[4] | 0x20) == 'o' && pair[5] == '=')
                    last = std::string(trim(pair.substr(6)));
            }
        } else if (!forwarded && name == "x-forwarded-proto") {
            auto comma = rest.rfind(',');
            last = std::string(trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
        }
    }
    if (last.size() >= 2 && last.front() == '"' && last.back() == '"') last = last.substr(1, last.size() - 2);
    for (auto& c : last) c = static_cast<char>(c | 0x20);
    return last == "https";
}

bool is_loopback_address(std::string_view address) {
    auto parsed = parse_address(address);
    return parsed && parsed->is_loopback();
}

}  // namespace va::http
