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
        case ErrorCode::internal: return "internal";
    }
    return "internal";
}

}  // namespace va
