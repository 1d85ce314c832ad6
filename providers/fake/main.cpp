// va-fake: a carrier or cloud-provider fake as a standalone process, for trying a daemon's paths by hand or from
// scripts.
//   va-fake twilio --port 9100 --say "what are your hours" [--say ...]
//   va-fake exotel --port 9200 --say question.wav
//   va-fake openai --port 9300 --api-key sk-test --say "first reply" --say "second reply"
//   va-fake deepgram --port 9400 --api-key dg-test --say "what the caller says" [--say ...]
//   va-fake elevenlabs --port 9500 --ws-port 9501 --api-key xi-test [--fail-from 3]
//   va-fake deepgram --phrase "what are your hours" --final-delay-ms 150        (a real service's timing:)
//   va-fake openai --first-token-ms 250 --tokens-per-s 50
//   va-fake elevenlabs --tones --first-audio-ms 200 --realtime-factor 4
//   va-fake twilio --port 9100 --outcome completed --ring-ms 0          (load: every call answered and hung up)
//   va-fake exotel --outcomes plan.json --hang-up-after-ms 500          ({"+9198...": ["busy", "answer"]})
//   va-fake webhook-receiver --port 9600 --secret-file secret.txt --fail-first 2
// Point the daemon at it (VOICEAGENT_TWILIO_API_BASE_URL=http://127.0.0.1:9100 with the same account SID and
// token, or the [exotel] equivalents), dial out with `vactl calls start`, and the fake answers as the callee (or
// not, per --outcome/--outcomes), speaks the --say turns, and prints one JSON line per finished call. The
// webhook receiver prints one JSON line per request instead. Runs until SIGINT or SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "providers/fake/deepgram_fake.hpp"
#include "providers/fake/elevenlabs_fake.hpp"
#include "providers/fake/exotel_fake.hpp"
#include "providers/fake/openai_fake.hpp"
#include "providers/fake/speech.hpp"
#include "providers/fake/twilio_fake.hpp"
#include "providers/fake/webhook_receiver.hpp"

using nlohmann::json;

namespace {

// `active` and `max_active` are the fake's calls in flight when the line is printed, and the most at once so far.
json summary(const va::fake::FakeCall& c, int active, int max_active) {
    double heard = 0;
    for (const auto& s : c.caller.spans) heard += double(s.end_ms - s.start_ms) / 1000.0;
    return {{"sid", c.sid},          {"direction", c.direction},         {"from", c.from},
            {"to", c.to},            {"ended_by", c.caller.ended_by},     {"duration_ms", c.caller.duration_ms},
            {"heard_s", heard},      {"clears", c.caller.clears},         {"violations", c.caller.violations},
            {"statuses", c.statuses_sent}, {"transferred_to", c.transferred_to}, {"outcome", c.outcome},
            {"active", active},      {"max_active", max_active}};
}

std::map<std::string, std::vector<std::string>> read_outcomes(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read --outcomes file " + path);
    std::stringstream text;
    text << in.rdbuf();
    auto plan = va::fake::parse_outcomes_json(text.str());
    if (!plan) throw std::runtime_error(path + ": " + plan.error().message);
    return std::move(plan).value();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"va-fake: a protocol-faithful fake carrier (Twilio, Exotel) or provider (OpenAI, Deepgram, ElevenLabs) "
                 "on 127.0.0.1"};
    std::string carrier;
    int port = 0;
    std::vector<std::string> says;
    std::string sid, token, key, callback_format = "json";
    bool drop_callbacks = false;
    int ws_port = 0, fail_from = 0;
    std::string outcome = "answer", outcomes_file, secret_file;
    int ring_ms = -1, hang_up_after_ms = -1, fail_first = 0;
    std::string phrase;
    int final_delay_ms = 0, interim_ms = 1000, first_token_ms = 0, first_audio_ms = 0, tone_ms_per_char = 60;
    double tokens_per_s = 0, realtime_factor = 0;
    bool tones = false;
    app.add_option("carrier", carrier,
                   "twilio, exotel, openai (chat and speech), deepgram, elevenlabs, or webhook-receiver (prints each "
                   "webhook delivered to it)")
        ->required()
        ->check(CLI::IsMember({"twilio", "exotel", "openai", "deepgram", "elevenlabs", "webhook-receiver"}));
    app.add_option("--ws-port", ws_port, "elevenlabs: port of the stream-input WebSocket (0: any, printed)");
    app.add_option("--fail-from", fail_from, "elevenlabs: every request from this number on fails with 500");
    app.add_option("--port", port, "port on 127.0.0.1 (0: any, printed)");
    app.add_option("--phrase", phrase, "deepgram: what every utterance after the --say lines says");
    app.add_option("--final-delay-ms", final_delay_ms,
                   "deepgram: the final transcript this long after the speech ends (default: after the request's "
                   "endpointing silence)");
    app.add_option("--interim-ms", interim_ms, "deepgram: an interim result every this much speech (default 1000)");
    app.add_option("--first-token-ms", first_token_ms, "openai: the first token this long after the request");
    app.add_option("--tokens-per-s", tokens_per_s, "openai: then this many tokens (words) a second (default: all at once)");
    app.add_flag("--tones", tones, "elevenlabs: a tone as long as the text would take to say instead of espeak-ng (cheap)");
    app.add_option("--tone-ms-per-char", tone_ms_per_char, "elevenlabs: with --tones, milliseconds per character (default 60)");
    app.add_option("--first-audio-ms", first_audio_ms, "elevenlabs: the first audio this long after the request or sentence");
    app.add_option("--realtime-factor", realtime_factor, "elevenlabs: then audio at this many times real time (default: all at once)");
    app.add_option("--say", says,
                   "what the callee says, one turn each: text (espeak-ng) or a WAV file; for openai, the model's "
                   "replies; for deepgram, what the caller says, one line per utterance");
    app.add_option("--account-sid", sid, "account SID the daemon must use");
    app.add_option("--auth-token", token, "Twilio auth token, or Exotel API token");
    app.add_option("--api-key", key, "Exotel API key, or the key the provider fake expects");
    app.add_option("--callback-format", callback_format, "Exotel status callbacks: json, form or multipart");
    app.add_flag("--drop-status-callback", drop_callbacks, "Exotel: never send the terminal status callback");
    app.add_option("--outcome", outcome,
                   "twilio, exotel: what the callee of an outbound call does: answer (stream with the --say turns), "
                   "completed (answers and hangs up at once, no stream), busy, no-answer or failed")
        ->check(CLI::IsMember({"answer", "completed", "busy", "no-answer", "failed"}));
    app.add_option("--outcomes", outcomes_file,
                   "twilio, exotel: JSON file {\"+14155550100\": [\"busy\", \"answer\"], ...}: the n-th call to a "
                   "number (Twilio To, Exotel From) takes entry n, the last repeating; other numbers take --outcome");
    app.add_option("--ring-ms", ring_ms, "twilio, exotel: how long a call rings before its outcome (default 100)");
    app.add_option("--hang-up-after-ms", hang_up_after_ms,
                   "twilio, exotel: after the last --say turn (or, with none, after the bot's greeting), the callee "
                   "hangs up once the bot has been quiet this long (default 1500)");
    app.add_option("--secret-file", secret_file,
                   "webhook-receiver: file holding the endpoint secret, read at each request (may appear later; "
                   "until then signatures are reported as unchecked)");
    app.add_option("--fail-first", fail_first, "webhook-receiver: answer 500 to this many requests first");
    CLI11_PARSE(app, argc, argv);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    try {
        if (carrier == "webhook-receiver") {
            std::mutex out;
            va::fake::WebhookReceiver::Options o;
            o.port = port;
            o.secret_file = secret_file;
            o.fail_first = fail_first;
            va::fake::WebhookReceiver receiver(o, [&out](const va::fake::WebhookReceiver::Delivery& d) {
                std::lock_guard lock(out);
                std::cout << va::fake::to_json(d).dump() << std::endl;
            });
            {
                std::lock_guard lock(out);
                std::cout << json{{"listening", receiver.base_url()}}.dump() << std::endl;
            }
            int received = 0;
            sigwait(&signals, &received);
            return 0;
        }
        if (carrier == "openai") {
            va::fake::OpenAiFake::Options o;
            o.port = port;
            o.first_token_ms = first_token_ms;
            o.tokens_per_s = tokens_per_s;
            if (!key.empty()) o.api_key = key;
            if (!says.empty()) {
                o.replies.clear();
                for (const auto& s : says) o.replies.push_back({s, "", json::object()});
            }
            va::fake::OpenAiFake fake(o);
            std::cout << json{{"listening", fake.base_url()}, {"api_key", o.api_key}}.dump() << std::endl;
            int received = 0;
            sigwait(&signals, &received);
            return 0;
        }
        if (carrier == "deepgram") {
            va::fake::DeepgramFake::Options o;
            o.port = port;
            if (!key.empty()) o.api_key = key;
            o.lines = says;
            o.phrase = phrase;
            o.final_delay_ms = final_delay_ms;
            o.interim_ms = interim_ms;
            va::fake::DeepgramFake fake(o);
            std::cout << json{{"listening", fake.base_url()}, {"api_key", o.api_key}}.dump() << std::endl;
            int received = 0;
            sigwait(&signals, &received);
            return 0;
        }
        if (carrier == "elevenlabs") {
            va::fake::ElevenLabsFake::Options o;
            o.port = port;
            o.ws_port = ws_port;
            o.fail_from = fail_from;
            o.tones = tones;
            o.tone_ms_per_char = tone_ms_per_char;
            o.first_audio_ms = first_audio_ms;
            o.realtime_factor = realtime_factor;
            if (!key.empty()) o.api_key = key;
            va::fake::ElevenLabsFake fake(o);
            std::cout << json{{"listening", fake.base_url()}, {"ws_url", fake.ws_url()}, {"api_key", o.api_key}}.dump()
                      << std::endl;
            int received = 0;
            sigwait(&signals, &received);
            return 0;
        }
        va::fake::CallerScript script;
        int rate = carrier == "twilio" ? 8000 : 16000;
        for (const auto& s : says) {
            auto audio = va::fake::caller_speech(s, rate);
            if (!audio) throw std::runtime_error(audio.error().message);
            script.turns.push_back({std::move(audio).value(), "", -1});
        }
        if (hang_up_after_ms >= 0) script.hang_up_after_ms = hang_up_after_ms;
        std::map<std::string, std::vector<std::string>> outcomes;
        if (!outcomes_file.empty()) outcomes = read_outcomes(outcomes_file);
        std::function<std::vector<va::fake::FakeCall>(std::size_t&)> ended_since;
        std::function<std::pair<int, int>()> active;
        std::unique_ptr<va::fake::TwilioFake> twilio;
        std::unique_ptr<va::fake::ExotelFake> exotel;
        if (carrier == "twilio") {
            va::fake::TwilioFake::Options o;
            o.port = port;
            o.script = script;
            o.default_outcome = outcome;
            o.outcomes = outcomes;
            if (ring_ms >= 0) o.ring_ms = ring_ms;
            if (!sid.empty()) o.account_sid = sid;
            if (!token.empty()) o.auth_token = token;
            twilio = std::make_unique<va::fake::TwilioFake>(o);
            std::cout << json{{"listening", twilio->base_url()}, {"account_sid", o.account_sid}, {"auth_token", o.auth_token}}.dump()
                      << std::endl;
            ended_since = [&](std::size_t& cursor) { return twilio->ended_since(cursor); };
            active = [&] { return std::pair{twilio->active_calls(), twilio->max_active_calls()}; };
        } else {
            va::fake::ExotelFake::Options o;
            o.port = port;
            o.script = script;
            o.default_outcome = outcome;
            o.outcomes = outcomes;
            if (ring_ms >= 0) o.ring_ms = ring_ms;
            o.callback_format = callback_format;
            o.drop_status_callback = drop_callbacks;
            if (!sid.empty()) o.account_sid = sid;
            if (!key.empty()) o.api_key = key;
            if (!token.empty()) o.api_token = token;
            exotel = std::make_unique<va::fake::ExotelFake>(o);
            std::cout << json{{"listening", exotel->base_url()}, {"account_sid", o.account_sid}, {"api_key", o.api_key},
                              {"api_token", o.api_token}}.dump()
                      << std::endl;
            ended_since = [&](std::size_t& cursor) { return exotel->ended_since(cursor); };
            active = [&] { return std::pair{exotel->active_calls(), exotel->max_active_calls()}; };
        }
        // Report each call once, when it has ended; stop on a signal. Only newly ended calls are copied, so a
        // long load run costs no more per poll than the calls that just finished.
        std::size_t cursor = 0;
        std::atomic<bool> stop{false};
        std::thread waiter([&] {
            int received = 0;
            sigwait(&signals, &received);
            stop = true;
        });
        auto report = [&] {
            auto ended = ended_since(cursor);
            if (ended.empty()) return;
            auto [now_active, max_active] = active();
            for (const auto& c : ended) std::cout << summary(c, now_active, max_active).dump() << '\n';
            std::cout.flush();
        };
        while (!stop) {
            report();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        waiter.join();
        report();  // calls that ended just before the signal still get their line
    } catch (const std::exception& e) {
        std::cerr << "va-fake: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
