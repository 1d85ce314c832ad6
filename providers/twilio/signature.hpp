// X-Twilio-Signature: Twilio signs each webhook and media WebSocket upgrade with HMAC-SHA1 of the URL it requested
// followed by the sorted POST parameters (or, for JSON bodies, of the URL carrying bodySHA256=<hex of the body>),
// keyed by the account's auth token. Verification accepts the URL with and without the scheme's default port,
// as Twilio's own validators do. The algorithm and its test vectors: provider-protocols.md section 2.4.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "providers/common/http_client.hpp"

namespace va::twilio {

using Params = FormFields;  // decoded form parameters, in any order (parse_form in providers/common)

// The signature Twilio sends for `url` and `params` (standard base64).
std::string signature(std::string_view auth_token, std::string_view url, const Params& params);

// Whether `signature_header` is Twilio's signature of the request: `params` are the decoded form parameters of a
// POST (empty for GET and WebSocket upgrades), `body` the raw body (checked against bodySHA256 when the URL has it).
bool verify_signature(std::string_view auth_token, std::string_view url, const Params& params, std::string_view body,
                      std::string_view signature_header);

}  // namespace va::twilio
