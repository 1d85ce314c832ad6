// Fuzzes Exotel status callbacks (providers/exotel/rest_client: parse_status_callback) in all three encodings:
// the first line of the input is the Content-Type (JSON, urlencoded, multipart with its boundary), the rest the
// body. The result, when there is one, is a JSON object that dumps.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "providers/exotel/rest_client.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto eol = input.find('\n');
    std::string_view content_type = input.substr(0, eol);
    std::string_view body = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    auto fields = va::exotel::parse_status_callback(content_type, body);
    if (!fields) return 0;
    FUZZ_CHECK(fields->is_object());
    (void)fields->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return 0;
}
