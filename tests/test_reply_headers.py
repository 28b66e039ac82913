"""The per-request shortcuts of the libcurl path against what they replace.

``host_key`` stands in for ``urlsplit(url).netloc.lower()`` (the per-host limit and the
proxy look-up) and ``_last_head`` builds :class:`~regframe.client.reply.Headers` instead
of requests' ``CaseInsensitiveDict``: both must answer exactly as before, on odd input too.
"""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import pytest
from requests.structures import CaseInsensitiveDict

from regframe.client.reply import Headers, host_key
from regframe.client.transport_curl import _last_head

ODD_URLS = [
    "https://Registry.Example:5000/v2/x/manifests/1.0",
    "https://127.0.0.1:40000/v2/bench/app/manifests/sha256:" + "a" * 64,
    "https://[::1]:5000/v2/",
    "https://user:pa%2Fss@host.example/v2/?n=1",
    "https://host.example?x=1",
    "https://host.example#frag",
    "https://host.example",
    "http://h\t.example/v2/",
    " https://host.example/v2/",
    "HOST.example/v2/",
    "//host.example/v2/",
    "",
]


@pytest.mark.parametrize("url", ODD_URLS)
def test_host_key_is_urlsplit_netloc(url: str) -> None:
    assert host_key(url) == urlsplit(url).netloc.lower()


def test_host_key_on_random_urls() -> None:
    pieces = ["https://", "http://", "//", "/", "?", "#", "@", ":", "Host", "[::1]", "5000",
              "u:p", " ", "\t", "\n", "%2F", ";", "\\", "ftp:", "\x00"]  # fmt: skip
    rng = random.Random(7)
    for _ in range(20_000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        try:
            expected: object = urlsplit(url).netloc.lower()
        except ValueError:
            expected = ValueError
        try:
            got: object = host_key(url)
        except ValueError:
            got = ValueError
        assert got == expected, url


def _as_requests_would(raw: bytes) -> CaseInsensitiveDict[str]:
    """The parse before ``Headers``: the last block, repeats joined, in a CaseInsensitiveDict."""
    text = raw.decode("latin-1").rstrip("\r\n")
    block = text[text.rfind("\r\n\r\n") + 4 :] if "\r\n\r\n" in text else text
    out: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for line in block.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            name, value = name.strip(), value.strip()
            out[name] = f"{out[name]}, {value}" if name in out else value
    return out


# What libcurl may hand the header callback: a proxy's CONNECT answer and a 100 Continue
# before the registry's own head, here with the field names Debian's docker-registry
# 2.8.2 sends for a manifest (and a few malformed lines).
REGISTRY_HEAD = (
    b"HTTP/1.1 200 Connection established\r\n\r\n"
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/2 200 \r\n"
    b"content-type: application/vnd.oci.image.index.v1+json\r\n"
    b"docker-content-digest: sha256:" + b"ab" * 32 + b"\r\n"
    b"docker-distribution-api-version: registry/2.0\r\n"
    b'etag: "sha256:' + b"ab" * 32 + b'"\r\n'
    b"link: </v2/x/tags/list?last=b&n=2>; rel=\"next\"\r\n"
    b"Link: <https://cdn.example/>; rel=\"other\"\r\n"
    b"x-odd:   spaced value \t\r\n"
    b"no-colon-line\r\n"
    b": empty name\r\n"
    b"content-length: 1234\r\n\r\n"
)


def test_last_head_matches_the_old_parse() -> None:
    new, old = _last_head(REGISTRY_HEAD), _as_requests_would(REGISTRY_HEAD)
    assert dict(new.items()) == dict(old.items())
    assert new["LINK"] == '</v2/x/tags/list?last=b&n=2>; rel="next", <https://cdn.example/>; rel="other"'
    assert new.get("Docker-Content-Digest") == "sha256:" + "ab" * 32
    assert new.get("Location") is None and new.get("Location", "") == ""
    assert "X-ODD" in new and new["x-odd"] == "spaced value" and len(new) == len(old) == 7


def test_last_head_on_random_blocks() -> None:
    pieces = ["a", "B", ":", " ", "\t", "\r\n", "x-y", "\xa0", "\x0b", "HTTP/1.1 200 OK",
              "\r\n\r\n", "Link", "v:w", "\r", "\n"]  # fmt: skip
    rng = random.Random(11)
    for _ in range(20_000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25))).encode("latin-1")
        assert dict(_last_head(raw).items()) == dict(_as_requests_would(raw).items()), raw


def test_headers_repr_names_fields_but_never_values() -> None:
    headers = Headers({"set-cookie": ("Set-Cookie", "session=secret-value")})
    assert "Set-Cookie" in repr(headers) and "secret" not in repr(headers)
    with pytest.raises(KeyError):
        headers["Location"]
