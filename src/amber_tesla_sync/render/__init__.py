"""Terminal rendering (rich tables and compact charts) shared by the commands."""
