"""The registry client: everything that talks to a registry, returning plain values, no pandas.

One module per job (the frame layer, :mod:`regframe.frame`, turns the values into frames):

* :mod:`~regframe.client.transport` — every HTTP request and its safety rules (bounded reads,
  retries, redirects, per-host concurrency, network errors in plain words);
* :mod:`~regframe.client.redact` — the one way a URL appears in an error or a log line;
* :mod:`~regframe.client.headers` — ``WWW-Authenticate``, ``Link`` and ``Retry-After`` parsing;
* :mod:`~regframe.client.credentials` — docker/podman credential lookup;
* :mod:`~regframe.client.auth` — ping, Basic and Bearer tokens, where credentials may go;
* :mod:`~regframe.client.registry` — one repository's v2 API (:class:`RegistryClient`,
  ``list_tags`` → :class:`~regframe.client.registry.TagList`);
* :mod:`~regframe.client.paging` — following ``next`` links safely;
* :mod:`~regframe.client.catalog` — repository listings;
* :mod:`~regframe.client.digests` — digest grammar, hashing and verification;
* :mod:`~regframe.client.manifests` — the document model (index, manifest, config);
* :mod:`~regframe.client.platforms` — ``os/arch[/variant]`` and index-entry selection;
* :mod:`~regframe.client.tag_metadata` — :class:`~regframe.client.tag_metadata.TagMetadata`,
  one tag's ``dates=True`` facts;
* :mod:`~regframe.client.tag_apis` — Docker Hub's, Quay's and GCR's own tag APIs (fast paths);
* :mod:`~regframe.client.cache` — the digest-addressed on-disk cache.
"""
