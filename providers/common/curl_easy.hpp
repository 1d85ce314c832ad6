// A libcurl easy handle set up from an HttpRequest: what blocking requests (http_client.cpp) and the shared
// streaming engine (http_engine.cpp) both need, so both send the same request for the same settings. Internal to
// providers/common.
// Thread-safety: one instance per transfer, used by one thread at a time.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string_view>

#include "core/util/result.hpp"
#include "providers/common/http_client.hpp"

namespace va::detail {

// libcurl's global set-up, once per process (it is not thread-safe on its own).
void curl_global_once();

// Method, headers, body, timeouts, Basic credentials, address pins and proxy rules of `request`, and the response
// headers collected into `result` (names lower-cased). `request` and `result` must outlive the handle's transfer.
// The caller adds how the body is received.
struct CurlEasy {
    std::unique_ptr<CURL, void (*)(CURL*)> curl{(curl_global_once(), curl_easy_init()), curl_easy_cleanup};
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers{nullptr, curl_slist_free_all};
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> pins{nullptr, curl_slist_free_all};

    CurlEasy(const HttpRequest& request, HttpResult& result);
};

// A streamed body (see http_stream): pieces of a 2xx body go to `stream->on_body`, an error status's body is
// collected into `result` for the caller to read; `stopped` says the reader or a cancellation ended it.
struct StreamState {
    const HttpStream* stream;
    HttpResult* result;
    CURL* handle;
    bool stopped = false;
};
// Points the handle's body and progress callbacks at `state`, which must outlive the transfer.
void stream_into(StreamState& state);

// A finished transfer's outcome: the status read into `result`, or a transient error (timeout or unavailable)
// naming the URL without its query, after `what` ("HTTP request to ").
Result<HttpResult> transfer_outcome(CURL* curl, CURLcode rc, const HttpRequest& request, HttpResult& result,
                                    std::string_view what);

// The response status, read once the first body bytes arrive.
int response_status(CURL* curl);

}  // namespace va::detail
