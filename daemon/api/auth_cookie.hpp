// Cookie mode of the auth routes, for the web console (docs/console.md): the refresh token lives in an HttpOnly,
// SameSite=Strict cookie scoped to /api/v1/auth instead of the JSON body, so page script never holds it. Requests
// opt in with the header X-Voiceagent-Console: 1, which is also the CSRF guard: a cross-site form or image cannot
// send a custom header, and a cross-site fetch that does must pass a CORS preflight the daemon never grants to
// credentials. An Origin header, when present, must be the daemon's own origin.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.hpp"
#include "daemon/server/http.hpp"

namespace va::api {

inline constexpr std::string_view kConsoleHeader = "x-voiceagent-console";
inline constexpr std::string_view kRefreshCookie = "va_refresh";
// Beside the refresh cookie, a marker page script can read (Path=/, not HttpOnly, no secret in it): the console
// asks to refresh at start only when it is there, so a signed-out start makes no request that must fail.
inline constexpr std::string_view kSessionMarkerCookie = "va_session";

// Whether the request asks for cookie mode (X-Voiceagent-Console: 1). When it does, the request must also come
// from the daemon's own origin: 403 otherwise. 400 when the header holds anything but 1.
Result<bool> console_mode(const http::Request& request);

// The origin the browser used to reach the daemon: http(s)://<Host> (https when request.secure).
std::string own_origin(const http::Request& request);

// The value of cookie `name` in the request's Cookie headers; nullopt when absent or empty.
std::optional<std::string> request_cookie(const http::Request& request, std::string_view name);

// The session's two Set-Cookie headers on `response`: the refresh token for `max_age_s` seconds and the marker beside
// it. Secure when the client came over https, so the cookie is never sent in clear once it was set over TLS.
void set_session_cookies(http::Response& response, std::string_view token, int max_age_s, bool secure);
// Both cookies removed (sign-out, a refused session).
void clear_session_cookies(http::Response& response, bool secure);

}  // namespace va::api
