"""The kiosk's words in French (the default), Arabic and English. Qt-free.

Reason codes travel unchanged (scan log, sync, dashboard); here they become words a controller
understands at a glance and can act on ("send to the ticket office", "call security"). Every key
has all three languages: ``tests/scanner_app/test_i18n.py`` checks it.
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


_ = Language

REASONS: dict[str, dict[Language, str]] = {
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

WRONG_ZONE_NO_GATE: dict[Language, str] = {
    _.FR: "Mauvaise tribune : billet pour {zone}",
    _.AR: "مدرج خاطئ: التذكرة لـ {zone}",
    _.EN: "Wrong stand: ticket for {zone}",
}

TEXTS: dict[str, dict[Language, str]] = {
    "app_title": {_.FR: "Entrix Gate", _.AR: "Entrix Gate", _.EN: "Entrix Gate"},
    "present_ticket": {
        _.FR: "Présentez votre billet",
        _.AR: "قدّم تذكرتك",
        _.EN: "Present your ticket",
    },
    "present_hint": {
        _.FR: "QR code face à la caméra, dans le cadre",
        _.AR: "رمز QR أمام الكاميرا داخل الإطار",
        _.EN: "QR code facing the camera, inside the frame",
    },
    "gate_title": {
        _.FR: "Porte {gate} — {direction}",
        _.AR: "البوابة {gate} — {direction}",
        _.EN: "Gate {gate} — {direction}",
    },
    "direction_in": {_.FR: "Entrée", _.AR: "دخول", _.EN: "Entry"},
    "direction_out": {_.FR: "Sortie", _.AR: "خروج", _.EN: "Exit"},
    "verdict_in_granted": {_.FR: "ENTRÉE AUTORISÉE", _.AR: "الدخول مسموح", _.EN: "ENTRY GRANTED"},
    "verdict_out_granted": {_.FR: "SORTIE AUTORISÉE", _.AR: "الخروج مسموح", _.EN: "EXIT GRANTED"},
    "verdict_refused": {_.FR: "REFUSÉ", _.AR: "مرفوض", _.EN: "REFUSED"},
    "verdict_annulled": {_.FR: "ENTRÉE ANNULÉE", _.AR: "أُلغي الدخول", _.EN: "ENTRY CANCELLED"},
    "zone": {_.FR: "Tribune : {zone}", _.AR: "المدرج: {zone}", _.EN: "Stand: {zone}"},
    "seat": {_.FR: "Place : {seat}", _.AR: "المقعد: {seat}", _.EN: "Seat: {seat}"},
    "holder": {_.FR: "Titulaire : {name}", _.AR: "الحامل: {name}", _.EN: "Holder: {name}"},
    "sync_online": {_.FR: "En ligne", _.AR: "متصل", _.EN: "Online"},
    "sync_offline": {_.FR: "Hors ligne", _.AR: "غير متصل", _.EN: "Offline"},
    "sync_starting": {_.FR: "Connexion…", _.AR: "جارٍ الاتصال…", _.EN: "Connecting…"},
    "sync_revoked": {_.FR: "Terminal révoqué", _.AR: "الجهاز ملغى", _.EN: "Terminal revoked"},
    "sync_stopped": {_.FR: "Synchro arrêtée", _.AR: "المزامنة متوقفة", _.EN: "Sync stopped"},
    "sync_damaged": {
        _.FR: "Données endommagées",
        _.AR: "البيانات تالفة",
        _.EN: "Data damaged",
    },
    "sync_rebuilding": {
        _.FR: "Reconstruction depuis le serveur",
        _.AR: "إعادة البناء من الخادم",
        _.EN: "Rebuilding from the server",
    },
    "clock_unverified": {
        _.FR: "Heure non vérifiée depuis {age}",
        _.AR: "الساعة غير مُتحقَّق منها منذ {age}",
        _.EN: "Clock unchecked for {age}",
    },
    "sync_upgrade": {
        _.FR: "Mise à jour requise",
        _.AR: "التحديث مطلوب",
        _.EN: "Upgrade required",
    },
    "sync_local": {_.FR: "Sans serveur", _.AR: "بدون خادم", _.EN: "No server"},
    "last_sync": {
        _.FR: "Synchro il y a {age}",
        _.AR: "آخر مزامنة منذ {age}",
        _.EN: "Synced {age} ago",
    },
    "never_synced": {_.FR: "Jamais synchronisé", _.AR: "لم تتم المزامنة", _.EN: "Never synced"},
    "age_s": {_.FR: "{n} s", _.AR: "{n} ث", _.EN: "{n} s"},
    "age_min": {_.FR: "{n} min", _.AR: "{n} د", _.EN: "{n} min"},
    "age_h": {_.FR: "{n} h", _.AR: "{n} س", _.EN: "{n} h"},
    "outbox": {_.FR: "À envoyer : {n}", _.AR: "في انتظار الإرسال: {n}", _.EN: "To upload: {n}"},
    "entries_hour": {
        _.FR: "Entrées (1 h) : {n}",
        _.AR: "الدخول (ساعة): {n}",
        _.EN: "Entries (1 h): {n}",
    },
    "relay_ok": {_.FR: "Tourniquet OK", _.AR: "الباب الدوّار سليم", _.EN: "Turnstile OK"},
    "relay_fault": {
        _.FR: "Tourniquet en panne",
        _.AR: "الباب الدوّار معطّل",
        _.EN: "Turnstile fault",
    },
    "relay_none": {_.FR: "Sans tourniquet", _.AR: "بدون باب دوّار", _.EN: "No turnstile"},
    "relay_emergency": {
        _.FR: "Tourniquet ouvert (urgence)",
        _.AR: "الباب الدوّار مفتوح (طوارئ)",
        _.EN: "Turnstile open (emergency)",
    },
    "camera_ok": {_.FR: "Caméra OK", _.AR: "الكاميرا تعمل", _.EN: "Camera OK"},
    "camera_starting": {
        _.FR: "Caméra : démarrage",
        _.AR: "الكاميرا: بدء التشغيل",
        _.EN: "Camera starting",
    },
    "camera_unavailable": {
        _.FR: "Caméra débranchée",
        _.AR: "الكاميرا غير متصلة",
        _.EN: "Camera unplugged",
    },
    "camera_ended": {
        _.FR: "Caméra : fin du flux",
        _.AR: "الكاميرا: انتهى البث",
        _.EN: "Camera: stream ended",
    },
    "camera_lost_hint": {
        _.FR: "Caméra indisponible — vérifiez le câble USB ; le lecteur de codes marche toujours",
        _.AR: "الكاميرا غير متاحة — تحقق من كابل USB؛ قارئ الرموز ما زال يعمل",
        _.EN: "Camera unavailable — check the USB cable; the code reader still works",
    },
    "audio_ok": {_.FR: "Son OK", _.AR: "الصوت يعمل", _.EN: "Sound OK"},
    "audio_none": {_.FR: "Pas de son", _.AR: "لا يوجد صوت", _.EN: "No audio"},
    "emergency_banner": {
        _.FR: "PASSAGE LIBRE D'URGENCE — tourniquet ouvert",
        _.AR: "مرور حر للطوارئ — الباب الدوّار مفتوح",
        _.EN: "EMERGENCY FREE PASSAGE — turnstile open",
    },
    "supervisor": {_.FR: "Superviseur", _.AR: "المشرف", _.EN: "Supervisor"},
    "pin_prompt": {
        _.FR: "Code PIN superviseur",
        _.AR: "الرمز السري للمشرف",
        _.EN: "Supervisor PIN",
    },
    "pin_wrong": {
        _.FR: "PIN incorrect — encore {n} essai(s)",
        _.AR: "رمز خاطئ — تبقّى {n} محاولة",
        _.EN: "Wrong PIN — {n} tries left",
    },
    "pin_locked": {
        _.FR: "Trop d'essais — bloqué pendant {minutes} min",
        _.AR: "محاولات كثيرة — مقفل لمدة {minutes} د",
        _.EN: "Too many tries — locked for {minutes} min",
    },
    "pin_unset": {
        _.FR: "Aucun PIN configuré ([kiosk] pin_hash)",
        _.AR: "لم يُضبط رمز سري ([kiosk] pin_hash)",
        _.EN: "No PIN configured ([kiosk] pin_hash)",
    },
    "ok": {_.FR: "Valider", _.AR: "تأكيد", _.EN: "OK"},
    "back": {_.FR: "Retour", _.AR: "رجوع", _.EN: "Back"},
    "manual_open": {
        _.FR: "Ouvrir le tourniquet",
        _.AR: "فتح الباب الدوّار",
        _.EN: "Open the turnstile",
    },
    "operator": {_.FR: "Qui ouvre ?", _.AR: "من يفتح؟", _.EN: "Who opens?"},
    "why": {_.FR: "Pourquoi ?", _.AR: "لماذا؟", _.EN: "Why?"},
    "manual_open_done": {
        _.FR: "Ouverture manuelle enregistrée",
        _.AR: "سُجّل الفتح اليدوي",
        _.EN: "Manual open recorded",
    },
    "emergency_on": {
        _.FR: "Passage libre d'urgence",
        _.AR: "مرور حر للطوارئ",
        _.EN: "Emergency free passage",
    },
    "emergency_off": {
        _.FR: "Fin du passage libre",
        _.AR: "إنهاء المرور الحر",
        _.EN: "End free passage",
    },
    "switch_to": {
        _.FR: "Passer en {direction}",
        _.AR: "التحويل إلى {direction}",
        _.EN: "Switch to {direction}",
    },
    "force_sync": {_.FR: "Synchroniser", _.AR: "مزامنة الآن", _.EN: "Sync now"},
    "sync_requested": {_.FR: "Synchro demandée", _.AR: "طُلبت المزامنة", _.EN: "Sync requested"},
    "no_server": {
        _.FR: "Pas de serveur configuré",
        _.AR: "لا يوجد خادم",
        _.EN: "No server configured",
    },
    "last_scans": {_.FR: "Derniers passages", _.AR: "آخر عمليات المسح", _.EN: "Last scans"},
    "col_time": {_.FR: "Heure", _.AR: "الوقت", _.EN: "Time"},
    "col_direction": {_.FR: "Sens", _.AR: "الاتجاه", _.EN: "Way"},
    "col_reason": {_.FR: "Motif", _.AR: "السبب", _.EN: "Reason"},
    "col_zone": {_.FR: "Tribune", _.AR: "المدرج", _.EN: "Stand"},
    "col_operator": {_.FR: "Par", _.AR: "بواسطة", _.EN: "By"},
    "device": {
        _.FR: "Porte {gate} · {venue} · version {version} · {relay} · {camera}",
        _.AR: "البوابة {gate} · {venue} · الإصدار {version} · {relay} · {camera}",
        _.EN: "Gate {gate} · {venue} · version {version} · {relay} · {camera}",
    },
    "language": {_.FR: "Langue", _.AR: "اللغة", _.EN: "Language"},
}


def text(key: str, language: Language | str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The UI string ``key`` in ``language``, with ``values`` filled in."""
    return TEXTS[key][Language(language)].format(**values)


def reason_text(
    reason: str,
    language: Language | str = DEFAULT_LANGUAGE,
    *,
    gates: str = "",
    zone: str = "",
) -> str:
    """A reason code in words; an unknown code (a newer server's) is shown as it is."""
    lang = Language(language)
    if reason == Reason.WRONG_ZONE and not gates:
        return WRONG_ZONE_NO_GATE[lang].format(zone=zone or "?")
    words = REASONS.get(reason)
    if words is None:
        return reason
    return words[lang].format(gates=gates)


def age_text(seconds: float, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """ "12 s", "4 min", "3 h": how long ago, as short as a status bar needs."""
    n = max(0, int(seconds))
    if n < 120:
        return text("age_s", language, n=n)
    if n < 2 * 3600:
        return text("age_min", language, n=n // 60)
    return text("age_h", language, n=n // 3600)
