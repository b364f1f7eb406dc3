"""ISO 4217 currencies a donation may be made in, with their minor-unit exponent.

Amounts are always integer minor units (cents, yen, fils), so the exponent is only needed to show
an amount to a person and to bound it. The table holds the active circulating currencies of
ISO 4217 (2025); fund codes (BOV, CLF, …) and metals (XAU, …) are left out: nobody donates in them.
"""

# Currencies whose minor unit is not 1/100.
EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}
TWO_DECIMALS = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG
HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU
MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR
SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED
VES WST XCD XCG YER ZAR ZMW ZWG
""".split()
CURRENCIES = {**dict.fromkeys(TWO_DECIMALS, 2), **EXPONENTS}

# An "absurd" gift: more than a million major units in one donation is a typo or an attack.
MAX_MAJOR_UNITS = 10 ** 6


def max_amount(currency):
    """The largest donation accepted, in minor units of `currency`."""
    return MAX_MAJOR_UNITS * 10 ** CURRENCIES[currency]


def major(amount, currency):
    """Minor units as a decimal string in major units: 1250 EUR → "12.50", 5 JPY → "5"."""
    exponent = CURRENCIES[currency]
    sign, digits = ("-" if amount < 0 else ""), str(abs(amount)).rjust(exponent + 1, "0")
    return sign + (digits[:-exponent] + "." + digits[-exponent:] if exponent else digits)
