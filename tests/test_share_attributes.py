"""Attribute assertions: a party accepts only Ed25519 JWTs from authorities it trusts, unexpired
and untampered; each forgery is rejected with its own clear reason."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from ground.share.attributes import AssertionRejected, TrustStore, issue_assertion, new_authority_key

from share_helpers import Authority


@pytest.fixture(scope="module")
def authority():
    return Authority.create("opals-authority")


@pytest.fixture
def trust(authority):
    t = TrustStore()
    t.trust(authority.name, authority.public)
    return t


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_assertion(trust, authority):
    a = trust.verify(authority.token("alice", "public", "partner"))
    assert a.subject == "alice" and a.issuer == authority.name and a.holder == "opals-authority/alice"
    assert a.attributes == {"public", "partner"}
    assert a.satisfies(["partner"]) and not a.satisfies(["team"]) and a.missing(["team", "public"]) == ["team"]


def test_unknown_issuer(trust):
    other = Authority.create("someone-else")
    with pytest.raises(AssertionRejected, match="unknown issuer 'someone-else'"):
        trust.verify(other.token("mallory", "team"))


def test_known_issuer_name_but_other_key(trust, authority):
    impostor = Authority("opals-authority", *new_authority_key())
    with pytest.raises(AssertionRejected, match="signature does not verify"):
        trust.verify(impostor.token("mallory", "team"))


def test_tampered_payload(trust, authority):
    header, payload, sig = authority.token("alice", "public").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["attrs"] = ["public", "team"]
    with pytest.raises(AssertionRejected, match="signature does not verify"):
        trust.verify(f"{header}.{_b64(claims)}.{sig}")


def test_hs256_signed_with_the_public_key(trust, authority):
    claims = {"iss": authority.name, "sub": "mallory", "iat": int(time.time()), "exp": int(time.time()) + 60,
              "attrs": ["team"]}
    # PyJWT itself refuses to HMAC with a PEM key; craft the token by hand as an attacker would.
    import hashlib
    import hmac
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    sig = base64.urlsafe_b64encode(hmac.new(authority.public, signing_input.encode(), hashlib.sha256).digest())
    with pytest.raises(AssertionRejected, match="algorithm 'HS256' is not accepted"):
        trust.verify(f"{signing_input}.{sig.rstrip(b'=').decode()}")


def test_alg_none(trust, authority):
    claims = {"iss": authority.name, "sub": "mallory", "iat": int(time.time()), "exp": int(time.time()) + 60,
              "attrs": ["team"]}
    token = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(AssertionRejected, match="algorithm 'none' is not accepted"):
        trust.verify(token)


def test_expired(trust, authority):
    token = issue_assertion(authority.private, authority.name, "alice", ["public"], ttl_seconds=60,
                            now=time.time() - 3600)
    with pytest.raises(AssertionRejected, match="expired"):
        trust.verify(token)


def test_expiry_follows_the_injected_clock(authority):
    t = TrustStore(clock=lambda: time.time() + 7200)
    t.trust(authority.name, authority.public)
    with pytest.raises(AssertionRejected, match="expired"):
        t.verify(authority.token("alice", "public", ttl=3600))


def test_missing_expiry_and_garbage(trust, authority):
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(authority.private, None)
    token = jwt.encode({"iss": authority.name, "sub": "alice", "iat": int(time.time())}, key, algorithm="EdDSA")
    with pytest.raises(AssertionRejected, match="missing claim: exp"):
        trust.verify(token)
    for junk in ("", "abc", "a.b.c", "....."):
        with pytest.raises(AssertionRejected):
            trust.verify(junk)


def test_only_ed25519_authority_keys_are_trusted():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValueError, match="Ed25519"):
        TrustStore().trust("ec-authority", pem)
