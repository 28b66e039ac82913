"""The charts behind :mod:`regframe.plot`, one module each, and the helpers they share.

Use them through :mod:`regframe.plot` (``rf.plot.timeline(df)``); the modules are
:mod:`.common`, :mod:`.timeline`, :mod:`.cadence`, :mod:`.intervals`, :mod:`.lines`
and :mod:`.moves`.
"""
