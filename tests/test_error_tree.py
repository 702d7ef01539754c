"""One error tree: every exception class Liaison defines descends from ``LiaisonError`` and is
drawn in :mod:`gateway.errors`' docstring, and every refusal has its gRPC status."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import grpc
import pytest

import adapters
import gateway
import gateway.errors
import liaison.rules
from adapters.collector import DecodeStopped
from gateway.errors import GatewayError, InvalidArgumentError, LiaisonError
from gateway.services.statuses import STATUS_CODES, status_code_of
from gateway.store.base import StoreError

SIGNALS: frozenset[type[BaseException]] = frozenset({DecodeStopped})
"""Control-flow signals, not errors: BaseExceptions on purpose (see the tree's docstring)."""


def _modules() -> Iterator[str]:
    for package in (liaison.rules, adapters, gateway):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                yield info.name


def exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in Liaison's packages (private ones too)."""
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                found[f"{name}.{value.__qualname__}"] = value
    return sorted(found.values(), key=lambda cls: (cls.__module__, cls.__qualname__))


CLASSES = exception_classes()


def test_the_walk_finds_the_known_classes() -> None:
    names = {cls.__name__ for cls in CLASSES}
    # Guards the walk itself: a walk that found nothing would pass every test below.
    assert {"StoreError", "ConfigError", "AuditLogError", "ClientError", "UsageError"} <= names
    assert len(CLASSES) >= 50


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_every_exception_class_is_in_the_tree(cls: type[BaseException]) -> None:
    if cls in SIGNALS:
        assert not issubclass(cls, Exception)
    else:
        assert issubclass(cls, LiaisonError), (
            f"{cls.__module__}.{cls.__qualname__} is outside the error tree: derive it from "
            "LiaisonError (or one of its branches in gateway.errors)"
        )
    drawn = re.search(rf"\b{re.escape(cls.__name__)}\b", gateway.errors.__doc__ or "")
    assert drawn, f"{cls.__name__} is missing from the tree drawn in gateway.errors' docstring"


def test_every_drawn_class_exists() -> None:
    """The drawing names no class that no longer exists."""
    names = {cls.__name__ for cls in CLASSES} | {"LiaisonError"}
    drawn = set(re.findall(r"[├└]── (\w+)", gateway.errors.__doc__ or ""))
    drawn |= set(re.findall(r"^\s{4}(\w+Error|\w+Stopped) ", gateway.errors.__doc__ or "", re.M))
    assert drawn - names == set()
    assert len(drawn) >= 50


REFUSALS = [
    cls
    for cls in CLASSES
    if issubclass(cls, (GatewayError, InvalidArgumentError, StoreError)) and cls is not GatewayError
]


@pytest.mark.parametrize("cls", REFUSALS, ids=lambda cls: cls.__name__)
def test_every_refusal_has_a_listed_status(cls: type[BaseException]) -> None:
    listed = [kind for kind in cls.__mro__ if kind in STATUS_CODES]
    assert listed, f"{cls.__name__} has no status: list it (or an ancestor) in STATUS_CODES"
    assert status_code_of(cls.__new__(cls)) is STATUS_CODES[listed[0]]


def test_only_defects_are_internal() -> None:
    internal = [
        cls for cls in REFUSALS if status_code_of(cls.__new__(cls)) is grpc.StatusCode.INTERNAL
    ]
    assert [cls.__name__ for cls in internal] == ["InternalError"]


def test_anything_else_is_internal() -> None:
    assert status_code_of(ValueError("x")) is grpc.StatusCode.INTERNAL
    assert status_code_of(LiaisonError("x")) is grpc.StatusCode.INTERNAL
