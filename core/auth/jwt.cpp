#include "core/auth/jwt.hpp"

#include <nlohmann/json.hpp>

#include "core/util/encoding.hpp"
#include "core/util/json.hpp"

namespace va {

using nlohmann::json;

namespace {

Error refuse(const std::string& reason) { return make_error(ErrorCode::unauthenticated, "token " + reason); }

// Integer NumericDate claims only: a float or string "exp" is malformed rather than silently truncated.
Result<std::int64_t> numeric_claim(const json& payload, const char* name, bool required) {
    auto it = payload.find(name);
    if (it == payload.end()) {
        if (required) return refuse(std::string("has no ") + name + " claim");
        return std::int64_t{0};
    }
    if (!it->is_number_integer()) return refuse(std::string(name) + " claim is not an integer");
    return it->get<std::int64_t>();
}

std::string string_claim(const json& payload, const char* name) {
    auto it = payload.find(name);
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<JwtSigner> JwtSigner::create(JwtOptions options) {
    if (options.secret.size() < 32)
        return invalid_field("auth.jwt_secret", "must be at least 32 bytes (" + std::to_string(options.secret.size()) +
                                                    " given)");
    return JwtSigner(std::move(options));
}

std::string JwtSigner::sign(const JwtClaims& claims) const {
    // Fixed header: the only algorithm this daemon issues or accepts.
    static const std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    json payload{{"iss", m_options.issuer}, {"aud", m_options.audience}, {"sub", claims.subject},
                 {"wid", claims.workspace_id}, {"role", claims.role},   {"jti", claims.token_id},
                 {"iat", claims.issued_at},    {"nbf", claims.not_before}, {"exp", claims.expires_at}};
    std::string signing_input = header + "." + base64url_encode(payload.dump());
    return signing_input + "." + base64url_encode(hmac_sha256(m_options.secret, signing_input));
}

Result<JwtClaims> JwtSigner::verify(const std::string& token, std::int64_t now_s) const {
    if (token.size() > 8192) return refuse("too long");
    auto first = token.find('.');
    auto second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
    if (second == std::string::npos || token.find('.', second + 1) != std::string::npos)
        return refuse("is not a JWS compact serialization (three segments)");

    auto header_bytes = base64url_decode(std::string_view(token).substr(0, first));
    if (!header_bytes) return refuse("header is not base64url");
    json header = parse_json(*header_bytes);
    if (header.is_discarded() || !header.is_object()) return refuse("header is not a JSON object");
    // RFC 8725 3.1: the algorithm is pinned; "none", other HMACs and every asymmetric algorithm are refused.
    auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "HS256")
        return refuse("algorithm not allowed");
    if (auto typ = header.find("typ"); typ != header.end() && (!typ->is_string() || *typ != "JWT"))
        return refuse("type not allowed");
    // Only the two parameters this daemon writes are accepted: "crit" must be refused (we understand no
    // extensions), and key-locating parameters (jku, jwk, kid, x5u, x5c, ...) must never steer verification.
    // The name is not echoed: it is attacker-chosen text.
    for (auto it = header.begin(); it != header.end(); ++it)
        if (it.key() != "alg" && it.key() != "typ") return refuse("header parameter not allowed");

    // Signature before looking at the payload: nothing unauthenticated is interpreted further.
    auto signature = base64url_decode(std::string_view(token).substr(second + 1));
    if (!signature) return refuse("signature is not base64url");
    std::string expected = hmac_sha256(m_options.secret, std::string_view(token).substr(0, second));
    if (!constant_time_equal(*signature, expected)) return refuse("signature is invalid");

    auto payload_bytes = base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
    if (!payload_bytes) return refuse("payload is not base64url");
    json payload = parse_json(*payload_bytes);
    if (payload.is_discarded() || !payload.is_object()) return refuse("payload is not a JSON object");

    auto exp = numeric_claim(payload, "exp", true);
    if (!exp) return exp.take_error();
    auto iat = numeric_claim(payload, "iat", true);
    if (!iat) return iat.take_error();
    auto nbf = numeric_claim(payload, "nbf", false);
    if (!nbf) return nbf.take_error();
    const auto leeway = m_options.leeway_s;
    if (now_s >= *exp + leeway) return refuse("expired");
    if (payload.contains("nbf") && now_s + leeway < *nbf) return refuse("not yet valid");
    if (*iat > now_s + leeway) return refuse("issued in the future");

    if (string_claim(payload, "iss") != m_options.issuer) return refuse("issuer not accepted");
    bool audience_ok = false;
    if (auto aud = payload.find("aud"); aud != payload.end()) {
        if (aud->is_string()) audience_ok = *aud == m_options.audience;
        else if (aud->is_array())
            for (const auto& a : *aud) audience_ok |= a.is_string() && a == m_options.audience;
    }
    if (!audience_ok) return refuse("audience not accepted");

    JwtClaims claims;
    claims.subject = string_claim(payload, "sub");
    claims.workspace_id = string_claim(payload, "wid");
    claims.role = string_claim(payload, "role");
    claims.token_id = string_claim(payload, "jti");
    claims.issued_at = *iat;
    claims.not_before = *nbf;
    claims.expires_at = *exp;
    if (claims.subject.empty()) return refuse("has no subject");
    return claims;
}

}  // namespace va
