// Exotel as a Carrier (core/providers/carrier.hpp): its [exotel] config section, dialing in Connect Voice AI or
// flow mode, the Voicebot applet endpoint, status callbacks and the AgentStream socket. Exotel signs nothing, so
// every URL handed to it carries a per-call (or per-number) token, the media socket also takes HTTP Basic with the
// account's key, and requests may be limited to configured source addresses. Status callbacks are not guaranteed:
// a call whose stream ended without one is looked up in the Call Details API `reconcile_after_s` later.
// Thread-safety: configuration is immutable after creation; the reconcile queue is locked and drained by the
// carrier's own thread; methods may run on any thread at once.
#pragma once

#include <string>
#include <vector>

#include "core/providers/carrier.hpp"

namespace va::exotel {

struct Config {
    std::string account_sid;  // empty = Exotel calls are not configured
    std::string api_key;
    std::string api_token;
    std::string subdomain = "api.exotel.com";  // api.in.exotel.com for the Mumbai cluster
    std::string api_base_url;                  // overrides https://<subdomain> (a fake in tests)
    std::string mode = "connect";              // connect (Connect Voice AI, StreamUrl) | flow (Url of an app)
    std::string flow_url;                      // flow mode: http://my.exotel.com/<sid>/exoml/start_voice/<app_id>
    int sample_rate = 16000;                   // 8000 | 16000 | 24000, asked for in sample-rate
    std::string allowed_sources;  // comma-separated IPs allowed on Exotel webhooks and media; empty = any
    int reconcile_after_s = 30;   // ask the Call Details API when no terminal callback came this long after
};

// Its [exotel] section as the loader hands it (keys it lacks keep their defaults).
Config parse_config(const nlohmann::json& section);
void validate_config(const nlohmann::json& section, std::vector<FieldError>& problems);
// exotel.allowed_sources as a list (blanks around items trimmed, empty items dropped).
std::vector<std::string> split_sources(const std::string& text);

// Adds "exotel" to the registry (providers/builtin_carriers.cpp calls it once at start).
Status register_carrier(CarrierRegistry& registry);

}  // namespace va::exotel
