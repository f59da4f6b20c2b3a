"""Allow ``python -m amber_tesla_sync``."""

from amber_tesla_sync.entry import main

main()
