"""Settings: the config model (``config``), loading and its error messages (``load``), the keys
(``keys``), comment-keeping edits (``edit``), where the file lives (``config_path``) and the
files shipped with the tool (``resources``). Below the pipeline; never reads the state."""
