"""The kiosk's own words in French (the default), Arabic and English. Qt-free.

The languages, the reasons in words and the ages come from :mod:`shared.i18n`, which the control
room speaks from too; here are the kiosk's screens.
"""

from __future__ import annotations

from shared.i18n import (
    CANNOT_RECORD,
    DEFAULT_LANGUAGE,
    REPLICA_DAMAGED,
    REPLICA_REBUILDING,
    Language,
    Words,
    age_text,
    pick,
    reason_text,
)

__all__ = [
    "CANNOT_RECORD",
    "REPLICA_DAMAGED",
    "REPLICA_REBUILDING",
    "TEXTS",
    "Language",
    "age_text",
    "reason_text",
    "text",
]

_ = Language

TEXTS: Words = {
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
    "pin_name": {_.FR: "Votre nom", _.AR: "اسمك", _.EN: "Your name"},
    "pin_prompt_own": {
        _.FR: "Votre code PIN personnel",
        _.AR: "رمزك السري الشخصي",
        _.EN: "Your own PIN",
    },
    "on_duty": {
        _.FR: "Enregistré au nom de {name}",
        _.AR: "يُسجَّل باسم {name}",
        _.EN: "Recorded under {name}",
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
    # A terminal's first start, before it is enrolled
    "first_title": {
        _.FR: "Terminal à enrôler",
        _.AR: "جهاز بحاجة إلى تسجيل",
        _.EN: "Terminal to enroll",
    },
    "first_hint": {
        _.FR: "Back-office → Portes → Code d'enrôlement : montrez le QR code à la caméra, ou "
        "lisez-le avec le lecteur de codes",
        _.AR: "المكتب الخلفي ← البوابات ← رمز التسجيل: اعرض رمز QR أمام الكاميرا أو اقرأه "
        "بقارئ الرموز",
        _.EN: "Back office → Gates → Enrollment code: show the QR code to the camera, or read "
        "it with the code reader",
    },
    "first_enrolling": {
        _.FR: "Enrôlement auprès de {server}…",
        _.AR: "جارٍ التسجيل لدى {server}…",
        _.EN: "Enrolling with {server}…",
    },
    "first_failed": {
        _.FR: "Enrôlement refusé : {why}",
        _.AR: "رُفض التسجيل: {why}",
        _.EN: "Enrollment refused: {why}",
    },
    "first_not_link": {
        _.FR: "Ce n'est pas un code d'enrôlement : montrez celui du back-office",
        _.AR: "هذا ليس رمز تسجيل: اعرض رمز المكتب الخلفي",
        _.EN: "Not an enrollment code: show the one from the back office",
    },
    "first_done": {
        _.FR: "Enrôlé comme porte {gate} de {venue} : démarrage…",
        _.AR: "تم التسجيل كبوابة {gate} في {venue}: جارٍ التشغيل…",
        _.EN: "Enrolled as gate {gate} of {venue}: starting…",
    },
}


def text(key: str, language: Language | str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The UI string ``key`` in ``language``, with ``values`` filled in."""
    return pick(TEXTS, key, language, **values)
