"""The control room's words in French (the default), Arabic and English: the dashboard, the
sign-in page, the authorities' report, and the alert and severity words ``gate-admin`` prints.

Languages, reasons and ages come from :mod:`shared.i18n`, the kiosk's source too, so a reason or
an age reads the same at the turnstile and in the control room. Every key has the three
languages with the same placeholders (``tests/shared/test_words.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.i18n import DEFAULT_LANGUAGE, Language, Words, pick
from sync_server import alert_kinds as kinds
from sync_server.field_words import FIELD, field_problem

_ = Language

SEVERITIES: dict[int, dict[Language, str]] = {
    1: {_.FR: "information", _.AR: "معلومة", _.EN: "notice"},
    2: {_.FR: "attention", _.AR: "تنبيه", _.EN: "warning"},
    3: {_.FR: "critique", _.AR: "حرج", _.EN: "critical"},
}

ALERTS: Words = {
    kinds.DOUBLE_ENTRY: {
        _.FR: "Double entrée",
        _.AR: "دخول مزدوج",
        _.EN: "Double entry",
    },
    kinds.BANNED_TRIED: {
        _.FR: "Personne interdite à une porte",
        _.AR: "شخص ممنوع عند بوابة",
        _.EN: "Banned person tried",
    },
    kinds.GATE_SILENT: {
        _.FR: "Porte hors ligne",
        _.AR: "بوابة غير متصلة",
        _.EN: "Gate offline",
    },
    kinds.ZONE_NEARLY_FULL: {
        _.FR: "Zone presque pleine",
        _.AR: "منطقة شبه ممتلئة",
        _.EN: "Zone near capacity",
    },
    kinds.CLOCK_SKEW: {
        _.FR: "Horloge décalée",
        _.AR: "ساعة غير مضبوطة",
        _.EN: "Clock skew",
    },
    kinds.PROTOCOL_REFUSED: {
        _.FR: "Logiciel de porte à mettre à jour",
        _.AR: "برنامج البوابة بحاجة إلى تحديث",
        _.EN: "Gate software to upgrade",
    },
    kinds.REPLICA_LOST: {
        _.FR: "Porte ayant perdu ses données",
        _.AR: "بوابة فقدت بياناتها",
        _.EN: "Gate lost its data",
    },
    kinds.CLOCK_UNVERIFIED: {
        _.FR: "Heure de porte non vérifiée",
        _.AR: "ساعة بوابة غير مُتحقَّق منها",
        _.EN: "Gate clock unchecked",
    },
    kinds.REPLICA_DAMAGED: {
        _.FR: "Données de porte endommagées",
        _.AR: "بيانات بوابة تالفة",
        _.EN: "Gate data damaged",
    },
    kinds.IMPLAUSIBLE_SCANS: {
        _.FR: "Passages invraisemblables d'une porte",
        _.AR: "عمليات مسح غير معقولة من بوابة",
        _.EN: "Implausible scans from a gate",
    },
}
"""An alert kind's title."""

ALERT_MESSAGES: Words = {
    kinds.DOUBLE_ENTRY: {
        _.FR: "Un billet déjà entré a été admis de nouveau à la porte {gate}",
        _.AR: "قُبلت تذكرة دخلت من قبل مرة أخرى عند البوابة {gate}",
        _.EN: "A ticket already inside was admitted again at gate {gate}",
    },
    kinds.BANNED_TRIED: {
        _.FR: "Une personne interdite de stade s'est présentée à la porte {gate}",
        _.AR: "حاول شخص ممنوع من دخول الملعب المرور من البوابة {gate}",
        _.EN: "A person banned from the stadium tried gate {gate}",
    },
    kinds.GATE_SILENT: {
        _.FR: "La porte {gate} ne donne plus de nouvelles depuis {since}",
        _.AR: "البوابة {gate} لا ترسل أي إشارة منذ {since}",
        _.EN: "Gate {gate} has been silent since {since}",
    },
    kinds.ZONE_NEARLY_FULL: {
        _.FR: "{zone} : {count} personnes pour {capacity} places ({percent} %)",
        _.AR: "{zone}: {count} شخصا من أصل {capacity} مكانا ({percent} %)",
        _.EN: "{zone}: {count} people for {capacity} places ({percent} %)",
    },
    kinds.CLOCK_SKEW: {
        _.FR: "L'horloge de la porte {gate} a {skew} d'écart avec le serveur",
        _.AR: "ساعة البوابة {gate} تختلف عن ساعة الخادم بـ {skew}",
        _.EN: "Gate {gate}'s clock is {skew} off the server's",
    },
    kinds.CLOCK_UNVERIFIED: {
        _.FR: "La porte {gate} a décidé pendant {hours} h sans vérifier son heure "
        "(dernière vérification à {since})",
        _.AR: "قررت البوابة {gate} لمدة {hours} س دون التحقق من ساعتها (آخر تحقق في {since})",
        _.EN: "Gate {gate} decided for {hours} h without checking its clock (last checked at "
        "{since})",
    },
    kinds.PROTOCOL_REFUSED: {
        _.FR: "La porte {gate} ne peut pas se synchroniser : {why}",
        _.AR: "لا تستطيع البوابة {gate} المزامنة: {why}",
        _.EN: "Gate {gate} cannot sync: {why}",
    },
    kinds.REPLICA_LOST: {
        _.FR: "La porte {gate} a perdu ses données ({why}) : ce qu'elle n'avait pas envoyé est "
        "peut-être perdu, et une double entrée parmi ces passages ne peut pas se voir",
        _.AR: "فقدت البوابة {gate} بياناتها ({why}): ما لم ترسله ربما ضاع، ولا يمكن رؤية "
        "دخول مزدوج بين هذه العمليات",
        _.EN: "Gate {gate} lost its data ({why}): what it had not uploaded may be lost, and a "
        "double entry among those scans cannot be seen",
    },
    kinds.REPLICA_DAMAGED: {
        _.FR: "La porte {gate} a trouvé ses données endommagées et n'admet plus personne : "
        "redémarrez-la pour les reconstruire depuis le serveur",
        _.AR: "وجدت البوابة {gate} بياناتها تالفة ولا تسمح بدخول أحد: أعد تشغيلها لإعادة "
        "بنائها من الخادم",
        _.EN: "Gate {gate} found its data damaged and admits nobody: restart it to rebuild "
        "from the server",
    },
    kinds.IMPLAUSIBLE_SCANS: {
        _.FR: "La porte {gate} a envoyé des passages invraisemblables : {refused} refusés, "
        "{held} mis en quarantaine ({why})",
        _.AR: "أرسلت البوابة {gate} عمليات مسح غير معقولة: {refused} مرفوضة، {held} في الحجر "
        "({why})",
        _.EN: "Gate {gate} uploaded implausible scans: {refused} refused, {held} held in "
        "quarantine ({why})",
    },
}
"""An alert's sentence, from the facts it was raised with (``Alert.facts``)."""

ZONE_STATES: Words = {
    "full": {_.FR: "Pleine", _.AR: "ممتلئة", _.EN: "Full"},
    "near capacity": {_.FR: "Presque pleine", _.AR: "شبه ممتلئة", _.EN: "Near capacity"},
    "ok": {_.FR: "Normale", _.AR: "عادية", _.EN: "OK"},
    "no limit": {_.FR: "Sans limite", _.AR: "بلا حد", _.EN: "No limit"},
}

GATE_STATES: Words = {
    "ok": {_.FR: "OK", _.AR: "سليم", _.EN: "OK"},
    "unknown": {_.FR: "inconnu", _.AR: "غير معروف", _.EN: "unknown"},
    "closed": {_.FR: "fermé", _.AR: "مغلق", _.EN: "closed"},
    "open": {_.FR: "ouvert", _.AR: "مفتوح", _.EN: "open"},
    "fault": {_.FR: "en panne", _.AR: "معطّل", _.EN: "fault"},
    "none": {_.FR: "aucun", _.AR: "لا يوجد", _.EN: "none"},
    "no frames": {_.FR: "pas d'image", _.AR: "لا صورة", _.EN: "no frames"},
    "unavailable": {_.FR: "débranchée", _.AR: "غير متصلة", _.EN: "unplugged"},
}
"""What a gate's heartbeat says of its relay and camera, in words; anything else is shown as
the gate said it."""

RIGHT_STATES: Words = {
    "active": {_.FR: "valable", _.AR: "صالحة", _.EN: "valid"},
    "revoked": {_.FR: "annulé", _.AR: "ملغاة", _.EN: "revoked"},
}
"""A ticket's state on the back office's pages; anything else is shown as the server says it."""

REFUSALS: Words = {
    "no_venue": {
        _.FR: "aucun lieu {venue}",
        _.AR: "لا يوجد مكان {venue}",
        _.EN: "no venue {venue}",
    },
    "no_event": {
        _.FR: "aucun événement {event}",
        _.AR: "لا يوجد حدث {event}",
        _.EN: "no event {event}",
    },
    "no_season": {
        _.FR: "aucune saison {season}",
        _.AR: "لا يوجد موسم {season}",
        _.EN: "no season {season}",
    },
    "no_gate": {
        _.FR: "aucune porte {gate} au lieu {venue}",
        _.AR: "لا توجد بوابة {gate} في المكان {venue}",
        _.EN: "no gate {gate} at venue {venue}",
    },
    "venue_exists": {
        _.FR: "le lieu {venue} existe déjà",
        _.AR: "المكان {venue} موجود من قبل",
        _.EN: "venue {venue} exists",
    },
    "zone_parent_unknown": {
        _.FR: "zone {zone} : {parent} n'est pas une zone de cette configuration",
        _.AR: "المنطقة {zone}: {parent} ليست منطقة في هذا المخطط",
        _.EN: "zone {zone}: {parent} is not a zone of this layout",
    },
    "zone_cycle": {
        _.FR: "zone {zone} : l'arbre des zones boucle par {parent}",
        _.AR: "المنطقة {zone}: شجرة المناطق تدور عبر {parent}",
        _.EN: "zone {zone}: the zone tree has a cycle through {parent}",
    },
    "platform_key": {
        _.FR: "les clés de la plateforme sont aux administrateurs : choisissez votre lieu pour "
        "changer sa propre clé",
        _.AR: "مفاتيح المنصة للمسؤولين: اختر مكانك لتغيير مفتاحه الخاص",
        _.EN: "the platform's keys are the admins': give your venue to rotate its own key",
    },
    "no_rotation_key": {
        _.FR: "ce lieu n'a pas encore de clé de rotation : créez-en une",
        _.AR: "ليس لهذا المكان مفتاح تدوير بعد: أنشئ واحدًا",
        _.EN: "this venue has no rotation key yet: rotate one",
    },
    "plain_does_not_rotate": {
        _.FR: "un code en clair (d'une autre billetterie) ne tourne pas",
        _.AR: "الرمز الصريح (من نظام تذاكر آخر) لا يتغير",
        _.EN: "a plain code (from another ticketing system) does not rotate",
    },
    "no_holder_link": {
        _.FR: "ce billet n'a pas de lien porteur en cours",
        _.AR: "ليس لهذه التذكرة رابط حامل ساري",
        _.EN: "this ticket has no live holder's link",
    },
    "not_rotating": {
        _.FR: "ce billet n'est pas émis en code tournant : pas de lien porteur",
        _.AR: "هذه التذكرة ليست برمز متغيّر: لا رابط لحاملها",
        _.EN: "this ticket is not issued rotating: it has no holder's link",
    },
    "rotating_right": {
        _.FR: "ce billet ne s'ouvre qu'en code tournant : donnez son lien porteur",
        _.AR: "هذه التذكرة لا تُفتح إلا برمز متغيّر: أعطِ رابط حاملها",
        _.EN: "this ticket opens only as a rotating code: give its holder's link",
    },
    "no_wallet_issuer": {
        _.FR: "aucun identifiant d'émetteur Google Wallet n'est réglé (ENTRIX_WALLET_ISSUER_ID)",
        _.AR: "لم يُضبط معرّف مُصدِر Google Wallet (ENTRIX_WALLET_ISSUER_ID)",
        _.EN: "no Google Wallet issuer id is set (ENTRIX_WALLET_ISSUER_ID)",
    },
    "no_user": {
        _.FR: "aucun compte {user}",
        _.AR: "لا يوجد حساب {user}",
        _.EN: "no user {user}",
    },
    "pin_no_venue": {
        _.FR: "{user} n'a aucun lieu : donnez d'abord ses lieux au compte",
        _.AR: "ليس لـ {user} أي مكان: حدّد أماكن الحساب أولًا",
        _.EN: "{user} has no venue: give the account its venues first",
    },
    "pin_digits": {
        _.FR: "un code PIN compte de 4 à 12 chiffres",
        _.AR: "الرمز السري من 4 إلى 12 رقمًا",
        _.EN: "a PIN is 4 to 12 digits",
    },
    "expires_before": {
        _.FR: "« expires » doit venir après « not_before »",
        _.AR: "يجب أن يأتي «expires» بعد «not_before»",
        _.EN: "expires must be after not_before",
    },
    "secret_repeats": {
        _.FR: "code en clair déjà donné à la ligne {row}",
        _.AR: "الرمز الصريح مكرر من السطر {row}",
        _.EN: "secret repeats row {row}",
    },
    "secret_sold": {
        _.FR: "code en clair déjà vendu",
        _.AR: "الرمز الصريح مُباع مسبقًا",
        _.EN: "secret already sold",
    },
    "more_fields": {
        _.FR: "plus de champs que l'en-tête n'en nomme",
        _.AR: "حقول أكثر مما يذكره العنوان",
        _.EN: "more fields than the header names",
    },
    "row_not_your_venue": {
        _.FR: "l'événement {event} est au lieu {venue}, que ce compte ne gère pas",
        _.AR: "الحدث {event} في المكان {venue} الذي لا يديره هذا الحساب",
        _.EN: "event {event} is at venue {venue}, which this account does not manage",
    },
    "no_layout": {
        _.FR: "aucune configuration {layout} au lieu {venue}",
        _.AR: "لا يوجد مخطط {layout} في المكان {venue}",
        _.EN: "no layout {layout} at venue {venue}",
    },
    "layout_exists": {
        _.FR: "la configuration {layout} existe déjà au lieu {venue}",
        _.AR: "المخطط {layout} موجود مسبقًا في المكان {venue}",
        _.EN: "layout {layout} exists at {venue}",
    },
    "gate_leads_nowhere": {
        _.FR: "la porte {gate} ne mène nulle part : donnez-lui des zones dans une configuration",
        _.AR: "البوابة {gate} لا تؤدي إلى أي مكان: حدّد لها مناطق في مخطط",
        _.EN: "gate {gate} leads nowhere: give it zones in a layout",
    },
    "zones_unknown": {
        _.FR: "zone(s) inconnue(s) au lieu {venue} : {zones}",
        _.AR: "منطقة (مناطق) غير معروفة في المكان {venue}: {zones}",
        _.EN: "unknown zone(s) at {venue}: {zones}",
    },
    "season_exists": {
        _.FR: "la saison {season} existe déjà",
        _.AR: "الموسم {season} موجود من قبل",
        _.EN: "season {season} exists",
    },
    "event_exists": {
        _.FR: "l'événement {event} existe déjà",
        _.AR: "الحدث {event} موجود من قبل",
        _.EN: "event {event} exists",
    },
    "event_backwards": {
        _.FR: "un événement finit après avoir commencé",
        _.AR: "ينتهي الحدث بعد أن يبدأ",
        _.EN: "an event ends after it starts",
    },
    "gate_exists": {
        _.FR: "la porte {gate} existe déjà au lieu {venue}",
        _.AR: "البوابة {gate} موجودة من قبل في المكان {venue}",
        _.EN: "gate {gate} exists at {venue}",
    },
    "ban_right_only": {
        _.FR: "une interdiction sur un billet nomme le billet, pas de personne",
        _.AR: "المنع على تذكرة يحدد التذكرة وليس شخصا",
        _.EN: "a ban on a ticket names the ticket, and no person",
    },
    "ban_holder_only": {
        _.FR: "une interdiction sur une personne nomme sa référence, pas de billet",
        _.AR: "المنع على شخص يحدد مرجعه وليس تذكرة",
        _.EN: "a ban on a person names their reference, and no ticket",
    },
    "ban_backwards": {
        _.FR: "la fin de l'interdiction vient après son début",
        _.AR: "نهاية المنع تأتي بعد بدايته",
        _.EN: "a ban ends after it starts",
    },
    "no_ban": {_.FR: "aucune interdiction {ban}", _.AR: "لا يوجد منع {ban}", _.EN: "no ban {ban}"},
    "ban_lifted": {
        _.FR: "l'interdiction {ban} est déjà levée",
        _.AR: "المنع {ban} مرفوع من قبل",
        _.EN: "ban {ban} was already lifted",
    },
    "not_your_venue": {
        _.FR: "ce compte ne gère pas le lieu {venue}",
        _.AR: "هذا الحساب لا يدير المكان {venue}",
        _.EN: "this account does not manage venue {venue}",
    },
    "not_your_ban": {
        _.FR: "l'interdiction {ban} est de {by} : seul un administrateur la lève",
        _.AR: "المنع {ban} من إنشاء {by}: المسؤول وحده يرفعه",
        _.EN: "ban {ban} was made by {by}: only an admin lifts it",
    },
    "venue_admin_venues": {
        _.FR: "un administrateur de lieu reçoit ses lieux, un administrateur aucun (il les a tous)",
        _.AR: "مسؤول المكان يُعطى أماكنه، والمسؤول العام لا شيء (له كلها)",
        _.EN: "a venue admin is given its venues, an admin none (it has them all)",
    },
    "user_exists": {
        _.FR: "le compte {user} existe déjà",
        _.AR: "الحساب {user} موجود من قبل",
        _.EN: "user {user} exists",
    },
    "password_short": {
        _.FR: "un mot de passe a au moins {n} caractères",
        _.AR: "كلمة المرور لا تقل عن {n} أحرف",
        _.EN: "a password has at least {n} characters",
    },
    "no_key": {_.FR: "aucune clé {kid}", _.AR: "لا يوجد مفتاح {kid}", _.EN: "no key {kid}"},
    "key_active": {
        _.FR: "créez d'abord une nouvelle clé : la clé active signe les nouveaux billets et ne "
        "peut pas être retirée",
        _.AR: "أنشئ مفتاحا جديدا أولا: المفتاح النشط يوقّع التذاكر الجديدة ولا يمكن سحبه",
        _.EN: "rotate first: the active key signs new tickets and cannot be retired",
    },
    "no_signing_key": {
        _.FR: "pas encore de clé de signature : créez-en une (Clés → Nouvelle clé de signature)",
        _.AR: "لا يوجد مفتاح توقيع بعد: أنشئ واحدا (المفاتيح ← مفتاح توقيع جديد)",
        _.EN: "no signing key yet: create one (Keys → New signing key)",
    },
}
"""The services' refusals (``ServerError.said``) as a page says them; the API keeps English."""


def row_error(error: Any, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """A bad row of an import (``schemas.RowError``) in ``language``: each of its problems in
    words, its English message where one has none."""
    said = []
    for problem in error.problems:
        if problem.said == FIELD:
            values = dict(problem.values)
            found = {"type": values.pop("type", ""), "loc": [values.pop("field", "")],
                     "msg": values.pop("msg", ""), "ctx": values}  # fmt: skip
            said.append(field_problem(found, language))
            continue
        words = REFUSALS.get(problem.said)
        try:
            said.append(words[Language(language)].format(**problem.values) if words else "")
        except (KeyError, IndexError):
            said.append("")
    return "; ".join(said) if said and all(said) else str(error.message)


def refusal(exc: Exception, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """A refusal in ``language`` when it is one of :data:`REFUSALS`, else its own words."""
    said = getattr(exc, "said", None)
    words = REFUSALS.get(said) if isinstance(said, str) else None
    if words is None:
        return str(exc)
    try:
        return words[Language(language)].format(**getattr(exc, "values", {}))
    except (KeyError, IndexError):
        return str(exc)


TEXTS: Words = {
    # Every page
    "product": {_.FR: "Entrix Gate", _.AR: "Entrix Gate", _.EN: "Entrix Gate"},
    "language": {_.FR: "Langue", _.AR: "اللغة", _.EN: "Language"},
    "change_language": {_.FR: "Changer", _.AR: "تغيير", _.EN: "Change"},
    "times_in": {
        _.FR: "Heures locales : {zone}",
        _.AR: "الأوقات بالتوقيت المحلي: {zone}",
        _.EN: "Local times: {zone}",
    },
    # Sign-in
    "sign_in_title": {_.FR: "Connexion", _.AR: "تسجيل الدخول", _.EN: "Sign in"},
    "sign_in_sub": {
        _.FR: "Tableau de bord des superviseurs",
        _.AR: "لوحة متابعة المشرفين",
        _.EN: "Supervisors' dashboard",
    },
    "name": {_.FR: "Nom", _.AR: "الاسم", _.EN: "Name"},
    "password": {_.FR: "Mot de passe", _.AR: "كلمة المرور", _.EN: "Password"},
    "sign_in": {_.FR: "Se connecter", _.AR: "دخول", _.EN: "Sign in"},
    "sign_in_hint": {
        _.FR: "Pas encore de compte, ou mot de passe oublié : demandez à l'administrateur du site.",
        _.AR: "لا حساب لديك أو نسيت كلمة المرور: اسأل مسؤول الموقع.",
        _.EN: "No account yet, or a forgotten password: ask your site's administrator.",
    },
    "sign_in_wrong": {
        _.FR: "Nom ou mot de passe incorrect.",
        _.AR: "الاسم أو كلمة المرور غير صحيحة.",
        _.EN: "Wrong name or password.",
    },
    "sign_in_locked": {
        _.FR: "Trop d'essais manqués : réessayez dans {seconds} s.",
        _.AR: "محاولات فاشلة كثيرة: أعد المحاولة بعد {seconds} ث.",
        _.EN: "Too many failed attempts: try again in {seconds} s.",
    },
    "sign_out": {_.FR: "Se déconnecter", _.AR: "خروج", _.EN: "Sign out"},
    "role_admin": {_.FR: "administrateur", _.AR: "مسؤول", _.EN: "admin"},
    "role_supervisor": {_.FR: "superviseur", _.AR: "مشرف", _.EN: "supervisor"},
    "role_venue_admin": {
        _.FR: "administrateur de lieu",
        _.AR: "مسؤول مكان",
        _.EN: "venue admin",
    },
    "role_controller": {_.FR: "contrôleur", _.AR: "مراقب", _.EN: "controller"},
    # The dashboard's frame
    "supervision": {_.FR: "supervision", _.AR: "المتابعة", _.EN: "supervision"},
    "connecting": {_.FR: "◌ Connexion…", _.AR: "◌ جارٍ الاتصال…", _.EN: "◌ Connecting…"},
    "live": {_.FR: "● En direct", _.AR: "● مباشر", _.EN: "● Live"},
    "reconnecting": {
        _.FR: "◌ Reconnexion…",
        _.AR: "◌ إعادة الاتصال…",
        _.EN: "◌ Reconnecting…",
    },
    "disconnected": {
        _.FR: "✕ Déconnecté, nouvel essai",
        _.AR: "✕ انقطع الاتصال، إعادة المحاولة",
        _.EN: "✕ Disconnected, retrying",
    },
    "updated": {_.FR: "à jour à", _.AR: "محدّث في", _.EN: "updated"},
    "report_pick": {
        _.FR: "Rapport pour les autorités",
        _.AR: "تقرير للسلطات",
        _.EN: "Authorities' report",
    },
    "open": {_.FR: "Ouvrir", _.AR: "فتح", _.EN: "Open"},
    "alerts": {_.FR: "Alertes", _.AR: "التنبيهات", _.EN: "Alerts"},
    "gates": {_.FR: "Portes", _.AR: "البوابات", _.EN: "Gates"},
    "zones": {_.FR: "Zones", _.AR: "المناطق", _.EN: "Zones"},
    "urgent": {_.FR: "À surveiller", _.AR: "يستوجب الانتباه", _.EN: "Needs attention"},
    "urgent_zones": {
        _.FR: "Zones presque pleines :",
        _.AR: "مناطق شبه ممتلئة:",
        _.EN: "Zones near capacity:",
    },
    "urgent_gates": {
        _.FR: "Portes hors ligne :",
        _.AR: "بوابات غير متصلة:",
        _.EN: "Gates offline:",
    },
    "all_clear": {
        _.FR: "✓ Rien à signaler : toutes les portes répondent, aucune zone n'est pleine.",
        _.AR: "✓ لا شيء يُذكر: كل البوابات تستجيب ولا منطقة ممتلئة.",
        _.EN: "✓ All clear: every gate answers, no zone is full.",
    },
    "gate_control": {
        _.FR: "Commande des portes",
        _.AR: "التحكم في البوابات",
        _.EN: "Gate control",
    },
    "admin_only": {_.FR: "(administrateur)", _.AR: "(مسؤول)", _.EN: "(admin)"},
    "disable_gate": {
        _.FR: "Fermer {gate}",
        _.AR: "إغلاق {gate}",
        _.EN: "Disable {gate}",
    },
    "enable_gate": {_.FR: "Ouvrir {gate}", _.AR: "فتح {gate}", _.EN: "Enable {gate}"},
    "held_line": {
        _.FR: "{where} : {n} passages en quarantaine (gate-admin quarantine list dit pourquoi)",
        _.AR: "{where}: {n} عملية مسح في الحجر (gate-admin quarantine list يوضح السبب)",
        _.EN: "{where}: {n} scans held (gate-admin quarantine list shows why)",
    },
    "apply_held": {
        _.FR: "Les appliquer (ils comptent)",
        _.AR: "تطبيقها (تُحتسب)",
        _.EN: "Apply them (they count)",
    },
    "discard_held": {_.FR: "Les écarter", _.AR: "استبعادها", _.EN: "Discard them"},
    # Alerts
    "acknowledge": {_.FR: "Pris en charge", _.AR: "تم التكفل", _.EN: "Acknowledge"},
    "no_alerts": {
        _.FR: "✓ Aucune alerte ouverte.",
        _.AR: "✓ لا توجد تنبيهات مفتوحة.",
        _.EN: "✓ No open alerts.",
    },
    "recently_acked": {
        _.FR: "Prises en charge récemment ({n})",
        _.AR: "تم التكفل بها مؤخرا ({n})",
        _.EN: "Recently acknowledged ({n})",
    },
    "acked_by": {
        _.FR: "pris en charge par {who} à {time}",
        _.AR: "تكفّل بها {who} في {time}",
        _.EN: "acknowledged by {who} at {time}",
    },
    "someone": {_.FR: "inconnu", _.AR: "مجهول", _.EN: "unknown"},
    "gate_named": {_.FR: "porte {gate}", _.AR: "البوابة {gate}", _.EN: "gate {gate}"},
    # Gate tiles
    "way_in": {_.FR: "→ entrée", _.AR: "← دخول", _.EN: "→ in"},
    "way_out": {_.FR: "← sortie", _.AR: "→ خروج", _.EN: "← out"},
    "online": {_.FR: "● En ligne", _.AR: "● متصلة", _.EN: "● Online"},
    "offline": {_.FR: "✕ Hors ligne", _.AR: "✕ غير متصلة", _.EN: "✕ Offline"},
    "disabled": {_.FR: "⏻ Fermée", _.AR: "⏻ مغلقة", _.EN: "⏻ Disabled"},
    "heartbeat": {_.FR: "signal {ago}", _.AR: "آخر إشارة {ago}", _.EN: "heartbeat {ago}"},
    "never": {_.FR: "jamais", _.AR: "أبدا", _.EN: "never"},
    "unknown": {_.FR: "inconnu", _.AR: "غير معروف", _.EN: "unknown"},
    "tile_damaged": {
        _.FR: "⚠ Données endommagées : n'admet personne avant redémarrage",
        _.AR: "⚠ بيانات تالفة: لا تسمح بدخول أحد قبل إعادة التشغيل",
        _.EN: "⚠ Data damaged: admits nobody until restarted",
    },
    "tile_rebuilding": {
        _.FR: "⚠ Reconstruction depuis le serveur : n'admet personne en attendant",
        _.AR: "⚠ إعادة البناء من الخادم: لا تسمح بدخول أحد في الأثناء",
        _.EN: "⚠ Rebuilding from the server: admits nobody meanwhile",
    },
    "tile_held": {
        _.FR: "⚠ {n} passages en quarantaine : non comptés tant qu'un administrateur n'a pas "
        "décidé",
        _.AR: "⚠ {n} عملية مسح في الحجر: لا تُحتسب حتى يقرر المسؤول",
        _.EN: "⚠ {n} scans held in quarantine: not counted until an admin decides",
    },
    "tile_clock": {
        _.FR: "⚠ Heure non vérifiée depuis son dernier signal ({ago})",
        _.AR: "⚠ الساعة غير مُتحقَّق منها منذ آخر إشارة ({ago})",
        _.EN: "⚠ Clock unchecked since its last heartbeat ({ago})",
    },
    "tile_upgrade": {
        _.FR: "⚠ Synchronisation impossible : {why}",
        _.AR: "⚠ تعذّرت المزامنة: {why}",
        _.EN: "⚠ Cannot sync: {why}",
    },
    "entries_5": {_.FR: "Entrées 5 min", _.AR: "الدخول 5 د", _.EN: "Entries 5 min"},
    "exits_5": {_.FR: "Sorties 5 min", _.AR: "الخروج 5 د", _.EN: "Exits 5 min"},
    "refusals_5": {_.FR: "Refus 5 min", _.AR: "الرفض 5 د", _.EN: "Refusals 5 min"},
    "overrides_5": {
        _.FR: "Ouvertures superviseur 5 min",
        _.AR: "فتح المشرف 5 د",
        _.EN: "Supervisor overrides 5 min",
    },
    "last_sync": {_.FR: "Dernière synchro", _.AR: "آخر مزامنة", _.EN: "Last sync"},
    "outbox": {_.FR: "À envoyer", _.AR: "في انتظار الإرسال", _.EN: "Waiting to upload"},
    "relay": {_.FR: "Tourniquet", _.AR: "الباب الدوّار", _.EN: "Relay"},
    "camera": {_.FR: "Caméra", _.AR: "الكاميرا", _.EN: "Camera"},
    "skew": {_.FR: "Écart d'horloge", _.AR: "فرق الساعة", _.EN: "Clock skew"},
    "no_gates": {_.FR: "Pas encore de porte.", _.AR: "لا توجد بوابات بعد.", _.EN: "No gates yet."},
    # Zones
    "zone": {_.FR: "Zone", _.AR: "المنطقة", _.EN: "Zone"},
    "inside_capacity": {
        _.FR: "Présents / capacité",
        _.AR: "الحاضرون / السعة",
        _.EN: "Inside / capacity",
    },
    "state": {_.FR: "État", _.AR: "الحالة", _.EN: "State"},
    "per_minute": {
        _.FR: "Entrées par minute, dernière heure",
        _.AR: "الدخول في الدقيقة، آخر ساعة",
        _.EN: "Entries per minute, last hour",
    },
    "peak": {_.FR: "max {n}/min", _.AR: "الأقصى {n}/د", _.EN: "max {n}/min"},
    "no_zones": {_.FR: "Pas encore de zone.", _.AR: "لا توجد مناطق بعد.", _.EN: "No zones yet."},
    # The authorities' report
    "report_title": {
        _.FR: "Rapport des entrées",
        _.AR: "تقرير الدخول",
        _.EN: "Entries report",
    },
    "report_event": {
        _.FR: "Événement {event}, {venue}",
        _.AR: "الحدث {event}، {venue}",
        _.EN: "Event {event}, {venue}",
    },
    "report_period": {
        _.FR: "Du {start} au {end}",
        _.AR: "من {start} إلى {end}",
        _.EN: "From {start} to {end}",
    },
    "report_what": {
        _.FR: "Entrées autorisées (les entrées annulées exclues), par tranche de {minutes} min ; "
        "« présents » : entrées moins sorties depuis l'ouverture.",
        _.AR: "الدخول المسموح (باستثناء الدخول الملغى)، لكل {minutes} د؛ «الحاضرون»: الدخول "
        "ناقص الخروج منذ الافتتاح.",
        _.EN: 'Granted entries (annulled ones left out), per {minutes}-minute slot; "inside": '
        "entries minus exits since the opening.",
    },
    "report_summary": {
        _.FR: "Synthèse par zone",
        _.AR: "ملخص حسب المنطقة",
        _.EN: "Summary by zone",
    },
    "report_slots": {
        _.FR: "Entrées par tranche de {minutes} min",
        _.AR: "الدخول لكل {minutes} د",
        _.EN: "Entries per {minutes} minutes",
    },
    "capacity": {_.FR: "Capacité", _.AR: "السعة", _.EN: "Capacity"},
    "entries": {_.FR: "Entrées", _.AR: "الدخول", _.EN: "Entries"},
    "exits": {_.FR: "Sorties", _.AR: "الخروج", _.EN: "Exits"},
    "inside": {_.FR: "Présents", _.AR: "الحاضرون", _.EN: "Inside"},
    "inside_end": {
        _.FR: "Présents à la fin",
        _.AR: "الحاضرون في النهاية",
        _.EN: "Inside at the end",
    },
    "from": {_.FR: "De", _.AR: "من", _.EN: "From"},
    "to": {_.FR: "À", _.AR: "إلى", _.EN: "To"},
    "total": {_.FR: "Total", _.AR: "المجموع", _.EN: "Total"},
    "venue_total": {
        _.FR: "Total {venue}",
        _.AR: "مجموع {venue}",
        _.EN: "{venue} total",
    },
    "no_entries": {
        _.FR: "Aucune entrée enregistrée pour cet événement.",
        _.AR: "لم يُسجَّل أي دخول لهذا الحدث.",
        _.EN: "No entries recorded for this event.",
    },
    "download": {_.FR: "Télécharger :", _.AR: "تنزيل:", _.EN: "Download:"},
    "print_hint": {
        _.FR: "ou imprimez cette page avec votre navigateur.",
        _.AR: "أو اطبع هذه الصفحة من المتصفح.",
        _.EN: "or print this page from your browser.",
    },
    "back_to_dashboard": {
        _.FR: "← Tableau de bord",
        _.AR: "→ لوحة المتابعة",
        _.EN: "← Dashboard",
    },
    "printed_by": {
        _.FR: "Édité par {who} le {time} depuis Entrix Gate.",
        _.AR: "أعدّه {who} في {time} من Entrix Gate.",
        _.EN: "Printed by {who} on {time} from Entrix Gate.",
    },
    "page_of": {
        _.FR: "Page {page} sur {pages}",
        _.AR: "صفحة {page} من {pages}",
        _.EN: "Page {page} of {pages}",
    },
    "own_entries": {
        _.FR: "{zone} — sans sous-zone",
        _.AR: "{zone} — بدون منطقة فرعية",
        _.EN: "{zone} — no sub-zone",
    },
    "unplaced": {
        _.FR: "Sans zone",
        _.AR: "بدون منطقة",
        _.EN: "No zone",
    },
    # The back office (admins write; supervisors read)
    "office": {_.FR: "Back-office", _.AR: "المكتب الخلفي", _.EN: "Back office"},
    "to_office": {_.FR: "Back-office →", _.AR: "← المكتب الخلفي", _.EN: "Back office →"},
    "events": {_.FR: "Événements", _.AR: "الأحداث", _.EN: "Events"},
    "rights": {_.FR: "Billets", _.AR: "التذاكر", _.EN: "Tickets"},
    "bans": {_.FR: "Interdictions", _.AR: "المنع", _.EN: "Bans"},
    "audit": {_.FR: "Journal", _.AR: "السجل", _.EN: "Audit log"},
    "read_only": {
        _.FR: "Lecture seule : seuls les administrateurs modifient.",
        _.AR: "للقراءة فقط: المسؤولون وحدهم يعدّلون.",
        _.EN: "Read only: only admins make changes.",
    },
    "done": {_.FR: "Enregistré.", _.AR: "تم الحفظ.", _.EN: "Saved."},
    "refused": {_.FR: "Refusé : {why}", _.AR: "مرفوض: {why}", _.EN: "Refused: {why}"},
    "code": {_.FR: "Code", _.AR: "الرمز", _.EN: "Code"},
    "venue": {_.FR: "Lieu", _.AR: "المكان", _.EN: "Venue"},
    "season": {_.FR: "Saison", _.AR: "الموسم", _.EN: "Season"},
    "none_option": {_.FR: "— aucune —", _.AR: "— لا شيء —", _.EN: "— none —"},
    "starts": {_.FR: "Début", _.AR: "البداية", _.EN: "Starts"},
    "ends": {_.FR: "Fin", _.AR: "النهاية", _.EN: "Ends"},
    "local_time_of": {
        _.FR: "heure locale du lieu",
        _.AR: "بالتوقيت المحلي للمكان",
        _.EN: "the venue's local time",
    },
    "create": {_.FR: "Créer", _.AR: "إنشاء", _.EN: "Create"},
    "new_event": {_.FR: "Nouvel événement", _.AR: "حدث جديد", _.EN: "New event"},
    "event_over": {_.FR: "terminé", _.AR: "انتهى", _.EN: "over"},
    "event_over_warning": {
        _.FR: "Attention : l'événement {event} s'est terminé le {time}, avant maintenant : ses "
        "billets n'admettent personne. Vérifiez le début et la fin.",
        _.AR: "تنبيه: انتهى الحدث {event} في {time}، قبل الآن: تذاكره لا تسمح بدخول أحد. تحقق "
        "من البداية والنهاية.",
        _.EN: "Warning: event {event} ended at {time}, before now: its tickets admit nobody. "
        "Check its start and end.",
    },
    "no_events": {_.FR: "Aucun événement.", _.AR: "لا توجد أحداث.", _.EN: "No events."},
    # gates
    "new_gate": {_.FR: "Nouvelle porte", _.AR: "بوابة جديدة", _.EN: "New gate"},
    "gate_zones": {
        _.FR: "Zones où elle mène",
        _.AR: "المناطق التي تؤدي إليها",
        _.EN: "Zones it leads into",
    },
    "direction": {_.FR: "Sens", _.AR: "الاتجاه", _.EN: "Direction"},
    "enabled": {_.FR: "Ouverte", _.AR: "مفتوحة", _.EN: "Enabled"},
    "last_seen": {_.FR: "Dernier signal", _.AR: "آخر إشارة", _.EN: "Last heard"},
    "enroll": {
        _.FR: "Code d'enrôlement",
        _.AR: "رمز التسجيل",
        _.EN: "Enrollment code",
    },
    "enroll_title": {
        _.FR: "Enrôler un terminal comme porte {gate}",
        _.AR: "تسجيل جهاز كبوابة {gate}",
        _.EN: "Enroll a terminal as gate {gate}",
    },
    "enroll_how": {
        _.FR: "Au premier démarrage du terminal, montrez ce QR code à sa caméra ; ou tapez : "
        "gate-scanner enroll --link '{link}'. Une seule utilisation, valable jusqu'au {time}.",
        _.AR: "عند أول تشغيل للجهاز، اعرض رمز QR هذا أمام كاميرته؛ أو اكتب: "
        "gate-scanner enroll --link '{link}'. استعمال واحد، صالح حتى {time}.",
        _.EN: "At the terminal's first start, show this QR code to its camera; or type: "
        "gate-scanner enroll --link '{link}'. One use, valid until {time}.",
    },
    "enroll_pin_none": {
        _.FR: "Sans épinglage TLS : cette page est servie en HTTP simple (mettez TLS devant, "
        "docs/deploy.md).",
        _.AR: "بدون تثبيت TLS: هذه الصفحة مقدّمة عبر HTTP عادي (ضع TLS أمامها، docs/deploy.md).",
        _.EN: "No TLS pin: this page is served over plain HTTP (put TLS in front, docs/deploy.md).",
    },
    # bans
    "new_ban": {_.FR: "Nouvelle interdiction", _.AR: "منع جديد", _.EN: "New ban"},
    "holder_ref": {
        _.FR: "Référence de la personne (la vôtre)",
        _.AR: "مرجع الشخص (مرجعكم)",
        _.EN: "The person's reference (yours)",
    },
    "or_right": {
        _.FR: "ou identifiant d'un billet",
        _.AR: "أو معرّف تذكرة",
        _.EN: "or a ticket's id",
    },
    "reason": {_.FR: "Motif", _.AR: "السبب", _.EN: "Reason"},
    "severity": {_.FR: "Gravité", _.AR: "الخطورة", _.EN: "Severity"},
    "until": {_.FR: "Jusqu'au", _.AR: "حتى", _.EN: "Until"},
    "search": {_.FR: "Chercher", _.AR: "بحث", _.EN: "Search"},
    "search_hint": {
        _.FR: "référence, motif ou identifiant",
        _.AR: "المرجع أو السبب أو المعرّف",
        _.EN: "reference, reason or id",
    },
    "active": {_.FR: "En vigueur", _.AR: "سارٍ", _.EN: "Active"},
    "lift": {_.FR: "Lever", _.AR: "رفع", _.EN: "Lift"},
    "no_bans": {_.FR: "Aucune interdiction.", _.AR: "لا يوجد منع.", _.EN: "No bans."},
    "ban_on_right": {_.FR: "billet {id}", _.AR: "تذكرة {id}", _.EN: "ticket {id}"},
    "ban_on_holder": {
        _.FR: "personne (référence non gardée)",
        _.AR: "شخص (المرجع غير محفوظ)",
        _.EN: "person (reference not kept)",
    },
    # rights and imports
    "import_title": {
        _.FR: "Importer des billets",
        _.AR: "استيراد التذاكر",
        _.EN: "Import tickets",
    },
    "import_hint": {
        _.FR: "Un fichier CSV (virgule ou point-virgule, « CSV UTF-8 » d'Excel) ou JSON ; "
        "colonnes event, zones (séparées par |), holder, policy, kind, seat, display_name, "
        "rotating (true : code tournant). "
        "Tout ou rien : une seule ligne fausse et rien n'est importé.",
        _.AR: "ملف CSV (فاصلة أو فاصلة منقوطة، «CSV UTF-8» من Excel) أو JSON؛ الأعمدة event "
        "و zones (مفصولة بـ |) و holder و policy و kind و seat و display_name و rotating (true: "
        "رمز متغيّر). الكل أو لا شيء: "
        "سطر واحد خاطئ ولا يُستورد شيء.",
        _.EN: 'A CSV file (comma or semicolon, Excel\'s "CSV UTF-8") or JSON; columns event, '
        "zones (separated by |), holder, policy, kind, seat, display_name, rotating (true: a "
        "rotating code). All or nothing: one "
        "bad row and nothing is imported.",
    },
    "file": {_.FR: "Fichier", _.AR: "الملف", _.EN: "File"},
    "send": {_.FR: "Importer", _.AR: "استيراد", _.EN: "Import"},
    "job_title": {_.FR: "Import {job}", _.AR: "الاستيراد {job}", _.EN: "Import {job}"},
    "job_queued": {_.FR: "En attente…", _.AR: "في الانتظار…", _.EN: "Waiting…"},
    "job_validating": {
        _.FR: "Vérification des lignes…",
        _.AR: "التحقق من الأسطر…",
        _.EN: "Checking the rows…",
    },
    "job_writing": {_.FR: "Écriture…", _.AR: "الكتابة…", _.EN: "Writing…"},
    "job_done": {
        _.FR: "Terminé : {n} billets importés.",
        _.AR: "انتهى: استُورد {n} تذكرة.",
        _.EN: "Done: {n} tickets imported.",
    },
    "job_refused": {
        _.FR: "Refusé : {n} lignes fausses, rien n'est importé. Corrigez-les dans le tableur et "
        "importez le fichier à nouveau.",
        _.AR: "مرفوض: {n} سطرا خاطئا، لم يُستورد شيء. صحّحها في جدول البيانات ثم استورد الملف "
        "من جديد.",
        _.EN: "Refused: {n} bad rows, nothing imported. Fix them in the spreadsheet and import "
        "the file again.",
    },
    "job_failed": {
        _.FR: "Échec : {why}",
        _.AR: "فشل: {why}",
        _.EN: "Failed: {why}",
    },
    "row": {_.FR: "Ligne", _.AR: "السطر", _.EN: "Row"},
    "problem": {_.FR: "Problème", _.AR: "المشكلة", _.EN: "Problem"},
    "find_rights": {
        _.FR: "Billets d'une personne",
        _.AR: "تذاكر شخص",
        _.EN: "A person's tickets",
    },
    "status": {_.FR: "État", _.AR: "الحالة", _.EN: "Status"},
    "revoke": {_.FR: "Annuler", _.AR: "إلغاء", _.EN: "Revoke"},
    "transfer": {_.FR: "Transférer", _.AR: "نقل", _.EN: "Transfer"},
    "new_holder": {
        _.FR: "Nouveau titulaire (référence)",
        _.AR: "الحامل الجديد (المرجع)",
        _.EN: "New holder (reference)",
    },
    "transferred": {
        _.FR: "Transféré : l'ancien billet est annulé, le nouveau est {id}.",
        _.AR: "تم النقل: أُلغيت التذكرة القديمة، والجديدة هي {id}.",
        _.EN: "Transferred: the old ticket is revoked, the new one is {id}.",
    },
    "keys": {_.FR: "Clés", _.AR: "المفاتيح", _.EN: "Keys"},
    "venues": {_.FR: "Lieux", _.AR: "الأماكن", _.EN: "Venues"},
    "accounts": {_.FR: "Comptes", _.AR: "الحسابات", _.EN: "Accounts"},
    "new_account": {_.FR: "Nouveau compte", _.AR: "حساب جديد", _.EN: "New account"},
    "role": {_.FR: "Rôle", _.AR: "الدور", _.EN: "Role"},
    "its_venues": {
        _.FR: "Ses lieux (administrateur de lieu)",
        _.AR: "أماكنه (مسؤول مكان)",
        _.EN: "Its venues (venue admin)",
    },
    "account_token": {
        _.FR: "Compte {user} créé. Son jeton d'API, affiché une seule fois : {token}",
        _.AR: "أُنشئ الحساب {user}. رمزه للواجهة البرمجية، يُعرض مرة واحدة: {token}",
        _.EN: "Account {user} made. Its API token, shown only now: {token}",
    },
    "has_password": {_.FR: "Mot de passe", _.AR: "كلمة مرور", _.EN: "Password"},
    "new_venue": {_.FR: "Nouveau lieu", _.AR: "مكان جديد", _.EN: "New venue"},
    "timezone": {_.FR: "Fuseau horaire", _.AR: "المنطقة الزمنية", _.EN: "Time zone"},
    "set_timezone": {_.FR: "Changer", _.AR: "تغيير", _.EN: "Change"},
    "parent": {_.FR: "Dans", _.AR: "ضمن", _.EN: "Inside"},
    "zone_put": {
        _.FR: "Ajouter ou modifier une zone",
        _.AR: "إضافة منطقة أو تعديلها",
        _.EN: "Add or change a zone",
    },
    "save": {_.FR: "Enregistrer", _.AR: "حفظ", _.EN: "Save"},
    "gate": {_.FR: "Porte", _.AR: "البوابة", _.EN: "Gate"},
    "key_of": {_.FR: "Clé de", _.AR: "مفتاح", _.EN: "Key of"},
    "key_platform": {
        _.FR: "la plateforme (toutes les portes)",
        _.AR: "المنصة (كل البوابات)",
        _.EN: "the platform (every gate)",
    },
    "kiosk_pin": {_.FR: "PIN de borne", _.AR: "الرمز السري للبوابة", _.EN: "Kiosk PIN"},
    "kiosk_pin_again": {_.FR: "PIN, encore", _.AR: "الرمز السري مرة أخرى", _.EN: "PIN, again"},
    "kiosk_pin_set": {_.FR: "Donner", _.AR: "تعيين", _.EN: "Set"},
    "kiosk_pin_change": {_.FR: "Changer", _.AR: "تغيير", _.EN: "Change"},
    "kiosk_pin_clear": {_.FR: "Retirer le PIN", _.AR: "إزالة الرمز", _.EN: "Take the PIN away"},
    "kiosk_pin_help": {
        _.FR: "Le PIN de borne personnel (4 à 12 chiffres) ouvre le panneau superviseur des "
        "portes des lieux du compte ; une ouverture manuelle y est enregistrée à son nom. Les "
        "portes le reçoivent (haché) à leur prochaine synchronisation.",
        _.AR: "الرمز السري الشخصي (من 4 إلى 12 رقمًا) يفتح لوحة المشرف في بوابات أماكن الحساب، "
        "ويُسجَّل الفتح اليدوي باسمه. تتلقاه البوابات (مُجزّأً) عند مزامنتها التالية.",
        _.EN: "A personal kiosk PIN (4 to 12 digits) opens the supervisor panel at the gates of "
        "the account's venues; a manual opening there is recorded under its name. The gates "
        "receive it (hashed) at their next sync.",
    },
    "pins_differ": {
        _.FR: "Les deux PIN diffèrent.",
        _.AR: "الرمزان مختلفان.",
        _.EN: "The two PINs differ.",
    },
    "layouts": {_.FR: "Configurations", _.AR: "المخططات", _.EN: "Layouts"},
    "layout": {_.FR: "Configuration", _.AR: "المخطط", _.EN: "Layout"},
    "layout_title": {
        _.FR: "Configuration {layout}",
        _.AR: "المخطط {layout}",
        _.EN: "Layout {layout}",
    },
    "layout_default": {_.FR: "par défaut", _.AR: "افتراضي", _.EN: "default"},
    "layout_venue_default": {
        _.FR: "— celle du lieu par défaut —",
        _.AR: "— المخطط الافتراضي للمكان —",
        _.EN: "— the venue's default —",
    },
    "new_layout": {
        _.FR: "Nouvelle configuration de {venue}",
        _.AR: "مخطط جديد لـ {venue}",
        _.EN: "New layout of {venue}",
    },
    "copy_from": {_.FR: "Copier depuis", _.AR: "نسخ من", _.EN: "Copy from"},
    "access_points": {
        _.FR: "Points d'accès : où mène chaque porte",
        _.AR: "نقاط الدخول: إلى أين تؤدي كل بوابة",
        _.EN: "Access points: where each gate leads",
    },
    "leads_into": {
        _.FR: "Mène vers (codes de zones, séparés par des virgules ; vide : nulle part)",
        _.AR: "تؤدي إلى (رموز المناطق مفصولة بفواصل؛ فارغ: لا مكان)",
        _.EN: "Leads into (zone codes, comma separated; empty: nowhere)",
    },
    "leads_nowhere": {_.FR: "nulle part", _.AR: "لا مكان", _.EN: "nowhere"},
    "events_held": {
        _.FR: "Événements dans cette configuration",
        _.AR: "الأحداث في هذا المخطط",
        _.EN: "Events in this layout",
    },
    "keys_hint": {
        _.FR: "La clé active signe les nouveaux billets ; les anciennes vérifient encore ceux "
        "qu'elles ont signés jusqu'à ce qu'on les retire (leurs billets sont alors refusés).",
        _.AR: "المفتاح النشط يوقّع التذاكر الجديدة؛ والقديمة تتحقق من تذاكرها حتى تُسحب (فتُرفض "
        "تذاكرها عندئذ).",
        _.EN: "The active key signs new tickets; older ones still verify what they signed until "
        "retired (their tickets are then refused).",
    },
    "rotate_key": {
        _.FR: "Nouvelle clé de signature",
        _.AR: "مفتاح توقيع جديد",
        _.EN: "New signing key",
    },
    "retire": {_.FR: "Retirer", _.AR: "سحب", _.EN: "Retire"},
    "key_active": {_.FR: "active", _.AR: "نشط", _.EN: "active"},
    "key_verify": {_.FR: "vérifie", _.AR: "للتحقق", _.EN: "verifies"},
    "key_retired": {_.FR: "retirée", _.AR: "مسحوب", _.EN: "retired"},
    "created": {_.FR: "Créée", _.AR: "أُنشئ", _.EN: "Created"},
    "ticket_pdf": {_.FR: "Billet (PDF)", _.AR: "التذكرة (PDF)", _.EN: "Ticket (PDF)"},
    "holder_link_made": {
        _.FR: "Lien du porteur créé : donnez-le à lui seul (il ne sera plus affiché). Le lien "
        "précédent de ce billet ne fonctionne plus.",
        _.AR: "أُنشئ رابط الحامل: أعطه له وحده (لن يُعرض مرة أخرى). الرابط السابق لهذه التذكرة "
        "لم يعد يعمل.",
        _.EN: "Holder's link made: give it to the holder only (it is not shown again). The "
        "ticket's previous link no longer works.",
    },
    "holder_link": {_.FR: "Lien du porteur", _.AR: "رابط الحامل", _.EN: "Holder's link"},
    "holder_link_end": {_.FR: "Désactiver le lien", _.AR: "تعطيل الرابط", _.EN: "Switch link off"},
    "wallet_export": {_.FR: "Google Wallet", _.AR: "Google Wallet", _.EN: "Google Wallet"},
    "rotating_badge": {_.FR: "code tournant", _.AR: "رمز متغيّر", _.EN: "rotating code"},
    "rotating_only": {
        _.FR: "Codes tournants seulement",
        _.AR: "رموز متغيّرة فقط",
        _.EN: "Rotating codes only",
    },
    "rotating_only_hint": {
        _.FR: "billets imprimés et captures refusés à la porte",
        _.AR: "التذاكر المطبوعة ولقطات الشاشة مرفوضة عند البوابة",
        _.EN: "printed tickets and screenshots refused at the gate",
    },
    "rotating_require": {_.FR: "Exiger", _.AR: "اشتراط", _.EN: "Require"},
    "rotating_lift": {_.FR: "Lever", _.AR: "رفع", _.EN: "Lift"},
    "holder_title": {_.FR: "Votre billet", _.AR: "تذكرتك", _.EN: "Your ticket"},
    "holder_hint": {
        _.FR: "Présentez cet écran à la porte. Le code change toutes les {period} s : une "
        "capture d'écran ne passe pas.",
        _.AR: "قدّم هذه الشاشة عند البوابة. يتغيّر الرمز كل {period} ث: لقطة الشاشة لا تمرّ.",
        _.EN: "Show this screen at the gate. The code changes every {period} s: a screenshot "
        "does not get in.",
    },
    "holder_bright": {
        _.FR: "Montez la luminosité de l'écran si le code passe mal.",
        _.AR: "ارفع سطوع الشاشة إذا تعذّرت قراءة الرمز.",
        _.EN: "Turn the screen's brightness up if the code reads badly.",
    },
    "holder_offline": {
        _.FR: "Hors ligne : le code continue de changer, il reste valable.",
        _.AR: "دون اتصال: يستمر الرمز في التغيّر ويبقى صالحًا.",
        _.EN: "Offline: the code keeps changing and stays valid.",
    },
    "holder_clock_ahead": {
        _.FR: "L'heure de ce téléphone avance de {by}. Le code suit l'heure du serveur ; "
        "réglez l'heure automatique.",
        _.AR: "ساعة هذا الهاتف متقدّمة بـ {by}. يتبع الرمز وقت الخادم؛ اضبط الوقت التلقائي.",
        _.EN: "This phone's clock is {by} ahead. The code follows the server's time; set the "
        "phone to automatic time.",
    },
    "holder_clock_behind": {
        _.FR: "L'heure de ce téléphone retarde de {by}. Le code suit l'heure du serveur ; "
        "réglez l'heure automatique.",
        _.AR: "ساعة هذا الهاتف متأخرة بـ {by}. يتبع الرمز وقت الخادم؛ اضبط الوقت التلقائي.",
        _.EN: "This phone's clock is {by} behind. The code follows the server's time; set the "
        "phone to automatic time.",
    },
    "holder_dead": {
        _.FR: "Ce lien ne montre plus de billet.",
        _.AR: "لم يعد هذا الرابط يعرض أي تذكرة.",
        _.EN: "This link no longer shows a ticket.",
    },
    "holder_dead_transferred": {
        _.FR: "Le billet a été transféré : son nouveau titulaire a reçu son propre lien.",
        _.AR: "نُقلت التذكرة: تلقّى حاملها الجديد رابطه الخاص.",
        _.EN: "The ticket was transferred: its new holder has been given a link of their own.",
    },
    "holder_dead_revoked": {
        _.FR: "Le billet a été annulé. Contactez l'organisateur.",
        _.AR: "أُلغيت التذكرة. اتصل بالمنظّم.",
        _.EN: "The ticket was cancelled. Contact the organiser.",
    },
    "holder_dead_replaced": {
        _.FR: "Un nouveau lien a été envoyé pour ce billet : ouvrez celui-là.",
        _.AR: "أُرسل رابط جديد لهذه التذكرة: افتحه.",
        _.EN: "A new link was sent for this ticket: open that one.",
    },
    "holder_dead_link": {
        _.FR: "Ce lien a été désactivé. Demandez-en un nouveau à l'organisateur.",
        _.AR: "عُطّل هذا الرابط. اطلب رابطًا جديدًا من المنظّم.",
        _.EN: "This link was switched off. Ask the organiser for a new one.",
    },
    "holder_needs_https": {
        _.FR: "Ce navigateur ne calcule le code que sur une page sécurisée (https://) : ouvrez "
        "le lien reçu tel quel.",
        _.AR: "لا يحسب هذا المتصفح الرمز إلا في صفحة آمنة (https://): افتح الرابط كما وصلك.",
        _.EN: "This browser makes the code only on a secure page (https://): open the link "
        "exactly as you received it.",
    },
    "holder_unknown": {
        _.FR: "Ce lien n'existe pas. Vérifiez qu'il est complet.",
        _.AR: "هذا الرابط غير موجود. تحقّق من أنه كامل.",
        _.EN: "This link does not exist. Check that it is complete.",
    },
    "holder_not_ready": {
        _.FR: "Ce billet n'est pas encore prêt. Réessayez plus tard.",
        _.AR: "هذه التذكرة ليست جاهزة بعد. حاول لاحقًا.",
        _.EN: "This ticket is not ready yet. Try again later.",
    },
    "ticket_title": {_.FR: "Billet", _.AR: "تذكرة", _.EN: "Ticket"},
    "ticket_seat": {_.FR: "Place", _.AR: "المقعد", _.EN: "Seat"},
    "ticket_holder": {_.FR: "Titulaire", _.AR: "الحامل", _.EN: "Holder"},
    "ticket_hint": {
        _.FR: "Présentez ce code à la porte, sur un écran ou sur papier. Ne le partagez pas.",
        _.AR: "قدّم هذا الرمز عند البوابة، على الشاشة أو على الورق. لا تشاركه مع أحد.",
        _.EN: "Show this code at the gate, on a screen or on paper. Do not share it.",
    },
    "no_rights": {_.FR: "Aucun billet.", _.AR: "لا توجد تذاكر.", _.EN: "No tickets."},
    # audit
    "when": {_.FR: "Quand", _.AR: "متى", _.EN: "When"},
    "who": {_.FR: "Qui", _.AR: "من", _.EN: "Who"},
    "action": {_.FR: "Action", _.AR: "الإجراء", _.EN: "Action"},
    "target": {_.FR: "Objet", _.AR: "الهدف", _.EN: "Target"},
    "from_address": {_.FR: "Depuis", _.AR: "من العنوان", _.EN: "From"},
    "filter": {_.FR: "Filtrer", _.AR: "تصفية", _.EN: "Filter"},
}
"""The control room's pages."""


def text(key: str, language: Language | str = DEFAULT_LANGUAGE, **values: object) -> str:
    return pick(TEXTS, key, language, **values)


def severity_word(severity: int, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """``critique``, ``حرج``, ``critical``; a severity from a newer server as its number."""
    words = SEVERITIES.get(severity)
    return str(severity) if words is None else words[Language(language)]


def alert_title(kind: str, language: Language | str = DEFAULT_LANGUAGE) -> str:
    """An alert kind's title; a kind from a newer server as it is."""
    words = ALERTS.get(kind)
    return kind if words is None else words[Language(language)]


def alert_sentence(
    kind: str, facts: Mapping[str, object] | None, language: Language | str
) -> str | None:
    """The alert's sentence in ``language`` from its facts; None when they do not fit (an alert
    raised before facts were kept, or by a newer server): show its stored message instead."""
    words = ALERT_MESSAGES.get(kind)
    if words is None or facts is None:
        return None
    try:
        return words[Language(language)].format(**facts)
    except (KeyError, IndexError, ValueError):
        return None
