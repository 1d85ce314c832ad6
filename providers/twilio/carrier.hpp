// Twilio as a Carrier (core/providers/carrier.hpp): its [twilio] config section, dialing with inline TwiML,
// hang-up and transfer through the REST API, the voice and status webhooks and the Media Streams socket, each
// verified with X-Twilio-Signature against the URL Twilio was given.
// Thread-safety: the carrier is immutable after creation; its methods may run on any thread at once.
#pragma once

#include <string>
#include <vector>

#include "core/providers/carrier.hpp"

namespace va::twilio {

struct Config {
    std::string account_sid;  // empty = Twilio calls are not configured
    std::string auth_token;   // signs webhooks and authenticates REST calls
    std::string api_base_url = "https://api.twilio.com";  // a fake on loopback in tests
};

// Its [twilio] section as the loader hands it (keys it lacks keep their defaults).
Config parse_config(const nlohmann::json& section);
void validate_config(const nlohmann::json& section, std::vector<FieldError>& problems);

// Adds "twilio" to the registry (providers/builtin_carriers.cpp calls it once at start).
Status register_carrier(CarrierRegistry& registry);

}  // namespace va::twilio
