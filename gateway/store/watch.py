"""Noticing that the store's database file was deleted or replaced under it.

A connection keeps writing to the file it opened, even after that file was deleted or another
file was moved to its path: every write would then be acknowledged and lost at the next start
(which would open the new file, or create an empty one). The writers compare the path's device
and inode with the ones of the file they opened before each transaction - one ``stat`` - and
refuse every write from the first difference on.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DatabaseFile"]


class DatabaseFile:
    """The identity (device, inode) of the database file a writer opened."""

    def __init__(self, path: Path) -> None:
        """Remember the identity of the file at ``path`` now (just after opening it).

        Raises:
            OSError: the file cannot be examined.
        """
        self.path = path
        found = os.stat(path)
        self._identity = (found.st_dev, found.st_ino)

    def change(self) -> str | None:
        """Why the path no longer leads to the file opened; ``None`` while it does."""
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return (
                f"the database file {self.path} was deleted while the store had it open; "
                "writes are refused (they would be lost at the next start): restore the file "
                "from a backup, then restart the gateway"
            )
        except OSError as error:
            return (
                f"the database file {self.path} can no longer be examined ({error.strerror}); "
                "writes are refused: fix its folder, then restart the gateway"
            )
        if (found.st_dev, found.st_ino) != self._identity:
            return (
                f"the database file {self.path} was replaced by another file while the store "
                "had it open; writes are refused (they would go to the replaced file): restart "
                "the gateway to open the file now at that path"
            )
        return None
