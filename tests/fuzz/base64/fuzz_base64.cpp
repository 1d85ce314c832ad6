// Fuzzes the byte encodings of core/util/encoding (base64 and base64url decoding of carrier payloads, tokens and
// keys; percent-decoding of URLs and forms): decoding never crashes, and encode/decode round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    // Arbitrary text as base64: when it decodes, re-encoding gives back text that decodes to the same bytes.
    if (auto bytes = va::base64_decode(input)) {
        auto again = va::base64_decode(va::base64_encode(*bytes));
        FUZZ_CHECK(again && *again == *bytes);
    }
    if (auto bytes = va::base64url_decode(input)) {
        auto again = va::base64url_decode(va::base64url_encode(*bytes));
        FUZZ_CHECK(again && *again == *bytes);
    }
    // Arbitrary bytes: encode then decode is the identity.
    auto decoded = va::base64_decode(va::base64_encode(input));
    FUZZ_CHECK(decoded && *decoded == input);
    auto decoded_url = va::base64url_decode(va::base64url_encode(input));
    FUZZ_CHECK(decoded_url && *decoded_url == input);

    // Percent-encoding: decode(encode(x)) == x; decoding arbitrary text never grows it.
    FUZZ_CHECK(va::percent_decode(va::percent_encode(input), false) == input);
    FUZZ_CHECK(va::percent_decode(input, true).size() <= input.size());
    FUZZ_CHECK(va::hex_encode(input).size() == 2 * input.size());
    return 0;
}
