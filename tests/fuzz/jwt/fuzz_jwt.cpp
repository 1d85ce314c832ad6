// Fuzzes JWT verification (core/auth/jwt): bearer tokens come from any client. A forged or malformed token is
// refused, never a crash; a token we signed verifies to the same claims.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/auth/jwt.hpp"
#include "core/util/encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {
const va::JwtSigner& signer() {
    static const va::JwtSigner s = *va::JwtSigner::create({std::string(32, 'k'), "voiceagentd", "voiceagent-api", 30});
    return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string token(reinterpret_cast<const char*>(data), size);
    auto claims = signer().verify(token, 1'700'000'000);
    if (claims) {
        // Only our own signature can pass: the fuzzer cannot forge HMAC-SHA256, so this is a signed token.
        FUZZ_CHECK(signer().verify(signer().sign(*claims), 1'700'000'000).ok());
    }
    // The input as claims: signing then verifying round trips them.
    va::JwtClaims mine;
    // (hex: ids are ours, never raw client bytes, and JSON strings must be UTF-8; short: tokens over 8 KiB are
    // refused; a subject is required)
    std::string_view part(token.data(), std::min<std::size_t>(size, 1024));
    mine.subject = "u" + va::hex_encode(part.substr(0, part.size() / 2));
    mine.workspace_id = va::hex_encode(part.substr(part.size() / 2));
    mine.role = "admin";
    mine.issued_at = 1'700'000'000;
    mine.not_before = 1'700'000'000;
    mine.expires_at = 1'700'000'900;
    auto back = signer().verify(signer().sign(mine), 1'700'000'000);
    FUZZ_CHECK(back && back->subject == mine.subject && back->workspace_id == mine.workspace_id);
    return 0;
}
