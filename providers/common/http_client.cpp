#include "providers/common/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "core/util/encoding.hpp"
#include "core/util/strings.hpp"

namespace va {

namespace {

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

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

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    std::string_view line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name = to_lower(std::string(line.substr(0, colon)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
        static_cast<HttpResult*>(user)->headers.emplace_back(std::move(name), std::string(value));
    }
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

namespace {

struct StreamState {
    const HttpStream* stream;
    HttpResult* result;
    CURL* handle;
    bool stopped = false;
};

std::size_t on_stream_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* st = static_cast<StreamState*>(user);
    if (st->result->status == 0) {
        long status = 0;
        curl_easy_getinfo(st->handle, CURLINFO_RESPONSE_CODE, &status);
        st->result->status = int(status);
    }
    if (st->result->status < 200 || st->result->status >= 300) {  // an error body: keep it whole for the caller
        st->result->body.append(data, size * n);
        return size * n;
    }
    if (!st->stream->on_body(*st->result, std::string_view(data, size * n))) {
        st->stopped = true;
        return 0;  // aborts the transfer
    }
    return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* st = static_cast<StreamState*>(user);
    if (st->stream->cancelled && st->stream->cancelled->load()) {
        st->stopped = true;
        return 1;
    }
    return 0;
}

}  // namespace

namespace {

// A libcurl easy handle set up for `request` with what every transfer shares (method, headers, body, timeouts,
// Basic credentials, response headers into `result`); the caller adds how the body is received.
struct Transfer {
    // libcurl's global set-up must come first (it is not thread-safe on its own).
    std::unique_ptr<CURL, void (*)(CURL*)> curl{(global_init(), curl_easy_init()), curl_easy_cleanup};
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers{nullptr, curl_slist_free_all};
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> pins{nullptr, curl_slist_free_all};

    Transfer(const HttpRequest& request, HttpResult& result) {
        if (!curl) return;
        curl_slist* list = nullptr;
        for (const auto& [k, v] : request.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
        list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for larger bodies
        headers.reset(list);
        CURL* h = curl.get();
        curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(request.timeout_ms));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(std::min(request.timeout_ms, 5000)));
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &result);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        // An empty proxy turns off the environment's proxy variables too (CURLOPT_PROXY).
        if (request.guarded || !request.resolve.empty()) curl_easy_setopt(h, CURLOPT_PROXY, "");
        if (!request.resolve.empty()) {
            curl_slist* resolved = nullptr;
            for (const auto& entry : request.resolve) resolved = curl_slist_append(resolved, entry.c_str());
            pins.reset(resolved);
            curl_easy_setopt(h, CURLOPT_RESOLVE, pins.get());
        }
        if (request.method != "GET" && request.method != "HEAD") {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, long(request.body.size()));
        }
        if (!request.basic_user.empty()) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, request.basic_user.c_str());
            curl_easy_setopt(h, CURLOPT_PASSWORD, request.basic_password.c_str());
        }
    }

    // Runs the transfer; the status goes into `result`, a transport failure comes back as a transient error.
    Result<HttpResult> perform(const HttpRequest& request, HttpResult& result, const char* what) {
        CURLcode rc = curl_easy_perform(curl.get());
        if (rc != CURLE_OK) {
            auto code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::timeout : ErrorCode::unavailable;
            Error e = make_error(code, std::string(what) + request.url.substr(0, request.url.find('?')) + " failed: " +
                                           curl_easy_strerror(rc));
            if (result.status) e.message += " (after HTTP " + std::to_string(result.status) + ")";
            return e;
        }
        long status = 0;
        curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
        result.status = int(status);
        return result;
    }
};

}  // namespace

Result<HttpResult> http_stream(const HttpRequest& request, const HttpStream& stream) {
    HttpResult result;
    Transfer t(request, result);
    if (!t.curl) return make_error(ErrorCode::internal, "libcurl could not start a request");
    StreamState state{&stream, &result, t.curl.get()};
    CURL* h = t.curl.get();
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &state);
    auto r = t.perform(request, result, "HTTP stream from ");
    if (state.stopped) return result;  // cancelled, or the reader had enough
    return r;
}

Result<HttpResult> http_request(const HttpRequest& request) {
    HttpResult result;
    Transfer t(request, result);
    if (!t.curl) return make_error(ErrorCode::internal, "libcurl could not start a request");
    BodySink sink{&result.body, request.max_body_bytes};
    curl_easy_setopt(t.curl.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t.curl.get(), CURLOPT_WRITEDATA, &sink);
    auto r = t.perform(request, result, "HTTP request to ");
    if (sink.overflowed)
        return make_error(ErrorCode::too_large, "the answer is larger than " + std::to_string(request.max_body_bytes) + " bytes");
    return r;
}

}  // namespace va
