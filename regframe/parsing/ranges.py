"""Version ranges (PEP 440, npm) read by their own libraries, compared in regframe's order.

:func:`compile_range` reads a range and returns a :class:`VersionRange`: alternatives
(npm's ``||``) of comparators that all must hold.  The grammars come from the
libraries that define them: PyPA's :mod:`packaging` reads PEP 440 specifiers
(``>=8.15,<9``, ``~=8.15``, ``==8.*``, ``!=8.15.2``) and ``nodesemver``, a port of
npm's own node-semver, reads npm ranges and turns their sugar (``^8.15``,
``~8.15.1``, ``8.x``, ``1.2 - 2``, ``>=1.2 <2 || 3.x``) into plain comparators.

Neither library compares: each bound is read by regframe's own tag grammar
(:func:`regframe.parsing.grammar.parse_tags`) and compared in regframe's version
order (:mod:`regframe.parsing.order`), so 4-part releases (``10.0.17763.6189``),
calendar versions, ``v`` prefixes and regframe's prerelease words (``ea``,
``SNAPSHOT``, ``M3``, hex build ids) behave as they do in :func:`sort_tags`.  Two
differences from the sort: a missing number counts as ``0`` (``8.15 == 8.15.0``, as
both grammars pad), and a tag's prefix and variant do not take part (``8.15.3-alpine``
and ``alpine-v8.15.3`` are version ``8.15.3``; pick a variant with ``match=``).

Which grammar: a range that PEP 440 accepts is read as PEP 440, anything else as
npm — except that a prerelease spelled the semver way (``>1.2.3-alpha.3``, where
PEP 440 writes ``1.2.3a3``) makes a range both accept npm.  The grammars agree but
on bounds with fewer than three numbers, where npm reads an x-range: ``>1.2`` is
PEP 440 (``1.2.1`` is in it); npm's meaning is written ``>1.2.x`` (``1.3.0`` and
above); and on which prereleases a prerelease bound admits (below).

Prereleases, in both grammars: out unless the range names one or the caller asks
(``prereleases=True``).  PEP 440 names one with any operator but ``!=`` and a
prerelease version (as packaging 25 and later decide), and then admits every
prerelease in range; npm admits only prereleases of the same ``major.minor.patch``
as a prerelease bound of the same alternative (``>=1.2.3-beta.2`` admits
``1.2.3-rc.1``, not ``1.2.4-rc.1``).  An exclusive upper bound never admits a
prerelease of its own final (``<9`` excludes ``9.0.0b1``), as PEP 440 requires and
as npm's ``<9.0.0-0`` sugar does — regframe applies it to user-written npm
bounds too.  A tag without a version never matches.

Deliberately refused, with a message: an empty range or an empty ``||``
alternative (npm would read it as ``*``), PEP 440 epochs, local versions and
post-releases (regframe's order has none), and bounds regframe reads with a
variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError
from regframe.parsing.grammar import PRE_RE, parse_tags
from regframe.parsing.order import prerelease_keys

if TYPE_CHECKING:
    from packaging.specifiers import Specifier

__all__ = [
    "Bound",
    "Grammar",
    "Version",
    "VersionRange",
    "compile_range",
    "pre_key",
    "pre_keys",
    "release_tuple",
    "version_of",
]

Grammar = Literal["pep440", "npm"]
#: A prerelease in regframe's order: (rank, number, text for ties); ``None`` for a final.
PreKey = tuple[int, int, str] | None

#: Operators of a comparator after desugaring.  ``==*``/``!=*`` are PEP 440's prefix
#: matches (``==8.*``); ``===`` compares text.
Operator = Literal["<", "<=", ">", ">=", "==", "!=", "==*", "!=*", "===", "*"]

# Text that only PEP 440 writes: a range holding one of these and failing PEP 440 is
# reported as a PEP 440 error, not an npm one.
_PEP440_ONLY: Final = re.compile(r",|==|!=|~=")
# A prerelease after ``-``, as semver spells it (``1.2.3-beta.2``; PEP 440 writes ``1.2.3b2``):
# a range both grammars accept is then read as npm.
_SEMVER_SPELLING: Final = re.compile(r"\d-[0-9A-Za-z]")
# npm's lowest prerelease (``-0`` in ``<2.0.0-0``) ranks below every word.
_LOWEST_RANK: Final = 0


@dataclass(frozen=True)
class Version:
    """A version in regframe's order: release numbers (zero-padded when compared), prerelease."""

    numbers: tuple[int, ...]
    pre: PreKey = None

    def padded(self, width: int) -> tuple[int, ...]:
        """The release numbers, zero-padded to ``width``."""
        return self.numbers + (0,) * (width - len(self.numbers))

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as ``self`` sorts before, with or after ``other``."""
        width = max(len(self.numbers), len(other.numbers))
        a, b = self.padded(width), other.padded(width)
        if a != b:
            return -1 if a < b else 1
        if self.pre == other.pre:
            return 0
        if self.pre is None or other.pre is None:
            return 1 if self.pre is None else -1
        return -1 if self.pre < other.pre else 1

    def same_release(self, other: Version) -> bool:
        """Equal release numbers (zero-padded), whatever the prereleases."""
        width = max(len(self.numbers), len(other.numbers))
        return self.padded(width) == other.padded(width)


@dataclass(frozen=True)
class Bound:
    """One comparator: ``op`` applied to ``version`` (``text`` as the range wrote it)."""

    op: Operator
    version: Version
    text: str

    def holds(self, v: Version, tag: str | None = None) -> bool:
        """Whether version ``v`` (of ``tag``, for ``===``) satisfies this comparator."""
        op = self.op
        if op == "*":
            return True
        if op in ("==*", "!=*"):
            width = len(self.version.numbers)
            inside = v.padded(max(width, len(v.numbers)))[:width] == self.version.numbers
            return inside if op == "==*" else not inside
        if op == "===":
            return tag is not None and tag.lower() in (self.text.lower(), "v" + self.text.lower())
        c = v.compare(self.version)
        if op == "<":
            # an exclusive upper bound never admits a prerelease of its own final
            own_pre = (
                v.pre is not None and self.version.pre is None and v.same_release(self.version)
            )
            return c < 0 and not own_pre
        return {"<=": c <= 0, ">": c > 0, ">=": c >= 0, "==": c == 0, "!=": c != 0}[op]


@dataclass(frozen=True)
class VersionRange:
    """A compiled range: ``alternatives`` (any may hold) of bounds (all must hold).

    Build one with :func:`compile_range`; test versions with :meth:`contains`.
    ``admits`` holds, per alternative, the release numbers whose prereleases the
    range names (npm), or ``None`` where every prerelease is named (PEP 440).
    """

    text: str
    grammar: Grammar
    alternatives: tuple[tuple[Bound, ...], ...]
    admits: tuple[tuple[Version, ...] | None, ...] = field(default=())
    uses_text: bool = False

    def contains(
        self, v: Version | None, *, prereleases: bool = False, tag: str | None = None
    ) -> bool:
        """Whether version ``v`` is in the range (``None``, a tag without a version: never).

        Examples
        --------
        >>> r = compile_range(">=8.15,<9")
        >>> [r.contains(version_of(t)) for t in ["8.15", "8.15.3", "9.0.0b1", "9.0"]]
        [True, True, False, False]
        """
        if v is None:
            return False
        for bounds, admitted in zip(self.alternatives, self.admits, strict=True):
            if not all(b.holds(v, tag) for b in bounds):
                continue
            if v.pre is None or prereleases:
                return True
            if admitted is None or any(v.same_release(a) for a in admitted):
                return True
        return False

    def names_prerelease(self) -> bool:
        """Whether the range names a prerelease (and so admits some without being asked)."""
        return any(a is None or a for a in self.admits)


def version_of(text: str) -> Version | None:
    """The version regframe reads in ``text`` (a tag or a bound), or ``None`` if it has none.

    Prefix and variant are ignored: ``alpine-v15.7.1`` and ``15.7.1-slim`` are
    version ``15.7.1``.

    Examples
    --------
    >>> version_of("v3.13.0rc2-slim")
    Version(numbers=(3, 13, 0), pre=(70, 2, ''))
    >>> version_of("latest") is None
    True
    """
    row = parse_tags([text]).iloc[0]
    release = row["release"]
    if not isinstance(release, str):
        return None
    pre = row["prerelease"]
    return Version(release_tuple(release), pre_key(pre if isinstance(pre, str) else ""))


def release_tuple(release: str) -> tuple[int, ...]:
    """``"8.15.0"`` → ``(8, 15, 0)``; numbers over 18 digits saturate as in sort keys."""
    return tuple(min(int(n), 10**18) for n in release.split("."))


def pre_key(pre: str) -> PreKey:
    """A prerelease text as (rank, number, tie text); ``""`` (a final) is ``None``."""
    return pre_keys([pre])[0]


def pre_keys(pres: list[str]) -> list[PreKey]:
    """:func:`pre_key` of many prereleases at once (one vectorised pass for the ranks)."""
    rank, num = prerelease_keys(np.array(pres, dtype=str))
    out: list[PreKey] = []
    for pre, r, n in zip(pres, rank.tolist(), num.tolist(), strict=True):
        if not pre:
            out.append(None)
            continue
        m = PRE_RE.match(pre)
        # ``rc.1`` and ``RC1`` are one prerelease: the tie text is only for what the
        # word-and-number reading does not cover (hex build ids, ``rc.1.24431.7``).
        tie = "" if m is not None and m.end() == len(pre) else pre.lower()
        out.append((int(r), int(n), tie))
    return out


def _bound_version(text: str, grammar: Grammar) -> Version:
    """A bound's version text (``9``, ``1.2.3-beta.2``, ``9.0.0b1``) in regframe's order.

    Raises ``ValueError`` with the reason when regframe cannot place it.
    """
    if grammar == "pep440" and ("!" in text or "+" in text):
        raise ValueError(f"{text!r}: epochs and local versions have no place in tag order")
    if grammar == "npm":
        main, _, pre = text.partition("-")
        if pre and pre.replace(".", "").isdigit():  # npm's ``-0``: the lowest prerelease
            return Version(release_tuple(main), (_LOWEST_RANK, int(pre.split(".")[0]), ""))
    row = parse_tags([text]).iloc[0]
    release, variant = row["release"], row["variant"]
    if not isinstance(release, str) or isinstance(row["prefix"], str):
        raise ValueError(f"{text!r} is not a version")
    if isinstance(variant, str):
        raise ValueError(
            f"{text!r}: regframe reads {variant!r} as a variant, not a prerelease "
            "(post-releases and unknown words cannot be compared)"
        )
    pre = row["prerelease"]
    if grammar == "npm" and "-" in text and not isinstance(pre, str):
        raise ValueError(
            f"{text!r}: regframe does not read {text.partition('-')[2]!r} as a prerelease"
        )
    return Version(release_tuple(release), pre_key(pre if isinstance(pre, str) else ""))


def _problem(text: str, at: int, what: str, reason: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"versions={text!r}: {what} at position {at} {reason}; a range is PEP 440 "
        "('>=8.15,<9', '~=8.15') or npm ('^8.15', '>=1.2 <2 || 3.x')"
    )


# --------------------------------------------------------------------------- PEP 440


def _pep440_specifiers(text: str) -> list[tuple[int, Specifier]]:
    """``(position, Specifier)`` of each comma-separated clause, as packaging reads them.

    Raises InvalidArgumentError naming the first clause packaging refuses.
    """
    from packaging.specifiers import InvalidSpecifier, Specifier

    out = []
    at = 0
    for clause in text.split(","):
        pos = at + len(clause) - len(clause.lstrip())
        at += len(clause) + 1
        try:
            out.append((pos, Specifier(clause.strip())))
        except InvalidSpecifier:
            raise _problem(text, pos, repr(clause.strip()), "is not a PEP 440 specifier") from None
    return out


def _pep440(text: str, specifiers: list[tuple[int, Specifier]]) -> VersionRange:
    """The range of PEP 440 specifiers read by :func:`_pep440_specifiers`."""
    bounds: list[Bound] = []
    names_pre = False
    for pos, spec in specifiers:
        try:
            added = _pep440_bounds(spec.operator, spec.version)
        except ValueError as exc:
            raise _problem(text, pos, repr(str(spec)), f"cannot be placed: {exc}") from None
        bounds.extend(added)
        # A prerelease bound names prereleases, except after ``!=`` (packaging >= 25
        # decides so too; older releases left out ``<`` and ``>``).
        named = any(b.version.pre is not None for b in added)
        names_pre = names_pre or (spec.operator != "!=" and named)
    uses_text = any(b.op == "===" for b in bounds)
    return VersionRange(text, "pep440", (tuple(bounds),), (None if names_pre else (),), uses_text)


def _pep440_bounds(op: str, version: str) -> list[Bound]:
    """One specifier as comparators in regframe's order (``~=`` is two)."""
    if op == "===":
        found = version_of(version)
        return [Bound("===", found if found is not None else Version(()), version)]
    if version.endswith(".*"):
        prefix = _bound_version(version[:-2], "pep440")
        return [Bound("==*" if op == "==" else "!=*", prefix, version)]
    v = _bound_version(version, "pep440")
    if op == "~=":
        # PEP 440: ``~=X.Y.Z`` is ``>=X.Y.Z, ==X.Y.*`` (the last release number dropped)
        return [Bound(">=", v, version), Bound("==*", Version(v.numbers[:-1]), version)]
    return [Bound(op, v, version)]  # type: ignore[arg-type]  # packaging checked the operator


# --------------------------------------------------------------------------- npm


def _npm(text: str) -> VersionRange:
    """Read ``text`` as an npm range through node-semver (raises InvalidArgumentError)."""
    import nodesemver

    alternatives: list[tuple[Bound, ...]] = []
    admits: list[tuple[Version, ...]] = []
    at = 0
    for group in text.split("||"):
        pos = at + len(group) - len(group.lstrip())
        at += len(group) + 2
        if not group.strip():
            reason = "is empty (npm would read it as '*')"
            raise _problem(text, pos, "an alternative", reason)
        try:
            parsed = nodesemver.make_range(group.strip(), False)
        except Exception as exc:
            what, where = _npm_culprit(text, group, pos, exc)
            raise _problem(text, where, what, "is not an npm range") from None
        # one group is one alternative: node-semver's ``set`` has a single entry here
        for comparators in parsed.set:
            bounds, pres = _npm_bounds(text, pos, comparators)
            alternatives.append(bounds)
            admits.append(pres)
    return VersionRange(text, "npm", tuple(alternatives), tuple(admits))


def _npm_bounds(
    text: str, pos: int, comparators: list[object]
) -> tuple[tuple[Bound, ...], tuple[Version, ...]]:
    import nodesemver

    bounds: list[Bound] = []
    for c in comparators:
        semver = getattr(c, "semver", None)
        if semver is nodesemver.ANY:
            bounds.append(Bound("*", Version(()), "*"))
            continue
        written = str(getattr(semver, "version", ""))
        op = getattr(c, "operator", "") or "=="
        try:
            v = _bound_version(written, "npm")
        except ValueError as exc:
            raise _problem(text, pos, repr(written), f"cannot be placed: {exc}") from None
        bounds.append(Bound("==" if op == "=" else op, v, written))  # type: ignore[arg-type]
    pres = tuple(b.version for b in bounds if b.version.pre is not None)
    return tuple(bounds), pres


def _npm_culprit(text: str, group: str, pos: int, exc: Exception) -> tuple[str, int]:
    """What node-semver refused and where it stands in ``text``."""
    message = str(exc)
    if ": " in message:
        bad = message.split(": ", 1)[1].strip()
        found = text.find(bad, pos)
        if bad and found >= 0:
            return repr(bad), found
    return repr(group.strip()), pos


# --------------------------------------------------------------------------- entry


def compile_range(text: object) -> VersionRange:
    """Read a version range (PEP 440 or npm) and return it compiled; raises on bad input.

    Parameters
    ----------
    text
        A PEP 440 specifier set (``">=8.15,<9"``, ``"~=8.15"``, ``"==8.*"``,
        ``"!=8.15.2"``) or an npm range (``"^8.15"``, ``"~8.15.1"``, ``"8.x"``,
        ``">=1.2 <2 || 3.x"``), or an already compiled :class:`VersionRange`.
        A range PEP 440 accepts is read as PEP 440 (see the module docstring).

    Returns
    -------
    VersionRange

    Raises
    ------
    InvalidArgumentError
        The text is no range of either grammar; the message names the piece and
        its position (0-based).
    InvalidArgumentTypeError
        ``text`` is not a string.

    Examples
    --------
    >>> compile_range("^8.15").contains(version_of("8.99.1"))
    True
    >>> compile_range(">=8.15,<<9")
    Traceback (most recent call last):
    ...
    regframe.errors.InvalidArgumentError: versions='>=8.15,<<9': '<<9' at position 7 is not a \
PEP 440 specifier; a range is PEP 440 ('>=8.15,<9', '~=8.15') or npm ('^8.15', '>=1.2 <2 || 3.x')
    """
    if isinstance(text, VersionRange):
        return text
    if not isinstance(text, str):
        raise InvalidArgumentTypeError(
            "versions= takes a range as text (e.g. '>=8.15,<9' or '^8.15'), "
            f"not {type(text).__name__}"
        )
    if not text.strip():
        raise _problem(text, 0, "the range", "is empty (write '*' for every version)")
    try:
        specifiers = _pep440_specifiers(text)
    except InvalidArgumentError:
        if _PEP440_ONLY.search(text):
            raise
        return _npm(text)
    if _SEMVER_SPELLING.search(text) and not _PEP440_ONLY.search(text):
        try:
            return _npm(text)
        except InvalidArgumentError:
            pass  # not npm after all: PEP 440 read it
    return _pep440(text, specifiers)
