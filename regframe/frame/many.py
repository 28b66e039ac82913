"""Several images in one frame: validate everything up front, read each image once, concurrently.

By default images are read on threads of this process through one shared
session, so the per-host concurrency limit holds across images.  With
``executor=`` each image becomes one picklable :class:`ImageTask` submitted to
any :class:`concurrent.futures.Executor` (a process pool, a Dask cluster); the
results come back as DataFrames and are put together in input order.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Iterable, Mapping
from concurrent.futures import (
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import dataclass, replace

import pandas as pd
import requests

from regframe.client.progress import Progress, ProgressOption
from regframe.client.transport import Transport
from regframe.errors import (
    ExecutorError,
    ImageFailedWarning,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    RegframeError,
)
from regframe.frame.one import empty_tags_frame, read_one, with_image
from regframe.frame.options import Options, check_executor, check_on_error
from regframe.parsing.reference import Reference, parse_reference

__all__ = [
    "ImageFailedWarning",
    "ImageTask",
    "read_many",
    "run_tasks",
    "submit_one",
    "validate_images",
]

log = logging.getLogger(__name__)

# Images read at once on threads: each already keeps the host's request slots
# busy during its manifest phase; the overlap pays off in the serial parts
# (ping, token, tag list, the last slow requests of a phase).
MAX_IMAGES_AT_ONCE = 8


def validate_images(images: object) -> list[tuple[str, Reference]]:
    """``(as given, parsed)`` for each image, duplicates (same repository) dropped.

    Raises
    ------
    InvalidArgumentError
        The list is empty.
    InvalidArgumentTypeError
        ``images`` is not a list of strings.
    InvalidReferenceError
        A reference is malformed.
    """
    if isinstance(images, bytes | bytearray | Mapping) or not isinstance(images, Iterable):
        raise InvalidArgumentTypeError(
            "images must be a reference string or a list of them, "
            f"not {type(images).__name__}"
        )
    given = list(images)
    if not given:
        raise InvalidArgumentError("the list of images is empty")
    out: list[tuple[str, Reference]] = []
    seen: set[tuple[str, str]] = set()
    for item in given:
        if not isinstance(item, str):
            raise InvalidArgumentTypeError(
                f"images must all be reference strings; found {type(item).__name__} {item!r}"
            )
        ref = parse_reference(item)
        key = (ref.registry, ref.repository)
        if key in seen:
            # A tag or digest in a reference is ignored for listing, so
            # "python" and "python:3" are the same repository: read it once.
            log.debug("%s is listed twice; reading it once", item)
            continue
        seen.add(key)
        out.append((item, ref))
    return out


@dataclass(frozen=True)
class ImageTask:
    """One image's read, as sent to an executor: picklable, self-contained, quiet."""

    image: str
    options: Options

    def __call__(self) -> pd.DataFrame:
        opts = self.options
        transport = Transport(None, timeout=opts.timeout, max_workers=opts.max_workers)
        return read_one(parse_reference(self.image), transport, opts, progress=False)


def read_many(
    images: object,
    options: Options,
    *,
    on_error: str = "raise",
    executor: Executor | None = None,
    progress: ProgressOption = None,
    session: requests.Session | None = None,
) -> pd.DataFrame:
    """Read several images into one frame with a leading ``image`` column.

    See :func:`regframe.read_tags` for the parameters and the result.
    """
    check_on_error(on_error)
    check_executor(executor, session)
    todo = validate_images(images)
    tasks = [ImageTask(given, options) for given, _ref in todo]
    frames, failed = run_tasks(
        tasks, on_error=on_error, executor=executor, progress=progress, session=session
    )
    return _assemble(todo, frames, failed, options)


def run_tasks(
    tasks: list[ImageTask],
    *,
    on_error: str = "raise",
    executor: Executor | None = None,
    progress: ProgressOption = None,
    session: requests.Session | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Run one task per image (threads sharing per-host limits, or ``executor``).

    Returns the frames and the failures (``on_error="skip"``), keyed by the image as given.
    """
    if executor is not None:
        for task in tasks:
            _check_picklable(executor, task)
        return _run_executor(tasks, executor, on_error)
    return _run_threads(tasks, on_error, progress, session)


def _run_threads(
    tasks: list[ImageTask],
    on_error: str,
    progress: ProgressOption,
    session: requests.Session | None,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    first = tasks[0].options
    parent = Transport(session, timeout=first.timeout, max_workers=first.max_workers)

    def one(task: ImageTask) -> pd.DataFrame:
        # Each image gets its own transport view (own stats, own auth) over the
        # shared session and per-host limits.
        return read_one(parse_reference(task.image), parent.share(), task.options, progress=False)

    pool = ThreadPoolExecutor(
        max_workers=min(len(tasks), MAX_IMAGES_AT_ONCE), thread_name_prefix="regframe-image"
    )
    try:
        futures = {pool.submit(one, task): task.image for task in tasks}
        return _collect(futures, on_error, progress, len(tasks))
    except BaseException:
        # An interrupt: the images being read stop sending (see JobRunner).
        parent.cancelled.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        parent.close()


def _check_picklable(executor: Executor, task: ImageTask) -> None:
    # Process pools pickle in a feeder thread and report a failure as a broken
    # future much later; say it now, in words.  Dask pickles with cloudpickle,
    # which also sends lambdas, so only the standard pickle is checked here.
    if not isinstance(executor, ProcessPoolExecutor):
        return
    try:
        pickle.dumps(task)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise ExecutorError(
            "this task cannot be sent to a process pool: "
            f"{exc}. A match= callable must be a module-level function there "
            "(not a lambda or a nested function)"
        ) from None


def _run_executor(
    tasks: list[ImageTask],
    executor: Executor,
    on_error: str,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    futures: dict[Future[pd.DataFrame], str] = {}
    try:
        for task in tasks:
            futures[executor.submit(task)] = task.image
    except (RuntimeError, BrokenExecutor) as exc:
        for fut in futures:
            fut.cancel()
        raise ExecutorError(f"the executor refused the task: {exc}") from None
    return _collect(futures, on_error, progress=False, total=len(tasks))


def _collect(
    futures: Mapping[Future[pd.DataFrame], str],
    on_error: str,
    progress: ProgressOption,
    total: int,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    frames: dict[str, pd.DataFrame] = {}
    failed: dict[str, str] = {}
    bar = Progress(progress, desc="images", unit="image", threshold=8)
    bar.expect(total)
    try:
        for fut in as_completed(futures):
            given = futures[fut]
            try:
                frames[given] = fut.result()
            except Exception as exc:
                problem = _executor_problem(exc)
                if problem is not None:
                    raise problem from None
                if on_error == "raise" or isinstance(
                    exc, InvalidArgumentError | InvalidArgumentTypeError
                ):
                    raise
                message = _describe(exc)
                failed[given] = message
                warnings.warn(
                    f"{given} left out: {message}", ImageFailedWarning, stacklevel=4
                )
            finally:
                bar.advance()
                bar.refresh()
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        bar.close()
    return frames, failed


def _executor_problem(exc: BaseException) -> ExecutorError | None:
    """An ``ExecutorError`` when ``exc`` says the executor (not the image) failed."""
    if isinstance(exc, ExecutorError):
        return exc
    if isinstance(exc, ImportError) and (exc.name or "").split(".")[0] == "regframe":
        return ExecutorError(
            "the executor's workers cannot import regframe "
            f"({exc}); install regframe where the workers run"
        )
    if isinstance(exc, BrokenExecutor):
        return ExecutorError(
            "a worker of the executor died before returning a result "
            f"({exc}); the usual cause is a worker that cannot import regframe"
        )
    if isinstance(exc, CancelledError):
        return ExecutorError("the executor cancelled a task (was it shut down?)")
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, RegframeError) else f"{type(exc).__name__}: {text}"


def _assemble(
    todo: list[tuple[str, Reference]],
    frames: Mapping[str, pd.DataFrame],
    failed: dict[str, str],
    options: Options,
) -> pd.DataFrame:
    parts: list[pd.DataFrame] = []
    read: list[str] = []
    for given, ref in todo:
        frame = frames.get(given)
        if frame is None:
            continue
        read.append(str(_repository_only(ref)))
        part = with_image(frame, given)
        part.attrs = {}
        parts.append(part)
    if parts:
        df = pd.concat(parts, ignore_index=True)
    else:  # every image failed: the columns a several-images frame would have
        df = empty_tags_frame(dates=options.dates, labels=options.labels, image=True)
    df.attrs = {
        "images": read,
        "failed": dict(failed),
        "fetched_at": pd.Timestamp.now(tz="UTC"),
    }
    return df


def _repository_only(ref: Reference) -> Reference:
    return replace(ref, tag=None, digest=None)


def submit_one(image: str, options: Options, executor: Executor) -> pd.DataFrame:
    """Read one image on ``executor`` (``read_tags(str, executor=...)``)."""
    frames, _ = run_tasks([ImageTask(image, options)], executor=executor)
    return frames[image]
