// Where a voice call stands, one explicit state instead of a handful of flags: what the caller's speech may do
// (interrupt, start a turn, nothing) and what the end of a reply leads to follow from it.
// Thread-safety: a value; the call keeps it on its strand.
#pragma once

#include <string_view>

namespace va {

enum class CallState {
    connecting,    // the socket is open; the carrier has not started the stream
    starting,      // the stream is up; the providers are being built
    listening,     // waiting for the caller (the silence timer runs)
    replying,      // the agent speaks; the caller may interrupt
    goodbye,       // the daemon's shutdown goodbye: cannot be talked over, no new turn, the call ends once heard
    closing,       // the last words were sent; waiting for the carrier's mark that says they were heard
    handing_over,  // the carrier is connecting the caller elsewhere (a transfer)
    ended,
};

constexpr std::string_view to_string(CallState s) {
    switch (s) {
        case CallState::connecting: return "connecting";
        case CallState::starting: return "starting";
        case CallState::listening: return "listening";
        case CallState::replying: return "replying";
        case CallState::goodbye: return "goodbye";
        case CallState::closing: return "closing";
        case CallState::handing_over: return "handing_over";
        case CallState::ended: return "ended";
    }
    return "?";
}

// The agent is talking (or about to): caller speech is checked for barge-in.
constexpr bool speaking(CallState s) { return s == CallState::replying || s == CallState::goodbye; }
// Caller speech may start a new turn: not while the call is on its way out.
constexpr bool takes_turns(CallState s) {
    return s == CallState::starting || s == CallState::listening || s == CallState::replying;
}

}  // namespace va
