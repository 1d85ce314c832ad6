// JWT access tokens, HS256 only, checked per RFC 8725: the algorithm is pinned (the header must say exactly
// {"alg":"HS256"}; "none" and every other algorithm are refused), the signature is compared in constant time, and
// exp, nbf, iat, iss and aud are all checked. The secret must be at least 32 bytes.
// Thread-safety: JwtSigner is immutable after construction; sign/verify are safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "core/util/result.hpp"

namespace va {

struct JwtClaims {
    std::string subject;       // sub: user id (or api key id)
    std::string workspace_id;  // wid
    std::string role;          // role
    std::string token_id;      // jti
    std::int64_t issued_at = 0;    // iat, seconds
    std::int64_t not_before = 0;   // nbf, seconds
    std::int64_t expires_at = 0;   // exp, seconds
};

struct JwtOptions {
    std::string secret;        // >= 32 bytes
    std::string issuer = "voiceagentd";
    std::string audience = "voiceagent-api";
    std::int64_t leeway_s = 30;  // clock skew tolerated on exp/nbf/iat
};

class JwtSigner {
public:
    // Fails (invalid_request) when the secret is shorter than 32 bytes.
    static Result<JwtSigner> create(JwtOptions options);

    // Fills iss/aud; iat/nbf/exp come from the claims (the caller sets them).
    std::string sign(const JwtClaims& claims) const;

    // unauthenticated with a reason on any failure; `now_s` is the current time in seconds.
    Result<JwtClaims> verify(const std::string& token, std::int64_t now_s) const;

private:
    explicit JwtSigner(JwtOptions options) : m_options(std::move(options)) {}
    JwtOptions m_options;
};

}  // namespace va
