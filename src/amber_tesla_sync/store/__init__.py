"""What the tool keeps between runs: the state file (``state``), the SQLite history
(``history``), the secret store (``secrets``), the run lock, the tool's local files and the state
directory. Below the pipeline and the clients; knows nothing of settings."""
