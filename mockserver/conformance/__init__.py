"""What the mock saw: the journal of exchanges and the reports built from it."""
