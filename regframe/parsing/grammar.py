"""The tag grammar: container image tags → version columns (``parse_tags``).

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

The order of the parsed versions (keys, sorting) is :mod:`regframe.parsing.order`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

from regframe.parsing.columnar import (
    STRING,
    BoolArray,
    IntArray,
    StrArray,
    digits_to_int,
    partition,
    to_str_array,
)

__all__ = [
    "BUILD_RE",
    "COLUMNS",
    "DIGEST_TAG_RE",
    "FINAL_RANK",
    "PRERELEASE_RANKS",
    "PRERELEASE_WORDS",
    "PRE_RE",
    "RELEASE_SCHEMES",
    "SCHEMES",
    "STAMP_RE",
    "TAG_RE",
    "UNKNOWN_PRE_RANK",
    "parse_tags",
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
#: Rank of a hex build id or an unknown prerelease word, and of a final release.
UNKNOWN_PRE_RANK: Final = 10
FINAL_RANK: Final = 100

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

PRE_RE: Final[re.Pattern[str]] = re.compile(
    rf"^(?P<word>(?i:{_WORD_ALTS}))(?:[-.]?(?P<num>\d{{1,18}})(?!\d))?", re.ASCII
)
BUILD_RE: Final[re.Pattern[str]] = re.compile(
    rf"^(?:{_PREFIX_WORDS.format('', '')})?"
    rf"[vV]?\d+(?:\.\d+)*(?:[-.]?{_TOKEN}(?:[-.]{_TOKEN})*)?[_+](?P<build>\d{{1,18}})(?!\d)",
    re.ASCII | re.VERBOSE,
)


def _as_string_series(tags: Iterable[str | None] | pd.Series) -> pd.Series:
    if isinstance(tags, pd.Series):
        return tags.astype(STRING)
    if isinstance(tags, pd.DataFrame):
        raise TypeError("parse_tags expects tags, not a DataFrame; pass its column: df['tag']")
    if isinstance(tags, (str, bytes)):
        raise TypeError(
            "parse_tags expects an iterable of tags, not a single string; "
            "wrap it in a list: parse_tags([tag])"
        )
    return pd.Series(list(tags), dtype=STRING)


def _int64(values: IntArray, valid: BoolArray, index: pd.Index) -> pd.Series:
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
        out[name] = pd.Series(pd.array(values, dtype=STRING), index=s.index)
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
        return variant, pd.Series(pd.NA, index=index, dtype=STRING)
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


def _is_calver(major_s: StrArray, major: IntArray, major_ok: BoolArray) -> BoolArray:
    """Calendar versions: a 4-digit year 19xx/20xx or an 8-digit yyyymmdd."""
    width = np.char.str_len(major_s)
    month, day = (major // 100) % 100, major % 100
    year = (width == 4) & (major >= 1900) & (major <= 2099)
    date = (width == 8) & (major >= 19000101) & (major <= 20991231)
    valid_date = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    out: BoolArray = major_ok & (year | (date & valid_date))
    return out


def _schemes(
    s: pd.Series,
    has_tag: BoolArray,
    rel: StrArray,
    major_s: StrArray,
    major: IntArray,
    major_ok: BoolArray,
    *,
    multipart: BoolArray,
) -> pd.Series:
    """The ``scheme`` column: see the module docstring for the rules."""
    has_release = rel != ""
    calver = _is_calver(major_s, major, major_ok)
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
    return pd.Series(scheme, index=s.index)


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
    rel = to_str_array(m["release"])
    major_s, rest = partition(rel, ".")
    minor_s, rest = partition(rest, ".")
    patch_s, extra = partition(rest, ".")
    major, major_ok = digits_to_int(major_s, saturate=False)
    minor, minor_ok = digits_to_int(minor_s, saturate=False)
    patch, patch_ok = digits_to_int(patch_s, saturate=False)

    scheme = _schemes(s, has_tag, rel, major_s, major, major_ok, multipart=extra != "")

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
            "scheme": scheme,
            "is_prerelease": pd.Series(is_pre, index=index),
            "prefix": m["prefix"],
            "build": build,
        },
        index=index,
    )
