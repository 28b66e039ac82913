"""Image reference parsing: docker's normalisation, the grammar's corners, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from regframe.errors import InvalidReferenceError
from regframe.parsing.reference import (
    DOCKER_HUB_REGISTRY,
    Reference,
    parse_reference,
    validate_digest,
    validate_tag,
)

HUB = DOCKER_HUB_REGISTRY
D256 = "sha256:" + "0123456789abcdef" * 4
D384 = "sha384:" + "ab" * 48
D512 = "sha512:" + "cd" * 64

# (input, registry, repository, tag, digest)
VALID = [
    ("python", HUB, "library/python", None, None),
    ("python:3", HUB, "library/python", "3", None),
    ("python:3.13.0rc2-slim-bookworm", HUB, "library/python", "3.13.0rc2-slim-bookworm", None),
    ("library/python:3", HUB, "library/python", "3", None),
    ("docker.io/python", HUB, "library/python", None, None),
    ("docker.io/library/python", HUB, "library/python", None, None),
    ("index.docker.io/python", HUB, "library/python", None, None),
    ("index.docker.io/grafana/grafana", HUB, "grafana/grafana", None, None),
    ("registry-1.docker.io/python", HUB, "library/python", None, None),
    ("bitnami/redis:7.2", HUB, "bitnami/redis", "7.2", None),
    ("ghcr.io/o/r", "ghcr.io", "o/r", None, None),
    ("ghcr.io/o/r/deeper/still:v1", "ghcr.io", "o/r/deeper/still", "v1", None),
    ("gcr.io/distroless/static", "gcr.io", "distroless/static", None, None),
    ("quay.io/prometheus/prometheus", "quay.io", "prometheus/prometheus", None, None),
    (
        "docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
        "docker.elastic.co",
        "elasticsearch/elasticsearch",
        "8.15.0",
        None,
    ),
    ("localhost/x", "localhost", "x", None, None),
    ("localhost:5000/x", "localhost:5000", "x", None, None),
    ("localhost:5000/x:latest", "localhost:5000", "x", "latest", None),
    # No '/': 'localhost:5000' is a Docker Hub name with a tag, exactly as docker reads it.
    ("localhost:5000", HUB, "library/localhost", "5000", None),
    ("127.0.0.1:5000/a/b", "127.0.0.1:5000", "a/b", None, None),
    ("10.1.2.3/a", "10.1.2.3", "a", None, None),
    ("[::1]:5000/x", "[::1]:5000", "x", None, None),
    ("[::1]/x:t", "[::1]", "x", "t", None),
    ("[2001:db8::1]:443/ns/img", "[2001:db8::1]:443", "ns/img", None, None),
    ("myhost:443/x", "myhost:443", "x", None, None),
    ("Registry.Example.COM/x", "registry.example.com", "x", None, None),
    ("host-with-dash.example/x", "host-with-dash.example", "x", None, None),
    ("host/x@" + D256, HUB, "host/x", None, D256),
    ("h.io/x@" + D256, "h.io", "x", None, D256),
    ("h.io/x:1.0@" + D256, "h.io", "x", "1.0", D256),
    ("h.io/x@" + D384, "h.io", "x", None, D384),
    ("h.io/x@" + D512, "h.io", "x", None, D512),
    ("a--b/c__d", HUB, "a--b/c__d", None, None),
    ("a-----b/c.d/e_f", HUB, "a-----b/c.d/e_f", None, None),
    ("h.io/x:" + "a" * 128, "h.io", "x", "a" * 128, None),
    ("h.io/x:_under", "h.io", "x", "_under", None),
    ("h.io/x:MiXeD.Case-9", "h.io", "x", "MiXeD.Case-9", None),
    ("docker.io", HUB, "library/docker.io", None, None),
    ("0", HUB, "library/0", None, None),
    ("a" * 64 + ":tag", HUB, "library/" + "a" * 64, "tag", None),
]

# (input, words the message must contain)
INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("\t", "empty"),
    (" python", "whitespace"),
    ("python\n", "whitespace"),
    ("Python", "lowercase"),
    ("library/Python", "lowercase"),
    ("Foo/bar", "lowercase"),
    ("a//b", "empty path component"),
    ("a/", "empty path component"),
    ("/a", "empty path component"),
    ("h.io/", "empty path component"),
    ("docker.io/", "empty path component"),
    ("-a", "cannot start with '-'"),
    (".a", "cannot start with '.'"),
    ("_a", "cannot start with '_'"),
    ("a-", "cannot end with '-'"),
    ("a.", "cannot end with '.'"),
    ("a...b", "bad separator"),
    ("a___b", "bad separator"),
    ("a._b", "bad separator"),
    ("a/b!c", "invalid characters"),
    ("x@sha256:abc", "64 hex digits"),
    ("x@sha256:" + "A" * 64, "uppercase"),
    ("x@sha256:" + "g" * 64, "non-hex"),
    ("x@sha256:" + "a" * 65, "64 hex digits"),
    ("x@md5:" + "a" * 32, "unsupported algorithm"),
    ("x@sha512:" + "a" * 64, "128 hex digits"),
    ("x@", "invalid digest"),
    ("x@sha256", "algorithm:hex"),
    ("x@@" + D256, "more than one '@'"),
    ("x@sha256:../../x", "non-hex"),
    ("x:" + "a" * 129, "at most 128"),
    ("x:.a", "cannot start with '.'"),
    ("x:-a", "cannot start with '-'"),
    ("x:", "empty"),
    ("x:a/b", "not a number"),
    ("x:t!", "only letters"),
    ("h.io/" + "a" * 251, "at most 255"),
    ("a" * 246, "at most 255"),
    ("python:3.1\u00e9", "non-ASCII"),
    ("h\u00e9.io/x", "non-ASCII"),
    ("h:0/x", "out of range"),
    ("h:65536/x", "out of range"),
    ("h:99999999999999999999/x", "out of range"),
    ("h:ab/x", "not a number"),
    ("h:/x", "empty port"),
    (":5000/x", "empty registry host"),
    (".io/x", "invalid registry host"),
    ("-h.io/x", "invalid registry host"),
    ("h_x.io/x", "invalid registry host"),
    ("[::1/x", "unterminated"),
    ("[zz]:5000/x", "IPv6"),
    ("[fe80::1%eth0]/x", "IPv6"),
    ("http://h.io/x", "drop the scheme"),
    ("https://ghcr.io/o/r", "drop the scheme"),
    ("a" * 64, "image ID"),
]


@pytest.mark.parametrize(("image", "registry", "repository", "tag", "digest"), VALID)
def test_valid_references(
    image: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(image)
    assert ref == Reference(registry, repository, tag, digest)
    # The canonical form parses back to the same reference.
    assert parse_reference(str(ref)) == ref


@pytest.mark.parametrize(("image", "words"), INVALID)
def test_invalid_references(image: str, words: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(image)
    message = str(info.value)
    assert words.lower() in message.lower()
    assert repr(image)[:60] in message  # the input is quoted


def test_table_sizes() -> None:
    assert len(VALID) + len(INVALID) >= 40


def test_invalid_reference_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="invalid image reference"):
        parse_reference("UPPER")


def test_non_string_input() -> None:
    with pytest.raises(InvalidReferenceError, match="expected a string"):
        parse_reference(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "image",
    [
        "A" * 100_000,
        "a" + "." * 100_000 + "b",
        "h:" + "9" * 100_000 + "/x",
        "h.io/x:" + "a" * 100_000,
        "h.io/x@sha256:" + "a" * 100_000,
        "https://" + "a" * 100_000,
        "[" + ":" * 100_000 + "]/x",
    ],
    ids=["upper", "dots", "port", "tag", "digest", "scheme", "ipv6"],
)
def test_hostile_long_input_message_is_bounded(image: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(image)
    assert len(str(info.value)) < 1000


@pytest.mark.parametrize(
    ("image", "text"),
    [
        ("python:3", "docker.io/library/python:3"),
        ("index.docker.io/grafana/grafana", "docker.io/grafana/grafana"),
        ("h.io/x:1@" + D256, "h.io/x:1@" + D256),
        ("LOCALHOST:5000/x", "localhost:5000/x"),
    ],
)
def test_str_is_canonical(image: str, text: str) -> None:
    assert str(parse_reference(image)) == text


@pytest.mark.parametrize(
    ("image", "domain", "hub", "loopback", "scheme", "host", "port"),
    [
        ("python", "docker.io", True, False, "https", "registry-1.docker.io", None),
        ("ghcr.io/o/r", "ghcr.io", False, False, "https", "ghcr.io", None),
        ("localhost/x", "localhost", False, True, "http", "localhost", None),
        ("localhost:5000/x", "localhost:5000", False, True, "http", "localhost", 5000),
        ("127.0.0.1:5000/x", "127.0.0.1:5000", False, True, "http", "127.0.0.1", 5000),
        ("127.9.8.7/x", "127.9.8.7", False, True, "http", "127.9.8.7", None),
        ("[::1]:5000/x", "[::1]:5000", False, True, "http", "[::1]", 5000),
        ("[2001:db8::1]/x", "[2001:db8::1]", False, False, "https", "[2001:db8::1]", None),
        ("128.0.0.1/x", "128.0.0.1", False, False, "https", "128.0.0.1", None),
        ("localhost.example.com/x", "localhost.example.com", False, False, "https", None, None),
        ("10.0.0.1:5000/x", "10.0.0.1:5000", False, False, "https", "10.0.0.1", 5000),
    ],
)
def test_properties(
    image: str,
    domain: str,
    hub: bool,
    loopback: bool,
    scheme: str,
    host: str | None,
    port: int | None,
) -> None:
    ref = parse_reference(image)
    assert ref.domain == domain
    assert ref.is_docker_hub is hub
    assert ref.is_loopback is loopback
    assert ref.scheme_default == scheme
    assert ref.host == (host if host is not None else domain)
    assert ref.port == port
    assert ref.name == f"{domain}/{ref.repository}"


def test_reference_is_frozen_and_hashable() -> None:
    ref = parse_reference("python:3")
    with pytest.raises(AttributeError):
        ref.tag = "4"  # type: ignore[misc]
    assert {ref, parse_reference("docker.io/library/python:3")} == {ref}


@pytest.mark.parametrize("digest", [D256, D384, D512])
def test_validate_digest_accepts(digest: str) -> None:
    assert validate_digest(digest) == digest


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:../../x",
        "sha256:" + "a" * 63,
        "sha256:" + "a" * 64 + "/",
        "sha256:" + "a" * 64 + "\n",
        "SHA256:" + "a" * 64,
        "sha1:" + "a" * 40,
        ":" + "a" * 64,
        "sha256:",
        "sha256",
        "",
        "sha256:" + "a" * 32 + "?x=" + "a" * 29,
    ],
)
def test_validate_digest_refuses(digest: str) -> None:
    with pytest.raises(InvalidReferenceError, match="invalid digest"):
        validate_digest(digest)


@pytest.mark.parametrize("tag", ["latest", "3", "_x", "A.b-C_d", "a" * 128])
def test_validate_tag_accepts(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", ".x", "-x", "a" * 129, "a/b", "a:b", "a b", "é", "../x"])
def test_validate_tag_refuses(tag: str) -> None:
    with pytest.raises(InvalidReferenceError, match="invalid tag"):
        validate_tag(tag)


# --- property-based ---------------------------------------------------------------------------

_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_alnum = st.text(alphabet=_LOWER, min_size=1, max_size=6)
_separator = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def _path_component(draw: st.DrawFn) -> str:
    parts = [draw(_alnum)]
    for _ in range(draw(st.integers(0, 2))):
        parts += [draw(_separator), draw(_alnum)]
    return "".join(parts)


_domain_component = st.one_of(
    _alnum,
    st.tuples(_alnum, st.text(alphabet=_LOWER + "-", max_size=4), _alnum).map("".join),
)
_hostname = st.lists(_domain_component, min_size=2, max_size=3).map(".".join)
_ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
_ipv6 = st.sampled_from(["[::1]", "[2001:db8::1]", "[fe80::a:b]"])
_host = st.one_of(_hostname, _ipv4, _ipv6, st.just("localhost"), st.just("docker.io"))
_port = st.one_of(st.none(), st.integers(1, 65535))
_tag = st.tuples(st.sampled_from("aZ9_"), st.text(alphabet="aZ9_.-", max_size=20)).map("".join)
_digest = st.sampled_from([D256, D384, D512])


@st.composite
def _references(draw: st.DrawFn) -> str:
    text = ""
    components = draw(st.lists(_path_component(), min_size=1, max_size=3))
    if draw(st.booleans()):
        host = draw(_host)
        port = draw(_port)
        text = host + (f":{port}" if port is not None else "") + "/"
    elif len(components) > 1:
        # Without a host, a first component with '.' (or 'localhost') would be read as one.
        components[0] = components[0].replace(".", "-")
        assume(components[0] != "localhost")
    text += "/".join(components)
    if draw(st.booleans()):
        text += ":" + draw(_tag)
    if draw(st.booleans()):
        text += "@" + draw(_digest)
    return text


@settings(max_examples=300, deadline=None)
@given(_references())
def test_round_trip(image: str) -> None:
    ref = parse_reference(image)
    again = parse_reference(str(ref))
    assert again == ref
    assert str(again) == str(ref)
    assert ref.registry == ref.registry.lower()
    if ref.is_docker_hub:
        assert "/" in ref.repository


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_invalid_reference(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidReferenceError:
        return
    assert parse_reference(str(ref)) == ref


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abAB09:/@._-[]", max_size=80))
def test_reference_alphabet_soup(text: str) -> None:
    # Near-miss inputs made of the grammar's own characters hit the corner cases.
    try:
        ref = parse_reference(text)
    except InvalidReferenceError:
        return
    assert parse_reference(str(ref)) == ref
