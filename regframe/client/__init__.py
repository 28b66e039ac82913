"""The registry client: HTTP transport, authentication, credentials, listing, manifests, cache.

Everything that talks to a registry lives here and nothing here imports pandas-level
analysis: it returns plain values (tags, manifests, per-tag metadata rows) that
:mod:`regframe.frame` assembles into DataFrames.
"""
