"""Finding adapters: the entry-point group ``liaison.adapters``.

Built-in and third-party adapters register the same way, in their distribution's metadata::

    [project.entry-points."liaison.adapters"]
    cites-csv = "cites_adapter:CitesCsvAdapter"

The entry-point name must equal the adapter class's ``name``. A broken plugin (import error, not
an ``Adapter`` subclass, name mismatch) never takes the registry down: it is reported by
``AdapterRegistry.problems`` and left out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from adapters.base import Adapter
from liaison.rules.errors import LiaisonError

ENTRY_POINT_GROUP = "liaison.adapters"


class UnknownAdapterError(LiaisonError, LookupError):
    """No adapter has the requested name. The message lists the known names."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        listed = ", ".join(self.known) if self.known else "none"
        super().__init__(f"unknown adapter {name!r}; known adapters: {listed}")


@dataclass(frozen=True, slots=True)
class PluginProblem:
    """An entry point that could not be turned into an adapter, and why."""

    entry_point: str
    reason: str


class AdapterRegistry:
    """Adapter instances by name. Thread-safe; adapters themselves are stateless."""

    def __init__(self, adapters: Iterable[Adapter] = ()) -> None:
        self._adapters: dict[str, Adapter] = {}
        self._problems: list[PluginProblem] = []
        self._lock = threading.Lock()
        for adapter in adapters:
            self.register(adapter)

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> AdapterRegistry:
        """A registry of every adapter installed in this environment."""
        registry = cls()
        for entry_point in sorted(entry_points(group=group), key=lambda e: e.name):
            registry._load(entry_point)
        return registry

    def _load(self, entry_point: EntryPoint) -> None:
        label = f"{entry_point.name} = {entry_point.value}"
        try:
            loaded = entry_point.load()
        except Exception as error:  # a plugin's import failure must not break the gateway
            self._problems.append(PluginProblem(label, f"import failed: {error!r}"))
            return
        if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
            self._problems.append(PluginProblem(label, "not a subclass of adapters.Adapter"))
            return
        if getattr(loaded, "name", None) != entry_point.name:
            self._problems.append(
                PluginProblem(label, f"entry point name differs from {loaded.__name__}.name")
            )
            return
        try:
            adapter = loaded()
        except Exception as error:
            self._problems.append(PluginProblem(label, f"construction failed: {error!r}"))
            return
        try:
            self.register(adapter)
        except ValueError as error:
            self._problems.append(PluginProblem(label, str(error)))

    def register(self, adapter: Adapter) -> None:
        """Add an adapter; a second adapter under the same name is refused."""
        with self._lock:
            if adapter.name in self._adapters:
                raise ValueError(f"an adapter named {adapter.name!r} is already registered")
            self._adapters[adapter.name] = adapter

    def get(self, name: str) -> Adapter:
        try:
            return self._adapters[name]
        except KeyError:
            raise UnknownAdapterError(name, self._adapters) from None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._adapters))

    def __iter__(self) -> Iterator[Adapter]:
        return iter([self._adapters[name] for name in self.names()])

    def __contains__(self, name: object) -> bool:
        return name in self._adapters

    def __len__(self) -> int:
        return len(self._adapters)

    @property
    def problems(self) -> tuple[PluginProblem, ...]:
        return tuple(self._problems)


_default: AdapterRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> AdapterRegistry:
    """The process-wide registry of installed adapters, loaded once on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = AdapterRegistry.from_entry_points()
        return _default


def get_adapter(name: str) -> Adapter:
    """The installed adapter called ``name``; ``UnknownAdapterError`` lists the known ones."""
    return default_registry().get(name)
