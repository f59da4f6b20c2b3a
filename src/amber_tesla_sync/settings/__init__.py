"""Settings: the config model and its loading, comment-keeping edits, where the file lives."""
