"""One helper per rule: URL redaction, the digest grammar and the loopback test, used everywhere."""

from __future__ import annotations

import hashlib

import pytest

from regframe.client.digests import compute_digest, is_digest, validate_digest, verify_digest
from regframe.client.paging import Pager
from regframe.client.redact import redact_url
from regframe.errors import InvalidReferenceError, ManifestError, RegistryError
from regframe.parsing.reference import is_loopback_host, parse_reference
from regframe.parsing.reference import validate_digest as validate_reference_digest


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:secret@h.example/v2/x?token=abc#f", "https://h.example/v2/x"),
        ("https://h.example:8443/b/sha256:1?X-Amz-Signature=s", "https://h.example:8443/b/sha256:1"),
        ("http://[::1]:5000/v2/", "http://[::1]:5000/v2/"),
        ("http://[::1/v2/", "<unparsable URL>"),
        ("/v2/x/tags/list?last=abc", "/v2/x/tags/list"),
    ],
)  # fmt: skip
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_pagination_errors_never_show_userinfo_or_query() -> None:
    pager = Pager("r.example", "tags")
    with pytest.raises(RegistryError) as info:
        pager.next_url(
            "https://r.example/v2/x/tags/list",
            '<https://user:hunter2@evil.example/v2/x/tags/list?sig=s3cr3t>; rel="next"',
        )
    text = f"{info.value} {info.value.url}"
    assert "evil.example" in text
    assert "hunter2" not in text and "s3cr3t" not in text


SHA384 = "sha384:" + hashlib.sha384(b"x").hexdigest()


def test_one_digest_grammar_for_references_and_registry_answers() -> None:
    # sha384 is verifiable (go-digest), so both sides accept it ...
    assert parse_reference(f"r.example/x@{SHA384}").digest == SHA384
    assert is_digest(SHA384) and validate_digest(SHA384) == SHA384
    verify_digest(b"x", SHA384)
    assert compute_digest(b"x", "sha384") == SHA384
    # ... and both refuse the same things, each with its own error class and the same reason.
    bad = "sha256:" + "A" * 64
    with pytest.raises(InvalidReferenceError, match="uppercase hex"):
        validate_reference_digest(bad)
    with pytest.raises(ManifestError, match=r"invalid config digest .*uppercase hex"):
        validate_digest(bad, what="config digest")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("LOCALHOST", True), ("127.0.0.2", True), ("[::1]", True),
     ("::1", True), ("10.0.0.1", False), ("localhost.example", False), ("", False)],
)  # fmt: skip
def test_one_loopback_rule(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("image", "loopback"),
    [("localhost:5000/x", True), ("127.0.0.2:5000/x", True), ("[::1]:5000/x", True),
     ("registry.example:5000/x", False), ("python", False)],
)  # fmt: skip
def test_reference_uses_the_loopback_rule(image: str, loopback: bool) -> None:
    assert parse_reference(image).is_loopback is loopback
