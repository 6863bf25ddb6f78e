"""Text that an XML 1.0 document can carry, for the XML representations (RSS, sitemaps)."""

import re

# Characters XML 1.0 cannot contain at all, not even escaped (most C0 controls, U+FFFE/F,
# lone surrogates): ElementTree would write them as they are and break the document.
# Written as a positive class: the equivalent negated class over the whole Unicode range
# costs milliseconds to compile at cold start.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry (ElementTree escapes the rest)."""
    return _NOT_XML_CHAR.sub("", value)
