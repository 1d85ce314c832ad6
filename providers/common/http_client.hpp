// Blocking outbound HTTP for provider clients (carrier REST calls, webhooks), on libcurl. Calls block: the daemon
// runs them on its worker pool, never on an I/O thread. Every request has a deadline; connection failures and
// timeouts come back as transient errors, HTTP error statuses as responses (the caller maps them).
// Thread-safety: the functions are safe from any thread (each call uses its own curl handle).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/result.hpp"

namespace va {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string basic_user, basic_password;  // HTTP Basic when basic_user is set
    int timeout_ms = 10000;
    // "host:port:address" entries that pin a host name to an address already checked (no second DNS lookup).
    std::vector<std::string> resolve;
    // A destination checked by net_guard: connect to it directly, never through a proxy named by http_proxy,
    // https_proxy or ALL_PROXY in the environment (a proxy would resolve the name again, and see the request).
    bool guarded = false;
    // A body longer than this ends the request with a too_large error (0: no limit).
    std::size_t max_body_bytes = 0;
};

struct HttpResult {
    int status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string header(const std::string& lower_name) const;
};

Result<HttpResult> http_request(const HttpRequest& request);

// A streamed response (server-sent events): `on_body` gets each piece of the body as it arrives, after the
// status and headers are in `head`; returning false, or `cancelled` becoming true, stops the transfer (the result
// is then a Result with the status so far and an empty body). The body of an error status is collected in the
// result instead of streamed, so callers can read the error. `timeout_ms` bounds the whole transfer.
struct HttpStream {
    std::function<bool(const HttpResult& head, std::string_view piece)> on_body;
    const std::atomic<bool>* cancelled = nullptr;
};
Result<HttpResult> http_stream(const HttpRequest& request, const HttpStream& stream);

// application/x-www-form-urlencoded, in the given order.
using FormFields = std::vector<std::pair<std::string, std::string>>;
std::string form_encode(const FormFields& fields);
// Decodes a urlencoded body or query ('+' is a space); repeated names are kept, in order.
FormFields parse_form(std::string_view body);

// How a provider's HTTP error status reads as an error: 401/403 credentials, 404, 429 (transient), 5xx
// (transient), any other 4xx a bad request.
ErrorCode error_code_for_status(int http_status);

}  // namespace va
