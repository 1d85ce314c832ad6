// From bytes on the wire to a Request: Beast's HTTP/1.1 parser under the server's header and body limits, then the
// transport-neutral Request (decoded path and query, lower-cased header names). The server calls fill_request on
// each message it reads; parse_request does the whole of it on a buffer, so the fuzz harness and tests drive the
// same code without a socket. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/util/result.hpp"
#include "daemon/server/http.hpp"

namespace va::http {

// Moves the body out of `message`.
void fill_request(boost::beast::http::request<boost::beast::http::string_body>& message, Request& request);

struct ParsedRequest {
    Request request;
    bool upgrade = false;     // a WebSocket upgrade (routed to WebSocket endpoints)
    bool keep_alive = false;
    std::size_t consumed = 0;  // bytes of `wire` the request took (pipelined requests follow)
};

// One complete request from the start of `wire`: invalid_request for malformed or incomplete input, too_large
// past the limits (431/413 at the server).
Result<ParsedRequest> parse_request(std::string_view wire, std::size_t max_header_bytes, std::uint64_t max_body_bytes);

}  // namespace va::http
