"""What the tool keeps between runs: state, history, secrets, locks, local files."""
