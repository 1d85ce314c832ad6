// Guards outbound requests whose destination someone other than the operator chose (agents' HTTP tools, webhook
// endpoints): the host is resolved here, and every address it resolves to must be public unless the operator
// allowlisted it (tools.allowed_networks). Refused: every block of IANA's IPv4 and IPv6 special-purpose registries
// (loopback, private, link-local, cloud metadata, carrier-grade NAT, documentation, benchmarking, 192.0.0.0/24,
// multicast, 240/4 and broadcast), IPv6 outside 2000::/3, and every IPv6 form that embeds an IPv4 address
// (IPv4-compatible, SIIT, NAT64, 6to4, Teredo; IPv4-mapped IPv6 is judged as its IPv4 address). The request is then
// pinned to the checked addresses, so a second DNS answer cannot point it elsewhere (DNS rebinding); an IP literal
// is its own pin. Errors name the host and the kind of address, never the address a name resolved to.
// Thread-safety: NetworkAllowlist is immutable after parse(); the functions are safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/util/result.hpp"

namespace va {

// An IPv4 or IPv6 address as 16 bytes (IPv4 as IPv4-mapped IPv6).
using IpBytes = std::array<std::uint8_t, 16>;

class NetworkAllowlist {
public:
    // "10.0.0.0/8, 127.0.0.1, ::1": addresses or CIDR blocks, comma-separated; an error names the bad entry.
    static Result<NetworkAllowlist> parse(const std::string& text);
    bool contains(const IpBytes& address) const;

private:
    struct Block {
        IpBytes base{};
        int prefix = 128;
    };
    std::vector<Block> m_blocks;
};

std::optional<IpBytes> parse_ip(const std::string& text);
std::string format_ip(const IpBytes& address);
// Why `address` is not a public address ("loopback", "private", "link-local", "cloud metadata", ...), or empty.
std::string internal_address_kind(const IpBytes& address);

// Resolves `host` and checks every address; the addresses (as text) to pin the request to, or a forbidden error
// that names the host and the kind of address refused (not the address: it would tell an agent's author what a
// name resolves to inside the daemon's network).
Result<std::vector<std::string>> resolve_public(const std::string& host, const std::string& port,
                                                const NetworkAllowlist& allowed);

// "host", "host:port", "[v6]" or "[v6]:port" (a URL's authority, without user@) split; `default_port` when none.
// An error for an unclosed bracket, an empty host or port.
Result<std::pair<std::string, std::string>> split_host_port(const std::string& hostport, const std::string& default_port);

// An http:// or https:// URL whose host resolved to allowed addresses: what a request needs to be pinned to them.
struct CheckedUrl {
    std::string host, port;
    // "host:port:address" entries for HttpRequest::resolve; empty for an IP literal (curl does not resolve one, and
    // libcurl before 8.13 cannot parse an entry whose host is an IPv6 literal).
    std::vector<std::string> resolve;
};
// Parses `url` (http or https, an optional user@ and port) and checks its host as resolve_public does.
Result<CheckedUrl> check_http_url(const std::string& url, const NetworkAllowlist& allowed);

}  // namespace va
