"""UN/EDIFACT PAXLST passenger and crew lists (adapter ``paxlst``).

Modules, in the order a decode uses them: ``syntax`` (UNA, character sets, positions),
``lexer`` (pydifact's tokenizer and the layer that makes it sound), ``interchange`` (UNB to
UNZ, control counts), ``message`` (the PAXLST meaning layer, into ``parsed`` records),
``assemble`` (multi-part joining, ``ids``, links); ``encode`` and ``writer`` go the other way.
``codes``, ``dates`` and ``values`` hold the guide's code lists and value formats, ``findings``
the diagnostics of a decode.
"""

from adapters.paxlst.adapter import PaxlstAdapter

__all__ = ["PaxlstAdapter"]
