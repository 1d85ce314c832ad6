// The Carrier interface and the carrier registry. A carrier (one folder under providers/) implements Carrier: call
// control over its REST API (dial, hang up, transfer), its media codec, the webhook and media routes it needs and
// their authenticity checks, and it registers once in the CarrierRegistry with its name, its config section (which
// it parses and validates itself) and its factory. The daemon mounts every carrier's routes under
// /api/v1/webhooks/<name>/ and /media/<name>/ and never names a carrier; see docs/providers.md "Adding a carrier".
// Thread-safety: the registry is filled at start (register_builtin_carriers, before the configuration is loaded)
// and only read afterwards. A Carrier's methods may be called from any thread at once (webhooks arrive on I/O
// threads, dials on the worker pool); dial, hangup and transfer block on the carrier's REST API.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/pipeline/media_codec.hpp"
#include "core/providers/config_section.hpp"
#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace va {

// The part of the public URL space a carrier's routes live in.
inline std::string carrier_webhook_prefix(const std::string& carrier) { return "/api/v1/webhooks/" + carrier + "/"; }
inline std::string carrier_media_prefix(const std::string& carrier) { return "/media/" + carrier + "/"; }

// A webhook or media-socket request as the daemon received it: core has no HTTP server, so its own plain copy.
struct CarrierRequest {
    std::string method;
    std::string target;  // the raw path and query, as the carrier signed it
    std::unordered_map<std::string, std::string> query;         // decoded
    std::vector<std::pair<std::string, std::string>> headers;   // names lower-case
    std::string body;
    std::string remote_address;
    std::unordered_map<std::string, std::string> params;        // from the route pattern ({call_id})

    std::string header(std::string_view name) const;  // the first with this lower-case name, or empty
    std::string param(const std::string& name) const;
};

struct CarrierResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};
CarrierResponse carrier_json(int status, const nlohmann::json& body);
CarrierResponse carrier_xml(std::string xml);
CarrierResponse carrier_empty(int status);

// A media socket's fate: the call's codec, or a refusal (accepted and closed with 1008 and the reason: carriers
// retry a refused handshake as a network fault, but take a 1008 close as a decision).
struct MediaAccept {
    std::unique_ptr<MediaCodec> codec;
    std::string refused;
    static MediaAccept refuse(std::string why) { return MediaAccept{nullptr, std::move(why)}; }
};

// What the daemon offers a webhook handler while it answers one request.
class WebhookHost {
public:
    virtual ~WebhookHost() = default;
    // 503 while the daemon drains (carriers then try the number's fallback URL).
    virtual Status accepting_calls() = 0;
    // A call to one of our numbers, routed to the number's agent and ringing until its stream starts.
    virtual Result<Call> inbound_call(const std::string& carrier, const std::string& from, const std::string& to,
                                      const std::string& carrier_sid) = 0;
    // A carrier's status report (terminal ones end the call, on whichever daemon runs it).
    virtual Status carrier_status(Call& call, const std::string& status, const std::string& duration) = 0;
    // Request data made safe for a log line (it cannot forge lines).
    virtual std::string log_field(std::string_view text, std::size_t max = 512) const = 0;
};

struct WebhookRoute {
    std::vector<std::string> methods;  // POST, or GET and POST
    std::string path;                  // under carrier_webhook_prefix: "voice", "status/{call_id}"
    bool offload = false;              // may wait for another daemon: runs on the worker pool
    std::string summary;               // for the OpenAPI description
    std::function<Result<CarrierResponse>(WebhookHost&, const CarrierRequest&)> handle;
};

struct MediaRoute {
    std::string path;  // under carrier_media_prefix: "{call_id}"; the call is params["call_id"]
    std::string summary;
    std::function<MediaAccept(const CarrierRequest&)> open;
};

// What the daemon offers every carrier for its whole life.
class CarrierHost {
public:
    virtual ~CarrierHost() = default;
    virtual std::string http_base() const = 0;       // numbers' webhooks: the URL every daemon shares
    virtual std::string call_http_base() const = 0;  // a call's callbacks: this daemon alone
    virtual std::string ws_base() const = 0;         // a call's media stream: this daemon alone
    // Per-call (or per-number) tokens for carriers that sign nothing: an HMAC of `subject` under a daemon secret.
    virtual std::string call_token(const std::string& subject) const = 0;
    virtual bool check_call_token(const std::string& subject, std::string_view token) const = 0;
    // Simulated calls (vactl calls simulate) authenticate their stream with a per-call key instead of the account.
    virtual bool is_simulated(const std::string& call_id) const = 0;
    virtual std::string simulation_key(const std::string& call_id) const = 0;
    virtual Result<Call> find_call(const std::string& call_id) = 0;
    virtual Result<PhoneNumber> find_phone_by_number(const std::string& number) = 0;
    // The carrier says the call is over (for carriers that learn it by asking, not by a callback).
    virtual void carrier_ended(const std::string& call_id, const std::string& status, double duration_s) = 0;
};

// How a simulated call of this carrier reaches the daemon (POST /calls/simulate answers it to the client).
struct SimulatedStream {
    std::string url;
    int sample_rate = 8000;
    nlohmann::json headers = nlohmann::json::object();
};

class Carrier {
public:
    virtual ~Carrier() = default;
    virtual std::string name() const = 0;
    // Whether its account is configured; otherwise `not_configured` says what to set.
    virtual bool enabled() const = 0;
    virtual std::string not_configured() const = 0;

    // Asks the carrier to place `call` (already stored, queued); its answer is the carrier's call id.
    virtual Result<std::string> dial(const Call& call) = 0;
    // The carrier side of a hang-up for a call with no live stream here (still ringing).
    virtual Status hangup(const Call& call) = 0;
    // Hands a live call to a person at `number` (before its media stream closes).
    virtual Status transfer(const Call& call, const std::string& number) = 0;
    // A call of this carrier has ended and been stored (on the session's strand: keep it short).
    virtual void call_ended(const Call& call) { (void)call; }
    // A terminal status of one of its calls was applied on this daemon.
    virtual void status_received(const std::string& call_id) { (void)call_id; }

    // The URL to configure at the carrier for inbound calls to `number`.
    virtual std::string inbound_webhook_url(const std::string& number) const = 0;
    virtual SimulatedStream simulated_stream(const std::string& call_id) const = 0;
    // Whether its audio is 8 kHz whatever is asked (offline recognition cannot hear it, so a simulation recognizes
    // the caller's lines as text).
    virtual bool narrowband_only() const { return false; }
    virtual std::vector<WebhookRoute> webhook_routes() = 0;
    virtual std::vector<MediaRoute> media_routes() = 0;
};

// One registration: everything the daemon and the configuration loader know of a carrier.
struct CarrierInfo {
    std::string name;  // a number's provider, a call's channel, its config section, its URLs
    // Its [name] section: keys (each also VOICEAGENT_<NAME>_<KEY>) with defaults, and the check of their values
    // (problems named "name.key"), read by the loader like a provider's. `section.name` is the carrier's name.
    ConfigSection section;
    // Built from its section as loaded (every key present: defaults for those not set).
    std::function<std::unique_ptr<Carrier>(const nlohmann::json& section, CarrierHost&)> create;
};

class CarrierRegistry {
public:
    // conflict when the name is taken (or empty, or a factory is missing).
    Status add(CarrierInfo info);
    const CarrierInfo* find(std::string_view name) const;
    const std::vector<CarrierInfo>& all() const { return m_carriers; }  // in registration order
    std::vector<std::string> names() const;

private:
    std::vector<CarrierInfo> m_carriers;
};

// The process's registry, filled by register_builtin_carriers (providers/builtin_carriers.hpp) at start.
CarrierRegistry& carrier_registry();

// "a, b or c" of the names, for messages.
std::string join_names(const std::vector<std::string>& names, const std::string& last_separator);

}  // namespace va
