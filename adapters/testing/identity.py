"""An adapter's class-level identity, and how the registry finds it."""

from __future__ import annotations

import re
from importlib.metadata import entry_points

from adapters.base import Adapter
from adapters.registry import ENTRY_POINT_GROUP, AdapterRegistry

__all__ = [
    "NAME_PATTERN",
    "SEMVER_PATTERN",
    "identity_problems",
    "registration_problems",
]

NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
"""Registry names: lower-case words joined by single hyphens ("icao-mrz")."""

SEMVER_PATTERN = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
"""Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH, optional pre-release and build metadata."""

_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_EXTENSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+-]*(?:\.[A-Za-z0-9_+-]+)*$")


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def identity_problems(adapter_class: type[Adapter]) -> list[str]:
    """What is wrong with the class attributes of ``adapter_class``; empty when nothing is."""
    label = adapter_class.__qualname__
    problems: list[str] = []
    name = getattr(adapter_class, "name", None)
    if not (isinstance(name, str) and NAME_PATTERN.fullmatch(name)):
        problems.append(f"{label}.name {name!r} does not match {NAME_PATTERN.pattern}")
    version = getattr(adapter_class, "version", None)
    if not (isinstance(version, str) and SEMVER_PATTERN.fullmatch(version)):
        problems.append(f"{label}.version {version!r} is not a semantic version like 1.0.0")
    if not _is_text(getattr(adapter_class, "source_format", None)):
        problems.append(f"{label}.source_format is not set")
    if not _is_text(adapter_class.description):
        problems.append(f"{label}.description is empty (liaison adapters lists it)")
    for media_type in adapter_class.media_types:
        if not (isinstance(media_type, str) and _MEDIA_TYPE.fullmatch(media_type)):
            problems.append(f"{label}.media_types: {media_type!r} is not type/subtype")
    for extension in adapter_class.file_extensions:
        if not (isinstance(extension, str) and _EXTENSION.fullmatch(extension)):
            problems.append(
                f"{label}.file_extensions: {extension!r} is not an extension without its dot"
            )
    return problems


def registration_problems(adapter_class: type[Adapter]) -> list[str] | None:
    """How the entry-point registry fails to find ``adapter_class``.

    Empty when an entry point of the group ``liaison.adapters`` registers it and the registry
    returns it under its name; None when no entry point refers to it (not installed).
    """
    target = f"{adapter_class.__module__}:{adapter_class.__qualname__}"
    registered = [
        entry_point
        for entry_point in entry_points(group=ENTRY_POINT_GROUP)
        if entry_point.name == adapter_class.name or entry_point.value == target
    ]
    if not registered:
        return None
    problems = [
        f"entry point {entry_point.name} = {entry_point.value} is not named "
        f"{adapter_class.name!r} (the adapter's name)"
        for entry_point in registered
        if entry_point.name != adapter_class.name
    ]
    registry = AdapterRegistry.from_entry_points()
    for problem in registry.problems:
        if problem.entry_point.split(" = ")[0] == adapter_class.name:
            problems.append(f"entry point {problem.entry_point}: {problem.reason}")
    if adapter_class.name in registry:
        found = type(registry.get(adapter_class.name))
        if found is not adapter_class:
            problems.append(
                f"the registry's {adapter_class.name!r} is {found.__module__}.{found.__qualname__}"
                f", not {adapter_class.__module__}.{adapter_class.__qualname__}"
            )
    elif not problems:
        problems.append(f"the registry has no adapter named {adapter_class.name!r}")
    return problems
