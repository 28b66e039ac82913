"""The columns of a tags frame: their names in order, and ``TagMetadata`` records as typed columns.

One place for the column lists (:data:`TAG_COLUMNS`, :data:`DATE_COLUMNS`,
:data:`LABEL_COLUMNS`): :func:`assemble_metadata` writes exactly these, and the CSV/JSON
writers and the history store read them.  :func:`resolve_aliases` fills ``resolves_to``
(the most specific version tag of each digest), whoever produced the digests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from regframe.client.tag_metadata import CREATED_SOURCES, PUSHED_SOURCES, TagMetadata
from regframe.parsing.versions import COLUMNS as VERSION_COLUMNS
from regframe.parsing.versions import RELEASE_SCHEMES, version_key

__all__ = [
    "DATE_COLUMNS",
    "LABEL_COLUMNS",
    "TAG_COLUMNS",
    "assemble_metadata",
    "resolve_aliases",
]

_NAT = np.iinfo(np.int64).min

#: The version columns every tags frame has, in order.
TAG_COLUMNS = list(VERSION_COLUMNS)
#: What ``dates=True`` adds, in order.
DATE_COLUMNS = [
    "digest",
    "media_type",
    "platforms",
    "created",
    "created_source",
    "pushed",
    "pushed_source",
    "size",
    "resolves_to",
    "error",
    "date_note",
    "attested",
]
#: With ``labels=True``: OCI keys from the config labels (else annotations), and all labels.
LABEL_COLUMNS = ["revision", "source", "image_version", "labels"]


def assemble_metadata(
    df: pd.DataFrame, rows: Sequence[TagMetadata], *, labels: bool = False
) -> pd.DataFrame:
    """Append the ``dates=True`` columns, typed and in order, from one record per row of *df*.

    Parameters
    ----------
    df
        A tags frame (``tag`` and the version columns).
    rows
        One :class:`TagMetadata` per row of ``df``, in row order.
    labels
        Also add ``revision, source, image_version`` (string) and ``labels`` (dict per row).

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with ``digest, media_type, platforms, created, created_source,
        pushed, pushed_source, size, resolves_to, error, date_note, attested``
        (``date_note`` NA: the plausibility check of dates fills it).

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.parse_tags(["1.0", "latest"])
    >>> same = TagMetadata(digest="sha256:" + "a" * 64, created_ns=1_723_113_296 * 10**9,
    ...                    created_source="config")
    >>> out = assemble_metadata(df, [same, same])
    >>> out["created"].iloc[1], out["resolves_to"].iloc[1]
    (Timestamp('2024-08-08 10:34:56+0000', tz='UTC'), '1.0')
    """

    def strings(values: list[str | None]) -> pd.Series:
        return pd.Series(values, index=df.index, dtype="string")

    def times(values: list[int | None]) -> pd.Series:
        ns = np.array([_NAT if v is None else v for v in values], dtype=np.int64)
        stamps = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")
        return pd.Series(stamps, index=df.index)

    def category(values: list[str | None], names: Sequence[str]) -> pd.Series:
        return pd.Series(pd.Categorical(values, categories=list(names)), index=df.index)

    columns = {
        "digest": strings([r.digest for r in rows]),
        "media_type": strings([r.media_type for r in rows]),
        "platforms": strings([r.platforms for r in rows]),
        "created": times([r.created_ns for r in rows]),
        "created_source": category([r.created_source for r in rows], CREATED_SOURCES),
        "pushed": times([r.pushed_ns for r in rows]),
        "pushed_source": category([r.pushed_source for r in rows], PUSHED_SOURCES),
        "size": pd.Series(pd.array([r.size for r in rows], dtype="Int64"), index=df.index),
        "error": strings([r.error for r in rows]),
        "date_note": strings([None] * len(rows)),
        "attested": pd.Series(
            pd.array([r.attested for r in rows], dtype="boolean"), index=df.index
        ),
    }
    if labels:
        columns["revision"] = strings([r.revision for r in rows])
        columns["source"] = strings([r.source for r in rows])
        columns["image_version"] = strings([r.image_version for r in rows])
        columns["labels"] = pd.Series(
            [dict(r.labels) if r.labels is not None else None for r in rows],
            index=df.index,
            dtype=object,
        )
    columns["resolves_to"] = resolve_aliases(df.assign(digest=columns["digest"]))
    out = df.copy()
    # the one list of these columns, in their documented order
    for name in [*DATE_COLUMNS, *(LABEL_COLUMNS if labels else [])]:
        out[name] = columns[name]
    return out


def resolve_aliases(df: pd.DataFrame) -> pd.Series:
    """The most specific versioned tag sharing each row's digest (``3.12`` → ``3.12.1``).

    Among the tags of one digest that have a version (scheme semver, multipart
    or calver), prefer the most release components, then no variant (then the
    shortest variant), then a final over a prerelease, then the highest
    version.  This works within a prefix: a row resolves to a tag with its own
    prefix (none for ``latest``) when the digest has one, else to the best tag
    of any prefix (ubuntu's ``jammy-20240808`` stays itself while ``22.04`` and
    ``jammy`` share its digest).  Rows without a digest, or whose digest has
    no versioned tag, get NA.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.parse_tags(["3.12", "3.12.1", "latest"])
    >>> df["digest"] = "sha256:" + "a" * 64
    >>> resolve_aliases(df).tolist()
    ['3.12.1', '3.12.1', '3.12.1']
    """
    result = pd.Series(pd.NA, index=df.index, dtype="string")
    if df.empty or "digest" not in df:
        return result
    versioned = df["scheme"].isin(RELEASE_SCHEMES) & df["digest"].notna() & df["release"].notna()
    cand = df.loc[versioned, ["tag", "release", "variant", "is_prerelease", "digest"]].copy()
    if cand.empty:
        return result
    row_prefix = (
        df["prefix"].astype("string").fillna("")
        if "prefix" in df.columns
        else pd.Series("", index=df.index, dtype="string")
    )
    cand["_prefix"] = row_prefix[cand.index]
    cand["_parts"] = cand["release"].str.count(r"\.") + 1
    cand["_vlen"] = cand["variant"].str.len().fillna(0)
    cand["_pre"] = cand["is_prerelease"].fillna(False).astype(bool)
    keys = version_key(df.loc[cand.index]).add_prefix("_k_")
    key_cols = [str(c) for c in keys.columns]
    cand = pd.concat([cand, keys], axis=1)
    order = ["digest", "_parts", "_vlen", "_pre", *key_cols]
    asc = [True, False, True, True, *[False] * len(key_cols)]
    ranked = cand.sort_values(order, ascending=asc, kind="stable")
    overall = ranked.drop_duplicates("digest").set_index("digest")["tag"]
    within = ranked.drop_duplicates(["digest", "_prefix"]).set_index(["digest", "_prefix"])["tag"]
    pairs = pd.MultiIndex.from_arrays([df["digest"].astype(object), row_prefix.astype(object)])
    mapped = pd.Series(within.reindex(pairs).to_numpy(), index=df.index, dtype="string")
    return mapped.fillna(df["digest"].map(overall).astype("string"))
