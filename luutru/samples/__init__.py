"""Sample material made with real keys: a TEST PKI mirroring the government CA, signed PDFs, dossiers.

Used by `luutru demo` and by the tests (tests/support re-exports these modules). Every
certificate says TEST; nothing here is trusted outside a demo or test data directory.
"""
