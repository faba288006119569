"""Detectors for personal data and secrets in text, and how each kind of value is redacted.

Personal data: emails, phone numbers (`phonenumbers`), national identifiers with checksums
(`python-stdnum`), payment card numbers (Luhn) and IBANs (mod-97). Secrets: the formats of
`detect-secrets`' regex plugins (AWS keys, private keys, GitHub, Slack, Stripe... tokens) and
high-entropy tokens. A detector returns (kind, raw value); only `redact` output leaves here.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

PERSONAL: Final = "personal_data"
SECRET: Final = "secret"  # noqa: S105 - a category name


@dataclass(frozen=True, slots=True)
class Hit:
    """One value found: its category, kind (email, card_number...) and the raw value."""

    category: str
    kind: str
    value: str


_EMAIL: Final = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
)
_CARD: Final = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN: Final = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
# Spans that could hold a card, IBAN, phone number or national id: the specific patterns and
# validators then run on these short spans only, not on the whole text.
# A pattern that starts with a digit lets the regex engine skip other characters fast; letters,
# "+" and "(" just before the digits (IBAN country, codice fiscale, phone prefix) are added back.
_CANDIDATE: Final = re.compile(r"\d[\d ().\-/A-Z]{5,40}[\dA-Z]")
_PREFIX_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ+( ")
_DIGIT_COUNT: Final = re.compile(r"\d")
_PHONE_SHAPE: Final = re.compile(r"^\+|\(\d{2,4}\)|\d{2,4}[ .-]\d{2,4}[ .-]\d{2,4}")
_DATE: Final = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_ENTROPY_TOKEN: Final = re.compile(r"[A-Za-z0-9+/_=-]{24,512}")

# (kind, candidate pattern, stdnum module path) for national identifiers with a checksum or
# strict structure; candidates are validated by python-stdnum before they count.
_NATIONAL_IDS: Final[tuple[tuple[str, re.Pattern[str], str], ...]] = (
    ("us_ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "stdnum.us.ssn"),
    ("es_dni", re.compile(r"\b\d{8}-?[A-Z]\b"), "stdnum.es.dni"),
    (
        "it_codice_fiscale",
        re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b"),
        "stdnum.it.codicefiscale",
    ),
    ("fr_nir", re.compile(r"\b[12] ?\d{2} ?\d{2} ?\d{2} ?\d{3} ?\d{3} ?\d{2}\b"), "stdnum.fr.nir"),
    ("se_personnummer", re.compile(r"\b\d{6}[-+]\d{4}\b"), "stdnum.se.personnummer"),
    ("in_aadhaar", re.compile(r"\b[2-9]\d{3} \d{4} \d{4}\b"), "stdnum.in_.aadhaar"),
)


# Fewest digits each national identifier holds, to skip patterns that cannot match.
_ID_DIGITS: Final = {"us_ssn": 9, "es_dni": 8, "it_codice_fiscale": 7, "fr_nir": 15,
                     "se_personnummer": 10, "in_aadhaar": 12}  # fmt: skip


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum payment card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def shannon_entropy(text: str) -> float:
    """Bits per character."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values()) if n else 0.0


def _stdnum(module: str) -> Callable[[str], bool] | None:
    import importlib

    try:
        return getattr(importlib.import_module(module), "is_valid", None)
    except ImportError:
        return None


class Detector:
    """All detectors, compiled once; `scan(text)` yields hits for one string."""

    def __init__(self, *, region: str = "US", entropy_threshold: float = 4.3) -> None:
        self.region = region
        self.entropy_threshold = entropy_threshold
        self.ids = [(k, p, v) for k, p, m in _NATIONAL_IDS if (v := _stdnum(m)) is not None]
        self.iban_ok = _stdnum("stdnum.iban")
        self.secret_plugins = _secret_plugins()
        self.all_hints = frozenset(h for _, hints, _ in self.secret_plugins for h in hints)
        try:
            import phonenumbers
        except ImportError:
            self.phonenumbers: Any = None
        else:
            self.phonenumbers = phonenumbers

    def scan(self, text: str) -> Iterator[Hit]:
        """Every personal datum and secret in one string."""
        if "@" in text:
            for m in _EMAIL.finditer(text):
                yield Hit(PERSONAL, "email", m.group())
        words = text.split()
        longest = max(map(len, words)) if words else 0
        # Cards, IBANs, phones and ids all hold six digits or more; counting is cheap.
        digits = sum(map(text.count, "0123456789")) >= 6
        for m in _CANDIDATE.finditer(text) if digits else ():
            lo = start = m.start()
            while lo > 0 and start - lo < 8 and text[lo - 1] in _PREFIX_CHARS:
                lo -= 1
            span = text[lo : m.end()].strip()
            if len(_DIGIT_COUNT.findall(span)) >= 6:
                yield from self._numbers(span)
        named: list[str] = []
        # Every supported secret format but a PEM header is one token of 16 characters or more.
        if longest >= 16:
            present = {h for h in self.all_hints if h in text}
        elif "PRIVATE" in text or "PuTTY" in text:
            present = {"PRIVATE", "PuTTY"}
        else:
            present = set()
        for kind, hints, regs in self.secret_plugins if present or longest >= 16 else ():
            if (longest < 16 and kind != "private_key") or (hints and present.isdisjoint(hints)):
                continue
            for r in regs:
                for m in r.finditer(text):
                    named.append(m.group())
                    yield Hit(SECRET, kind, m.group())
        if longest < 24:  # no run long enough for a token
            return
        for m in _ENTROPY_TOKEN.finditer(text):
            tok = m.group()
            if any(tok in n or n in tok for n in named):
                continue  # already reported under its format
            if (
                any(c.isupper() for c in tok)
                and any(c.islower() for c in tok)
                and any(c.isdigit() for c in tok)
                and shannon_entropy(tok) >= self.entropy_threshold
            ):
                yield Hit(SECRET, "high_entropy_token", tok)

    def _numbers(self, text: str) -> Iterator[Hit]:
        if _DATE.fullmatch(text):
            return
        n_digits = sum(map(text.count, "0123456789"))
        cards: set[str] = set()
        for m in _CARD.finditer(text) if n_digits >= 13 else ():
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits):
                cards.add(m.group())
                yield Hit(PERSONAL, "card_number", m.group())
        if self.iban_ok is not None and n_digits >= 8:
            for m in _IBAN.finditer(text):
                # The pattern can run on into a following number: try shorter groupings too.
                parts = m.group().split(" ")
                for end in range(len(parts), 0, -1):
                    cand = " ".join(parts[:end])
                    if len(cand.replace(" ", "")) >= 15 and self.iban_ok(cand):
                        yield Hit(PERSONAL, "iban", cand)
                        break
        for kind, pattern, valid in self.ids:
            if n_digits < _ID_DIGITS[kind]:
                continue
            for m in pattern.finditer(text):
                if valid(m.group()):
                    yield Hit(PERSONAL, kind, m.group())
        # phonenumbers is slow: ask it only about spans written like phone numbers.
        if self.phonenumbers is not None and n_digits >= 7 and _PHONE_SHAPE.search(text):
            pn = self.phonenumbers
            for match in pn.PhoneNumberMatcher(text, self.region, leniency=pn.Leniency.VALID):
                raw = match.raw_string
                if raw in cards or re.sub(r"\D", "", raw) in {re.sub(r"\D", "", c) for c in cards}:
                    continue
                yield Hit(PERSONAL, "phone_number", raw)


# Literals one of which every match of a plugin contains: a substring test is far cheaper than
# the plugin's regexes, which then run only on strings that can match.
_HINTS: Final[dict[str, tuple[str, ...]]] = {
    "PrivateKeyDetector": ("PRIVATE", "PuTTY"),
    "SlackDetector": ("xox", "hooks.slack.com"),
    "JwtTokenDetector": ("eyJ",),
    "MailchimpDetector": ("-us",),
    "TelegramBotTokenDetector": (":",),
    "PypiTokenDetector": ("pypi-",),
    "GitHubTokenDetector": ("_",),
    "GitLabTokenDetector": ("gl", "GR1348941"),
    "StripeDetector": ("_live_",),
    "OpenAIDetector": ("sk-",),
    "SquareOAuthDetector": ("sq0csp",),
    "SendGridDetector": ("SG.",),
    "NpmDetector": ("_authToken",),
    "AzureStorageKeyDetector": ("AccountKey",),
}


def _secret_plugins() -> list[tuple[str, tuple[str, ...], list[re.Pattern[str]]]]:
    try:
        from detect_secrets.plugins import (
            aws,
            azure_storage_key,
            discord,
            github_token,
            gitlab_token,
            jwt,
            mailchimp,
            npm,
            openai,
            private_key,
            pypi_token,
            sendgrid,
            slack,
            square_oauth,
            stripe,
            telegram_token,
            twilio,
        )
    except ImportError:  # the checks extra is not installed: entropy only
        return []
    classes: list[Any] = [
        aws.AWSKeyDetector,
        private_key.PrivateKeyDetector,
        github_token.GitHubTokenDetector,
        gitlab_token.GitLabTokenDetector,
        slack.SlackDetector,
        stripe.StripeDetector,
        openai.OpenAIDetector,
        jwt.JwtTokenDetector,
        twilio.TwilioKeyDetector,
        sendgrid.SendGridDetector,
        mailchimp.MailchimpDetector,
        discord.DiscordBotTokenDetector,
        azure_storage_key.AzureStorageKeyDetector,
        npm.NpmDetector,
        pypi_token.PypiTokenDetector,
        square_oauth.SquareOAuthDetector,
        telegram_token.TelegramBotTokenDetector,
    ]
    out = []
    for cls in classes:
        plugin = cls()
        kind = re.sub(r"[^a-z0-9]+", "_", str(plugin.secret_type).lower()).strip("_")
        out.append((kind, _HINTS.get(cls.__name__, ()), list(plugin.denylist)))
    return out


def redact(hit: Hit) -> str:
    """A shape of the value that identifies its kind but never the value itself."""
    v = hit.value
    if hit.kind == "email":
        tld = v.rsplit(".", 1)[-1]
        return f"***@***.{tld} ({len(v)} chars)"
    if hit.kind == "card_number":
        digits = re.sub(r"\D", "", v)
        return f"{'*' * (len(digits) - 4)}{digits[-4:]} ({len(digits)} digits, Luhn valid)"
    if hit.kind == "iban":
        compact = v.replace(" ", "")
        return f"{compact[:2]}{'*' * (len(compact) - 4)}{compact[-2:]} (IBAN, checksum valid)"
    if hit.kind == "phone_number":
        digits = re.sub(r"\D", "", v)
        return f"{'*' * max(0, len(digits) - 2)}{digits[-2:]} ({len(digits)} digits)"
    if hit.kind == "high_entropy_token":
        return f"<token of {len(v)} chars, {shannon_entropy(v):.1f} bits/char>"
    if "private_key" in hit.kind:
        return "-----BEGIN … PRIVATE KEY----- (key body not shown)"
    if hit.category == SECRET:
        # Four characters are the format prefix (AKIA, ghp_, xoxb, sk_l): the issuer only.
        shown = v[:4] if len(v) > 16 else ""
        return f"{shown}{'*' * 8} ({len(v)} chars)"
    return f"{'*' * max(0, len(v) - 2)}{v[-2:]} ({hit.kind}, checksum valid)"
