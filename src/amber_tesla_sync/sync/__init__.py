"""One ``sync``: fetch → fold → decide → push → verify → record, for every configured site."""
