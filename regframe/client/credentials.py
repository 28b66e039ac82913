"""Where registry credentials come from when the caller passes none.

The lookup follows docker, then podman/skopeo:

1. ``$DOCKER_CONFIG/config.json`` (else ``~/.docker/config.json``):
   ``credHelpers[host]``, then ``credsStore``, then ``auths``;
2. ``$REGISTRY_AUTH_FILE``;
3. containers ``auth.json``: ``$XDG_RUNTIME_DIR/containers/auth.json``, then
   ``$XDG_CONFIG_HOME/containers/auth.json`` (default ``~/.config/...``).

The first source that yields a username and password wins; a helper that
answers "credentials not found" or an entry without credentials lets the chain
continue.  Credential helpers run as ``docker-credential-NAME get`` without a
shell, with the server URL on stdin and JSON on stdout.

Not supported (logged at debug level and skipped): identity tokens (helpers
answering ``Username == "<token>"``, ``identitytoken`` entries), which need an
OAuth2 refresh-token exchange, and podman's per-namespace keys
(``quay.io/org``) which need the repository.

Passwords never appear in reprs, log records or exception messages; neither does
a helper's output nor a config file's content.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regframe.errors import AuthenticationError
from regframe.parsing.reference import DOCKER_HUB_HOSTS

__all__ = [
    "DOCKER_HUB_AUTH_KEY",
    "Credentials",
    "coerce_auth",
    "find_credentials",
]

log = logging.getLogger(__name__)

#: Key docker uses for Docker Hub in ``config.json`` and credential stores.
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
# Marker username for identity tokens, not a password.
_IDENTITY_TOKEN_USERNAME = "<token>"  # noqa: S105
_HELPER_TIMEOUT = 30.0
# Helper answers are small JSON objects; bound the read so a broken helper cannot flood us.
_HELPER_OUTPUT_MAX = 1 << 20


@dataclass(frozen=True)
class Credentials:
    """A username and password for one registry.

    The password is left out of ``repr`` and ``str`` so a ``Credentials`` can be
    logged or shown in a notebook without leaking it.

    Attributes
    ----------
    username
        User name (or e.g. ``AWS`` / ``oauth2accesstoken`` for cloud registries).
    password
        Password or token; never displayed.
    source
        Where the credentials came from, for messages:
        ``"/home/me/.docker/config.json credHelpers[docker-credential-ecr-login]"``.

    Examples
    --------
    >>> c = Credentials("alice", "s3cret", source="auth argument")
    >>> "s3cret" in repr(c)
    False
    """

    username: str
    password: str = field(repr=False)
    source: str = "auth argument"

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***', source={self.source!r})"

    __str__ = __repr__

    def as_tuple(self) -> tuple[str, str]:
        """``(username, password)``, the shape ``requests`` takes for Basic auth."""
        return (self.username, self.password)


def coerce_auth(auth: tuple[str, str] | Credentials | None) -> Credentials | None:
    """Turn the ``auth=`` argument of the public API into :class:`Credentials`.

    Parameters
    ----------
    auth
        ``(username, password)``, a :class:`Credentials`, or None.

    Returns
    -------
    Credentials or None
        None means "look up default credentials".

    Raises
    ------
    TypeError
        If ``auth`` has another shape; the message never repeats its value.

    Examples
    --------
    >>> coerce_auth(("alice", "s3cret")).username
    'alice'
    """
    if auth is None or isinstance(auth, Credentials):
        return auth
    if (
        isinstance(auth, (tuple, list))
        and len(auth) == 2
        and all(isinstance(part, str) for part in auth)
    ):
        return Credentials(auth[0], auth[1], source="auth argument")
    # Describe the shape only: the value may be a password.
    shape = (
        f"{type(auth).__name__} of {len(auth)} {', '.join(type(p).__name__ for p in auth)}"
        if isinstance(auth, (tuple, list))
        else type(auth).__name__
    )
    raise TypeError(f"auth must be a (username, password) tuple of str or None, got {shape}")


def _hub_aliases(host: str) -> tuple[str, ...] | None:
    if host in DOCKER_HUB_HOSTS or host == DOCKER_HUB_AUTH_KEY:
        return (DOCKER_HUB_AUTH_KEY, *DOCKER_HUB_HOSTS)
    return None


def _candidate_keys(host: str) -> tuple[str, ...]:
    """Config keys that can name ``host``, most specific first."""
    hub = _hub_aliases(host)
    if hub is not None:
        return hub
    return (
        host,
        f"https://{host}",
        f"https://{host}/",
        f"https://{host}/v1/",
        f"https://{host}/v2/",
        f"http://{host}",
        f"http://{host}/",
    )


def _key_host(key: str) -> str | None:
    """docker's ``ConvertToHostname`` for keys with a scheme; bare keys with a path
    are podman namespace keys, which need a repository to match (unsupported)."""
    lowered = key.strip().lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme):
            return lowered[len(scheme) :].split("/", 1)[0]
    return None if "/" in lowered else lowered


def _matching_keys(mapping: Mapping[str, Any], host: str) -> Iterator[str]:
    """Keys of ``mapping`` that name ``host``: exact candidates first, then normalised."""
    seen: set[str] = set()
    for key in _candidate_keys(host):
        if key in mapping:
            seen.add(key)
            yield key
    wanted = {k for k in (_key_host(c) for c in _candidate_keys(host)) if k}
    for key in mapping:
        if key not in seen and _key_host(key) in wanted:
            yield key


def _server_url(host: str) -> str:
    """What a credential helper is asked for: docker's key for Hub, else the host."""
    return DOCKER_HUB_AUTH_KEY if _hub_aliases(host) else host


def _run_helper(
    name: str, host: str, env: Mapping[str, str], timeout: float, where: str
) -> Credentials | None:
    program = f"docker-credential-{name}"
    label = f"{where}[{program}]"
    if not name or "/" in name or os.sep in name:
        raise AuthenticationError(f"credential helper name {name!r} in {where} is not valid")
    executable = shutil.which(program, path=env.get("PATH", os.defpath))
    if executable is None:
        raise AuthenticationError(
            f"credential helper {program} (configured in {where}) is not on PATH"
        )
    try:
        completed = subprocess.run(
            [executable, "get"],
            input=_server_url(host).encode(),
            capture_output=True,
            timeout=timeout,
            env=dict(env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AuthenticationError(
            f"credential helper {program} did not answer within {timeout:g} s"
        ) from None
    except OSError as exc:
        raise AuthenticationError(
            f"credential helper {program} could not be run: {exc.strerror or type(exc).__name__}"
        ) from None
    # Output is never put in messages: helpers may echo secrets.
    stdout = completed.stdout[:_HELPER_OUTPUT_MAX].decode("utf-8", errors="replace")
    if completed.returncode != 0:
        stderr = completed.stderr[:_HELPER_OUTPUT_MAX].decode("utf-8", errors="replace")
        if "credentials not found" in (stdout + stderr).lower():
            log.debug("%s has no credentials for %s", program, host)
            return None
        raise AuthenticationError(
            f"credential helper {program} failed for {host} (exit status {completed.returncode})"
        )
    try:
        answer = json.loads(stdout)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise AuthenticationError(f"credential helper {program} did not answer with a JSON object")
    username, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        raise AuthenticationError(
            f"credential helper {program} answered without string Username and Secret"
        )
    if username == _IDENTITY_TOKEN_USERNAME:
        log.debug(
            "%s returned an identity token for %s; identity tokens are not supported, skipping",
            program,
            host,
        )
        return None
    if not username and not secret:
        return None
    return Credentials(username, secret, source=label)


def _load_json(path: Path) -> dict[str, Any] | None:
    """Read a config file; None when it does not exist, typed error when it is broken."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthenticationError(
            f"cannot read credentials file {path}: {exc.strerror or type(exc).__name__}"
        ) from None
    if not raw.strip():
        return None  # docker itself treats an empty config as no config
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        # Never quote the content (or the decoder's excerpt of it): it holds secrets.
        raise AuthenticationError(f"credentials file {path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise AuthenticationError(f"credentials file {path} does not hold a JSON object")
    return data


def _section(data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AuthenticationError(f"credentials file {path}: {key!r} must be an object")
    return value


def _from_auth_entry(entry: Any, key: str, path: Path, label: str) -> Credentials | None:
    if not isinstance(entry, dict):
        raise AuthenticationError(f"credentials file {path}: auths[{key!r}] must be an object")
    for name in ("auth", "username", "password", "identitytoken"):
        if entry.get(name) is not None and not isinstance(entry.get(name), str):
            raise AuthenticationError(
                f"credentials file {path}: auths[{key!r}].{name} must be a string"
            )
    source = f"{label} auths[{key}]"
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise AuthenticationError(
                f"credentials file {path}: auths[{key!r}].auth is not base64 'user:password'"
            ) from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationError(
                f"credentials file {path}: auths[{key!r}].auth is not base64 'user:password'"
            )
        return Credentials(username, password, source=source)
    if entry.get("username") or entry.get("password"):
        return Credentials(entry.get("username") or "", entry.get("password") or "", source=source)
    if entry.get("identitytoken"):
        log.debug("%s holds an identity token, which is not supported; skipping", source)
    return None


def _from_file(path: Path, host: str, env: Mapping[str, str], timeout: float) -> Credentials | None:
    data = _load_json(path)
    if data is None:
        return None
    label = str(path)
    helpers = _section(data, "credHelpers", path)
    for key in _matching_keys(helpers, host):
        helper = helpers[key]
        if not isinstance(helper, str):
            raise AuthenticationError(
                f"credentials file {path}: credHelpers[{key!r}] must be a string"
            )
        if helper:
            found = _run_helper(helper, host, env, timeout, f"{label} credHelpers")
            if found is not None:
                return found
        break
    store = data.get("credsStore")
    if store is not None and not isinstance(store, str):
        raise AuthenticationError(f"credentials file {path}: 'credsStore' must be a string")
    if store:
        found = _run_helper(store, host, env, timeout, f"{label} credsStore")
        if found is not None:
            return found
    auths = _section(data, "auths", path)
    for key in _matching_keys(auths, host):
        found = _from_auth_entry(auths[key], key, path, label)
        if found is not None:
            return found
    return None


def _config_paths(env: Mapping[str, str]) -> Iterator[Path]:
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    docker_config = env.get("DOCKER_CONFIG")
    yield (Path(docker_config) if docker_config else home / ".docker") / "config.json"
    if env.get("REGISTRY_AUTH_FILE"):
        yield Path(env["REGISTRY_AUTH_FILE"])
    if env.get("XDG_RUNTIME_DIR"):
        yield Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    yield config_home / "containers" / "auth.json"


def find_credentials(
    registry: str,
    *,
    env: Mapping[str, str] | None = None,
    helper_timeout: float = _HELPER_TIMEOUT,
) -> Credentials | None:
    """Default credentials for ``registry``, looked up as docker and podman do.

    Parameters
    ----------
    registry
        Registry host (and port) as in :attr:`Reference.registry`, e.g.
        ``registry-1.docker.io``, ``ghcr.io`` or ``localhost:5000``.  Any of
        Docker Hub's names finds entries stored under any other of them.
    env
        Environment to read ``DOCKER_CONFIG``, ``HOME``, ``REGISTRY_AUTH_FILE``,
        ``XDG_RUNTIME_DIR``, ``XDG_CONFIG_HOME`` and ``PATH`` from (default
        :data:`os.environ`); helpers run with it.
    helper_timeout
        Seconds a credential helper may take.

    Returns
    -------
    Credentials or None
        None when no source has credentials for the host (anonymous access).

    Raises
    ------
    AuthenticationError
        If a config file is unreadable or malformed (the message names the
        file), or a configured helper is missing, times out or answers garbage
        (the message names the helper).  Contents and helper output are never
        quoted.

    Examples
    --------
    >>> find_credentials("localhost:5000", env={"HOME": "/nonexistent"}) is None
    True
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    host = registry.strip().lower()
    if "://" in host:  # tolerate "https://host/" the way config.json keys are written
        host = _key_host(host) or host
    for path in _config_paths(environ):
        found = _from_file(path, host, environ, helper_timeout)
        if found is not None:
            log.debug("credentials for %s from %s", host, found.source)
            return found
    return None
