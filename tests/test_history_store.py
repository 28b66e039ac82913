"""The tag-history store on a real SQLite file: intervals, schema, damaged files, several processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from regframe.frame.history import HISTORY_COLUMNS, frame_from_store, parse_max_age
from regframe.frame.history_schema import (
    APPLICATION_ID,
    FACT_COLUMNS,
    INTERVAL_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
)
from regframe.frame.history_store import (
    HistoryStore,
    Observation,
    Revision,
    resolve_store_path,
)

REG, REPO, PLAT = "localhost:5000", "app", "linux/amd64"
IMAGE = f"{REG}/{REPO}"


def dg(c: str) -> str:
    return "sha256:" + c * 64


def obs(**tags: str) -> list[Observation]:
    return [Observation(t.replace("_", "."), dg(c)) for t, c in tags.items()]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"


def rows(path: Path) -> list[tuple]:
    with HistoryStore.open(path) as store:
        return [r[:6] for r in store.intervals(REG, REPO, PLAT)]


def test_new_interval_only_when_the_digest_changes(path: Path) -> None:
    with HistoryStore.open(path) as store:
        first = store.record(REG, REPO, PLAT, obs(v1="a", latest="a"), seen=10)
        store.record(REG, REPO, PLAT, obs(v1="a", latest="a"), seen=20)
        moved = store.record(REG, REPO, PLAT, obs(v1="a", latest="b"), seen=30)
        gone = store.record(REG, REPO, PLAT, obs(v1="a"), seen=40)
    assert first.new == ["v1", "latest"] and first.previous_snapshot is None
    assert moved.moved == ["latest"] and moved.previous_snapshot == 20
    assert gone.gone == ["latest"]
    assert rows(path) == [
        ("latest", dg("a"), 10, 20, 0, "observed"),
        ("latest", dg("b"), 30, 30, 0, "observed"),
        ("v1", dg("a"), 10, 40, 1, "observed"),
    ]


def test_incomplete_read_does_not_close_missing_tags(path: Path) -> None:
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(v1="a", latest="a"), seen=10)
        res = store.record(REG, REPO, PLAT, obs(v1="a"), seen=20, complete=False)
    assert res.gone == []
    assert ("latest", dg("a"), 10, 10, 1, "observed") in rows(path)


def test_a_late_commit_of_an_older_read_extends_the_past_only(path: Path) -> None:
    # Process B read at 30 (after the move) and committed before process A, which read at 25.
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(latest="a"), seen=10)
        store.record(REG, REPO, PLAT, obs(latest="b"), seen=30)
        store.record(REG, REPO, PLAT, obs(latest="a"), seen=25)
        store.record(REG, REPO, PLAT, obs(latest="b"), seen=28)  # b was seen earlier than 30
        store.record(REG, REPO, PLAT, obs(latest="b"), seen=20)  # inside a's span: a conflict
    assert rows(path) == [
        ("latest", dg("a"), 10, 25, 0, "observed"),
        ("latest", dg("b"), 28, 30, 1, "observed"),
    ]


def test_a_tag_that_comes_back_gets_a_new_interval(path: Path) -> None:
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(v1="a", rc="a"), seen=10)
        store.record(REG, REPO, PLAT, obs(v1="a"), seen=20)
        store.record(REG, REPO, PLAT, obs(v1="a", rc="a"), seen=30)
    assert [r for r in rows(path) if r[0] == "rc"] == [
        ("rc", dg("a"), 10, 10, 0, "observed"),
        ("rc", dg("a"), 30, 30, 1, "observed"),
    ]


def test_registry_history_is_imported_once(path: Path) -> None:
    revs = [Revision("latest", dg("a"), 100, 200), Revision("latest", dg("b"), 200, 300)]
    current = [Observation("latest", dg("c"), since=300, source="quay")]
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, current, seen=400, revisions=revs)
        again = store.record(REG, REPO, PLAT, current, seen=500, revisions=revs)
    assert again.moved == [] and again.new == []
    assert rows(path) == [
        ("latest", dg("a"), 100, 200, 0, "quay"),
        ("latest", dg("b"), 200, 300, 0, "quay"),
        ("latest", dg("c"), 300, 500, 1, "quay"),
    ]


def test_schema_version_and_application_id(path: Path) -> None:
    HistoryStore.open(path).close()
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_an_empty_sqlite_file_is_migrated(path: Path) -> None:
    sqlite3.connect(path).close()  # version 0, no tables: the start of the migration path
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(v1="a"), seen=1)
    assert rows(path) == [("v1", dg("a"), 1, 1, 1, "observed")]


def _damaged(path: Path, kind: str) -> None:
    if kind == "corrupt":
        path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    elif kind == "garbage":
        path.write_bytes(b"not a database at all\n" * 50)
    elif kind == "newer":
        con = sqlite3.connect(path)
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        con.execute("CREATE TABLE future (x)")
        con.close()
    elif kind == "foreign":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE notes (x)")
        con.close()
    elif kind == "read-only":
        HistoryStore.open(path).close()
        path.chmod(0o444)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("corrupt", "not a usable SQLite database"),
        ("garbage", "not a usable SQLite database"),
        ("newer", "newer regframe"),
        ("foreign", "not a regframe history store"),
        ("read-only", "read-only"),
    ],
)
def test_unusable_store_is_a_clear_error_and_stays_untouched(
    path: Path, kind: str, says: str
) -> None:
    _damaged(path, kind)
    before = path.read_bytes()
    with pytest.raises(rf.HistoryStoreError, match=says):
        HistoryStore.open(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_read_only_store_can_still_be_queried(path: Path) -> None:
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(v1="a"), seen=1)
    path.chmod(0o444)
    hist = rf.history(IMAGE, store=path)
    assert hist["tag"].tolist() == ["v1"]


def test_a_store_being_created_reads_as_empty(path: Path) -> None:
    path.touch()  # what a writer's connect leaves for a moment, before the schema commits
    empty = rf.history(IMAGE, store=path)
    assert empty.empty and list(empty.columns) == HISTORY_COLUMNS
    assert path.read_bytes() == b""


def test_history_frame_columns_dtypes_and_filters(path: Path) -> None:
    t0 = pd.Timestamp("2026-01-01", tz="UTC").value
    day = 86_400 * 10**9
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(v3_1_0="a", latest="a"), seen=t0)
        store.record(REG, REPO, PLAT, obs(v3_1_0="a", v3_2_0="b", latest="b"), seen=t0 + 10 * day)
    hist = rf.history(IMAGE, store=path)
    assert list(hist.columns) == HISTORY_COLUMNS
    assert str(hist["first_seen"].dtype) == "datetime64[ns, UTC]"
    assert str(hist["current"].dtype) == "boolean"
    assert hist.attrs["repository"] == REPO
    latest = hist[hist["tag"] == "latest"]
    assert latest["resolves_to"].tolist() == ["v3.1.0", "v3.2.0"]
    assert latest["current"].tolist() == [False, True]
    assert rf.history(IMAGE, store=path, tags="latest")["tag"].unique().tolist() == ["latest"]
    since = rf.history(IMAGE, store=path, since="2026-01-05")
    assert sorted(since["tag"]) == ["latest", "v3.1.0", "v3.2.0"]  # the closed a-interval is out
    assert len(since) == 3


def test_unknown_image_gives_every_column(path: Path) -> None:
    for store in (path, path.parent / "missing.sqlite"):
        empty = rf.history("localhost:5000/never/seen", store=store)
        assert empty.empty and list(empty.columns) == HISTORY_COLUMNS
        assert str(empty["last_seen"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize("since", ["yesterday-ish", "2026-13-45", 5, True])
def test_since_that_is_not_a_date_is_a_typed_error(path: Path, since: object) -> None:
    with pytest.raises(rf.InvalidArgumentError, match="since"):
        rf.history(IMAGE, since=since, store=path)  # type: ignore[arg-type]


def test_history_env_and_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REGFRAME_HISTORY", str(tmp_path / "env.sqlite"))
    assert resolve_store_path(True) == tmp_path / "env.sqlite"
    monkeypatch.delenv("REGFRAME_HISTORY")
    assert resolve_store_path(True).name == "history.sqlite"  # type: ignore[union-attr]
    assert resolve_store_path(False) is None


@pytest.mark.parametrize(
    ("value", "ns"),
    [
        (90, 90 * 10**9),
        (0.5, 5 * 10**8),
        ("15min", 900 * 10**9),
        (pd.Timedelta("1h"), 3600 * 10**9),
    ],
)
def test_max_age_forms(value: object, ns: int) -> None:
    assert parse_max_age(value) == ns


@pytest.mark.parametrize("value", [-1, "-5s", "soon", "15 parsecs", True, [1]])
def test_max_age_bad_values(value: object) -> None:
    with pytest.raises(rf.InvalidArgumentError, match="max_age"):
        parse_max_age(value)


# ---------------------------------------------------------------- several processes


def _writer(path: str, worker: int, rounds: int, barrier) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()
    with HistoryStore.open(path) as store:
        for i in range(rounds):
            # Everyone sees the shared tags; each also moves a tag of its own every round.
            seen = (i + 1) * 1000 + worker
            own = Observation(f"w{worker}", dg("abcdef"[i % 6]))
            shared = [Observation(f"s{n}", dg("1")) for n in range(50)]
            store.record(REG, REPO, PLAT, [*shared, own], seen=seen, complete=False)


def test_four_processes_write_at_once_without_losing_or_duplicating(path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    rounds = 12
    procs = [ctx.Process(target=_writer, args=(str(path), w, rounds, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    got = rows(path)
    shared = [r for r in got if r[0].startswith("s")]
    assert len(shared) == 50  # one interval per shared tag, never duplicated
    assert {(r[2], r[3], r[4]) for r in shared} == {(1000, rounds * 1000 + 3, 1)}
    for w in range(4):
        own = [r for r in got if r[0] == f"w{w}"]
        assert len(own) == rounds  # every move of every writer is an interval
        assert [r[2] for r in own] == [(i + 1) * 1000 + w for i in range(rounds)]
        assert [r[4] for r in own] == [0] * (rounds - 1) + [1]
    with HistoryStore.open(path) as store:
        assert len(store.snapshots(REG, REPO, PLAT)) == 4 * rounds


def test_migrations_run_in_order_once_and_keep_the_data(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import regframe.frame.history_schema as hs

    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(v1="a"), seen=1)
    # A future regframe adds a step: the store written by this one must upgrade in place.
    step = ("ALTER TABLE intervals ADD COLUMN note TEXT", "UPDATE intervals SET note = 'kept'")
    monkeypatch.setattr(hs, "MIGRATIONS", (*hs.MIGRATIONS, step))
    monkeypatch.setattr(hs, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, obs(v1="a"), seen=2)
    with HistoryStore.open(path):  # already migrated: the step does not run again
        pass
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert con.execute("SELECT tag, first_seen, last_seen, note FROM intervals").fetchall() == [
            ("v1", 1, 2, "kept")
        ]
    finally:
        con.close()
    monkeypatch.undo()
    with pytest.raises(rf.HistoryStoreError, match="newer regframe"):
        HistoryStore.open(path)  # and the older regframe now leaves it alone


def old_store(path: Path, version: int, intervals: list[dict[str, object]]) -> None:
    """A store as the regframe of schema ``version`` left it (migration steps are never edited)."""
    con = sqlite3.connect(path)
    try:
        for step in MIGRATIONS[:version]:
            for statement in step:
                con.execute(statement)
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {version}")
        con.execute("INSERT INTO series VALUES (1, ?, ?, ?)", (REG, REPO, PLAT))
        for row in intervals:
            names = ", ".join(["series", *row])
            marks = ", ".join("?" * (len(row) + 1))
            sql = f"INSERT INTO intervals ({names}) VALUES ({marks})"  # noqa: S608 (test columns)
            con.execute(sql, (1, *row.values()))
        con.execute("INSERT INTO snapshots (series, taken_at, tags, moved, complete)"
                    " VALUES (1, ?, ?, 0, 1)", (TAKEN, len(intervals)))  # fmt: skip
        con.commit()
    finally:
        con.close()


#: When :func:`old_store`'s read was recorded (after every date in it, as a real read is).
TAKEN = pd.Timestamp("2024-09-01", tz="UTC").value


def interval(tag: str, c: str, **facts: object) -> dict[str, object]:
    return {"tag": tag, "digest": dg(c), "first_seen": 1, "last_seen": 5, "current": 1,
            "source": "observed", **facts}  # fmt: skip


def test_a_schema_1_store_gains_attested(path: Path) -> None:
    old_store(path, 1, [interval("v1", "a", created=7, created_source="config")])
    facts = dict.fromkeys(FACT_COLUMNS)
    facts["attested"] = True
    with HistoryStore.open(path) as store:
        store.record(REG, REPO, PLAT, [Observation("v2", dg("b"), tuple(facts.values()))],
                     seen=6, complete=False)  # fmt: skip
        got = store.intervals(REG, REPO, PLAT)
    attested = INTERVAL_COLUMNS.index("attested")
    assert [(r[0], r[attested]) for r in got] == [("v1", None), ("v2", 1)]
    assert got[0][INTERVAL_COLUMNS.index("created")] == 7  # the old facts are kept


def test_a_schema_2_store_moves_push_times_out_of_created(path: Path) -> None:
    """Schema 2 filed Docker Hub's and Quay's push times under ``created``; 3 moves them."""
    hub_t, quay_t, built, gcr_t = (pd.Timestamp(d, tz="UTC").value for d in
                                   ("2024-08-08", "2024-07-07", "2024-06-06", "2024-05-05"))  # fmt: skip
    old_store(
        path,
        2,
        [
            interval("hub", "a", created=hub_t, created_source="hub", attested=None),
            interval("quay", "b", created=quay_t, created_source="quay"),
            interval("config", "c", created=built, created_source="config", attested=1),
            interval("gcr", "d", created=gcr_t, created_source="gcr"),
            interval("none", "e"),
        ],
    )
    with HistoryStore.open(path) as store:
        got = {
            r[0]: dict(zip(INTERVAL_COLUMNS, r, strict=True))
            for r in store.intervals(REG, REPO, PLAT)
        }
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    finally:
        con.close()
    times = {
        t: (g["created"], g["created_source"], g["pushed"], g["pushed_source"])
        for t, g in got.items()
    }
    assert times == {
        "hub": (None, None, hub_t, "hub"),
        "quay": (None, None, quay_t, "quay"),
        "config": (built, "config", None, None),
        # GCR's was a build time, or Artifact Registry's upload time: the store cannot tell.
        "gcr": (gcr_t, "gcr", None, None),
        "none": (None, None, None, None),
    }
    assert got["config"]["attested"] == 1  # the other facts are untouched
    hist = rf.history(IMAGE, store=path).set_index("tag")
    assert hist.loc["hub", "pushed"] == pd.Timestamp(hub_t, tz="UTC")
    assert pd.isna(hist.loc["hub", "created"])
    assert hist.loc["config", "created"] == pd.Timestamp(built, tz="UTC")
    # A frame answered from the upgraded store carries the push times in their own columns.
    now = pd.Timestamp(TAKEN + 10, tz="UTC")
    frame = frame_from_store(registry=REG, repository=REPO, platform=PLAT, history=path,
                             max_age=100, now=now).set_index("tag")  # fmt: skip
    assert frame.loc["quay", "pushed"] == pd.Timestamp(quay_t, tz="UTC")
    assert frame.loc["quay", "pushed_source"] == "quay"
    assert pd.isna(frame.loc["quay", "created_source"])
    assert frame.loc["config", "created_source"] == "config"
