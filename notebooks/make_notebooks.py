"""Regenerates the notebooks in this folder from the cell lists below (stored without outputs).

Run ``python notebooks/make_notebooks.py`` after editing; the test suite executes the results.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

SETUP = '''import os
import regframe as rf

# The image to explore. REGFRAME_IMAGE lets you (and the test suite) point the
# notebook at another registry, e.g. the one `regframe demo --serve` starts.
IMAGE = os.environ.get("REGFRAME_IMAGE", "docker.elastic.co/elasticsearch/elasticsearch")
IMAGE'''

QUICKSTART = [
    new_markdown_cell(
        "# regframe quickstart\n\n"
        "List every tag of an image as a pandas DataFrame, filter and sort it by version, "
        "and export it to CSV."
    ),
    new_code_cell(SETUP),
    new_markdown_cell(
        "## List the tags\n\n"
        "`read_tags` accepts any reference docker accepts. It talks to the registry directly, "
        "including the token dance, and returns one row per tag with the version parsed into columns."
    ),
    new_code_cell("df = rf.read_tags(IMAGE)\nprint(len(df), 'tags')\ndf.head()"),
    new_markdown_cell("Where did the data come from? `df.attrs` remembers."),
    new_code_cell("df.attrs"),
    new_markdown_cell("## What kinds of tags are there?\n\n`scheme` sorts tags into version-like and named ones."),
    new_code_cell("df['scheme'].value_counts()"),
    new_markdown_cell("## Filter\n\nFinal releases of the newest major, without variants:"),
    new_code_cell(
        "newest = df['major'].max()\n"
        "finals = df[(df['major'] == newest) & ~df['is_prerelease'] & df['variant'].isna()]\n"
        "finals.tail()"
    ),
    new_markdown_cell("## Sort by version\n\nVersion order, not string order: `1.10` comes after `1.9`."),
    new_code_cell("rf.sort_tags(finals, descending=True).head(10)[['tag', 'release', 'major', 'minor', 'patch']]"),
    new_markdown_cell("Prereleases sort below their final release:"),
    new_code_cell("rf.sort_tags(df[df['is_prerelease']], descending=True).head()[['tag', 'prerelease']]"),
    new_markdown_cell("## Export\n\n`to_csv` writes stable columns and ISO-8601 UTC dates."),
    new_code_cell(
        "path = rf.to_csv(finals, 'quickstart-tags.csv') or 'quickstart-tags.csv'\n"
        "print(open(path).read()[:300])"
    ),
]

CADENCE = [
    new_markdown_cell(
        "# Release cadence\n\n"
        "How often does a project release? `read_tags(..., dates=True)` reads when each image "
        "was built; `releases` turns tags into releases; four charts and an explorer show the cadence."
    ),
    new_code_cell(
        SETUP
        + "\n\n# A second image to compare with.\n"
        + 'OTHER = os.environ.get("REGFRAME_OTHER_IMAGE", "python")\nOTHER'
    ),
    new_markdown_cell(
        "## Tags with build dates\n\n"
        "`created` is the build time from the image config (`pushed`, where the registry says "
        "it, the push time). Official images are rebuilt for base updates, so a tag's `created` "
        "can be weeks after its release: `releases` dates each release by `released` instead, "
        "which for a rebuilt line is estimated from its predecessor's last rebuild."
    ),
    new_code_cell(
        "df = rf.read_tags(IMAGE, dates=True)\n"
        "df[['tag', 'created', 'created_source', 'platforms', 'resolves_to']].tail()"
    ),
    new_markdown_cell("Floating tags such as `latest` are aliases: `resolves_to` names the release they point at."),
    new_code_cell("df[df['scheme'] == 'named'][['tag', 'resolves_to', 'created']]"),
    new_markdown_cell(
        "## One row per release\n\n"
        "Variants (`-ubi`, `-slim`) merge into one release; floating tags never count."
    ),
    new_code_cell("rel = rf.releases(df)\nrel.tail()"),
    new_markdown_cell("## Summary per major"),
    new_code_cell("from regframe import cadence\n\ncadence.summary(rel)"),
    new_markdown_cell("## When did each release line ship?"),
    new_code_cell("rf.plot.timeline(df);"),
    new_markdown_cell("## Releases per quarter, stacked by major"),
    new_code_cell("rf.plot.cadence(df, freq='QS');"),
    new_markdown_cell("## Days between releases"),
    new_code_cell("rf.plot.intervals(df);"),
    new_markdown_cell("## How long does each `major.minor` line live?"),
    new_code_cell("rf.plot.lines(df);"),
    new_markdown_cell(
        "## Explore interactively\n\n"
        "Pick majors, a line, a variant, prereleases, a date range and the chart; export what you see."
    ),
    new_code_cell("explorer = rf.explore(df)\nexplorer"),
    new_markdown_cell(
        "## Compare two projects\n\n"
        "Give `read_tags` a list: the images are read concurrently into one frame whose first "
        "column, `image`, says which project a row belongs to. `match=` keeps only version-like "
        "tags before any manifest is requested, so the comparison costs no more than it needs."
    ),
    new_code_cell(
        "both = rf.read_tags([IMAGE, OTHER], dates=True, match=r'^v?\\d', on_error='skip')\n"
        "both.groupby('image', sort=False).size()"
    ),
    new_markdown_cell("Releases and the summary keep the projects apart:"),
    new_code_cell("cadence.summary(rf.releases(both))"),
    new_code_cell("rf.plot.cadence(both, freq='YS', by='image');"),
    new_code_cell("rf.plot.timeline(both, top=12);"),
    new_code_cell(
        "cadence.per_period(rf.releases(both), 'YS', by='image').tail(6)"
    ),
    new_markdown_cell(
        "## Rebuilt images: when did a release come out?\n\n"
        "Official images are rebuilt under the same tag until the next patch replaces them, so "
        "their `created` is the last rebuild. For such a line `released` lies between the "
        "predecessor's last build (`released_earliest`) and the next rebuild wave "
        "(`released_latest`); `dated_by` says what dated it, and the timeline draws the bounds "
        "as whiskers."
    ),
    new_code_cell(
        "rel_both = rf.releases(both)\n"
        "other = rel_both[rel_both['image'] == OTHER]\n"
        "other[['release', 'created', 'released', 'released_earliest', 'released_latest', "
        "'dated_by', 'rebuilt']].tail()"
    ),
    new_code_cell("rf.plot.timeline(other, top=6);"),
]


HISTORY = [
    new_markdown_cell(
        "# Tag history: when did each tag point where?\n\n"
        "A registry only answers *now*: `latest` points at one digest today, and yesterday's "
        "answer is gone. Official images are also rebuilt for base-image updates, so an old tag's "
        "`created` is its last rebuild, not its release. regframe keeps the history itself: every "
        "`read_tags(..., dates=True)` records, per tag, the digest it saw in a small SQLite file "
        "(`rf.history` reads it back). Quay repositories also bring Quay's own push history.\n\n"
        "To show tags moving, this notebook starts a local registry from `regframe.testing` "
        "(the `sandbox` extra) and pushes to it; the last section says how to do the same with "
        "your own images."
    ),
    new_code_cell(
        "import regframe as rf\n"
        "from regframe.testing.sandbox import Sandbox\n\n"
        "sandbox = Sandbox().start()\n"
        "push = sandbox.pusher\n"
        "IMAGE = sandbox.ref('demo/python')\n"
        "# A store of its own, next to the notebook: the demo never touches your real history.\n"
        "STORE = 'tag-history.sqlite'\n"
        "IMAGE"
    ),
    new_markdown_cell("## Two releases, then a first snapshot"),
    new_code_cell(
        "push.push_image('demo/python', ['3.11.9', '3.11'], created='2024-04-02T00:00:00Z')\n"
        "push.push_image('demo/python', ['3.12.3', '3.12', '3', 'latest'], created='2024-04-09T00:00:00Z')\n\n"
        "df = rf.read_tags(IMAGE, dates=True, history=STORE)\n"
        "df[['tag', 'digest', 'created', 'resolves_to']]"
    ),
    new_markdown_cell("Each recorded read says what changed since the previous one:"),
    new_code_cell("df.attrs['history']"),
    new_markdown_cell(
        "## A new release moves `3` and `latest`; 3.12.3 is rebuilt\n\n"
        "Pushing 3.13.0 re-points the floating tags. Rebuilding 3.12.3 on a new base image gives "
        "`3.12.3` and `3.12` a new digest (and a new `created`) without a new version."
    ),
    new_code_cell(
        "push.push_image('demo/python', ['3.13.0', '3.13', '3', 'latest'], created='2024-10-07T00:00:00Z')\n"
        "push.push_image('demo/python', ['3.12.3', '3.12'], created='2024-10-08T00:00:00Z')\n\n"
        "df = rf.read_tags(IMAGE, dates=True, history=STORE)\n"
        "{k: df.attrs['history'][k] for k in ('new', 'moved', 'gone')}"
    ),
    new_markdown_cell(
        "## The history\n\n"
        "One row per interval during which a tag pointed at a digest. `source` says where it "
        "comes from:\n\n"
        "* `observed` — regframe's own reads. `first_seen` is **when regframe first saw** the tag "
        "there, not when it was pushed: the move happened somewhere between the previous interval's "
        "`last_seen` and this `first_seen`. `last_seen` is the latest read that still saw it.\n"
        "* `quay` — Quay's tag history: `first_seen`/`last_seen` are the registry's own push and "
        "move times.\n\n"
        "`current` marks where each tag pointed at the last read; `resolves_to` names the version "
        "a digest belonged to."
    ),
    new_code_cell("hist = rf.history(IMAGE, store=STORE)\nhist"),
    new_code_cell(
        "cols = ['tag', 'first_seen', 'created', 'resolves_to', 'current']\n"
        "hist.loc[hist['tag'].isin(['latest', '3.12.3']), cols]"
    ),
    new_markdown_cell(
        "## Moves chart\n\n"
        "One row per tag, one bar per interval, coloured by the version the digest resolved to; "
        "a rebuild of the same version is a lighter shade, `▸` marks the current digest."
    ),
    new_code_cell("rf.plot.moves(hist);"),
    new_code_cell("rf.plot.moves(hist, tags=['latest', '3', '3.12']);"),
    new_markdown_cell(
        "## Re-runs without the network\n\n"
        "`max_age` answers from the store when every tag was recorded less than that long ago: "
        "re-running a notebook costs no request at all. `fetched_at` tells when the data was read."
    ),
    new_code_cell(
        "again = rf.read_tags(IMAGE, dates=True, history=STORE, max_age='15min')\n"
        "print(again.attrs['fetched_at'], len(again), 'tags')\n"
        "again.equals(df)"
    ),
    new_markdown_cell(
        "## Your own images\n\n"
        "With the default `history=True` every `read_tags(image, dates=True)` records into "
        "`platformdirs.user_data_dir('regframe')/history.sqlite` (or `$REGFRAME_HISTORY`). "
        "To build a history without a notebook open, snapshot from cron:\n\n"
        "```sh\n"
        "# every hour: one line per image, e.g. 'python: 1843 tags, 2 moved (3, latest) since ...'\n"
        "0 * * * *  regframe snapshot python quay.io/prometheus/prometheus\n"
        "regframe history python --tag latest --csv -\n"
        "```"
    ),
    new_code_cell("sandbox.stop()"),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("quickstart.ipynb", QUICKSTART)
    write("release_cadence.ipynb", CADENCE)
    write("tag_history.ipynb", HISTORY)
