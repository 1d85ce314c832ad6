// URL pieces that security checks compare: an http(s) base URL in one canonical spelling (so an allow-list entry
// and an agent's URL compare equal however they are written), and the host of a URL. Parsing only: no DNS.
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace va {

// "HTTP://Host.Example:443/v1/" -> "http://host.example:443/v1"; "https://Host.Example:443/v1/" ->
// "https://host.example/v1": scheme and host lower-cased, the scheme's default port dropped, trailing slashes of
// the path removed. An error (invalid_request, a reason to show) when the URL is not http(s), has no host, a bad
// port, credentials (user@), a query or a fragment.
Result<std::string> normalize_base_url(std::string_view url);

// The host of an http(s) URL, lower-cased, without a trailing dot, brackets, port or user@; empty when there is
// none (or the URL is not http(s)).
std::string url_host(std::string_view url);

}  // namespace va
