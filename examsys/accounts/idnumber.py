"""Chinese resident ID numbers (GB 11643-1999): normalising, checksum validation and masking."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    pass


def normalise(raw: str) -> str:
    """Strip spaces, turn full-width digits and a lowercase x into their canonical form."""
    text = (raw or "").strip().translate(str.maketrans("０１２３４５６７８９ｘＸx", "0123456789XXX"))
    return text.replace(" ", "")


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate(raw: str) -> str:
    """Return the normalised number or raise InvalidIdNumber with a Chinese message."""
    number = normalise(raw)
    if not _SHAPE.match(number):
        raise InvalidIdNumber("身份证号码应为18位，前17位为数字，最后一位为数字或X")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("身份证号码中的出生日期无效") from exc
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号码校验位不正确")
    return number


def mask(number: str) -> str:
    """110105********1234: region code and last four digits only."""
    number = normalise(number)
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def make_valid(first17: str) -> str:
    """Append the check digit (demo data and tests)."""
    return first17 + check_digit(first17)
