"""Identifier checks and the JSON Schema ``format`` checker used by form validation.

Custom formats (in addition to the standard ``date``, ``date-time``, ``email``, ...):

``uscc``
    Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from
    ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (upper case only; no I, O, S, V, Z) whose 18th
    character is the mod-31 check character of the first 17.
``project-code``
    National investment project code (投资项目代码), ``YYYY-AAAAAA-II-TT-NNNNNN``,
    e.g. ``2024-440105-47-01-123456``.
``cn-mobile``
    Mainland mobile number, 11 digits ``1[3-9]xxxxxxxxx`` (no ``+86``, no spaces).
``attachment``
    An attachment id. When :func:`make_format_checker` gets ``attachment_ids`` the string
    must be one of them (an upload that belongs to this case); with ``None`` any non-empty
    string passes.

Checkers raise :class:`FormatProblem` with a ``code`` that ``forms.validation`` turns into a
localised message.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from jsonschema import Draft202012Validator, FormatChecker

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES = {c: i for i, c in enumerate(USCC_CHARSET)}

PROJECT_CODE_RE = re.compile(r"\d{4}-\d{6}-\d{2}-\d{2}-\d{6}")
CN_MOBILE_RE = re.compile(r"1[3-9]\d{9}")

CUSTOM_FORMATS = ("uscc", "project-code", "cn-mobile", "attachment")


class FormatProblem(ValueError):
    """Raised by a format check; ``code`` selects the user-facing message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
        raise ValueError("need 17 characters from the USCC character set")
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """Return None if ``value`` is a valid USCC, else a problem code.

    Codes: ``uscc_length``, ``uscc_charset``, ``uscc_check_digit``.
    """
    if len(value) != 18:
        return "uscc_length"
    if any(c not in _USCC_VALUES for c in value):
        return "uscc_charset"
    if uscc_check_char(value[:17]) != value[17]:
        return "uscc_check_digit"
    return None


def is_valid_uscc(value: object) -> bool:
    return isinstance(value, str) and uscc_problem(value) is None


def is_valid_project_code(value: object) -> bool:
    return isinstance(value, str) and PROJECT_CODE_RE.fullmatch(value) is not None


def is_valid_cn_mobile(value: object) -> bool:
    return isinstance(value, str) and CN_MOBILE_RE.fullmatch(value) is not None


def _check_uscc(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    problem = uscc_problem(instance)
    if problem:
        raise FormatProblem(problem)
    return True


def _check_project_code(instance: object) -> bool:
    if isinstance(instance, str) and not is_valid_project_code(instance):
        raise FormatProblem("project_code")
    return True


def _check_cn_mobile(instance: object) -> bool:
    if isinstance(instance, str) and not is_valid_cn_mobile(instance):
        raise FormatProblem("cn_mobile")
    return True


def make_format_checker(attachment_ids: Collection[str] | None = None) -> FormatChecker:
    """A FormatChecker with all draft 2020-12 standard formats plus our custom ones."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)

    def _check_attachment(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        if not instance:
            raise FormatProblem("attachment_empty")
        if attachment_ids is not None and instance not in attachment_ids:
            raise FormatProblem("attachment_unknown")
        return True

    checker.checks("uscc", raises=FormatProblem)(_check_uscc)
    checker.checks("project-code", raises=FormatProblem)(_check_project_code)
    checker.checks("cn-mobile", raises=FormatProblem)(_check_cn_mobile)
    checker.checks("attachment", raises=FormatProblem)(_check_attachment)
    return checker


def known_formats() -> frozenset[str]:
    """Every format name the validator enforces (standard + custom)."""
    return frozenset(Draft202012Validator.FORMAT_CHECKER.checkers) | frozenset(CUSTOM_FORMATS)
