// Exotel's REST API for call control (provider-protocols.md 1.1, 1.2): Calls/connect.json in Connect Voice AI mode
// (StreamUrl) or flow mode (Url), the Call Details API, and status callbacks in any of the three encodings Exotel
// uses. Errors read RestException.Message (its Code may be a string or a number); 429 is retried with exponential
// backoff (Exotel documents no Retry-After). Calls block: run them on the worker pool.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/util/result.hpp"

namespace va::exotel {

struct Account {
    std::string account_sid, api_key, api_token;
    std::string base_url;        // https://api.exotel.com, or a fake's http://127.0.0.1:PORT
    int max_attempts = 4;        // on 429
    int first_backoff_ms = 500;  // doubled each retry
};

struct ConnectRequest {
    std::string from;       // dialled first: the person we call
    std::string caller_id;  // our ExoPhone
    std::string stream_url;  // Connect Voice AI mode...
    std::string flow_url;    // ...or flow mode (an app whose Voicebot applet points back here)
    std::string status_callback;
    std::string custom_field;
    int time_limit_s = 0;
};

// The new call's Sid (Call.Sid, or call.sid in the lowercase variant).
Result<std::string> connect_call(const Account& account, const ConnectRequest& request);

struct CallDetails {
    std::string sid, status;
    double duration_s = -1;  // -1 when Exotel gives none
};
Result<CallDetails> get_call(const Account& account, const std::string& sid);

// A status callback's fields as a flat JSON object of strings (or numbers, from a JSON body), from a JSON,
// application/x-www-form-urlencoded or multipart/form-data body.
Result<nlohmann::json> parse_status_callback(std::string_view content_type, std::string_view body);

}  // namespace va::exotel
