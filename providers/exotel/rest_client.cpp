#include "providers/exotel/rest_client.hpp"

#include <cstdlib>
#include <chrono>
#include <thread>

#include "core/util/strings.hpp"
#include "core/util/json.hpp"
#include "providers/common/http_client.hpp"

namespace va::exotel {

using nlohmann::json;

namespace {

Error to_error(const HttpResult& r) {
    json body = parse_json(r.body);
    std::string message = r.body.substr(0, 200);
    if (body.is_object() && body.contains("RestException") && body["RestException"].is_object()) {
        const json& e = body["RestException"];
        if (e.contains("Message") && e["Message"].is_string()) message = e["Message"].get<std::string>();
        if (e.contains("Code") && !e["Code"].is_null())
            message += " (Exotel code " + (e["Code"].is_string() ? e["Code"].get<std::string>() : e["Code"].dump()) + ")";
    }
    ErrorCode ec = error_code_for_status(r.status);
    Error e = make_error(ec, "Exotel answered " + std::to_string(r.status) + ": " + message);
    e.provider = "exotel";
    return e;
}

Result<json> call_api(const Account& account, const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.url = account.base_url + "/v1/Accounts/" + account.account_sid + path;
    request.headers = {{"Accept", "application/json"}};
    if (method == "POST") request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.body = body;
    request.basic_user = account.api_key;
    request.basic_password = account.api_token;
    int backoff = account.first_backoff_ms;
    for (int attempt = 1;; ++attempt) {
        auto r = http_request(request);
        if (!r) return r.take_error();
        if (r->status >= 200 && r->status < 300) {
            json parsed = parse_json(r->body);
            if (parsed.is_discarded()) return make_error(ErrorCode::unavailable, "Exotel answered with a body that is not JSON");
            return parsed;
        }
        if (r->status != 429 || attempt >= account.max_attempts) return to_error(*r);
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
        backoff *= 2;
    }
}

// Call (PascalCase) or call (the lowercase variant of the newer docs).
const json* call_object(const json& body) {
    for (const char* key : {"Call", "call"})
        if (body.contains(key) && body[key].is_object()) return &body[key];
    return nullptr;
}

std::string field(const json& call, const char* pascal, const char* lower) {
    for (const char* key : {pascal, lower})
        if (call.contains(key) && call[key].is_string()) return call[key].get<std::string>();
    return {};
}

}  // namespace

Result<std::string> connect_call(const Account& account, const ConnectRequest& request) {
    std::vector<std::pair<std::string, std::string>> fields{{"From", request.from}, {"CallerId", request.caller_id},
                                                            {"CallType", "trans"}};
    if (!request.stream_url.empty()) {
        fields.emplace_back("StreamUrl", request.stream_url);
        fields.emplace_back("StreamType", "bidirectional");
    } else {
        fields.emplace_back("Url", request.flow_url);
    }
    if (!request.status_callback.empty()) {
        fields.emplace_back("StatusCallback", request.status_callback);
        fields.emplace_back("StatusCallbackContentType", "application/json");
        fields.emplace_back("StatusCallbackEvents[0]", "terminal");
        fields.emplace_back("StatusCallbackEvents[1]", "answered");
    }
    if (!request.custom_field.empty()) fields.emplace_back("CustomField", request.custom_field);
    if (request.time_limit_s > 0) fields.emplace_back("TimeLimit", std::to_string(request.time_limit_s));
    auto body = call_api(account, "POST", "/Calls/connect.json", form_encode(fields));
    if (!body) return body.take_error();
    const json* call = call_object(*body);
    std::string sid = call ? field(*call, "Sid", "sid") : "";
    if (sid.empty()) return make_error(ErrorCode::unavailable, "Exotel's answer to a new call has no Call.Sid");
    return sid;
}

Result<CallDetails> get_call(const Account& account, const std::string& sid) {
    auto body = call_api(account, "GET", "/Calls/" + sid + ".json", "");
    if (!body) return body.take_error();
    const json* call = call_object(*body);
    if (!call) return make_error(ErrorCode::unavailable, "Exotel's call details have no Call object");
    CallDetails d;
    d.sid = field(*call, "Sid", "sid");
    d.status = field(*call, "Status", "status");
    for (const char* key : {"Duration", "duration"}) {
        if (!call->contains(key)) continue;
        const json& v = (*call)[key];  // a number, a numeric string, "" or null
        if (v.is_number()) d.duration_s = v.get<double>();
        else if (v.is_string() && !v.get<std::string>().empty() &&
                 v.get<std::string>().find_first_not_of("0123456789.") == std::string::npos)
            d.duration_s = std::strtod(v.get<std::string>().c_str(), nullptr);  // "." is 0, where std::stod threw
    }
    return d;
}

namespace {

// The boundary parameter of a multipart Content-Type, unquoted.
std::string boundary_of(std::string_view content_type) {
    auto at = to_lower(std::string(content_type)).find("boundary=");
    if (at == std::string::npos) return {};
    std::string b(content_type.substr(at + 9));
    if (auto semi = b.find(';'); semi != std::string::npos) b.resize(semi);
    while (!b.empty() && (b.back() == ' ' || b.back() == '\r')) b.pop_back();
    if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
    return b;
}

}  // namespace

Result<json> parse_status_callback(std::string_view content_type, std::string_view body) {
    std::string type = to_lower(std::string(content_type));
    json out = json::object();
    if (type.find("application/json") != std::string::npos) {
        json parsed = parse_json(body);
        if (parsed.is_discarded() || !parsed.is_object()) return invalid_field("body", "is not a JSON object");
        return parsed;
    }
    if (type.find("multipart/form-data") != std::string::npos) {
        std::string boundary = boundary_of(content_type);
        if (boundary.empty()) return invalid_field("Content-Type", "multipart without a boundary");
        std::string delimiter = "--" + boundary;
        std::size_t at = body.find(delimiter);
        while (at != std::string_view::npos) {
            at += delimiter.size();
            if (body.substr(at, 2) == "--") break;  // the closing delimiter
            auto headers_end = body.find("\r\n\r\n", at);
            auto next = body.find(delimiter, at);
            if (headers_end == std::string_view::npos || next == std::string_view::npos || headers_end > next)
                return invalid_field("body", "malformed multipart part");
            std::string headers(body.substr(at, headers_end - at));
            auto name_at = to_lower(headers).find("name=\"");
            if (name_at != std::string::npos) {
                auto name_end = headers.find('"', name_at + 6);
                std::string name = headers.substr(name_at + 6, name_end - name_at - 6);
                std::string_view value = body.substr(headers_end + 4, next - headers_end - 4);
                if (value.size() >= 2 && value.substr(value.size() - 2) == "\r\n") value.remove_suffix(2);
                out[name] = std::string(value);
            }
            at = next;
        }
        return out;
    }
    if (type.find("application/x-www-form-urlencoded") != std::string::npos || type.empty()) {
        for (auto& [name, value] : parse_form(body)) out[name] = std::move(value);
        return out;
    }
    return make_error(ErrorCode::unsupported_media_type,
                      "status callbacks must be JSON, application/x-www-form-urlencoded or multipart/form-data");
}

}  // namespace va::exotel
