"""The verifier: an independent re-scan of the redacted output."""
