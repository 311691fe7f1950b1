"""Attribute-based access: authorities sign attribute assertions as Ed25519 JWTs (PyJWT); every
provider and reseller verifies them itself — signature, algorithm, issuer, expiry — against its
own list of trusted authorities, and never trusts a party upstream or downstream to have done so.

Claims: ``iss`` (authority), ``sub`` (the holder), ``iat``, ``exp``, ``attrs`` (list of strings).
Only ``EdDSA`` is accepted: the algorithm is pinned by the verifier, never taken from the token,
which defeats alg=none and the HS256-with-the-public-key confusion.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ("iss", "sub", "iat", "exp")


class AssertionRejected(Exception):
    """A token that does not prove anything; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Assertion:
    issuer: str
    subject: str
    attributes: frozenset[str]
    expires: float

    @property
    def holder(self) -> str:
        """Who holds it, qualified by its authority (two authorities may both know an 'alice')."""
        return f"{self.issuer}/{self.subject}"

    def satisfies(self, required: Iterable[str]) -> bool:
        return set(required) <= self.attributes

    def missing(self, required: Iterable[str]) -> list[str]:
        return sorted(set(required) - self.attributes)


def new_authority_key() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a fresh Ed25519 authority key."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def issue_assertion(private_pem: bytes, issuer: str, subject: str, attributes: Iterable[str],
                    ttl_seconds: float = 3600.0, now: float | None = None) -> str:
    """What an authority does: sign ``attributes`` for ``subject``."""
    now = time.time() if now is None else now
    key = serialization.load_pem_private_key(private_pem, password=None)
    claims = {"iss": issuer, "sub": subject, "iat": int(now), "exp": int(now + ttl_seconds),
              "attrs": sorted(set(attributes))}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


@dataclass
class TrustStore:
    """The authorities one party trusts: issuer name -> Ed25519 public key."""

    issuers: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    leeway_seconds: float = 5.0

    def trust(self, issuer: str, public_pem: bytes) -> None:
        key = serialization.load_pem_public_key(public_pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"authority {issuer}: only Ed25519 keys are accepted")
        self.issuers[issuer] = key

    @classmethod
    def from_files(cls, issuers: dict[str, str | Path]) -> "TrustStore":
        store = cls()
        for name, path in issuers.items():
            store.trust(name, Path(path).read_bytes())
        return store

    def verify(self, token: str) -> Assertion:
        """The assertion in ``token``, or AssertionRejected with the reason."""
        if not token or token.count(".") != 2:
            raise AssertionRejected("not a JWT (expected header.payload.signature)")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AssertionRejected(f"malformed token: {exc}") from None
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise AssertionRejected(f"algorithm {alg!r} is not accepted (only {ALGORITHM})")
        issuer = unverified.get("iss")
        key = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if key is None:
            raise AssertionRejected(f"unknown issuer {issuer!r}")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=issuer,
                                options={"require": list(REQUIRED_CLAIMS)}, leeway=self.leeway_seconds,
                                # PyJWT reads the clock itself; we check exp against ours below
                                )
        except jwt.InvalidSignatureError:
            raise AssertionRejected("signature does not verify (token tampered with or signed by another key)") from None
        except jwt.ExpiredSignatureError:
            raise AssertionRejected("token expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AssertionRejected(f"missing claim: {exc.claim}") from None
        except jwt.PyJWTError as exc:
            raise AssertionRejected(f"invalid token: {exc}") from None
        if claims["exp"] + self.leeway_seconds < self.clock():
            raise AssertionRejected("token expired")
        attrs = claims.get("attrs", [])
        if not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs):
            raise AssertionRejected("attrs must be a list of strings")
        return Assertion(issuer, str(claims["sub"]), frozenset(attrs), float(claims["exp"]))
