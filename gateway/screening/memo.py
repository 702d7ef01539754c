"""Bounded memoisation that the garbage collector does not have to walk.

``functools.lru_cache`` keeps every cached value alive in a structure the collector traverses
on each full collection. With hundreds of thousands of cached name objects spread over a large
heap, one full collection took 0.4 to 1.9 s and landed in the middle of a manifest (the p95
outlier of the first speed measurement). These memos are plain dicts, emptied when full: a dict
of strings, ints and tuples of them is not tracked by the collector at all, and a memo of
objects stays small. Emptying costs one miss per hot key afterwards and bounds the memory
without per-entry bookkeeping.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import ParamSpec, TypeVar

__all__ = ["memoized", "memoized_call"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
P = ParamSpec("P")
R = TypeVar("R")
_MISSING = object()


def memoized(maxsize: int) -> Callable[[Callable[[K], V]], Callable[[K], V]]:
    """Memoise a one-argument function in a dict of at most ``maxsize`` entries."""
    if maxsize < 1:
        raise ValueError("maxsize must be at least 1")

    def decorate(function: Callable[[K], V]) -> Callable[[K], V]:
        cache: dict[K, V] = {}
        get = cache.get

        @functools.wraps(function)
        def wrapper(argument: K) -> V:
            value = get(argument, _MISSING)
            if value is _MISSING:
                value = function(argument)
                if len(cache) >= maxsize:
                    cache.clear()
                cache[argument] = value
            return value  # type: ignore[return-value]

        return wrapper

    return decorate


def memoized_call(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Memoise a function of several hashable positional arguments (keyed by their tuple)."""
    if maxsize < 1:
        raise ValueError("maxsize must be at least 1")

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        cache: dict[Hashable, R] = {}
        get = cache.get

        @functools.wraps(function)
        def wrapper(*arguments: P.args, **keywords: P.kwargs) -> R:
            value = get(arguments, _MISSING)
            if value is _MISSING:
                value = function(*arguments, **keywords)
                if len(cache) >= maxsize:
                    cache.clear()
                cache[arguments] = value
            return value  # type: ignore[return-value]

        return wrapper

    return decorate
