"""Property-based fuzzing of everything that reads untrusted input: only typed errors, no hangs.

Already covered elsewhere (not repeated here): ``parse_reference`` on arbitrary
text and grammar soup (test_reference.py), ``parse_www_authenticate`` /
``parse_link_next`` / ``parse_retry_after`` on arbitrary text plus linear-time
checks (test_headers.py), ``parse_tags`` on grammar-shaped tags
(test_versions.py).  Added here: ``read_tags`` as a whole on arbitrary
references and platforms (with the network walled off), ``parse_tags`` on
*any* text, and the parsers of registry answers — tag lists, manifests,
configs, token lifetimes, realms — on arbitrary JSON and bytes.

No test here may touch the network: ``Transport.request``,
``RegistryClient.open`` and ``socket.connect`` are replaced for the duration.
"""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

import regframe as rf
import regframe.client.auth as auth_mod
import regframe.client.registry as registry_mod
import regframe.client.transport as transport_mod
from regframe.client.manifests import OCI_INDEX, OCI_MANIFEST, parse_config, parse_manifest
from regframe.client.transport import Reply
from regframe.errors import InvalidReferenceError, ManifestError, RegistryError
from regframe.parsing.reference import parse_reference

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class NetworkAttempt(Exception):
    """Raised instead of any network traffic; never a RegframeError."""


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Wall off the network; yields the list of attempted destinations."""
    attempts: list[str] = []

    def request(self: Any, method: str, url: str, **kwargs: Any) -> Reply:
        attempts.append(url)
        raise NetworkAttempt(url)

    def open_(cls: Any, reference: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(str(reference))
        raise NetworkAttempt(str(reference))

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(repr(address))
        raise NetworkAttempt(repr(address))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(transport_mod.Transport, "request", request)
        mp.setattr(registry_mod.RegistryClient, "open", classmethod(open_))
        mp.setattr(socket.socket, "connect", connect)
        yield attempts


# -- read_tags on arbitrary input -------------------------------------------------------

_soup = st.text(alphabet="abAB09:/@._-[]%?#\\ \t\n\x00é", max_size=80)


@FUZZ
@given(st.one_of(st.text(max_size=200), _soup), st.booleans())
def test_read_tags_on_any_string_fails_typed_or_goes_to_the_network(
    image: str, dates: bool
) -> None:
    try:
        expected = parse_reference(image)
    except InvalidReferenceError:
        expected = None
    with no_network() as attempts:
        try:
            rf.read_tags(image, dates=dates, cache=False)
        except InvalidReferenceError:
            assert expected is None
            assert attempts == []  # refused before any traffic
            return
        except NetworkAttempt:
            pass
    assert expected is not None, f"{image!r} was sent to the network although it is invalid"
    assert attempts


@FUZZ
@given(st.one_of(st.text(max_size=60), st.text(alphabet="linuxamd64arm/v8 ", max_size=30)))
def test_read_tags_platform_is_checked_before_the_network(platform: str) -> None:
    with no_network() as attempts:
        try:
            rf.read_tags("127.0.0.1:1/a/b", dates=True, platform=platform, cache=False)
        except InvalidReferenceError:
            assert attempts == []
        except NetworkAttempt:
            assert attempts


@FUZZ
@given(st.lists(st.one_of(st.none(), st.text(max_size=300)), max_size=25))
def test_parse_tags_never_raises_on_any_text(tags: list[str | None]) -> None:
    df = rf.parse_tags(tags)
    assert len(df) == len(tags)
    for given_tag, got in zip(tags, df["tag"], strict=True):
        assert pd.isna(got) if given_tag is None else got == given_tag
    parsed = df["release"].dropna()
    assert all(r[:1].isdigit() for r in parsed)
    rf.sort_tags(df)  # sorting whatever came out must work too


def test_parse_tags_on_a_huge_tag_is_fast() -> None:
    tags = ["9" * 100_000, "1." * 50_000, "v" + "-rc" * 30_000, "\x00" * 10_000]
    start = time.monotonic()
    df = rf.parse_tags(tags)
    assert len(df) == 4
    assert time.monotonic() - start < 2


# -- registry answers ------------------------------------------------------------------

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)
_digest = st.sampled_from(
    ["sha256:" + "a" * 64, "sha256:../../x", "sha512:" + "b" * 128, "", "sha256:" + "A" * 64]
)
_descriptor = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": st.sampled_from([OCI_MANIFEST, OCI_INDEX, "x/y", ""]) | _json_leaf,
        "digest": _digest | _json_leaf,
        "size": st.integers(-5, 10**12) | _json_leaf,
        "platform": st.fixed_dictionaries(
            {},
            optional={
                "os": st.sampled_from(["linux", ""]) | _json_leaf,
                "architecture": st.text(max_size=8),
            },
        )
        | _json_leaf,
        "annotations": st.dictionaries(st.text(max_size=5), _json_leaf, max_size=3) | _json_leaf,
    },
)
# Near-misses: the manifest vocabulary with values of every type.
_manifest_like = st.fixed_dictionaries(
    {},
    optional={
        "schemaVersion": st.sampled_from([1, 2, 3, "2", True, None]),
        "mediaType": st.sampled_from(
            [OCI_MANIFEST, OCI_INDEX, "application/vnd.docker.distribution.manifest.v1+json", "a/b"]
        )
        | _json_leaf,
        "config": _descriptor | _json_leaf,
        "layers": st.lists(_descriptor, max_size=3) | _json_leaf,
        "manifests": st.lists(_descriptor, max_size=3) | _json_leaf,
        "annotations": _json,
        "fsLayers": _json,
        "history": st.lists(
            st.fixed_dictionaries({"v1Compatibility": st.text(max_size=40) | _json_leaf}),
            max_size=2,
        )
        | _json,
        "signatures": _json,
    },
)
_content_types = st.sampled_from(
    [
        None,
        "",
        "application/json",
        OCI_MANIFEST,
        OCI_INDEX,
        "text/html; charset=utf-8",
        "x/y; q=0.5",
    ]
)


@FUZZ
@given(st.one_of(_manifest_like, _json), _content_types)
def test_parse_manifest_only_raises_manifest_error(doc: Any, content_type: str | None) -> None:
    data = json.dumps(doc).encode()
    with suppress(ManifestError):
        kind = type(parse_manifest(data, content_type=content_type)).__name__
        assert kind in ("Index", "ImageManifest", "Schema1")


@FUZZ
@given(st.binary(max_size=300), _content_types)
def test_parse_manifest_on_bytes_only_raises_manifest_error(
    data: bytes, content_type: str | None
) -> None:
    with pytest.raises(ManifestError):  # no bytes hash to all zeroes
        parse_manifest(data, content_type=content_type, digest="sha256:" + "0" * 64)


_config_like = st.fixed_dictionaries(
    {},
    optional={
        "created": st.sampled_from(
            [
                "2024-01-01T00:00:00Z",
                "0001-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "9999-99-99",
                "",
            ]
        )
        | _json_leaf,
        "architecture": _json_leaf,
        "os": _json_leaf,
        "variant": _json_leaf,
        "config": st.fixed_dictionaries({}, optional={"Labels": _json}) | _json_leaf,
    },
)


@FUZZ
@given(st.one_of(_config_like, _json))
def test_parse_config_only_raises_manifest_error(doc: Any) -> None:
    try:
        config = parse_config(json.dumps(doc).encode())
    except ManifestError:
        return
    created = getattr(config, "created", None)
    assert created is None or isinstance(created, pd.Timestamp)


def _reply(body: bytes) -> Reply:
    return Reply(
        200,
        CaseInsensitiveDict({"Content-Type": "application/json"}),
        body,
        "http://r/v2/a/tags/list",
    )


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        _json.map(lambda d: json.dumps(d).encode()),
        st.fixed_dictionaries({"tags": _json}).map(lambda d: json.dumps(d).encode()),
        st.fixed_dictionaries({"tags": st.lists(_json_leaf, max_size=10)}).map(
            lambda d: json.dumps(d).encode()
        ),
    )
)
def test_tag_list_bodies_give_strings_or_registry_error(body: bytes) -> None:
    try:
        result = registry_mod._tags_from(_reply(body), "r")
    except RegistryError:
        return
    # (tags, gcr manifests) since the GCR fast path; a bare list before it.
    tags = result[0] if isinstance(result, tuple) else result
    assert isinstance(tags, list)
    assert all(isinstance(t, str) and t.strip() for t in tags)


@FUZZ
@given(st.one_of(_json_leaf, st.text(max_size=20)), st.one_of(_json_leaf, st.datetimes().map(str)))
def test_token_lifetime_is_always_sane(expires_in: Any, issued_at: Any) -> None:
    seconds = auth_mod._lifetime(expires_in, issued_at)
    assert isinstance(seconds, float) and not math.isnan(seconds)
    assert 1.0 <= seconds <= 24 * 3600


_realm = st.builds(
    "{}://{}{}{}/{}".format,
    st.sampled_from(["http", "https", "HTTPS", "ftp", "file", ""]),
    st.sampled_from(["", "user@", "user:pw@", ":@", "@"]),
    st.sampled_from(
        ["auth.example.com", "127.0.0.1", "10.0.0.1", "[::1]", "169.254.169.254", "", "localhost"]
    ),
    st.sampled_from(["", ":443", ":0", ":99999", ":x"]),
    st.text(alphabet="tokn?=&/@#", max_size=12),
)


@FUZZ
@given(
    st.one_of(st.text(max_size=100), _realm),
    st.sampled_from(["https://registry.example.com", "http://127.0.0.1:5000", "https://10.1.2.3"]),
)
def test_check_realm_returns_the_realm_or_an_authentication_error(
    realm: str, registry: str
) -> None:
    try:
        urlsplit(realm)
    except ValueError:
        assume(False)  # bug B4, pinned by test_realm_that_urlsplit_rejects_is_typed below
    try:
        assert auth_mod.check_realm(realm, registry) == realm
    except rf.AuthenticationError:
        return
    # Whatever passed is http(s), without userinfo, and not a downgrade.
    parts = urlsplit(realm)
    assert parts.scheme in ("http", "https") and parts.hostname
    assert "@" not in parts.netloc
    if registry.startswith("https"):
        assert parts.scheme == "https"


@pytest.mark.parametrize("realm", ["http://[/token", "https://[::1/token", "https://a]b/token"])
def test_realm_that_urlsplit_rejects_is_typed(realm: str) -> None:
    with pytest.raises(rf.AuthenticationError):
        auth_mod.check_realm(realm, "https://registry.example.com")
