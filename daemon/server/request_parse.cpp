#include "daemon/server/request_parse.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <string>

#include "core/util/strings.hpp"

namespace va::http {

namespace bhttp = boost::beast::http;

void fill_request(bhttp::request<bhttp::string_body>& message, Request& request) {
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    auto q = request.target.find('?');
    request.path = url_decode(std::string_view(request.target).substr(0, q));
    if (q != std::string::npos) request.query = parse_query(std::string_view(request.target).substr(q + 1));
    for (const auto& field : message) request.headers.emplace_back(to_lower(field.name_string()), std::string(field.value()));
    request.body = std::move(message.body());
}

Result<ParsedRequest> parse_request(std::string_view wire, std::size_t max_header_bytes, std::uint64_t max_body_bytes) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
    parser.body_limit(max_body_bytes);
    parser.eager(true);
    boost::asio::const_buffer buffer(wire.data(), wire.size());
    boost::system::error_code ec;
    std::size_t consumed = 0;
    while (!parser.is_done() && buffer.size() > 0) {
        std::size_t n = parser.put(buffer, ec);
        consumed += n;
        buffer += n;
        if (ec == bhttp::error::need_more) {
            ec = {};
            break;  // all the bytes there are
        }
        if (ec) break;
    }
    // Ends a body delimited by the connection's end (put_eof wants at least the header).
    if (!ec && !parser.is_done() && parser.is_header_done()) parser.put_eof(ec);
    if (ec == bhttp::error::header_limit) return make_error(ErrorCode::too_large, "request headers too large");
    if (ec == bhttp::error::body_limit) return make_error(ErrorCode::too_large, "request body too large");
    if (ec) return invalid_field("request", "malformed HTTP request: " + ec.message());
    if (!parser.is_done()) return invalid_field("request", "incomplete HTTP request");
    ParsedRequest out;
    auto& message = parser.get();
    out.upgrade = boost::beast::websocket::is_upgrade(message);
    out.keep_alive = message.keep_alive();
    out.consumed = consumed;
    fill_request(message, out.request);
    return out;
}

}  // namespace va::http
