"""The validator against a loopback discovery + JWKS server, with tokens minted here."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from ai_tutor.identity import IdentityError, Reason, load_oidc_settings, validate_id_token
from ai_tutor.identity.settings import OidcSettings

from .conftest import Clock
from .provider import (
    CLIENT_ID,
    TENANT_ID,
    LoopbackProvider,
    claims_for,
    hs256_with_secret,
    mint,
    public_jwk,
    public_pem,
    tamper,
    unsigned_token,
)

USER_FLOW = "B2C_1_signupsignin"
CUSTOM_POLICY = "B2C_1A_signup_signin"


def settings_for(discovery_url: str, **overrides: Any) -> OidcSettings:
    raw: dict[str, Any] = {
        "mode": "required",
        "discovery_url": discovery_url,
        "audience": CLIENT_ID,
    }
    raw.update(overrides)
    return load_oidc_settings(raw)


def refusal(token: str, settings: OidcSettings) -> IdentityError:
    with pytest.raises(IdentityError) as caught:
        validate_id_token(token, settings)
    return caught.value


@pytest.fixture
def user_flow(provider: LoopbackProvider, rsa_keys: dict[str, Any]) -> tuple[str, str]:
    """A B2C user flow publishing the `flow` key: (discovery URL, issuer)."""
    return provider.add_b2c_policy(USER_FLOW, [public_jwk(rsa_keys["flow"], "flow-1", "RS256")])


def test_valid_token_gives_the_learner_identity(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    token = mint(rsa_keys["flow"], claims_for(issuer, roles=["learner", "mentor"]), kid="flow-1")

    identity = validate_id_token(token, settings_for(discovery))

    assert identity.issuer == issuer
    assert identity.subject == "9a8b7c6d-0000-4000-8000-00000000a11c"
    assert identity.object_id == "9a8b7c6d-0000-4000-8000-00000000a11c"
    assert (identity.given_name, identity.family_name, identity.name) == (
        "Alice",
        "Example",
        "Alice Example",
    )
    assert identity.roles == ("learner", "mentor")


def test_ec_signed_token_is_accepted_when_es256_is_allowed(provider, ec_signing_key) -> None:
    discovery, issuer = provider.add_b2c_policy(
        USER_FLOW, [public_jwk(ec_signing_key, "ec-1", "ES256")]
    )
    token = mint(ec_signing_key, claims_for(issuer), kid="ec-1", alg="ES256")

    assert validate_id_token(token, settings_for(discovery, algorithms=["ES256"])).issuer == issuer
    assert refusal(token, settings_for(discovery)).reason is Reason.DISALLOWED_ALGORITHM


def test_alg_none_is_refused(user_flow) -> None:
    discovery, issuer = user_flow

    error = refusal(unsigned_token(claims_for(issuer)), settings_for(discovery))

    assert error.reason is Reason.DISALLOWED_ALGORITHM
    assert error.status == 401


def test_hs256_signed_with_the_public_key_text_is_refused_even_if_configured(
    user_flow, rsa_keys
) -> None:
    discovery, issuer = user_flow
    forged = hs256_with_secret(claims_for(issuer), public_pem(rsa_keys["flow"]), "flow-1")

    for algorithms in (["RS256"], ["RS256", "HS256"], ["HS256"]):
        error = refusal(forged, settings_for(discovery, algorithms=algorithms))
        assert error.reason is Reason.DISALLOWED_ALGORITHM


def test_token_signed_by_a_key_the_provider_never_published_is_refused(
    provider, user_flow, rsa_keys
) -> None:
    discovery, issuer = user_flow
    forged = mint(rsa_keys["attacker"], claims_for(issuer), kid="attacker-1")

    assert refusal(forged, settings_for(discovery)).reason is Reason.UNKNOWN_KEY


def test_known_kid_with_a_foreign_signature_is_a_bad_signature(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    forged = mint(rsa_keys["attacker"], claims_for(issuer), kid="flow-1")
    genuine = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")

    assert refusal(forged, settings_for(discovery)).reason is Reason.BAD_SIGNATURE
    assert refusal(tamper(genuine), settings_for(discovery)).reason is Reason.BAD_SIGNATURE


def test_header_keys_jku_x5u_and_embedded_jwk_are_never_used(provider, user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    attacker = rsa_keys["attacker"]
    jku = provider.serve("/attacker/keys", {"keys": [public_jwk(attacker, "flow-1", "RS256")]})
    headers = {"jku": jku, "x5u": jku, "jwk": public_jwk(attacker, "flow-1", "RS256")}
    forged = mint(attacker, claims_for(issuer), kid="flow-1", headers=headers)

    assert refusal(forged, settings_for(discovery)).reason is Reason.BAD_SIGNATURE
    assert provider.hits["/attacker/keys"] == 0


def test_wrong_issuer_is_refused(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    token = mint(rsa_keys["flow"], claims_for("https://evil.example/v2.0/"), kid="flow-1")

    error = refusal(token, settings_for(discovery))

    assert error.reason is Reason.WRONG_ISSUER
    assert issuer in error.detail and "https://evil.example/v2.0/" in error.detail


def test_explicit_issuer_list_replaces_the_discovery_issuer(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    other = "https://login.example.org/tenant/v2.0/"
    token = mint(rsa_keys["flow"], claims_for(other), kid="flow-1")

    assert validate_id_token(token, settings_for(discovery, issuers=[other])).issuer == other
    assert refusal(token, settings_for(discovery)).reason is Reason.WRONG_ISSUER
    issuer_token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")
    assert refusal(issuer_token, settings_for(discovery, issuers=[other])).reason is (
        Reason.WRONG_ISSUER
    )


def test_wrong_audience_is_refused(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    token = mint(rsa_keys["flow"], claims_for(issuer, aud="another-client"), kid="flow-1")

    assert refusal(token, settings_for(discovery)).reason is Reason.WRONG_AUDIENCE


def test_several_audiences_need_azp_to_be_the_client_id(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    audiences = [CLIENT_ID, "another-api"]
    good = mint(rsa_keys["flow"], claims_for(issuer, aud=audiences, azp=CLIENT_ID), kid="flow-1")
    bad = mint(rsa_keys["flow"], claims_for(issuer, aud=audiences, azp="another"), kid="flow-1")
    missing = mint(rsa_keys["flow"], claims_for(issuer, aud=audiences), kid="flow-1")

    assert validate_id_token(good, settings_for(discovery)).issuer == issuer
    assert refusal(bad, settings_for(discovery)).reason is Reason.WRONG_AUDIENCE
    assert refusal(missing, settings_for(discovery)).reason is Reason.WRONG_AUDIENCE


def test_expired_beyond_the_leeway_is_refused_within_it_accepted(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    now = int(time.time())
    long_ago = mint(
        rsa_keys["flow"],
        claims_for(issuer, iat=now - 4000, nbf=now - 4000, exp=now - 90),
        kid="flow-1",
    )
    just_now = mint(
        rsa_keys["flow"],
        claims_for(issuer, iat=now - 4000, nbf=now - 4000, exp=now - 30),
        kid="flow-1",
    )

    assert refusal(long_ago, settings_for(discovery)).reason is Reason.EXPIRED
    assert validate_id_token(just_now, settings_for(discovery)).issuer == issuer


def test_nbf_slightly_in_the_future_is_accepted_within_the_leeway(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    now = int(time.time())
    soon = mint(rsa_keys["flow"], claims_for(issuer, nbf=now + 30), kid="flow-1")
    later = mint(rsa_keys["flow"], claims_for(issuer, nbf=now + 600), kid="flow-1")
    future_iat = mint(rsa_keys["flow"], claims_for(issuer, iat=now + 600), kid="flow-1")

    assert validate_id_token(soon, settings_for(discovery)).issuer == issuer
    assert refusal(later, settings_for(discovery)).reason is Reason.NOT_YET_VALID
    assert refusal(future_iat, settings_for(discovery)).reason is Reason.NOT_YET_VALID
    assert refusal(soon, settings_for(discovery, leeway_seconds=0)).reason is (Reason.NOT_YET_VALID)


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "sub"])
def test_each_required_claim_must_be_present(user_flow, rsa_keys, claim: str) -> None:
    discovery, issuer = user_flow
    token = mint(rsa_keys["flow"], claims_for(issuer, **{claim: None}), kid="flow-1")

    assert refusal(token, settings_for(discovery)).reason in (
        Reason.MALFORMED,
        Reason.WRONG_AUDIENCE,  # PyJWT names a missing `aud` an audience problem
    )


def test_garbage_is_malformed(user_flow) -> None:
    discovery, _ = user_flow
    for token in ("", "not-a-jwt", "a.b.c", "x" * 20000):
        assert refusal(token, settings_for(discovery)).reason is Reason.MALFORMED


def test_key_rotation_new_kid_after_one_refetch_second_unknown_kid_in_cooldown_not_fetched(
    provider, user_flow, rsa_keys, clock: Clock
) -> None:
    discovery, issuer = user_flow
    settings = settings_for(discovery)
    jwks_path = provider.jwks_path(discovery)
    validate_id_token(mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1"), settings)
    assert provider.hits[jwks_path] == 1

    provider.set_jwks(
        discovery,
        [
            public_jwk(rsa_keys["flow"], "flow-1", "RS256"),
            public_jwk(rsa_keys["rotated"], "flow-2", "RS256"),
        ],
    )
    clock.advance(5)
    rotated = mint(rsa_keys["rotated"], claims_for(issuer), kid="flow-2")
    assert validate_id_token(rotated, settings).issuer == issuer
    assert provider.hits[jwks_path] == 2

    clock.advance(5)
    stranger = mint(rsa_keys["attacker"], claims_for(issuer), kid="flow-3")
    assert refusal(stranger, settings).reason is Reason.UNKNOWN_KEY
    assert provider.hits[jwks_path] == 2

    clock.advance(settings.jwks_refetch_cooldown_seconds)
    assert refusal(stranger, settings).reason is Reason.UNKNOWN_KEY
    assert provider.hits[jwks_path] == 3


def test_jwks_failing_after_the_cache_expired_keeps_the_known_keys(
    provider, user_flow, rsa_keys, clock: Clock
) -> None:
    discovery, issuer = user_flow
    settings = settings_for(discovery, jwks_ttl_seconds=600)
    jwks_path = provider.jwks_path(discovery)
    token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")
    validate_id_token(token, settings)

    provider.set_jwks(discovery, [], status=500)
    clock.advance(601)
    assert validate_id_token(token, settings).issuer == issuer
    assert provider.hits[jwks_path] == 2

    clock.advance(1)
    assert validate_id_token(token, settings).issuer == issuer
    assert provider.hits[jwks_path] == 2, "a failed refresh must not be retried on every question"


def test_keys_are_refreshed_after_the_ttl(provider, user_flow, rsa_keys, clock: Clock) -> None:
    discovery, issuer = user_flow
    settings = settings_for(discovery, jwks_ttl_seconds=600)
    jwks_path = provider.jwks_path(discovery)
    token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")

    validate_id_token(token, settings)
    clock.advance(599)
    validate_id_token(token, settings)
    assert provider.hits[jwks_path] == 1

    provider.set_jwks(discovery, [public_jwk(rsa_keys["rotated"], "flow-2", "RS256")])
    clock.advance(2)
    assert refusal(token, settings).reason is Reason.UNKNOWN_KEY
    assert provider.hits[jwks_path] == 2


def test_the_key_cache_is_shared_per_process_and_keyed_by_configuration(
    provider, user_flow, rsa_keys
) -> None:
    discovery, issuer = user_flow
    token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")

    for _ in range(3):  # as if three block instances each loaded their settings
        validate_id_token(token, settings_for(discovery))
    assert provider.hits[discovery.removeprefix(provider.origin)] == 1
    assert provider.hits[provider.jwks_path(discovery)] == 1

    validate_id_token(token, settings_for(discovery, jwks_ttl_seconds=120))
    assert provider.hits[provider.jwks_path(discovery)] == 2


def test_jwks_keys_without_alg_still_work(provider, rsa_keys, ec_signing_key) -> None:
    discovery, issuer = provider.add_b2c_policy(
        USER_FLOW,
        [public_jwk(rsa_keys["flow"], "flow-1", None), public_jwk(ec_signing_key, "ec-1", None)],
    )
    settings = settings_for(discovery, algorithms=["RS256", "ES256"])

    rsa_token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")
    ec_token = mint(ec_signing_key, claims_for(issuer), kid="ec-1", alg="ES256")
    assert validate_id_token(rsa_token, settings).issuer == issuer
    assert validate_id_token(ec_token, settings).issuer == issuer

    # An RSA key cannot be made to verify an ES256 header, nor the reverse.
    mismatched = mint(ec_signing_key, claims_for(issuer), kid="flow-1", alg="ES256")
    assert refusal(mismatched, settings).reason is Reason.BAD_SIGNATURE


def test_encryption_symmetric_and_private_keys_in_the_jwks_are_skipped(provider, rsa_keys) -> None:
    encryption = public_jwk(rsa_keys["flow"], "enc-1", "RS256") | {"use": "enc"}
    symmetric = {"kty": "oct", "kid": "oct-1", "k": "c2VjcmV0", "alg": "HS256"}
    discovery, issuer = provider.add_b2c_policy(USER_FLOW, [encryption, symmetric])

    token = mint(rsa_keys["flow"], claims_for(issuer), kid="enc-1")
    assert refusal(token, settings_for(discovery)).reason is Reason.PROVIDER_UNREACHABLE


def test_b2c_claims_with_emails_and_no_email(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    claims = claims_for(issuer, emails=["first@example.org", "second@example.org"])
    assert "email" not in claims
    token = mint(rsa_keys["flow"], claims, kid="flow-1")

    identity = validate_id_token(token, settings_for(discovery, policy=USER_FLOW))

    assert identity.email == "first@example.org"
    assert "first@example.org" not in repr(identity)


def test_claims_mapping_reads_b2c_custom_attributes(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    claims = claims_for(issuer, extension_Roles="teacher, admin", given_name=None)
    settings = settings_for(
        discovery,
        claims={"roles": ["extension_Roles"]},
        role_labels={"teacher": "schoolteacher"},
    )

    identity = validate_id_token(mint(rsa_keys["flow"], claims, kid="flow-1"), settings)

    assert identity.roles == ("schoolteacher",)
    assert identity.given_name is None and identity.name == "Alice Example"


def test_policy_is_checked_from_tfp_or_acr(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    by_acr = claims_for(issuer, tfp=None, acr=USER_FLOW.lower())
    other = claims_for(issuer, tfp="B2C_1_passwordreset")
    settings = settings_for(discovery, policy=USER_FLOW)

    assert validate_id_token(mint(rsa_keys["flow"], by_acr, kid="flow-1"), settings)
    error = refusal(mint(rsa_keys["flow"], other, kid="flow-1"), settings)
    assert error.reason is Reason.WRONG_POLICY


def test_tenant_is_checked_from_tid_or_the_b2c_issuer_path(user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")

    assert validate_id_token(token, settings_for(discovery, tenant_id=TENANT_ID.upper()))
    error = refusal(token, settings_for(discovery, tenant_id="another-tenant"))
    assert error.reason is Reason.WRONG_ISSUER


def test_custom_policy_token_presented_to_a_user_flow_configuration_is_refused(
    provider, user_flow, rsa_keys
) -> None:
    flow_discovery, issuer = user_flow
    custom_discovery, custom_issuer = provider.add_b2c_policy(
        CUSTOM_POLICY, [public_jwk(rsa_keys["custom"], "custom-1", "RS256")]
    )
    assert custom_issuer == issuer, "B2C user flows and custom policies share the issuer"
    token = mint(rsa_keys["custom"], claims_for(issuer, tfp=CUSTOM_POLICY), kid="custom-1")

    assert validate_id_token(token, settings_for(custom_discovery)).issuer == issuer
    assert refusal(token, settings_for(flow_discovery)).reason is Reason.UNKNOWN_KEY
    # Refused on the freshly loaded user-flow key set, with no second fetch.
    assert provider.hits[provider.jwks_path(flow_discovery)] == 1


def test_entra_external_id_issuer_with_the_tenant_id_as_host(provider, rsa_keys) -> None:
    issuer = f"https://{TENANT_ID}.ciamlogin.com/{TENANT_ID}/v2.0"
    jwks = provider.serve(
        f"/{TENANT_ID}/discovery/v2.0/keys",
        {"keys": [public_jwk(rsa_keys["flow"], "ciam-1", None)]},
    )
    discovery = provider.serve(
        f"/{TENANT_ID}/v2.0/.well-known/openid-configuration",
        {"issuer": issuer, "jwks_uri": jwks},
    )
    claims = claims_for(issuer, tid=TENANT_ID, email="alice@example.org", emails=None, tfp=None)
    token = mint(rsa_keys["flow"], claims, kid="ciam-1")

    identity = validate_id_token(token, settings_for(discovery, tenant_id=TENANT_ID))

    assert identity.issuer == issuer
    assert identity.tenant_id == TENANT_ID
    assert identity.email == "alice@example.org"


def test_old_microsoftonline_discovery_issuer_does_not_match_a_b2clogin_token(
    provider, rsa_keys
) -> None:
    old_issuer = f"https://login.microsoftonline.com/{TENANT_ID}/v2.0/"
    discovery, _ = provider.add_b2c_policy(
        USER_FLOW, [public_jwk(rsa_keys["flow"], "flow-1", "RS256")], issuer=old_issuer
    )
    b2clogin_issuer = f"https://contoso.b2clogin.com/{TENANT_ID}/v2.0/"
    token = mint(rsa_keys["flow"], claims_for(b2clogin_issuer), kid="flow-1")

    error = refusal(token, settings_for(discovery))

    assert error.reason is Reason.WRONG_ISSUER
    assert old_issuer in error.detail and b2clogin_issuer in error.detail


def test_unreachable_provider(rsa_keys) -> None:
    settings = settings_for("http://127.0.0.1:9/tenant/v2.0/.well-known/openid-configuration")
    token = mint(rsa_keys["flow"], claims_for("https://issuer.example/"), kid="flow-1")

    error = refusal(token, settings)

    assert error.reason is Reason.PROVIDER_UNREACHABLE
    assert error.status == 503


def test_redirects_are_not_followed(provider, user_flow, rsa_keys) -> None:
    discovery, issuer = user_flow
    moved = provider.serve("/moved", {}, status=302, Location=discovery)
    token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")

    assert refusal(token, settings_for(moved)).reason is Reason.PROVIDER_UNREACHABLE
    assert provider.hits[discovery.removeprefix(provider.origin)] == 0


def test_plain_http_is_refused_except_on_loopback(rsa_keys) -> None:
    token = mint(rsa_keys["flow"], claims_for("https://issuer.example/"), kid="flow-1")
    settings = settings_for("http://login.example.org/.well-known/openid-configuration")

    assert refusal(token, settings).reason is Reason.MISCONFIGURED


def test_logs_name_the_reason_and_issuer_never_the_token_or_claims(
    user_flow, rsa_keys, caplog: pytest.LogCaptureFixture
) -> None:
    discovery, issuer = user_flow
    token = mint(rsa_keys["attacker"], claims_for(issuer), kid="flow-1")
    caplog.set_level(logging.DEBUG, logger="ai_tutor")

    refusal(token, settings_for(discovery))
    validate_id_token(
        mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1"), settings_for(discovery)
    )

    logged = caplog.text
    assert "reason=bad_signature" in logged and issuer in logged
    for secret in (token, token.split(".")[1], "alice@example.org", "Alice"):
        assert secret not in logged


def test_settings_defaults_and_bounds() -> None:
    defaults = load_oidc_settings({})
    assert (defaults.mode, defaults.algorithms, defaults.leeway_seconds) == ("off", ("RS256",), 60)
    assert defaults.social_auth_backend == "azuread-b2c-oauth2"
    assert defaults.accept_bearer_header is False and defaults.send_email_to_provider is False

    bounded = load_oidc_settings(
        {
            "mode": "requried",
            "leeway_seconds": 3600,
            "algorithms": ["HS256", "none", "ES256"],
            "issuer": "https://op.example/tenant/",
            "audience": "a,b",
        }
    )
    assert bounded.mode == "required"
    assert bounded.leeway_seconds == 300
    assert bounded.algorithms == ("ES256",)
    assert bounded.discovery_url == "https://op.example/tenant/.well-known/openid-configuration"
    assert bounded.audiences == ("a", "b")


def test_b2c_discovery_with_the_policy_as_a_query_parameter(provider, rsa_keys) -> None:
    issuer = f"https://contoso.b2clogin.com/{TENANT_ID}/v2.0/"
    query = f"?p={USER_FLOW.lower()}"
    jwks = provider.serve(
        f"/contoso.onmicrosoft.com/discovery/v2.0/keys{query}",
        {"keys": [public_jwk(rsa_keys["flow"], "flow-1", None)]},
    )
    discovery = provider.serve(
        f"/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration{query}",
        {"issuer": issuer, "jwks_uri": jwks},
    )
    token = mint(rsa_keys["flow"], claims_for(issuer), kid="flow-1")

    assert validate_id_token(token, settings_for(discovery, policy=USER_FLOW)).issuer == issuer
