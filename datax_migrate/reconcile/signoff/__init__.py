"""The sign-off ledger: who accepted which reconcile report, signed so that an edit shows."""
