"""Open-source reporting as evidence: articles and reports, what they mention and claim.

``extract`` reads a file into text and metadata, ``mentions`` finds catalog sites,
missiles, organisations, quantities and dates in the text, ``claims`` finds who said what
about which site and which way, ``store`` keeps all of it (the original bytes as evidence,
a ledger entry per source) and ``check`` sets claims against a site's imagery record.
"""
