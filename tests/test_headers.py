"""HTTP header grammars: WWW-Authenticate, Link rel=next, Retry-After."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regframe.client.headers import (
    Challenge,
    parse_link_next,
    parse_retry_after,
    parse_www_authenticate,
    pick_challenge,
)

# --- WWW-Authenticate: what real registries send -----------------------------------------------

REAL_WORLD = [
    (
        "docker hub",
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/python:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/python:pull",
                },
            )
        ],
    ),
    (
        "docker hub insufficient_scope (comma inside the quoted scope)",
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push",error="insufficient_scope"',
        [
            (
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:samalba/my-app:pull,push",
                    "error": "insufficient_scope",
                },
            )
        ],
    ),
    (
        "ghcr",
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://ghcr.io/token",
                    "service": "ghcr.io",
                    "scope": "repository:o/r:pull",
                },
            )
        ],
    ),
    (
        "elastic",
        'Bearer realm="https://docker-auth.elastic.co/auth",service="token-service",'
        'scope="repository:elasticsearch/elasticsearch:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://docker-auth.elastic.co/auth",
                    "service": "token-service",
                    "scope": "repository:elasticsearch/elasticsearch:pull",
                },
            )
        ],
    ),
    (
        "quay",
        'Bearer realm="https://quay.io/v2/auth",service="quay.io"',
        [("bearer", {"realm": "https://quay.io/v2/auth", "service": "quay.io"})],
    ),
    (
        "ecr",
        'Basic realm="https://123.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
        [
            (
                "basic",
                {
                    "realm": "https://123.dkr.ecr.us-east-1.amazonaws.com/",
                    "service": "ecr.amazonaws.com",
                },
            )
        ],
    ),
    (
        "harbor",
        'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",'
        'scope="repository:library/nginx:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://harbor.example.com/service/token",
                    "service": "harbor-registry",
                    "scope": "repository:library/nginx:pull",
                },
            )
        ],
    ),
    (
        "gitlab",
        'Bearer realm="https://gitlab.com/jwt/auth",service="container_registry",'
        'scope="repository:group/project:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://gitlab.com/jwt/auth",
                    "service": "container_registry",
                    "scope": "repository:group/project:pull",
                },
            )
        ],
    ),
    (
        "acr",
        'Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io"',
        [
            (
                "bearer",
                {"realm": "https://myreg.azurecr.io/oauth2/token", "service": "myreg.azurecr.io"},
            )
        ],
    ),
    (
        "distribution htpasswd",
        'Basic realm="Registry Realm"',
        [("basic", {"realm": "Registry Realm"})],
    ),
    (
        "several challenges in one value",
        'Basic realm="x", Bearer realm="y",service="z"',
        [("basic", {"realm": "x"}), ("bearer", {"realm": "y", "service": "z"})],
    ),
    (
        "quoted commas and escapes",
        r'Basic realm="a, b \"c\" d\\e", charset="UTF-8"',
        [("basic", {"realm": 'a, b "c" d\\e', "charset": "UTF-8"})],
    ),
    (
        "odd case and unquoted values",
        "bearer REALM=https://h/t , Service=svc",
        [("bearer", {"realm": "https://h/t", "service": "svc"})],
    ),
    (
        "extra whitespace and empty elements",
        '  ,, Bearer   realm = "r" ,  , service= "s" ,,  ',
        [("bearer", {"realm": "r", "service": "s"})],
    ),
    (
        "bare schemes",
        "Negotiate, NTLM",
        [("negotiate", {}), ("ntlm", {})],
    ),
    (
        "space separated params (lenient)",
        'Bearer realm="r" service="s"',
        [("bearer", {"realm": "r", "service": "s"})],
    ),
    (
        "first occurrence of a repeated param wins",
        'Bearer realm="first",realm="second"',
        [("bearer", {"realm": "first"})],
    ),
    (
        "garbage element is skipped",
        '"junk, more", Basic realm="r"',
        [("basic", {"realm": "r"})],
    ),
    ("empty", "", []),
    ("only commas", " , ,, ", []),
]


@pytest.mark.parametrize(
    ("header", "expected"), [(h, e) for _, h, e in REAL_WORLD], ids=[n for n, _, _ in REAL_WORLD]
)
def test_www_authenticate_real_world(
    header: str, expected: list[tuple[str, dict[str, str]]]
) -> None:
    challenges = parse_www_authenticate(header)
    assert [(c.scheme, dict(c.params)) for c in challenges] == expected


def test_token68() -> None:
    challenges = parse_www_authenticate('Negotiate abc==, Basic realm="r", Custom a/b+c~d.e_f-=')
    assert [(c.scheme, c.token68) for c in challenges] == [
        ("negotiate", "abc=="),
        ("basic", None),
        ("custom", "a/b+c~d.e_f-="),
    ]
    assert challenges[0].params == {}


def test_several_header_values() -> None:
    joined = parse_www_authenticate(['Basic realm="a"', 'Bearer realm="b",service="s"'])
    assert [(c.scheme, c.realm) for c in joined] == [("basic", "a"), ("bearer", "b")]
    assert joined[1].service == "s"
    assert parse_www_authenticate(None) == []
    assert parse_www_authenticate([]) == []


def test_challenge_accessors_and_immutability() -> None:
    (challenge,) = parse_www_authenticate(
        'Bearer realm="r",service="s",scope="repository:a:pull",error="insufficient_scope"'
    )
    assert (challenge.realm, challenge.service, challenge.scope, challenge.error) == (
        "r",
        "s",
        "repository:a:pull",
        "insufficient_scope",
    )
    with pytest.raises(TypeError):
        challenge.params["realm"] = "evil"  # type: ignore[index]
    assert hash(challenge) == hash(Challenge("bearer", {}))
    assert "realm" in repr(challenge)


def test_pick_challenge_prefers_the_first_scheme_named() -> None:
    challenges = parse_www_authenticate('Basic realm="b1", Bearer realm="t1", Bearer realm="t2"')
    bearer = pick_challenge(challenges, "bearer", "basic")
    basic = pick_challenge(challenges, "basic", "bearer")
    assert bearer is not None
    assert bearer.realm == "t1"
    assert basic is not None
    assert basic.realm == "b1"
    only_basic = parse_www_authenticate('Basic realm="x"')
    assert pick_challenge(only_basic, "bearer") is None
    assert pick_challenge(only_basic, "bearer", "basic") == only_basic[0]
    assert pick_challenge([], "basic") is None
    # a generator is read once, whatever the number of schemes asked for
    assert pick_challenge(iter(challenges), "negotiate", "basic") == basic


# --- WWW-Authenticate: properties ----------------------------------------------------------------

_token = st.text(alphabet="abcXYZ019!#$%&'*+-.^_`|~", min_size=1, max_size=8)
_value = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20
) | st.text(max_size=5)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(_token, st.dictionaries(_token, _value, max_size=4)),
        min_size=1,
        max_size=4,
    )
)
def test_www_authenticate_round_trip(challenges: list[tuple[str, dict[str, str]]]) -> None:
    header = ", ".join(
        scheme + (" " + ", ".join(f"{k}={_quote(v)}" for k, v in params.items()) if params else "")
        for scheme, params in challenges
    )
    parsed = parse_www_authenticate(header)
    expected = []
    for scheme, params in challenges:
        first: dict[str, str] = {}
        for k, v in params.items():
            first.setdefault(k.lower(), v)
        expected.append((scheme.lower(), first))
    assert [(c.scheme, dict(c.params)) for c in parsed] == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.text(alphabet='Bearer ,="\\\t/abc=', max_size=400))
def test_www_authenticate_fuzz(header: str) -> None:
    challenges = parse_www_authenticate(header)
    assert isinstance(challenges, list)
    for challenge in challenges:
        assert isinstance(challenge, Challenge)
        assert challenge.scheme
        assert challenge.scheme == challenge.scheme.lower()
        assert all(key and key == key.lower() for key in challenge.params)
        assert all(isinstance(v, str) for v in challenge.params.values())


# Inputs that make naive regex parsers backtrack exponentially or quadratically.
N = 50_000
HOSTILE_AUTH: list[Callable[[int], str]] = [
    lambda n: '"' * n,
    lambda n: "\\" * n,
    lambda n: 'Bearer realm="' + "\\" * n,
    lambda n: "Bearer " + 'a="' * n,
    lambda n: "Bearer " + "a=b " * (n // 4),
    lambda n: "a=" * (n // 2),
    lambda n: ", " * (n // 2),
    lambda n: "Basic " + "a" * n + "!",
    lambda n: "Basic " + "=" * n,
    lambda n: "B " * (n // 2),
    lambda n: 'Bearer realm="x' + ", x" * (n // 3),
]


@pytest.mark.parametrize("make", HOSTILE_AUTH)
def test_www_authenticate_linear_time(make: Callable[[int], str]) -> None:
    small, big = make(N // 8), make(N)
    start = time.perf_counter()
    parse_www_authenticate(small)
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    parse_www_authenticate(big)
    t_big = time.perf_counter() - start
    assert t_big < 1.0
    # 8x the input may take 8x the time; quadratic would be 64x.  Slack for noisy CPUs.
    assert t_big < 30 * t_small + 0.05


# --- Link ---------------------------------------------------------------------------------------

LINKS = [
    ('</v2/x/tags/list?last=b&n=2>; rel="next"', "/v2/x/tags/list?last=b&n=2"),
    (
        '<https://r.io/v2/x/tags/list?n=100&last=abc>; rel="next"',
        "https://r.io/v2/x/tags/list?n=100&last=abc",
    ),
    ("<b>; rel=next", "b"),
    ('<b>; rel="next last"', "b"),
    ('<b>; rel="last  next"', "b"),
    ('<b>; REL="NEXT"', "b"),
    ('<b>; title="a, b; c"; rel="next"; type="text/html"', "b"),
    ('<https://x/y?a=1,2;3>; rel="next"', "https://x/y?a=1,2;3"),
    ('<a>; rel="prev", <b>; rel="next", <c>; rel="next"', "b"),
    ('<a>; rel="prev",<b>;rel=next', "b"),
    ('< b >; rel="next"', "b"),
    ('<a>; rel="nextpage"', None),
    ('<a>; rel="prev"', None),
    ("<a>", None),
    ('<>; rel="next"', None),
    ('<a; rel="next"', None),
    ('garbage, <b>; rel="next"', "b"),
    ('"q, <x>"; rel=next, <b>; rel="next"', "b"),
    ('<a>; foo, <b>; rel="next"', "b"),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("header", "expected"), LINKS)
def test_link_next(header: str | None, expected: str | None) -> None:
    assert parse_link_next(header) == expected


def test_link_next_several_values() -> None:
    assert parse_link_next(['<a>; rel="prev"', '<b>; rel="next"']) == "b"


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=400) | st.text(alphabet='<>;, ="relnxt/\\', max_size=400))
def test_link_fuzz(header: str) -> None:
    result = parse_link_next(header)
    assert result is None or (isinstance(result, str) and result and result in header)


HOSTILE_LINK: list[Callable[[int], str]] = [
    lambda n: "<" * n,
    lambda n: "<a>;" * (n // 4),
    lambda n: "<a>; rel=" * (n // 9),
    lambda n: '<a>; x="' + "\\" * n,
    lambda n: ",<" * (n // 2),
    lambda n: '"' * n,
]


@pytest.mark.parametrize("make", HOSTILE_LINK)
def test_link_linear_time(make: Callable[[int], str]) -> None:
    small, big = make(N // 8), make(N)
    start = time.perf_counter()
    parse_link_next(small)
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    parse_link_next(big)
    t_big = time.perf_counter() - start
    assert t_big < 1.0
    assert t_big < 30 * t_small + 0.05


# --- Retry-After --------------------------------------------------------------------------------

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("120", 60.0),
        ("9" * 200, 60.0),
        ("-3", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW + timedelta(hours=3), usegmt=True), 60.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("Wednesday, 01-May-24 12:00:20 GMT", 20.0),  # RFC 850
        ("Wed May  1 12:00:10 2024", 10.0),  # asctime, no zone: UTC
        ("Fri, 31 Dec 9999 23:59:59 GMT", 60.0),
        ("abc", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("1e3", None),
        ("inf", None),
        ("nan", None),
        ("5 seconds", None),
        ("Wed, 99 Foo 2024 25:61:61 GMT", None),
        ("Wed, 01 May 2024 12:00:10 +9999", None),
        ("x" * 10_000, None),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_cap_and_naive_now() -> None:
    assert parse_retry_after("500", cap=600) == 500.0
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Wed, 01 May 2024 12:00:42 GMT", now=naive, cap=100) == 42.0


def test_retry_after_default_now_is_current_time() -> None:
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    result = parse_retry_after(soon)
    assert result is not None
    assert 17.0 <= result <= 20.0


@settings(max_examples=500, deadline=None)
@given(
    st.text(max_size=80)
    | st.from_type(int).map(str)
    | st.floats(allow_nan=True, allow_infinity=True).map(str)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
)
def test_retry_after_fuzz(value: str) -> None:
    result = parse_retry_after(value, now=NOW, cap=60.0)
    assert result is None or 0.0 <= result <= 60.0


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1)))
def test_retry_after_dates_fuzz(when: datetime) -> None:
    header = format_datetime(when.replace(tzinfo=timezone.utc), usegmt=True)
    result = parse_retry_after(header, now=NOW, cap=1e12)
    expected = max(0.0, (when.replace(tzinfo=timezone.utc, microsecond=0) - NOW).total_seconds())
    assert result == pytest.approx(expected)
