#include "providers/twilio/rest_client.hpp"
#include "core/util/json.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "providers/common/http_client.hpp"

namespace va::twilio {

using nlohmann::json;

namespace {

Error to_error(const HttpResult& r) {
    json body = parse_json(r.body);
    std::string message = body.is_object() && body.contains("message") && body["message"].is_string()
                              ? body["message"].get<std::string>()
                              : r.body.substr(0, 200);
    std::string code = body.is_object() && body.contains("code") ? " (Twilio error " + body["code"].dump() + ")" : "";
    std::string text = "Twilio answered " + std::to_string(r.status) + code + ": " + message;
    ErrorCode ec = error_code_for_status(r.status);
    Error e = make_error(ec, text);
    e.provider = "twilio";
    return e;
}

Result<json> post(const Account& account, const std::string& path, const std::vector<std::pair<std::string, std::string>>& fields) {
    HttpRequest request;
    request.method = "POST";
    request.url = account.api_base_url + "/2010-04-01/Accounts/" + account.account_sid + path;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    request.body = form_encode(fields);
    request.basic_user = account.account_sid;
    request.basic_password = account.auth_token;
    int backoff = account.first_backoff_ms;
    for (int attempt = 1;; ++attempt) {
        auto r = http_request(request);
        if (!r) return r.take_error();
        if (r->status >= 200 && r->status < 300) {
            json body = parse_json(r->body);
            if (body.is_discarded()) return make_error(ErrorCode::unavailable, "Twilio answered with a body that is not JSON");
            return body;
        }
        if (r->status != 429 || attempt >= account.max_attempts) return to_error(*r);
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
        backoff *= 2;
    }
}

}  // namespace

Result<std::string> create_call(const Account& account, const OutboundCall& call) {
    std::vector<std::pair<std::string, std::string>> fields{{"To", call.to}, {"From", call.from}, {"Twiml", call.twiml}};
    if (!call.status_callback.empty()) {
        fields.emplace_back("StatusCallback", call.status_callback);
        for (const char* event : {"initiated", "ringing", "answered", "completed"})
            fields.emplace_back("StatusCallbackEvent", event);  // repeated once per value
    }
    auto body = post(account, "/Calls.json", fields);
    if (!body) return body.take_error();
    if (!body->contains("sid") || !(*body)["sid"].is_string())
        return make_error(ErrorCode::unavailable, "Twilio's answer to a new call has no sid");
    return (*body)["sid"].get<std::string>();
}

Status hangup_call(const Account& account, const std::string& call_sid) {
    auto r = post(account, "/Calls/" + call_sid + ".json", {{"Status", "completed"}});
    if (!r && r.error().code == ErrorCode::not_found) return Ok{};  // already over (20404)
    if (!r) return r.take_error();
    return Ok{};
}

Status redirect_call(const Account& account, const std::string& call_sid, const std::string& twiml) {
    auto r = post(account, "/Calls/" + call_sid + ".json", {{"Twiml", twiml}});
    if (!r) return r.take_error();
    return Ok{};
}

}  // namespace va::twilio
