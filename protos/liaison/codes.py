"""Reference code lists the contract refers to: ISO 3166-1 country codes and ICAO 9303 codes.

``CountryCode.code`` holds an ISO 3166-1 alpha-3 code or one of the ICAO Doc 9303 Part 3 codes
that are not ISO; adapters map other representations (ISO alpha-2, ``D<<``) onto these and keep
the source value in ``CountryCode.raw``. Both the gateway (validation) and the adapters (mapping)
use this module, which is why it lives with the contract rather than in either of them.
"""

from __future__ import annotations

__all__ = ["ICAO_CODES", "ISO_ALPHA2_TO_ALPHA3", "ISO_ALPHA3", "is_known_country_code"]

# ISO 3166-1 (alpha-2:alpha-3), as maintained by the ISO 3166 Maintenance Agency: 249 entries.
_ALPHA2_TO_ALPHA3 = """
AD:AND AE:ARE AF:AFG AG:ATG AI:AIA AL:ALB AM:ARM AO:AGO AQ:ATA AR:ARG AS:ASM AT:AUT AU:AUS
AW:ABW AX:ALA AZ:AZE BA:BIH BB:BRB BD:BGD BE:BEL BF:BFA BG:BGR BH:BHR BI:BDI BJ:BEN BL:BLM
BM:BMU BN:BRN BO:BOL BQ:BES BR:BRA BS:BHS BT:BTN BV:BVT BW:BWA BY:BLR BZ:BLZ CA:CAN CC:CCK
CD:COD CF:CAF CG:COG CH:CHE CI:CIV CK:COK CL:CHL CM:CMR CN:CHN CO:COL CR:CRI CU:CUB CV:CPV
CW:CUW CX:CXR CY:CYP CZ:CZE DE:DEU DJ:DJI DK:DNK DM:DMA DO:DOM DZ:DZA EC:ECU EE:EST EG:EGY
EH:ESH ER:ERI ES:ESP ET:ETH FI:FIN FJ:FJI FK:FLK FM:FSM FO:FRO FR:FRA GA:GAB GB:GBR GD:GRD
GE:GEO GF:GUF GG:GGY GH:GHA GI:GIB GL:GRL GM:GMB GN:GIN GP:GLP GQ:GNQ GR:GRC GS:SGS GT:GTM
GU:GUM GW:GNB GY:GUY HK:HKG HM:HMD HN:HND HR:HRV HT:HTI HU:HUN ID:IDN IE:IRL IL:ISR IM:IMN
IN:IND IO:IOT IQ:IRQ IR:IRN IS:ISL IT:ITA JE:JEY JM:JAM JO:JOR JP:JPN KE:KEN KG:KGZ KH:KHM
KI:KIR KM:COM KN:KNA KP:PRK KR:KOR KW:KWT KY:CYM KZ:KAZ LA:LAO LB:LBN LC:LCA LI:LIE LK:LKA
LR:LBR LS:LSO LT:LTU LU:LUX LV:LVA LY:LBY MA:MAR MC:MCO MD:MDA ME:MNE MF:MAF MG:MDG MH:MHL
MK:MKD ML:MLI MM:MMR MN:MNG MO:MAC MP:MNP MQ:MTQ MR:MRT MS:MSR MT:MLT MU:MUS MV:MDV MW:MWI
MX:MEX MY:MYS MZ:MOZ NA:NAM NC:NCL NE:NER NF:NFK NG:NGA NI:NIC NL:NLD NO:NOR NP:NPL NR:NRU
NU:NIU NZ:NZL OM:OMN PA:PAN PE:PER PF:PYF PG:PNG PH:PHL PK:PAK PL:POL PM:SPM PN:PCN PR:PRI
PS:PSE PT:PRT PW:PLW PY:PRY QA:QAT RE:REU RO:ROU RS:SRB RU:RUS RW:RWA SA:SAU SB:SLB SC:SYC
SD:SDN SE:SWE SG:SGP SH:SHN SI:SVN SJ:SJM SK:SVK SL:SLE SM:SMR SN:SEN SO:SOM SR:SUR SS:SSD
ST:STP SV:SLV SX:SXM SY:SYR SZ:SWZ TC:TCA TD:TCD TF:ATF TG:TGO TH:THA TJ:TJK TK:TKL TL:TLS
TM:TKM TN:TUN TO:TON TR:TUR TT:TTO TV:TUV TW:TWN TZ:TZA UA:UKR UG:UGA UM:UMI US:USA UY:URY
UZ:UZB VA:VAT VC:VCT VE:VEN VG:VGB VI:VIR VN:VNM VU:VUT WF:WLF WS:WSM YE:YEM YT:MYT ZA:ZAF
ZM:ZMB ZW:ZWE
"""

ISO_ALPHA2_TO_ALPHA3: dict[str, str] = dict(pair.split(":") for pair in _ALPHA2_TO_ALPHA3.split())
"""ISO 3166-1 alpha-2 code -> alpha-3 code."""

ISO_ALPHA3: frozenset[str] = frozenset(ISO_ALPHA2_TO_ALPHA3.values())
"""Every ISO 3166-1 alpha-3 code."""

ICAO_CODES: dict[str, str] = {
    "D": "Germany (ICAO 9303 uses D, not DEU)",
    "EUE": "European Union",
    "GBD": "British Overseas Territories citizen",
    "GBN": "British National (Overseas)",
    "GBO": "British Overseas citizen",
    "GBP": "British protected person",
    "GBS": "British subject",
    "RKS": "Kosovo (used in documents issued by Kosovo)",
    "UNA": "Specialized agency of the United Nations",
    "UNK": "Resident of Kosovo to whom a UNMIK travel document has been issued",
    "UNO": "United Nations Organization or one of its officials",
    "XBA": "African Development Bank",
    "XCC": "Caribbean Community or one of its emissaries",
    "XCE": "Council of Europe",
    "XCO": "Common Market for Eastern and Southern Africa",
    "XDC": "Southern African Development Community",
    "XEC": "Economic Community of West African States",
    "XES": "Organisation of Eastern Caribbean States",
    "XIM": "African Export-Import Bank",
    "XMP": "Parliamentary Assembly of the Mediterranean",
    "XOM": "Sovereign Military Order of Malta",
    "XPO": "International Criminal Police Organization (INTERPOL)",
    "XXA": "Stateless person (1954 Convention)",
    "XXB": "Refugee (1951 Convention and its 1967 Protocol)",
    "XXC": "Refugee (other than under the 1951 Convention)",
    "XXX": "Person of unspecified nationality",
}
"""ICAO Doc 9303 Part 3 codes that are not ISO 3166-1 alpha-3, with what they stand for."""


def is_known_country_code(code: str) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-3 code or an ICAO 9303 code."""
    return code in ISO_ALPHA3 or code in ICAO_CODES
