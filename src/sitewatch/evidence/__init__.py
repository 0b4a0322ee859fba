"""Evidence: a signed, hash-chained ledger of everything the workspace did, and packages
that let a third party check a site's evidence offline."""
