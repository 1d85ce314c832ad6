#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <utility>
#include <vector>

#include "core/auth/jwt.hpp"
#include "core/util/encoding.hpp"

using namespace va;
using nlohmann::json;

namespace {

const std::string kSecret(40, 's');
constexpr std::int64_t kNow = 1'800'000'000;

JwtSigner signer(std::string secret = kSecret) { return JwtSigner::create({secret, "voiceagentd", "voiceagent-api", 30}).value(); }

JwtClaims claims() {
    JwtClaims c;
    c.subject = "usr_1";
    c.workspace_id = "ws_1";
    c.role = "admin";
    c.token_id = "jti-1";
    c.issued_at = kNow;
    c.not_before = kNow;
    c.expires_at = kNow + 900;
    return c;
}

// Builds a token from arbitrary header and payload JSON, signed with HS256 under `secret`.
std::string forge(const json& header, const json& payload, const std::string& secret = kSecret) {
    std::string input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
    return input + "." + base64url_encode(hmac_sha256(secret, input));
}

json good_payload() {
    return {{"iss", "voiceagentd"}, {"aud", "voiceagent-api"}, {"sub", "usr_1"}, {"wid", "ws_1"}, {"role", "admin"},
            {"iat", kNow},          {"nbf", kNow},             {"exp", kNow + 900}};
}

std::string reason(const Result<JwtClaims>& r) { return r ? "accepted" : r.error().message; }

}  // namespace

TEST_CASE("jwt: a signed token verifies and carries its claims") {
    auto s = signer();
    auto token = s.sign(claims());
    auto verified = s.verify(token, kNow + 10);
    REQUIRE(verified);
    CHECK(verified->subject == "usr_1");
    CHECK(verified->workspace_id == "ws_1");
    CHECK(verified->role == "admin");
    CHECK(verified->token_id == "jti-1");
    CHECK(verified->expires_at == kNow + 900);
    CHECK(s.verify(forge({{"alg", "HS256"}}, good_payload()), kNow));  // typ is optional
}

TEST_CASE("jwt: secrets shorter than 32 bytes are refused") {
    auto r = JwtSigner::create({std::string(31, 'x'), "i", "a", 0});
    REQUIRE_FALSE(r);
    CHECK(r.error().details.at(0).field == "auth.jwt_secret");
}

TEST_CASE("jwt: alg none and every other algorithm are refused (RFC 8725 3.1)") {
    auto s = signer();
    // alg none with an empty signature, the classic downgrade
    std::string none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(good_payload().dump()) + ".";
    CHECK(reason(s.verify(none, kNow)) == "token algorithm not allowed");
    for (const char* alg : {"none", "None", "HS384", "HS512", "RS256", "ES256", "PS256", "hs256"})
        CHECK(reason(s.verify(forge({{"alg", alg}, {"typ", "JWT"}}, good_payload()), kNow)) == "token algorithm not allowed");
    CHECK(reason(s.verify(forge({{"typ", "JWT"}}, good_payload()), kNow)) == "token algorithm not allowed");
    CHECK(reason(s.verify(forge({{"alg", json::array({"HS256"})}}, good_payload()), kNow)) == "token algorithm not allowed");
    CHECK(reason(s.verify(forge({{"alg", "HS256"}, {"typ", "at+jwt"}}, good_payload()), kNow)) == "token type not allowed");
    CHECK(reason(s.verify(forge({{"alg", "HS256"}, {"typ", 1}}, good_payload()), kNow)) == "token type not allowed");
}

TEST_CASE("jwt: crit and key-locating header parameters are refused even when correctly signed") {
    auto s = signer();
    const std::vector<std::pair<std::string, json>> params{
        {"crit", json::array({"exp"})}, {"jku", "https://attacker.example/keys"}, {"jwk", {{"kty", "oct"}, {"k", "AA"}}},
        {"x5u", "https://attacker.example/cert"}, {"x5c", json::array({"MIIB"})}, {"kid", "../../dev/null"},
        {"x5t", "abc"}, {"cty", "JWT"}, {"zip", "DEF"}};
    for (const auto& [name, value] : params) {
        INFO(name);
        json header{{"alg", "HS256"}, {"typ", "JWT"}};
        header[name] = value;
        CHECK(reason(s.verify(forge(header, good_payload()), kNow)) == "token header parameter not allowed");
    }
}

TEST_CASE("jwt: each malformation is refused with its reason") {
    auto s = signer();
    auto token = s.sign(claims());
    auto first = token.find('.');
    auto second = token.rfind('.');
    const std::string three_segments = "token is not a JWS compact serialization (three segments)";
    CHECK(reason(s.verify(token.substr(0, second), kNow)) == three_segments);  // two segments
    CHECK(reason(s.verify(token + "." + token.substr(second + 1), kNow)) == three_segments);  // four segments
    CHECK(reason(s.verify("*" + token.substr(1), kNow)) == "token header is not base64url");
    CHECK(reason(s.verify(token.substr(0, first) + "=" + token.substr(first), kNow)) == "token header is not base64url");
    CHECK(reason(s.verify(token + "=", kNow)) == "token signature is not base64url");
    CHECK(reason(s.verify(token.substr(0, second + 1) + "+/", kNow)) == "token signature is not base64url");
    CHECK(reason(s.verify(base64url_encode("{\"alg\":") + token.substr(first), kNow)) == "token header is not a JSON object");
    CHECK(reason(s.verify(base64url_encode("\"HS256\"") + token.substr(first), kNow)) == "token header is not a JSON object");
    // A payload that is validly signed JSON, but an array: refused after the signature check.
    CHECK(reason(s.verify(forge({{"alg", "HS256"}}, json::array({good_payload()})), kNow)) ==
          "token payload is not a JSON object");
    // A payload that is signed but not JSON at all.
    std::string input = base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode("sub=usr_1");
    CHECK(reason(s.verify(input + "." + base64url_encode(hmac_sha256(kSecret, input)), kNow)) ==
          "token payload is not a JSON object");
}

TEST_CASE("jwt: nbf is optional, leeway applies to nbf and iat") {
    auto s = signer();
    auto no_nbf = good_payload();
    no_nbf.erase("nbf");
    CHECK(s.verify(forge({{"alg", "HS256"}}, no_nbf), kNow));
    auto slightly_early = claims();
    slightly_early.not_before = kNow + 20;
    CHECK(s.verify(s.sign(slightly_early), kNow));  // within the 30 s leeway
    auto slightly_future = claims();
    slightly_future.issued_at = kNow + 20;
    CHECK(s.verify(s.sign(slightly_future), kNow));
    slightly_future.issued_at = kNow + 31;
    CHECK(reason(s.verify(s.sign(slightly_future), kNow)) == "token issued in the future");
    auto no_sub = good_payload();
    no_sub.erase("sub");
    CHECK(reason(s.verify(forge({{"alg", "HS256"}}, no_sub), kNow)) == "token has no subject");
}

TEST_CASE("jwt: tampering with payload or signature is detected") {
    auto s = signer();
    auto token = s.sign(claims());
    auto first = token.find('.'), second = token.rfind('.');
    json payload = json::parse(*base64url_decode(token.substr(first + 1, second - first - 1)));
    payload["role"] = "owner";
    std::string tampered = token.substr(0, first + 1) + base64url_encode(payload.dump()) + token.substr(second);
    CHECK(reason(s.verify(tampered, kNow)) == "token signature is invalid");

    std::string bad_sig = token;
    bad_sig.back() = bad_sig.back() == 'A' ? 'B' : 'A';
    CHECK_FALSE(s.verify(bad_sig, kNow));
    CHECK(reason(signer(std::string(40, 't')).verify(token, kNow)) == "token signature is invalid");
    CHECK_FALSE(s.verify(token.substr(0, second + 1), kNow));  // signature stripped
}

TEST_CASE("jwt: time claims are enforced with leeway") {
    auto s = signer();
    auto token = s.sign(claims());
    CHECK(s.verify(token, kNow + 900 + 29));
    CHECK(reason(s.verify(token, kNow + 900 + 30)) == "token expired");
    auto early = claims();
    early.not_before = kNow + 600;
    CHECK(reason(s.verify(s.sign(early), kNow)) == "token not yet valid");
    CHECK(s.verify(s.sign(early), kNow + 600));
    auto future = claims();
    future.issued_at = kNow + 3600;
    CHECK(reason(s.verify(s.sign(future), kNow)) == "token issued in the future");

    auto no_exp = good_payload();
    no_exp.erase("exp");
    CHECK(reason(s.verify(forge({{"alg", "HS256"}}, no_exp), kNow)) == "token has no exp claim");
    auto no_iat = good_payload();
    no_iat.erase("iat");
    CHECK(reason(s.verify(forge({{"alg", "HS256"}}, no_iat), kNow)) == "token has no iat claim");
    auto float_exp = good_payload();
    float_exp["exp"] = double(kNow) + 900.5;
    CHECK_FALSE(s.verify(forge({{"alg", "HS256"}}, float_exp), kNow));
    auto string_exp = good_payload();
    string_exp["exp"] = "9999999999";
    CHECK_FALSE(s.verify(forge({{"alg", "HS256"}}, string_exp), kNow));
}

TEST_CASE("jwt: issuer and audience must match") {
    auto s = signer();
    auto wrong_iss = good_payload();
    wrong_iss["iss"] = "someone-else";
    CHECK(reason(s.verify(forge({{"alg", "HS256"}}, wrong_iss), kNow)) == "token issuer not accepted");
    auto wrong_aud = good_payload();
    wrong_aud["aud"] = "other-api";
    CHECK(reason(s.verify(forge({{"alg", "HS256"}}, wrong_aud), kNow)) == "token audience not accepted");
    auto no_aud = good_payload();
    no_aud.erase("aud");
    CHECK_FALSE(s.verify(forge({{"alg", "HS256"}}, no_aud), kNow));
    auto array_aud = good_payload();
    array_aud["aud"] = json::array({"other", "voiceagent-api"});
    CHECK(s.verify(forge({{"alg", "HS256"}}, array_aud), kNow));
}

TEST_CASE("jwt: malformed tokens are refused without crashing") {
    auto s = signer();
    auto token = s.sign(claims());
    for (const std::string& bad :
         {std::string(""), std::string("abc"), std::string("a.b"), token + ".extra", std::string("..."),
          std::string("!!!.???.***"), base64url_encode("not json") + "." + base64url_encode("{}") + ".x",
          forge({{"alg", "HS256"}}, json::array({1, 2})), std::string(9000, 'a')}) {
        auto r = s.verify(bad, kNow);
        CHECK_FALSE(r);
        if (!r) CHECK(r.error().code == ErrorCode::unauthenticated);
    }
    // Header that is JSON but not an object, and padding in base64url.
    CHECK_FALSE(s.verify(base64url_encode("[1]") + "." + base64url_encode(good_payload().dump()) + ".sig", kNow));
    CHECK_FALSE(s.verify(token + "=", kNow));
}
