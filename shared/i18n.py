"""The product's words in French (the default), Arabic and English: the languages, the reason
codes in words and how long ago something happened. Qt-free, web-free: the kiosk
(:mod:`scanner_app.i18n`) and the control room (:mod:`sync_server.words`) both speak from here,
so a reason reads the same at the turnstile, on the dashboard and in ``gate-admin``.

Reason codes travel unchanged (scan log, sync, dashboard); here they become words a controller
understands at a glance and can act on ("send to the ticket office", "call security"). Every key
has all three languages: ``tests/shared/test_words.py`` checks every catalog.
"""

from __future__ import annotations

from enum import StrEnum

from shared.model import EMERGENCY_OPEN, EMERGENCY_RELEASE, MANUAL_OPEN, NOT_PASSED, RELAY_FAILED
from shared.reasons import Reason

CANNOT_RECORD = "cannot_record"
"""The kiosk's answer when a scan could not be written to the replica (a full or failing disk):
not a decision, not a record (there is none), and the turnstile does not move."""
REPLICA_REBUILDING = "replica_rebuilding"
"""The kiosk's answer while its replica is rebuilt from the server (it was damaged, lost, or an
older copy): nothing decided, nothing recorded; a supervisor may still open by hand."""
REPLICA_DAMAGED = "replica_damaged"
"""The kiosk's answer to every scan once its replica failed the integrity check while running:
nothing is decided, nothing recorded, the turnstile stays shut until a restart rebuilds it."""


class Language(StrEnum):
    FR = "fr"
    AR = "ar"
    EN = "en"

    @property
    def right_to_left(self) -> bool:
        return self is Language.AR

    @property
    def native_name(self) -> str:
        return {"fr": "Français", "ar": "العربية", "en": "English"}[self.value]


DEFAULT_LANGUAGE = Language.FR

Words = dict[str, dict[Language, str]]
"""A catalog: key → the words in each language, with ``{placeholders}`` the same in all three."""


def language_or_default(value: object) -> Language:
    """``value`` as a language, or the default for anything else (a stale cookie, a typo)."""
    try:
        return Language(str(value))
    except ValueError:
        return DEFAULT_LANGUAGE


def from_accept_language(header: str | None) -> Language:
    """The browser's preferred language among ours (``Accept-Language``), else the default."""
    best: tuple[float, int, Language] | None = None
    for at, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        try:
            language = Language(tag.strip().split("-")[0].lower())
        except ValueError:
            continue
        if quality > 0 and (best is None or (quality, -at) > (best[0], best[1])):
            best = (quality, -at, language)
    return DEFAULT_LANGUAGE if best is None else best[2]


def pick(catalog: Words, key: str, language: Language | str, **values: object) -> str:
    """The words of ``key`` in ``language``, ``values`` filled in."""
    return catalog[key][Language(language)].format(**values)


_ = Language

REASONS: Words = {
    Reason.GRANTED: {
        _.FR: "Bienvenue — passez",
        _.AR: "مرحبا — تفضّل بالمرور",
        _.EN: "Welcome — go through",
    },
    Reason.MALFORMED: {
        _.FR: "Code illisible — demandez le billet original",
        _.AR: "رمز غير مقروء — اطلب التذكرة الأصلية",
        _.EN: "Unreadable code — ask for the original ticket",
    },
    Reason.UNKNOWN_CODE: {
        _.FR: "Billet inconnu — envoyez à la billetterie",
        _.AR: "تذكرة غير معروفة — وجّهه إلى شباك التذاكر",
        _.EN: "Unknown ticket — send to the ticket office",
    },
    Reason.UNKNOWN_KEY: {
        _.FR: "Billet d'un émetteur inconnu — appelez le superviseur",
        _.AR: "تذكرة من جهة إصدار غير معروفة — اتصل بالمشرف",
        _.EN: "Ticket from an unknown issuer — call the supervisor",
    },
    Reason.INVALID_SIGNATURE: {
        _.FR: "Billet falsifié — gardez-le et appelez le superviseur",
        _.AR: "تذكرة مزوّرة — احتفظ بها واتصل بالمشرف",
        _.EN: "Forged ticket — keep it and call the supervisor",
    },
    Reason.REVOKED: {
        _.FR: "Billet annulé — envoyez à la billetterie",
        _.AR: "تذكرة ملغاة — وجّهه إلى شباك التذاكر",
        _.EN: "Ticket cancelled — send to the ticket office",
    },
    Reason.BLACKLISTED: {
        _.FR: "Interdit de stade — appelez la sécurité",
        _.AR: "ممنوع من دخول الملعب — اتصل بالأمن",
        _.EN: "Banned from the stadium — call security",
    },
    Reason.WRONG_EVENT: {
        _.FR: "Billet pour un autre match — entrée refusée",
        _.AR: "تذكرة لمباراة أخرى — الدخول مرفوض",
        _.EN: "Ticket for another match — entry refused",
    },
    Reason.NOT_YET_VALID: {
        _.FR: "Billet pas encore valable — revenez plus tard",
        _.AR: "التذكرة غير صالحة بعد — عُد لاحقا",
        _.EN: "Ticket not valid yet — come back later",
    },
    Reason.EXPIRED: {
        _.FR: "Billet expiré — entrée refusée",
        _.AR: "تذكرة منتهية الصلاحية — الدخول مرفوض",
        _.EN: "Ticket expired — entry refused",
    },
    Reason.WRONG_ZONE: {
        _.FR: "Mauvaise tribune : allez à la porte {gates}",
        _.AR: "مدرج خاطئ: توجّه إلى البوابة {gates}",
        _.EN: "Wrong stand: go to gate {gates}",
    },
    Reason.ALREADY_USED: {
        _.FR: "Billet déjà utilisé — entrée refusée",
        _.AR: "تذكرة مستعملة من قبل — الدخول مرفوض",
        _.EN: "Ticket already used — entry refused",
    },
    Reason.ALREADY_INSIDE: {
        _.FR: "Déjà entré — doit d'abord sortir",
        _.AR: "دخل من قبل — يجب أن يخرج أولا",
        _.EN: "Already inside — must exit first",
    },
    Reason.CAPACITY_FULL: {
        _.FR: "Tribune complète — appelez le superviseur",
        _.AR: "المدرج ممتلئ — اتصل بالمشرف",
        _.EN: "Stand full — call the supervisor",
    },
    Reason.STALE_CODE: {
        _.FR: "Code périmé : capture d'écran ? Faites ouvrir le billet sur le téléphone et "
        "vérifiez son heure",
        _.AR: "رمز منتهي: لقطة شاشة؟ اطلب فتح التذكرة على الهاتف وتحقق من ساعته",
        _.EN: "Stale code: a screenshot? Have the ticket opened on the phone and check its clock",
    },
    Reason.STATIC_CODE: {
        _.FR: "Code fixe refusé : ce billet ne s'ouvre qu'en code tournant, sur le téléphone",
        _.AR: "رمز ثابت مرفوض: هذه التذكرة تُعرض برمز متغيّر فقط، على الهاتف",
        _.EN: "Static code refused: this ticket opens only as a rotating code, on the phone",
    },
    Reason.GATE_DISABLED: {
        _.FR: "Porte fermée — envoyez à une autre porte",
        _.AR: "البوابة مغلقة — وجّهه إلى بوابة أخرى",
        _.EN: "Gate closed — send to another gate",
    },
    NOT_PASSED: {
        _.FR: "Personne n'est passé — entrée annulée",
        _.AR: "لم يمرّ أحد — أُلغي الدخول",
        _.EN: "Nobody passed — entry cancelled",
    },
    REPLICA_DAMAGED: {
        _.FR: "Hors service — données endommagées : appelez un superviseur",
        _.AR: "خارج الخدمة — البيانات تالفة: اتصل بالمشرف",
        _.EN: "Out of order — data damaged: call a supervisor",
    },
    REPLICA_REBUILDING: {
        _.FR: "Hors service — mise à jour depuis le serveur : appelez un superviseur",
        _.AR: "خارج الخدمة — جارٍ التحديث من الخادم: اتصل بالمشرف",
        _.EN: "Out of order — rebuilding from the server: call a supervisor",
    },
    CANNOT_RECORD: {
        _.FR: "Hors service — impossible d'enregistrer : appelez un superviseur",
        _.AR: "خارج الخدمة — تعذّر التسجيل: اتصل بالمشرف",
        _.EN: "Out of order — cannot record: call a supervisor",
    },
    RELAY_FAILED: {
        _.FR: "Tourniquet en panne — entrée annulée, appelez le technicien",
        _.AR: "الباب الدوّار معطّل — أُلغي الدخول، اتصل بالتقني",
        _.EN: "Turnstile fault — entry cancelled, call the technician",
    },
    MANUAL_OPEN: {
        _.FR: "Ouverture manuelle",
        _.AR: "فتح يدوي",
        _.EN: "Manual open",
    },
    EMERGENCY_OPEN: {
        _.FR: "Passage libre d'urgence activé",
        _.AR: "تفعيل المرور الحر للطوارئ",
        _.EN: "Emergency free passage on",
    },
    EMERGENCY_RELEASE: {
        _.FR: "Passage libre d'urgence terminé",
        _.AR: "إنهاء المرور الحر للطوارئ",
        _.EN: "Emergency free passage off",
    },
}
"""Every reason the kiosk can show or list; ``wrong_zone`` takes ``gates``."""

CAUSES: dict[tuple[str, str], dict[Language, str]] = {
    (Reason.STALE_CODE, "old"): {
        _.FR: "Code périmé : capture d'écran, ou l'heure du téléphone retarde. Faites ouvrir "
        "le billet et régler l'heure automatique",
        _.AR: "رمز منتهي: لقطة شاشة، أو ساعة الهاتف متأخرة. اطلب فتح التذكرة وضبط الوقت التلقائي",
        _.EN: "Stale code: a screenshot, or the phone's clock is behind. Have the ticket "
        "opened and the phone set to automatic time",
    },
    (Reason.STALE_CODE, "ahead"): {
        _.FR: "Code en avance : l'heure du téléphone avance. Faites régler l'heure "
        "automatique, puis rouvrir le billet",
        _.AR: "رمز سابق لأوانه: ساعة الهاتف متقدمة. اطلب ضبط الوقت التلقائي ثم إعادة فتح التذكرة",
        _.EN: "Code from the future: the phone's clock is ahead. Have it set to automatic "
        "time, then the ticket opened again",
    },
}
"""A reason's words for one of its causes (``reason_text``'s ``cause``)."""
WRONG_ZONE_NO_GATE: dict[Language, str] = {
    _.FR: "Mauvaise tribune : billet pour {zone}",
    _.AR: "مدرج خاطئ: التذكرة لـ {zone}",
    _.EN: "Wrong stand: ticket for {zone}",
}


AGES: Words = {
    "age_s": {_.FR: "{n} s", _.AR: "{n} ث", _.EN: "{n} s"},
    "age_min": {_.FR: "{n} min", _.AR: "{n} د", _.EN: "{n} min"},
    "age_h": {_.FR: "{n} h", _.AR: "{n} س", _.EN: "{n} h"},
    "ago": {_.FR: "il y a {age}", _.AR: "منذ {age}", _.EN: "{age} ago"},
}
"""How long, as short as a status bar needs, and how long ago (the dashboard's times in words)."""


def reason_text(
    reason: str,
    language: Language | str = DEFAULT_LANGUAGE,
    *,
    gates: str = "",
    zone: str = "",
    cause: str = "",
) -> str:
    """A reason code in words; an unknown code (a newer server's) is shown as it is. ``cause``:
    which of a reason's causes (``shared.decision.Decision.cause``), when it has several."""
    lang = Language(language)
    if reason == Reason.WRONG_ZONE and not gates:
        return WRONG_ZONE_NO_GATE[lang].format(zone=zone or "?")
    caused = CAUSES.get((reason, cause))
    if caused is not None:
        return caused[lang]
    words = REASONS.get(reason)
    if words is None:
        return reason
    return words[lang].format(gates=gates)


def age_text(seconds: float, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """ "12 s", "4 min", "3 h": how long ago, as short as a status bar needs."""
    n = max(0, int(seconds))
    if n < 120:
        return pick(AGES, "age_s", language, n=n)
    if n < 2 * 3600:
        return pick(AGES, "age_min", language, n=n // 60)
    return pick(AGES, "age_h", language, n=n // 3600)


def ago_text(seconds: float, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """ "il y a 3 min", "منذ 3 د", "3 min ago"."""
    return pick(AGES, "ago", language, age=age_text(seconds, language))
