"""Split-test tests. A package, so that test_report.py may share its name with another
folder's (pytest imports test files by their base name otherwise)."""
