"""The `doctor` command's checks."""
