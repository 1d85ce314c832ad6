#include "providers/common/http_client.hpp"

#include <curl/curl.h>

#include "providers/common/curl_easy.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "core/util/encoding.hpp"
#include "core/util/strings.hpp"

namespace va {

namespace {

struct BodySink {
    std::string* body;
    std::size_t limit;
    bool overflowed = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* sink = static_cast<BodySink*>(user);
    if (sink->limit && sink->body->size() + size * n > sink->limit) {
        sink->overflowed = true;
        return 0;  // aborts the transfer
    }
    sink->body->append(data, size * n);
    return size * n;
}

}  // namespace

std::string HttpResult::header(const std::string& lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name) return v;
    return {};
}

ErrorCode error_code_for_status(int status) {
    return status == 401 || status == 403 ? ErrorCode::unauthenticated
           : status == 404               ? ErrorCode::not_found
           : status == 429               ? ErrorCode::rate_limited
           : status >= 500               ? ErrorCode::unavailable
                                         : ErrorCode::invalid_request;
}


FormFields parse_form(std::string_view body) {
    FormFields out;
    while (!body.empty()) {
        auto amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        out.emplace_back(percent_decode(pair.substr(0, eq)),
                         eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1)));
    }
    return out;
}

std::string form_encode(const FormFields& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        out += percent_encode(k) + "=" + percent_encode(v);
    }
    return out;
}

Result<HttpResult> http_stream(const HttpRequest& request, const HttpStream& stream) {
    HttpResult result;
    detail::CurlEasy t(request, result);
    if (!t.curl) return make_error(ErrorCode::internal, "libcurl could not start a request");
    detail::StreamState state{&stream, &result, t.curl.get()};
    detail::stream_into(state);
    CURL* h = t.curl.get();
    auto r = detail::transfer_outcome(h, curl_easy_perform(h), request, result, "HTTP stream from ");
    if (state.stopped) return result;  // cancelled, or the reader had enough
    return r;
}

Result<HttpResult> http_request(const HttpRequest& request) {
    HttpResult result;
    detail::CurlEasy t(request, result);
    if (!t.curl) return make_error(ErrorCode::internal, "libcurl could not start a request");
    BodySink sink{&result.body, request.max_body_bytes};
    curl_easy_setopt(t.curl.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t.curl.get(), CURLOPT_WRITEDATA, &sink);
    auto r = detail::transfer_outcome(t.curl.get(), curl_easy_perform(t.curl.get()), request, result, "HTTP request to ");
    if (sink.overflowed)
        return make_error(ErrorCode::too_large, "the answer is larger than " + std::to_string(request.max_body_bytes) + " bytes");
    return r;
}

}  // namespace va
