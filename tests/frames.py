"""Hand-built tags frames for the cadence, plot and widget tests (versions split by hand, not
by regframe, so those tests do not depend on the parser they would otherwise be checking)."""

from __future__ import annotations

import pandas as pd

DTYPES = {
    "tag": "string",
    "release": "string",
    "major": "Int64",
    "minor": "Int64",
    "patch": "Int64",
    "prerelease": "string",
    "variant": "string",
    "scheme": "category",
    "is_prerelease": "boolean",
}


def hand_tags(
    *specs: tuple[str, str | None],
    repository: str = "elastic/es",
    dates: bool = True,
) -> pd.DataFrame:
    """Tags frame from ``(tag, created)`` pairs; tags look like ``X.Y.Z[-rcN][_variant]``.

    ``_variant`` is written as ``-variant`` in the tag and lands in the ``variant`` column.
    """
    rows = []
    for tag, created in specs:
        version, _, variant = tag.partition("_")
        release, _, pre = version.partition("-")
        major, minor, patch = (int(n) for n in release.split("."))
        rows.append(
            {
                "tag": tag.replace("_", "-"),
                "release": release,
                "major": major,
                "minor": minor,
                "patch": patch,
                "prerelease": pre or None,
                "variant": variant or None,
                "scheme": "semver",
                "is_prerelease": bool(pre),
                "created": created,
            }
        )
    df = pd.DataFrame(rows).astype(DTYPES)
    if dates:
        df["created"] = pd.to_datetime(df["created"], utc=True).astype("datetime64[ns, UTC]")
    else:
        df = df.drop(columns="created")
    df.attrs = {
        "registry": "r.example",
        "repository": repository,
        "reference": f"r.example/{repository}",
    }
    return df
