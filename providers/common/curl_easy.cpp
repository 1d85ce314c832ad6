#include "providers/common/curl_easy.hpp"

#include <algorithm>
#include <mutex>
#include <string>

#include "core/util/strings.hpp"

namespace va::detail {

namespace {

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

std::size_t on_stream_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* st = static_cast<StreamState*>(user);
    if (st->result->status == 0) st->result->status = response_status(st->handle);
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

void stream_into(StreamState& state) {
    CURL* h = state.handle;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &state);
}

void curl_global_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlEasy::CurlEasy(const HttpRequest& request, HttpResult& result) {
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

int response_status(CURL* curl) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return int(status);
}

Result<HttpResult> transfer_outcome(CURL* curl, CURLcode rc, const HttpRequest& request, HttpResult& result,
                                    std::string_view what) {
    if (rc != CURLE_OK) {
        auto code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::timeout : ErrorCode::unavailable;
        Error e = make_error(code, std::string(what) + request.url.substr(0, request.url.find('?')) + " failed: " +
                                       curl_easy_strerror(rc));
        if (result.status) e.message += " (after HTTP " + std::to_string(result.status) + ")";
        return e;
    }
    result.status = response_status(curl);
    return result;
}

}  // namespace va::detail
