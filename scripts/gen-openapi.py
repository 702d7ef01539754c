"""Write the HTTP API's OpenAPI document (docs/openapi.json and the copy the gateway serves).

Run by ``make openapi``; ``make test`` fails when the committed copies are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.http.openapi import build_document, descriptor_set, render

ROOT = Path(__file__).resolve().parent.parent
TARGETS = (ROOT / "docs" / "openapi.json", ROOT / "gateway" / "http" / "openapi.json")


def main() -> int:
    text = render(build_document(descriptor_set(ROOT / "protos")))
    for target in TARGETS:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
