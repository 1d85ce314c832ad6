// The web console's routes (server.console): GET and HEAD of `/` (index.html) and of each embedded asset's exact
// path. Answers carry the asset's type, a strong ETag (If-None-Match answers 304), Cache-Control: no-cache (the
// browser revalidates each time, which the ETag makes cheap), gzip when the client accepts it (Vary:
// Accept-Encoding), and the console's strict Content-Security-Policy. Unknown paths are not routed (404).
// The routes are public: the files hold no data; the pages get everything through the authenticated API.
// Thread-safety: registration before the server starts; the handlers only read immutable data.
#pragma once

#include <string_view>

#include "daemon/console/assets.hpp"
#include "daemon/server/router.hpp"

namespace va::console {

// The console pages' Content-Security-Policy: only this origin, no inline script or style, no framing.
std::string_view content_security_policy();

// Whether an Accept-Encoding value accepts gzip (by name or "*", with a q-value above 0).
bool accepts_gzip(std::string_view accept_encoding);

// Whether an If-None-Match value ("*", or a list of entity tags, weak ones compared weakly) names `etag`.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// The answer to a GET or HEAD of `asset` (the server leaves the body out for HEAD).
http::Response serve_asset(const Asset& asset, const http::Request& request);

// The asset at `path`, or nullptr.
const Asset* find_asset(std::string_view path);

// Adds the console's routes for every embedded asset (hidden from the OpenAPI description).
void register_console_routes(http::Router& router);

}  // namespace va::console
