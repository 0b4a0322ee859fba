"""Verification of declarations: the declaration format, assessments, matching and verdicts.

- :mod:`~sitewatch.verify.formats`: declaration files (JSON Schema + CSV), validated.
- :mod:`~sitewatch.verify.names`: transliteration-tolerant place-name keys.
- :mod:`~sitewatch.verify.store`: declarations in the workspace.
- :mod:`~sitewatch.verify.assessments`: analysts' signed status judgements.
- :mod:`~sitewatch.verify.rules`: matching and verdicts as pure functions.
- :mod:`~sitewatch.verify.service`: ``verify`` over the workspace, stored and recorded.
"""
