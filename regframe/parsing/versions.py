"""Parse container image tags into version columns and sort them in version order.

This module is pure (no I/O).  :func:`parse_tags` turns tag names into
version columns, :func:`version_key` builds sortable key columns from them and
:func:`sort_tags` orders a frame of tags by version.  All three work on whole
columns: one pass of one compiled regular expression over the tags, then numpy
arithmetic on the columns it captured.

Parsing rules
-------------
* ``prefix``: a tag may start with words before its version, separated by
  ``-`` or ``_``; the version is the first segment that starts with a digit
  (or ``v`` + digit): ``jammy-20240808`` → prefix ``jammy``, calver
  ``20240808``; ``aarch64-ubuntu-jdk-11.0.1.13-slim`` → ``aarch64-ubuntu-jdk``,
  ``11.0.1.13``, variant ``slim``; ``alpine-v15.7.1`` → ``alpine``,
  ``15.7.1``.  A prefix word holds letters and digits only and does not start
  with a digit (``x86_64`` counts as one word).  After a prefix the version
  must end at a separator, the tag's end or a prerelease word, so
  ``sha-1a2b3c4``-like ids are not versions; ``sha-…`` and ``sha256-…`` never
  start a prefix.  A name glued to its digits (``alpine3.20``, ``ltsc2019``)
  is not a prefixed version, with one exception: Java 8's ``jdk8u202-b08``
  (``jdk``/``jre`` glued to ``8u…``) is prefix ``jdk``, release ``8``, as
  ``8u422-b05-jdk`` is release ``8``.
* A leading ``v``/``V`` is dropped when a digit follows (``v1.2`` → ``1.2``,
  but ``vnext`` stays a name).
* ``release`` is the leading ``\\d+(\\.\\d+)*`` exactly as written (leading
  zeros kept: ``2024.08.15``); ``major``/``minor``/``patch`` are its first three
  numbers (NA when absent, or when a number has more than 18 digits and would
  not fit ``Int64`` faithfully).
* ``prerelease`` follows the release directly (``3.13.0rc2``, ``1.23rc2``) or
  after one ``-``/``.``.  It is one or more tokens joined by ``-``/``.``; a
  token is either a word from :data:`PRERELEASE_WORDS` (any case; ``m`` only
  with digits, as in ``M3``) optionally followed by a number written as
  ``2``, ``.2``, ``-2`` or ``.1.24431.7`` (``rc2``, ``beta.3``, ``ea-16``), or
  a *hex build id*: 7–40 lowercase hex characters with at least one digit and
  at least one letter ``a``–``f``, after a separator (``5.0.0-731e78df``).
  The digit-and-letter rule keeps pure numbers and dates (``20240815``) and
  hex-looking words (``deadbeef``, ``decade``) out.  A token must end the tag
  or be followed by ``-``, ``.``, ``_`` or ``+``, so ``alpine`` is never read
  as ``a`` + ``lpine`` nor ``ce.0`` as ``c`` + ``e.0``.
* Build metadata is dropped from the version columns (it stays in ``tag``):
  ``_`` + digits as in eclipse-temurin's ``17.0.12_7-jdk-jammy`` (the ``7``
  is the JDK build number: release ``17.0.12``, variant ``jdk-jammy``) and
  semver ``+build`` (which, as in semver, runs to the end of the tag; docker
  tags cannot contain ``+`` but tags from other sources can).  Sorting still
  orders ``_7`` before ``_10`` (see :func:`version_key`).
* Whatever follows is ``variant``, without leading/trailing ``-``, ``.``,
  ``_``: ``slim-bookworm``, ``alpine3.20``, ``ce.0``.  Text glued to the
  release that is not a prerelease is variant too: Java's ``8u422-b05-jdk``
  gives release ``8``, variant ``u422-b05-jdk``.
* ``build``: a rebuild stamp ending the variant, after a ``-``, moves out of
  it: ``r`` + digits (bitnami's ``1.25.3-debian-12-r5`` → variant
  ``debian-12``, build ``r5``; ``4.0.9-r24`` → no variant, build ``r24``) or
  a date stamp of 8–14 digits starting with a valid ``yyyymmdd`` when a
  variant remains before it (``4.10.0-nginx-202501270601`` → ``nginx`` +
  ``202501270601``).  A date right after the version stays the variant
  (``17.0-20240812``): with nothing before it, it may be what the tag is about.
* ``scheme``: ``digest`` for ``sha256-<64 hex>`` with an optional ``.sig``,
  ``.att`` or ``.sbom``; ``calver`` when the first number is a 4-digit year
  ``19xx``/``20xx`` or an 8-digit date ``yyyymmdd`` (valid month and day);
  else ``semver`` (1–3 numbers) or ``multipart`` (4+); ``named`` for tags
  without any digit (``latest``); ``other`` for the rest, i.e. tags with
  digits but no version by the rules above (``ltsc2022``, ``alpine3.20``,
  ``sha-1a2b3c4``, ``RELEASE.2024-08-03T04-33-23Z``).
* Reconstruction: a tag with a release is, in this order, ``prefix`` + ``-``
  or ``_`` (nothing after ``jdk``/``jre`` glued to ``8u…``), an optional
  ``v``, ``release``, ``prerelease`` after an optional ``-``/``.``, build
  metadata (``_7``, ``+meta``; not a column), ``variant`` and ``build`` each
  after separators, and trailing separators.
* Null or empty tags give an all-NA row (``scheme`` and ``is_prerelease`` NA).

Known limits, by design of the rules above: a hex build id marks a tag as a
prerelease even where a project uses it on finals (linuxserver's
``1.40.5.8854-f36c552fd-ls227``); a word before the version is always a
prefix, so ``temurin-21-lein-2.11.2-jammy`` is release ``21`` (the JDK) with
variant ``lein-2.11.2-jammy``, and ``nightly-2024-08-03`` is calver ``2024``
with variant ``08-03``; ``RELEASE.2024-08-03T…`` (a dot inside the first
word) and glued names (``ltsc2022``, ``latest-amd64``) are ``other``;
Windows' ``1809`` is semver ``1809``, ``20H2`` release ``20``.

Ordering (:func:`sort_tags`, :func:`version_key`): prefixes are separate
lines (tags without a prefix first, then each prefix, a-z); within one,
release numbers numerically over all components, a missing component before
``0`` (``1.2`` < ``1.2.0``); a prerelease below its final, prereleases by
:data:`PRERELEASE_RANKS` then number; then build number; then no variant
before variants, variants alphabetically; then the rebuild stamp (``r5`` <
``r10``); the tag string last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "COLUMNS",
    "DIGEST_TAG_RE",
    "PRERELEASE_RANKS",
    "PRERELEASE_WORDS",
    "RELEASE_SCHEMES",
    "SCHEMES",
    "STAMP_RE",
    "TAG_RE",
    "parse_tags",
    "sort_tags",
    "version_key",
]

#: Categories of the ``scheme`` column, in this order.
SCHEMES: Final[tuple[str, ...]] = ("semver", "multipart", "calver", "named", "digest", "other")
#: Schemes whose tags name a version (``named``/``digest``/``other`` never do).
RELEASE_SCHEMES: Final[tuple[str, ...]] = ("semver", "multipart", "calver")

#: Columns returned by :func:`parse_tags`, in this order.
COLUMNS: Final[tuple[str, ...]] = (
    "tag",
    "release",
    "major",
    "minor",
    "patch",
    "prerelease",
    "variant",
    "scheme",
    "is_prerelease",
    "prefix",
    "build",
)

#: Prerelease words and their rank when sorting (a final release ranks 100).
#: Development/CI builds first (snapshot is a development build in the
#: container world, e.g. elasticsearch ``8.15.0-SNAPSHOT``), then early access,
#: alpha, beta, milestone, preview and release candidate, as PEP 440 and
#: Maven order them.  Hex build ids and unknown words rank with ``dev``.
PRERELEASE_RANKS: Final[dict[str, int]] = {
    "dev": 10,
    "snapshot": 10,
    "nightly": 10,
    "canary": 10,
    "ea": 20,
    "alpha": 30,
    "a": 30,
    "beta": 40,
    "b": 40,
    "milestone": 50,
    "m": 50,
    "pre": 60,
    "preview": 60,
    "next": 60,
    "incubating": 60,
    "rc": 70,
    "c": 70,
}
_UNKNOWN_PRE_RANK: Final = 10
_FINAL_RANK: Final = 100

#: Words that start a prerelease (matched case-insensitively).
PRERELEASE_WORDS: Final[tuple[str, ...]] = tuple(PRERELEASE_RANKS)

# Longer words first so that e.g. ``preview`` is not tried as ``pre`` + junk
# (the boundary look-ahead would reject it anyway; this just saves work).
_WORD_ALTS = "|".join(
    "m(?=\\d)" if w == "m" else w for w in sorted(PRERELEASE_WORDS, key=len, reverse=True)
)
_END = r"(?=[-._+]|\Z)"
_NUM = r"(?:[-.]?\d+(?:\.\d+)*)"
_WORD = rf"(?i:{_WORD_ALTS}){_NUM}?{_END}"
_HEX = rf"(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{{7,40}}{_END}"
# A hex id needs a separator before it: ``1.2.3abcdef1`` is not ``1.2.3`` + id.
_TOKEN = rf"(?:{_WORD}|(?<=[-.]){_HEX})"

# A prefix word starts with a letter (``v`` + digit is a version) and holds
# letters and digits only, so ``RELEASE.2024-08-03T…`` is not ``RELEASE.2024``
# + a version; ``x86_64`` is one word although ``_`` separates words.
_PWORD = r"(?![vV]?\d)(?:x86_64|[A-Za-z0-9]+)"
_PSEP = r"(?:-|(?<!x86)_)"
# A date stamp: yyyymmdd with a valid month and day, up to 6 more digits
# (hhmm, hhmmss), 8-14 digits in all.
_DATE = r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{0,6}"

# A variant that may end with a rebuild stamp (``r`` + digits, or 7+ digits);
# only those are looked at again by :data:`STAMP_RE`.
_STAMP_END = (
    r"(?<=\d)(?:(?<=r\d)|(?<=r\d{2})|(?<=r\d{3})|(?<=r\d{4})|(?<=r\d{5})|(?<=r\d{6})|(?<=\d{7}))"
)

# Words, then a separator, or Java 8's ``jdk8u202`` where ``jdk``/``jre`` is
# glued to the ``8u…`` version.  ``sha-<commit>`` and ``sha256-<digest>`` tags
# are ids, not versions.
_PREFIX_WORDS = rf"""(?=[A-Za-z])(?![sS][hH][aA](?:256)?[-_])
   {{}}{_PWORD}(?:{_PSEP}{_PWORD})*?{{}}
   (?:{_PSEP}|(?<=[jJ][dD][kK]|[jJ][rR][eE])(?=\d+u\d))"""

_TAG_PATTERN = rf"""
^(?:{_PREFIX_WORDS.format("(?P<prefix>", ")")})?
[vV]?(?P<release>\d+(?:\.\d+)*)
(?(prefix)(?=[-._+]|\Z|u\d|{_WORD}))
(?:[-.]?(?P<prerelease>{_TOKEN}(?:[-.]{_TOKEN})*))?
(?:_\d[0-9A-Za-z.]*|\+.*)?
(?:[-._]*(?P<variant>[^-._](?:.*[^-._])?)(?:{_STAMP_END}(?P<stamp_end>))?)?
[-._]*
\Z"""
#: The regular expression :func:`parse_tags` applies to every tag (verbose
#: syntax).  Groups: ``prefix``, ``release``, ``prerelease``, ``variant`` and
#: ``stamp_end`` (empty, set when the variant may end with a rebuild stamp for
#: :data:`STAMP_RE` to split off); the unnamed group after ``prerelease`` is
#: build metadata.  Tags without a version do not match and are classified
#: separately.
TAG_RE: Final[re.Pattern[str]] = re.compile(_TAG_PATTERN, re.VERBOSE | re.DOTALL | re.ASCII)
#: Signature/attestation tags of cosign and friends: ``sha256-<hex>.sig``.
DIGEST_TAG_RE: Final[re.Pattern[str]] = re.compile(r"sha256-[0-9a-f]{64}(?:\.(?:sig|att|sbom))?")

#: A rebuild stamp ending a variant: ``debian-12-r5`` → ``debian-12`` + ``r5``,
#: ``nginx-202501270601`` → ``nginx`` + ``202501270601``; a lone ``r5`` is a
#: stamp too, a lone date is not (``17.0-20240812`` keeps variant ``20240812``).
STAMP_RE: Final[re.Pattern[str]] = re.compile(
    rf"^(?:(?P<rest>.*[^-._])[-._]*-)?(?P<build>r\d+|(?(rest){_DATE}|(?!)))\Z", re.DOTALL | re.ASCII
)

_PRE_RE: Final[re.Pattern[str]] = re.compile(
    rf"^(?P<word>(?i:{_WORD_ALTS}))(?:[-.]?(?P<num>\d{{1,18}})(?!\d))?", re.ASCII
)
_BUILD_RE: Final[re.Pattern[str]] = re.compile(
    rf"^(?:{_PREFIX_WORDS.format('', '')})?"
    rf"[vV]?\d+(?:\.\d+)*(?:[-.]?{_TOKEN}(?:[-.]{_TOKEN})*)?[_+](?P<build>\d{{1,18}})(?!\d)",
    re.ASCII | re.VERBOSE,
)

# int64 holds every 18-digit number; longer version numbers are NA in
# major/minor/patch and saturate in sort keys instead of overflowing.
_MAX_DIGITS: Final = 18
_SATURATED: Final = 10**18

_StrArray = npt.NDArray[np.str_]
_IntArray = npt.NDArray[np.int64]
_BoolArray = npt.NDArray[np.bool_]


def _partition(a: _StrArray, sep: str) -> tuple[_StrArray, _StrArray]:
    """Vectorised ``str.partition``: (head, tail) for every element."""
    if a.size == 0:  # numpy's partition fails on empty input
        return a, a
    strings = getattr(np, "strings", None)  # numpy >= 2: a ufunc, no re-stacking
    if strings is not None:
        head, _, tail = strings.partition(a, sep)
        return head, tail
    parts = np.char.partition(a, sep)
    return parts[..., 0], parts[..., 2]


def _to_str_array(s: pd.Series) -> _StrArray:
    """A string Series as a numpy unicode array, NA as ``""``."""
    if len(s) == 0:
        return np.array([], dtype=str)
    return s.to_numpy(dtype=str, na_value="")


def _digits_to_int(digits: _StrArray, saturate: bool) -> tuple[_IntArray, _BoolArray]:
    """ASCII digit strings → (int64 values, valid mask); ``""`` is invalid.

    Longer than 18 digits: invalid, or ``10**18`` when ``saturate``.
    """
    # Horner's rule over the UCS-4 code points, column by column: an order of
    # magnitude faster than numpy's str -> int cast, which goes through Python
    # int objects.  Callers only pass what the ASCII regex matched as digits.
    n = len(digits)
    width = digits.dtype.itemsize // 4
    values = np.zeros(n, dtype=np.int64)
    if n == 0 or width == 0:
        return values, np.zeros(n, dtype=bool)
    u4 = np.dtype(np.uint32).newbyteorder(digits.dtype.byteorder)
    codes = np.ascontiguousarray(digits).view(u4).reshape(n, width)
    lens = np.count_nonzero(codes, axis=1)
    for j in range(min(width, _MAX_DIGITS)):
        col = codes[:, j].astype(np.int64)
        values = np.where(col != 0, values * 10 + (col - 48), values)
    valid = (lens > 0) & (lens <= _MAX_DIGITS)
    if saturate:
        huge = lens > _MAX_DIGITS
        values[huge] = _SATURATED
        valid |= huge
    values[~valid] = 0
    return values, valid


def _string_codes(a: _StrArray) -> _IntArray:
    """Codes whose order is the strings' order (hash first, sort only the distinct)."""
    codes, uniques = pd.factorize(a)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(np.asarray(uniques, dtype=str), kind="stable")] = np.arange(len(uniques))
    return rank[codes]


# Python-backed strings everywhere: the regexes use look-behind, which the
# pyarrow (RE2) kernels of string[pyarrow] cannot run, and results then do not
# depend on whether pyarrow happens to be installed.
_STRING: Final = pd.StringDtype("python")


def _as_string_series(tags: Iterable[str | None] | pd.Series) -> pd.Series:
    if isinstance(tags, pd.Series):
        return tags.astype(_STRING)
    if isinstance(tags, pd.DataFrame):
        raise TypeError("parse_tags expects tags, not a DataFrame; pass its column: df['tag']")
    if isinstance(tags, (str, bytes)):
        raise TypeError(
            "parse_tags expects an iterable of tags, not a single string; "
            "wrap it in a list: parse_tags([tag])"
        )
    return pd.Series(list(tags), dtype=_STRING)


def _int64(values: _IntArray, valid: _BoolArray, index: pd.Index) -> pd.Series:
    return pd.Series(pd.arrays.IntegerArray(values, ~valid), index=index)


def _extract(s: pd.Series) -> dict[str, pd.Series]:
    """The named groups of :data:`TAG_RE` for every tag, as string Series (NA when absent).

    One match per tag, as ``Series.str.extract`` does, without its per-row
    bookkeeping (a tuple per tag, then a frame inferring dtypes): one list per
    group, straight into a string array.
    """
    match = TAG_RE.match
    found = [match(t) for t in s.to_numpy(dtype=object, na_value="")]
    out = {}
    for name, i in TAG_RE.groupindex.items():
        values = np.array([None if m is None else m[i] for m in found], dtype=object)
        out[name] = pd.Series(pd.array(values, dtype=_STRING), index=s.index)
    return out


def _split_stamps(variant: pd.Series, stamp_end: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(variant, build): a trailing rebuild stamp moves from the variant to ``build``.

    Only the variants :data:`TAG_RE` marked (``stamp_end``) are looked at
    again, a few percent of a repository's tags: a plain loop over them costs
    less than another vectorised pass over every tag.
    """
    index = variant.index
    candidates = np.flatnonzero(stamp_end.notna().to_numpy(dtype=bool))
    if candidates.size == 0:
        return variant, pd.Series(pd.NA, index=index, dtype=_STRING)
    values = np.array(variant.array, dtype=object)  # a copy, NA kept as pd.NA
    stamps = np.full(len(values), pd.NA, dtype=object)
    match = STAMP_RE.match
    for i in candidates.tolist():
        m = match(values[i])
        if m is not None:
            rest = m["rest"]
            values[i] = pd.NA if rest is None else rest
            stamps[i] = m["build"]
    return (
        pd.Series(pd.arrays.StringArray(values), index=index),
        pd.Series(pd.arrays.StringArray(stamps), index=index),
    )


def parse_tags(tags: Iterable[str | None] | pd.Series) -> pd.DataFrame:
    """Parse image tags into version columns.

    Parameters
    ----------
    tags : iterable of str or pandas.Series
        Tag names.  A Series keeps its index; other iterables get a
        ``RangeIndex``.  Null (None/NA/NaN) or empty entries give an all-NA row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``tag`` (string), ``release`` (string),
        ``major``, ``minor``, ``patch`` (Int64), ``prerelease``, ``variant``
        (string), ``scheme`` (category of :data:`SCHEMES`),
        ``is_prerelease`` (boolean), ``prefix`` and ``build`` (string); one
        row per input tag, in input order.  The rules are in the module
        docstring.

    Raises
    ------
    TypeError
        If ``tags`` is a single string or a DataFrame rather than a collection of tags.

    Examples
    --------
    >>> df = parse_tags(["3.13.0rc2-slim-bookworm", "22-ea-16-jdk-slim", "latest"])
    >>> df[["release", "prerelease", "variant", "scheme"]].astype(object).values.tolist()
    [['3.13.0', 'rc2', 'slim-bookworm', 'semver'], ['22', 'ea-16', 'jdk-slim', 'semver'], \
[<NA>, <NA>, <NA>, 'named']]
    >>> df = parse_tags(["jammy-20240808", "1.25.3-debian-12-r5"])
    >>> df[["prefix", "release", "variant", "build"]].astype(object).values.tolist()
    [['jammy', '20240808', <NA>, <NA>], [<NA>, '1.25.3', 'debian-12', 'r5']]
    """
    s = _as_string_series(tags)
    index = s.index
    # One regex pass for the columns that need one; every other column is
    # derived with numpy string ufuncs, which run in C.
    m = _extract(s)

    has_tag = np.asarray(s.to_numpy(dtype=object, na_value="") != "", dtype=bool)
    rel = _to_str_array(m["release"])
    has_release = rel != ""

    major_s, rest = _partition(rel, ".")
    minor_s, rest = _partition(rest, ".")
    patch_s, extra = _partition(rest, ".")
    major, major_ok = _digits_to_int(major_s, saturate=False)
    minor, minor_ok = _digits_to_int(minor_s, saturate=False)
    patch, patch_ok = _digits_to_int(patch_s, saturate=False)

    # Calendar versions: a 4-digit year 19xx/20xx or an 8-digit yyyymmdd.
    width = np.char.str_len(major_s)
    month, day = (major // 100) % 100, major % 100
    calver = major_ok & (
        ((width == 4) & (major >= 1900) & (major <= 2099))
        | (
            (width == 8)
            & (major >= 19000101)
            & (major <= 20991231)
            & (month >= 1)
            & (month <= 12)
            & (day >= 1)
            & (day <= 31)
        )
    )
    multipart = extra != ""

    # Tags that do not start with a number are usually few: classify them on
    # that subset only.
    digest = np.zeros(len(s), dtype=bool)
    named = np.zeros(len(s), dtype=bool)
    unversioned = has_tag & ~has_release
    if unversioned.any():
        sub = s[unversioned]
        digest[unversioned] = sub.str.fullmatch(DIGEST_TAG_RE).to_numpy(dtype=bool)
        named[unversioned] = ~sub.str.contains(r"[0-9]", regex=True).to_numpy(dtype=bool)

    codes = np.select(
        [~has_tag, has_release & calver, has_release & multipart, has_release, digest, named],
        [
            -1,
            SCHEMES.index("calver"),
            SCHEMES.index("multipart"),
            SCHEMES.index("semver"),
            SCHEMES.index("digest"),
            SCHEMES.index("named"),
        ],
        default=SCHEMES.index("other"),
    ).astype(np.int8)
    scheme = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(list(SCHEMES)))

    variant, build = _split_stamps(m["variant"], m["stamp_end"])

    prerelease = m["prerelease"]
    is_pre = pd.arrays.BooleanArray(prerelease.notna().to_numpy(dtype=bool), ~has_tag)

    return pd.DataFrame(
        {
            "tag": s,
            "release": m["release"],
            "major": _int64(major, major_ok, index),
            "minor": _int64(minor, minor_ok, index),
            "patch": _int64(patch, patch_ok, index),
            "prerelease": prerelease,
            "variant": variant,
            "scheme": pd.Series(scheme, index=index),
            "is_prerelease": pd.Series(is_pre, index=index),
            "prefix": m["prefix"],
            "build": build,
        },
        index=index,
    )


_VERSION_COLUMNS: Final = ("release", "prerelease", "variant", "scheme")
_STAMP_COLUMNS: Final = ("prefix", "build")
_GROUPS: Final[dict[str, int]] = {"named": 1, "other": 2, "digest": 3}
_NO_TAG_GROUP: Final = 4


def _version_columns(df: pd.DataFrame) -> pd.DataFrame:
    if "tag" not in df.columns:
        raise ValueError("expected a DataFrame with a 'tag' column")
    if all(c in df.columns for c in _VERSION_COLUMNS):
        # ``prefix``/``build`` are newer columns: a frame (or CSV) without them has none
        extra = [c for c in _STAMP_COLUMNS if c in df.columns]
        cols = df[["tag", *_VERSION_COLUMNS, *extra]].copy()
        for c in _STAMP_COLUMNS:
            if c not in cols.columns:
                cols[c] = pd.Series(pd.NA, index=cols.index, dtype=_STRING)
        strings = ("tag", "release", "prerelease", "variant", *_STAMP_COLUMNS)
        return cols.astype({c: _STRING for c in strings})
    return parse_tags(df["tag"].reset_index(drop=True)).set_axis(df.index)


def _key_arrays(df: pd.DataFrame) -> dict[str, npt.NDArray[Any]]:
    """The columns of :func:`version_key` as numpy arrays (strings as unicode arrays)."""
    v = _version_columns(df)
    n = len(v)
    tag = _to_str_array(v["tag"])
    rel = _to_str_array(v["release"])
    has_release = rel != ""

    group = np.full(n, _NO_TAG_GROUP, dtype=np.int8)
    scheme = _to_str_array(v["scheme"].astype(_STRING))
    for name, code in _GROUPS.items():
        group[scheme == name] = code
    # A tag present but unclassified (e.g. a hand-made frame) counts as "other".
    group[(tag != "") & (group == _NO_TAG_GROUP)] = _GROUPS["other"]
    group[has_release] = 0

    keys: dict[str, npt.NDArray[Any]] = {"group": group, "prefix": _to_str_array(v["prefix"])}
    width = max(3, int(np.char.count(rel, ".").max(initial=0)) + 1)
    rest = rel
    for i in range(width):
        part, rest = _partition(rest, ".")
        values, valid = _digits_to_int(part, saturate=True)
        values[~valid] = -1
        keys[f"n{i}"] = values

    pre = _to_str_array(v["prerelease"])
    has_pre = pre != ""
    pre_rank = np.full(n, _FINAL_RANK, dtype=np.int16)
    pre_num = np.full(n, -1, dtype=np.int64)
    if has_pre.any():
        pm = pd.Series(pre[has_pre], dtype=_STRING).str.extract(_PRE_RE)
        ranks = pm["word"].str.lower().map(PRERELEASE_RANKS)
        pre_rank[has_pre] = ranks.fillna(_UNKNOWN_PRE_RANK).to_numpy(dtype=np.int16)
        num, ok = _digits_to_int(_to_str_array(pm["num"]), saturate=True)
        pre_num[has_pre] = np.where(ok, num, -1)
    keys["pre_rank"] = pre_rank
    keys["pre_num"] = pre_num
    keys["pre"] = pre

    build = np.full(n, -1, dtype=np.int64)
    maybe_build = has_release & ((np.char.find(tag, "_") >= 0) | (np.char.find(tag, "+") >= 0))
    if maybe_build.any():
        bm = pd.Series(tag[maybe_build], dtype=_STRING).str.extract(_BUILD_RE)["build"]
        num, ok = _digits_to_int(_to_str_array(bm), saturate=True)
        build[maybe_build] = np.where(ok, num, -1)
    keys["build"] = build

    variant = _to_str_array(v["variant"])
    keys["has_variant"] = (variant != "").astype(np.int8)
    keys["variant"] = variant
    stamp = _to_str_array(v["build"])
    has_stamp = stamp != ""
    stamps = np.full(n, -1, dtype=np.int64)
    if has_stamp.any():
        num, ok = _digits_to_int(np.char.lstrip(stamp[has_stamp], "r"), saturate=True)
        stamps[has_stamp] = np.where(ok, num, -1)
    keys["stamp"] = stamps
    keys["tag"] = tag
    return keys


def version_key(df: pd.DataFrame) -> pd.DataFrame:
    """Sortable key columns giving version order.

    Sorting the returned frame ascending by all its columns, left to right,
    gives ascending version order (what :func:`sort_tags` returns).  Other
    modules reuse it, e.g. to pick the most specific tag of a release.

    Parameters
    ----------
    df : pandas.DataFrame
        Any frame with a ``tag`` column.  When ``release``, ``prerelease``,
        ``variant`` and ``scheme`` are all present they are used as they are
        (with ``prefix`` and ``build`` when present, else none), otherwise
        they are computed with :func:`parse_tags`.

    Returns
    -------
    pandas.DataFrame
        Same index as ``df``; no NA anywhere.  Columns:

        ``group`` (int8)
            0 with a release, then 1 named, 2 other, 3 digest, 4 no tag.
        ``prefix`` (string)
            the prefix, ``""`` if none (so tags without one come first).
        ``n0`` … ``nK`` (int64, at least ``n0``–``n2``)
            every release number; -1 past the last one, so ``1.2`` sorts
            before ``1.2.0``; numbers over 18 digits saturate at 10**18.
        ``pre_rank`` (int16)
            :data:`PRERELEASE_RANKS` of the prerelease's first word (10 for a
            hex id or unknown word), 100 for a final release.
        ``pre_num`` (int64)
            the number after that word (``rc10`` → 10, ``ea-16`` → 16), -1 if none.
        ``pre`` (string)
            the prerelease text, ``""`` for finals (a tie-break).
        ``build`` (int64)
            build number after ``_``/``+`` (``17.0.12_7-jdk`` → 7), -1 if none.
        ``has_variant`` (int8)
            0 without a variant, so the plain tag comes first.
        ``variant`` (string)
            the variant, ``""`` if none.
        ``stamp`` (int64)
            the rebuild stamp's number (``r5`` → 5, ``202501270601``), -1 if none.
        ``tag`` (string)
            the tag itself, the final tie-break.

    Raises
    ------
    ValueError
        If ``df`` has no ``tag`` column.

    Examples
    --------
    >>> key = version_key(parse_tags(["1.10", "1.9", "1.10rc1"]))
    >>> key[["n0", "n1", "pre_rank", "pre_num"]].values.tolist()
    [[1, 10, 100, -1], [1, 9, 100, -1], [1, 10, 70, 1]]
    """
    keys = _key_arrays(df)
    out = pd.DataFrame(keys, index=df.index)
    return out.astype({"pre": "string", "variant": "string", "tag": "string"})


def sort_tags(df: pd.DataFrame, *, descending: bool = False) -> pd.DataFrame:
    """Sort a frame of tags in version order.

    Prefixes are separate lines: tags without a prefix first, then each
    prefix (``jammy-…``, ``noble-…``) a-z, each in version order.  Release
    numbers compare numerically over all components (``1.10`` >
    ``1.9``, ``10.0.20348.1`` > ``10.0.17763.6189``), a prerelease sorts below
    its final and prereleases among themselves by :data:`PRERELEASE_RANKS`
    then number (``a1 < b1 < rc2 < rc10``), then build number.  Variants of
    one release are kept together as separate lines: the tag without a
    variant first, then variants alphabetically, rebuilds of one variant by
    stamp (``-r5`` < ``-r10``); the tag string breaks any remaining tie, so
    the order is total and independent of input order.

    ``descending=True`` reverses release, prerelease, build and stamp order only:
    prefixes and, within one version, variants keep their ascending order, and tags
    without a release (named, other, digest, then null, each alphabetically)
    are always last.

    Parameters
    ----------
    df : pandas.DataFrame
        Any frame with a ``tag`` column; version columns are computed with
        :func:`parse_tags` if ``release``/``prerelease``/``variant``/``scheme``
        are missing (they are not added to the result).
    descending : bool, default False
        Newest release first.

    Returns
    -------
    pandas.DataFrame
        ``df``'s rows reordered; same columns, index labels and attrs.

    Raises
    ------
    ValueError
        If ``df`` has no ``tag`` column.

    Examples
    --------
    >>> df = parse_tags(["1.10", "latest", "1.9", "1.10rc1", "1.9-alpine"])
    >>> sort_tags(df)["tag"].tolist()
    ['1.9', '1.9-alpine', '1.10rc1', '1.10', 'latest']
    >>> sort_tags(df, descending=True)["tag"].tolist()
    ['1.10', '1.10rc1', '1.9', '1.9-alpine', 'latest']
    """
    k = _key_arrays(df)
    n = len(df)
    sign = -1 if descending else 1
    numeric = [c for c in k if c.startswith("n") and c[1:].isdigit()]
    # np.lexsort sorts by the LAST key first.  Strings enter as order codes
    # (hash, then sort only the distinct values); the tag itself is only
    # needed to break ties, which are rare, so it is sorted within ties only.
    keys = [
        sign * k["stamp"],
        _string_codes(k["variant"]),
        k["has_variant"],
        sign * k["build"],
        sign * _string_codes(k["pre"]),
        sign * k["pre_num"],
        sign * k["pre_rank"].astype(np.int64),
        *[sign * k[c] for c in reversed(numeric)],
        _string_codes(k["prefix"]),
        k["group"],
    ]
    order = np.lexsort(keys) if n else np.arange(0, dtype=np.intp)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for key in keys:
            ks = key[order]
            same &= ks[1:] == ks[:-1]
        if same.any():
            run = np.cumsum(np.concatenate(([True], ~same)))
            tied = np.flatnonzero(np.concatenate((same, [False])) | np.concatenate(([False], same)))
            rows = order[tied]
            order[tied] = rows[np.lexsort((k["tag"][rows], run[tied]))]
    return df.iloc[order]
