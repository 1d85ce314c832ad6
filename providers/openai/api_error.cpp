#include "providers/openai/api_error.hpp"
#include "core/util/json.hpp"

#include <nlohmann/json.hpp>

namespace va::openai {

using nlohmann::json;

Error api_error(std::string_view who, const HttpResult& r) {
    json body = parse_json(r.body);
    std::string message = r.body.substr(0, 300), code, type;
    if (body.is_object() && body.contains("error") && body["error"].is_object()) {
        const json& e = body["error"];
        if (e.contains("message") && e["message"].is_string()) message = e["message"];
        if (e.contains("code") && e["code"].is_string()) code = e["code"];
        if (e.contains("type") && e["type"].is_string()) type = e["type"];
    }
    ErrorCode ec = error_code_for_status(r.status);
    if (code == "insufficient_quota" || type == "insufficient_quota") ec = ErrorCode::quota;
    Error e = make_error(ec, std::string(who) + " answered " + std::to_string(r.status) + ": " + message);
    e.provider = "openai";
    return e;
}

}  // namespace va::openai
