// Twilio's REST API for call control (provider-protocols.md section 2.1): dial out with inline TwiML, and update a
// live call (hang up, or new TwiML such as <Dial> for a transfer). Errors map Twilio's {"code","message"} body to
// clear messages; 429 is retried with exponential backoff (the request was refused, so retrying cannot dial
// twice). Calls block: run them on the worker pool.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace va::twilio {

struct Account {
    std::string account_sid;
    std::string auth_token;
    std::string api_base_url = "https://api.twilio.com";
    int max_attempts = 4;        // on 429
    int first_backoff_ms = 500;  // doubled each retry
};

struct OutboundCall {
    std::string to, from;
    std::string twiml;
    std::string status_callback;  // receives initiated, ringing, answered, completed
};

// The new call's SID.
Result<std::string> create_call(const Account& account, const OutboundCall& call);
Status hangup_call(const Account& account, const std::string& call_sid);
Status redirect_call(const Account& account, const std::string& call_sid, const std::string& twiml);

}  // namespace va::twilio
