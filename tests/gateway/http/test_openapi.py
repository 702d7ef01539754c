"""The OpenAPI document is generated from the protos (with their comments) and committed twice:
docs/openapi.json, and the copy the gateway serves. Stale copies fail here (``make openapi``)."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.http.openapi import build_document, descriptor_set, render

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_documents_are_fresh() -> None:
    expected = render(build_document(descriptor_set(ROOT / "protos")))
    for copy in (ROOT / "docs" / "openapi.json", ROOT / "gateway" / "http" / "openapi.json"):
        assert copy.read_text(encoding="utf-8") == expected, f"{copy} is stale: make openapi"


def test_comments_become_descriptions_and_names_are_json_names() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    get = document["paths"]["/liaison.v1.RecordExchange/Get"]["post"]
    assert "latest version" in get["summary"]
    request = document["components"]["schemas"]["liaison.v1.GetRequest"]
    assert set(request["properties"]) == {"recordId", "version"}
    assert request["properties"]["recordId"]["description"]
