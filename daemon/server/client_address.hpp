// Who the client is when reverse proxies stand between it and us: the one function every "client address" decision
// uses (login rate limits, the access log, loopback checks such as bootstrap's). X-Forwarded-For and Forwarded are
// believed only from server.trusted_proxies: a client talking to us directly could otherwise claim any address
// (and, behind a proxy that appends, walking the list from the right stops at the first hop no trusted proxy
// vouches for). Default: trust none, so the socket's peer address is the client.
// Thread-safety: TrustedProxies is immutable after parse(); the functions are pure and safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/result.hpp"

namespace va::http {

class TrustedProxies {
public:
    // "10.0.0.0/8, 127.0.0.1, ::1": addresses or CIDR blocks, comma-separated (empty: none); an error names the
    // bad entry.
    static Result<TrustedProxies> parse(const std::string& text);
    bool empty() const { return m_blocks.empty(); }
    // `address` as text (an IPv4-mapped IPv6 address counts as its IPv4 address).
    bool contains(std::string_view address) const;

private:
    struct Block {
        std::array<std::uint8_t, 16> base{};  // IPv4 as IPv4-mapped IPv6
        int prefix = 128;
    };
    std::vector<Block> m_blocks;
};

// The client's address: `peer` (the socket's), unless `peer` is a trusted proxy; then the Forwarded for= hops
// (or, when there is no Forwarded header, X-Forwarded-For's) walked from the right, skipping trusted proxies: the
// first hop that is not one. When every hop is trusted, the leftmost; an unparseable hop ("unknown", garbage)
// stops the walk at the last address believed. `headers` as http::Request has them (names lower-cased).
std::string client_address(const std::string& peer, const std::vector<std::pair<std::string, std::string>>& headers,
                           const TrustedProxies& trusted);

// Whether the client used https, as the trusted proxy `peer` reports it: the last (nearest) proto= of Forwarded, or
// when there is no Forwarded header the last X-Forwarded-Proto value. False when `peer` is not trusted.
bool forwarded_https(const std::string& peer, const std::vector<std::pair<std::string, std::string>>& headers,
                     const TrustedProxies& trusted);

// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback.
bool is_loopback_address(std::string_view address);

}  // namespace va::http
