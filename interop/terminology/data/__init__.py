"""Generated terminology tables (see scripts/build_terminology.py); data only."""
