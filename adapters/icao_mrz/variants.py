"""National MRZ variants: deviations from Doc 9303 that genuine documents of some states carry.

Doc 9303 Part 5 §4.2.2 (note on document numbers longer than nine characters) has a TD1 number
continue into the optional data: the check digit position (15) holds a filler, the remaining
characters follow at positions 16 onwards, then the check digit computed over the *whole number*
(positions 6-14 and the continuation). Some states compute that check digit over positions 6 to
the end of the continuation instead, **the filler at position 15 included**. The filler counts
zero, but it shifts the 7-3-1 weights of every character after it, so the digit differs.

Genuine identity cards of the states below carry that computation. This adapter follows the
standard; a check digit that only the national computation verifies is recognised for these
states alone, decoded with an ``MRZ_NATIONAL_VARIANT`` warning naming the variant, and refused
(``MRZ_CHECK_DIGIT``) in strict mode (``DecodeOptions.strict``, ``liaison translate --strict``).
A digit that fits neither computation, or the national one for any other state, stays an error.

To add a state: one entry in ``LONG_NUMBER_FILLER_STATES``, with the published source that shows
its documents compute the digit this way, and a golden sample authored from that source.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.icao_mrz.checkdigit import check_digit

__all__ = [
    "LONG_NUMBER_FILLER",
    "LONG_NUMBER_FILLER_STATES",
    "NationalVariant",
    "filler_included_check_digit",
]

LONG_NUMBER_FILLER = "TD1-LONG-NUMBER-FILLER"
"""The variant's name, as diagnostics give it."""


@dataclass(frozen=True, slots=True)
class NationalVariant:
    """One state's known deviation, and where it is documented."""

    state: str
    """The issuing state, as the MRZ writes it (positions 3-5)."""
    documents: str
    """Which of its documents carry the variant."""
    source: str
    """The published source that shows it."""


LONG_NUMBER_FILLER_STATES: dict[str, NationalVariant] = {
    variant.state: variant
    for variant in (
        NationalVariant(
            state="BEL",
            documents="electronic identity cards (eID, TD1) with 12-digit card numbers",
            source=(
                "card number format: 12 digits, 3-7-2, the last two a modulo-97 check (FPS "
                "Interior, National Register, instruction IT 195 'Identiteitsbewijs'); the "
                "filler-included check digit on genuine cards: Liaison issue 13 (vectors of MRZ "
                "parser test suites) and the public report Arg0s1080/mrz#4 ('Belgian ID Cards: "
                "Issue with Document Numbers Exceeding 9 Characters in TD1', 2018)"
            ),
        ),
        NationalVariant(
            state="PRT",
            documents="citizen cards (Cartão de Cidadão, TD1): civil number, check digit and "
            "version, 12 characters",
            source=(
                "document number format: 8-digit civil identification number, its check digit, "
                "two letters and a check digit (AMA, 'Validação de Número de Documento do "
                "Cartão de Cidadão'); the filler-included check digit on genuine cards: Liaison "
                "issue 13 and the public report tetrahydra/SolidusMRZ#10 ('Portugal ID card', "
                "2018)"
            ),
        ),
    )
}
"""States whose long TD1 document numbers compute the check digit with the filler at position
15 included; one entry per state, with its source."""


def filler_included_check_digit(first_nine: str, continuation: str) -> int:
    """The check digit computed the national way: positions 6-14, the filler, the continuation.

    ``first_nine`` is positions 6-14 and ``continuation`` the characters after the filler up to
    (not including) the check digit.
    """
    return check_digit(first_nine + "<" + continuation)
