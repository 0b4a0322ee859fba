"""Web users, their roles, sign-in sessions, and who signs what on a server.

A web user (``sitewatch users add``) is a name, a role and an argon2 password hash; a
signed-in browser holds a random session token whose SHA-256 is kept in ``web_sessions``.
Roles rank ``viewer < analyst < admin``: viewers read, analysts also record assessments,
admins also manage users.

**Signing keys on a server.** A ledger entry is signed with an analyst's Ed25519 key
(:mod:`sitewatch.evidence.keys`). On a server, the private keys live in the workspace's
``keys/`` folder (``keys/NAME.pem``, mode 0600, folder 0700, owned by the user the server
runs as): each web user with role ``analyst`` who records assessments needs a key of the
same name, made on the server with ``sitewatch keys create --name NAME``. The server signs
as an analyst only for a request authenticated as that same user (the name comes from the
session, never from the request), so a viewer or another analyst cannot sign in their name;
an analyst without a key is refused (409) and nothing is written. Whoever administers the
server can read ``keys/`` and so could sign as anyone: the server's operator is trusted
with the analysts' keys, as the workspace's owner is on a single machine. The name
``workspace`` (the workspace's own signer) cannot be a web user.
"""
