"""A form field or a spreadsheet cell refused by its model (pydantic), said in the page's language:
which field, and what is wrong with it, from the error's type and its limits. The API keeps
pydantic's English; the pages and an import's report of bad rows speak French, Arabic or English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.i18n import DEFAULT_LANGUAGE, Language, Words

_ = Language
FIELD = "field"
"""The key of an import row's problem that is a cell its model refused (``schemas.RowProblem``)."""

FIELD_PROBLEMS: Words = {
    "missing": {
        _.FR: "{field} : à remplir",
        _.AR: "{field}: حقل مطلوب",
        _.EN: "{field}: required",
    },
    "string_pattern_mismatch": {
        _.FR: "{field} : forme non valable",
        _.AR: "{field}: صيغة غير صالحة",
        _.EN: "{field}: not in the expected form",
    },
    "string_too_short": {
        _.FR: "{field} : au moins {min_length} caractère(s)",
        _.AR: "{field}: {min_length} حرف على الأقل",
        _.EN: "{field}: at least {min_length} character(s)",
    },
    "string_too_long": {
        _.FR: "{field} : au plus {max_length} caractères",
        _.AR: "{field}: {max_length} حرفًا على الأكثر",
        _.EN: "{field}: at most {max_length} characters",
    },
    "too_short": {
        _.FR: "{field} : au moins {min_length} élément(s)",
        _.AR: "{field}: {min_length} عنصر على الأقل",
        _.EN: "{field}: at least {min_length} item(s)",
    },
    "too_long": {
        _.FR: "{field} : au plus {max_length} éléments",
        _.AR: "{field}: {max_length} عنصرًا على الأكثر",
        _.EN: "{field}: at most {max_length} items",
    },
    "int_parsing": {
        _.FR: "{field} : un nombre entier",
        _.AR: "{field}: عدد صحيح",
        _.EN: "{field}: a whole number",
    },
    "greater_than_equal": {
        _.FR: "{field} : au moins {ge}",
        _.AR: "{field}: {ge} على الأقل",
        _.EN: "{field}: at least {ge}",
    },
    "less_than_equal": {
        _.FR: "{field} : au plus {le}",
        _.AR: "{field}: {le} على الأكثر",
        _.EN: "{field}: at most {le}",
    },
    "datetime_parsing": {
        _.FR: "{field} : une date et une heure",
        _.AR: "{field}: تاريخ ووقت",
        _.EN: "{field}: a date and a time",
    },
    "literal_error": {
        _.FR: "{field} : une valeur parmi {expected}",
        _.AR: "{field}: قيمة من {expected}",
        _.EN: "{field}: one of {expected}",
    },
    "enum": {
        _.FR: "{field} : une valeur parmi {expected}",
        _.AR: "{field}: قيمة من {expected}",
        _.EN: "{field}: one of {expected}",
    },
    "extra_forbidden": {
        _.FR: "{field} : colonne inconnue",
        _.AR: "{field}: عمود غير معروف",
        _.EN: "{field}: unknown column",
    },
    "other": {
        _.FR: "{field} : {message}",
        _.AR: "{field}: {message}",
        _.EN: "{field}: {message}",
    },
}
"""By pydantic's error type (its family: ``int_type`` is said as ``int_parsing``)."""
SAME_AS = {
    "int_type": "int_parsing",
    "int_from_float": "int_parsing",
    "datetime_type": "datetime_parsing",
    "datetime_from_date_parsing": "datetime_parsing",
    "string_type": "string_pattern_mismatch",
    "list_type": "string_pattern_mismatch",
}
FIELD_NAMES: Words = {
    "code": {_.FR: "Code", _.AR: "الرمز", _.EN: "Code"},
    "name": {_.FR: "Nom", _.AR: "الاسم", _.EN: "Name"},
    "event": {_.FR: "Événement", _.AR: "الحدث", _.EN: "Event"},
    "zones": {_.FR: "Zones", _.AR: "المناطق", _.EN: "Zones"},
    "capacity": {_.FR: "Capacité", _.AR: "السعة", _.EN: "Capacity"},
    "parent": {_.FR: "Dans", _.AR: "ضمن", _.EN: "In"},
    "timezone": {_.FR: "Fuseau horaire", _.AR: "المنطقة الزمنية", _.EN: "Time zone"},
    "starts_at": {_.FR: "Début", _.AR: "البداية", _.EN: "Starts"},
    "ends_at": {_.FR: "Fin", _.AR: "النهاية", _.EN: "Ends"},
    "holder": {_.FR: "Porteur", _.AR: "الحامل", _.EN: "Holder"},
    "seat": {_.FR: "Place", _.AR: "المقعد", _.EN: "Seat"},
    "policy": {_.FR: "Entrées", _.AR: "الدخول", _.EN: "Policy"},
    "kind": {_.FR: "Type", _.AR: "النوع", _.EN: "Kind"},
    "reason": {_.FR: "Motif", _.AR: "السبب", _.EN: "Reason"},
    "password": {_.FR: "Mot de passe", _.AR: "كلمة المرور", _.EN: "Password"},
    "pin": {_.FR: "PIN", _.AR: "الرمز السري", _.EN: "PIN"},
    "not_before": {_.FR: "Valable dès", _.AR: "صالح من", _.EN: "Valid from"},
    "expires": {_.FR: "Expire", _.AR: "ينتهي", _.EN: "Expires"},
    "display_name": {_.FR: "Nom affiché", _.AR: "الاسم المعروض", _.EN: "Display name"},
    "secret": {_.FR: "Code en clair", _.AR: "الرمز الصريح", _.EN: "Plain code"},
    "rotating": {_.FR: "Code tournant", _.AR: "رمز متغيّر", _.EN: "Rotating code"},
    "row": {_.FR: "Ligne", _.AR: "السطر", _.EN: "Row"},
}
"""What a field is called on the pages (the model's own name when it has none here)."""


def field_name(location: Sequence[Any], language: Language) -> str:
    parts = [str(p) for p in location if p != "body" and not isinstance(p, int)]
    key = parts[0] if parts else "row"
    words = FIELD_NAMES.get(key)
    return key if words is None else words[language]


def field_problem(error: Mapping[str, Any], language: Language | str = DEFAULT_LANGUAGE) -> str:
    """One pydantic error (``ValidationError.errors()`` item) in ``language``."""
    lang = Language(language)
    kind = str(error.get("type", "other"))
    kind = SAME_AS.get(kind, kind)
    words = FIELD_PROBLEMS.get(kind, FIELD_PROBLEMS["other"])
    context = {str(k): v for k, v in (error.get("ctx") or {}).items()}
    values = {**context, "field": field_name(error.get("loc", ()), lang),
              "message": str(error.get("msg", ""))[:120]}  # fmt: skip
    try:
        return words[lang].format(**values)
    except (KeyError, IndexError, ValueError):
        return FIELD_PROBLEMS["other"][lang].format(**values)


def field_problems(
    errors: Sequence[Mapping[str, Any]], language: Language | str = DEFAULT_LANGUAGE, limit: int = 5
) -> str:
    return "; ".join(field_problem(e, language) for e in errors[:limit])
