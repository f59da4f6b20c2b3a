"""Telling the owner when something needs them: state-change notifications (Apprise) and a
healthchecks-style dead man's switch."""
