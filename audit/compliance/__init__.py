"""The compliance matrix: each clause Closeloop is held to, the feature that meets it and
the tests that prove it (`docs/compliance.md`, generated; see `generate`)."""
