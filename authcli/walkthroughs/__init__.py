"""The scenarios: ordered steps of real traffic with their teaching text."""
