"""Migrate a whole estate: the editable plan, the resumable run ledger, the wave runner and its status."""
