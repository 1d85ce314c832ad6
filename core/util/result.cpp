#include "core/util/result.hpp"

namespace va {

const char* to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request: return "invalid_request";
        case ErrorCode::unauthenticated: return "unauthenticated";
        case ErrorCode::forbidden: return "forbidden";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::conflict: return "conflict";
        case ErrorCode::too_large: return "too_large";
        case ErrorCode::unsupported_media_type: return "unsupported_media_type";
        case ErrorCode::unprocessable: return "unprocessable";
        case ErrorCode::rate_limited: return "rate_limited";
        case ErrorCode::timeout: return "timeout";
        case ErrorCode::unavailable: return "unavailable";
        case ErrorCode::quota: return "quota";
        case ErrorCode::bad_gateway: return "bad_gateway";
        case ErrorCode::internal: return "internal";
    }
    return "internal";
}

std::optional<ErrorCode> error_code_from_string(std::string_view name) {
    for (int c = 0; c <= static_cast<int>(ErrorCode::internal); ++c)
        if (name == to_string(static_cast<ErrorCode>(c))) return static_cast<ErrorCode>(c);
    return std::nullopt;
}

int http_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request: return 400;
        case ErrorCode::unauthenticated: return 401;
        case ErrorCode::forbidden: return 403;
        case ErrorCode::not_found: return 404;
        case ErrorCode::conflict: return 409;
        case ErrorCode::too_large: return 413;
        case ErrorCode::unsupported_media_type: return 415;
        case ErrorCode::unprocessable: return 422;
        case ErrorCode::rate_limited: return 429;
        case ErrorCode::timeout: return 504;
        case ErrorCode::unavailable: return 503;
        case ErrorCode::quota: return 402;
        case ErrorCode::bad_gateway: return 502;
        case ErrorCode::internal: return 500;
    }
    return 500;
}

}  // namespace va
