"""The blocking and the asyncio client have the same methods, taking the same parameters.

They share their request/response layer, but each makes its calls its own way: this fails as
soon as one gains (or changes) a method the other lacks.
"""

from __future__ import annotations

import inspect
from typing import Any

from gateway.client import AsyncLiaisonClient, LiaisonClient

# Context management differs by nature: with/async with.
_CONTEXT = {"__enter__", "__exit__", "__aenter__", "__aexit__"}


def public_methods(cls: type[Any]) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    return [
        (parameter.name, parameter.kind, parameter.default)
        for parameter in inspect.signature(function).parameters.values()
    ]


def test_both_clients_have_the_same_methods() -> None:
    blocking, asynchronous = public_methods(LiaisonClient), public_methods(AsyncLiaisonClient)
    only_blocking = sorted(set(blocking) - set(asynchronous))
    only_async = sorted(set(asynchronous) - set(blocking))
    assert (only_blocking, only_async) == ([], []), (
        "LiaisonClient and AsyncLiaisonClient must offer the same methods: add the missing ones "
        "(their request and response handling belongs in gateway/client/_calls.py)"
    )


def test_the_methods_take_the_same_parameters() -> None:
    blocking, asynchronous = public_methods(LiaisonClient), public_methods(AsyncLiaisonClient)
    differing = [
        name
        for name in sorted(blocking)
        if parameters(blocking[name]) != parameters(asynchronous[name])
    ]
    assert differing == []
    assert parameters(LiaisonClient.__init__) == parameters(AsyncLiaisonClient.__init__)


def test_the_asyncio_methods_are_awaited_or_iterated() -> None:
    not_async = [
        name
        for name, method in public_methods(AsyncLiaisonClient).items()
        if not (inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method))
    ]
    assert not_async == []
    for name, method in public_methods(LiaisonClient).items():
        iterates = inspect.isgeneratorfunction(method)
        assert iterates == inspect.isasyncgenfunction(getattr(AsyncLiaisonClient, name)), name


def test_context_management_is_the_only_other_difference() -> None:
    dunders = {
        name
        for cls in (LiaisonClient, AsyncLiaisonClient)
        for name in vars(cls)
        if name.startswith("__") and callable(vars(cls)[name]) and name != "__init__"
    }
    assert dunders == _CONTEXT
