"""HTTP access to the gateway's services: the Connect protocol, NDJSON, Server-Sent Events and
an OpenAPI document, served by the same handlers and interceptors as gRPC (decision 0020).

Modules: :mod:`~gateway.http.handlers` (the handlers, mirrored at registration),
:mod:`~gateway.http.calls` (calls through the interceptor chain), :mod:`~gateway.http.context`
(the servicer context of an HTTP call), :mod:`~gateway.http.app` (routes),
:mod:`~gateway.http.codec`, :mod:`~gateway.http.responses`, :mod:`~gateway.http.resume`,
:mod:`~gateway.http.errors` (Connect's status table), :mod:`~gateway.http.listener` (uvicorn with
mutual TLS) and :mod:`~gateway.http.openapi` (the document, from the descriptors).
"""

from __future__ import annotations

__all__: list[str] = []
