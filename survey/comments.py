"""Officers' own words: one optional open question per pulse, masked before it is stored.

The research asks agencies to close a feedback loop: "through discussions with officers, ask for
feedback and suggestions". A pulse may carry one open question, chosen from the prompts below.
What an officer writes is masked (e-mail addresses, phone numbers, web addresses, badge- and
case-like numbers, personal names) *before* it is stored, stored apart from the answer sheet with
nothing that joins the two, and shown only in the pulse's published result when at least the
agency's comment minimum of officers wrote one (see :func:`shown_comments`).
"""
from __future__ import annotations

import random
import re
from functools import lru_cache

import scrubadub
import scrubadub.detectors
import scrubadub.filth

#: The open questions an agency can choose from, in the project's own words, each grounded in
#: what the research says stops or helps referrals.
PROMPTS = {
    "quicker": "What would make a referral quicker for you than an arrest?",
    "treatment": "What would you need to know about treatment before you refer someone?",
    "after": "What would you want to hear about what happens after a referral?",
    "leadership": "What should leadership do next to support deflection?",
}

#: The most characters an officer can write.
MAX_LENGTH = 500

#: Themes leaders tag comments with (from the research); an agency may add its own.
THEMES = {
    "time": "Time and paperwork",
    "treatment": "Treatment availability",
    "after": "What happens after a referral",
    "leadership": "Leadership support",
    "training": "Training",
    "recognition": "Recognition",
    "discretion": "Discretion",
}

#: What the officer is told, beside the box.
NOTICE = ("Optional. Please do not name anyone. Before your words are stored, names, numbers, "
          "e-mail and web addresses are replaced by a mark, and they are kept apart from your "
          "answers, with nothing that links the two. Leaders read them only when at least "
          "{minimum} officers wrote one, in random order, never by unit or shift.")


class _NumberFilth(scrubadub.filth.Filth):
    type = "number"


class _NameFilth(scrubadub.filth.NameFilth):
    type = "name"


class NumberDetector(scrubadub.detectors.RegexDetector):
    """Badge-, case-, report- and plate-like numbers: any word with three or more digits that
    is not a year (1900-2099), such as 4471, #0932, 24-001234 or CR24-5678."""
    name = "number"
    filth_cls = _NumberFilth
    regex = re.compile(r"(?<![\w-])#?(?!(?:19|20)\d\d\b)[A-Za-z]{0,4}[-/]?(?:\d[-/]?){3,}"
                       r"[A-Za-z]{0,3}(?![\w-])")


_TITLES = r"(?:Officer|Ofc|Sgt|Sergeant|Lt|Lieutenant|Capt|Captain|Cpl|Corporal|Det|" \
          r"Detective|Deputy|Chief|Sheriff|Trooper|Mr|Mrs|Ms|Miss|Dr|Doctor)\.?"


@lru_cache(maxsize=1)
def _first_names() -> frozenset:
    """First names from gender-guesser's name dictionary (about 40,000, many countries)."""
    import gender_guesser.detector
    return frozenset(name.lower() for name in gender_guesser.detector.Detector().names)


class PersonalNameDetector(scrubadub.detectors.Detector):
    """Personal names, offline: a capitalised word after a title (Officer, Sgt., Mrs ...), and
    a capitalised word that is a known first name (gender-guesser's dictionary) together with
    a capitalised word right after it (a surname). A known first name alone is masked too,
    unless it begins a sentence, where "Will", "May" or "Grant" are more often words."""
    name = "personal_name"
    filth_cls = _NameFilth
    _titled = re.compile(_TITLES + r"\s+([A-Z][a-zA-Z'-]+)")
    _word = re.compile(r"[A-Z][a-z'-]+")

    def iter_filth(self, text, document_name=None):
        names = _first_names()
        for match in self._titled.finditer(text):
            yield self.filth_cls(match.start(1), match.end(1), match.group(1),
                                 detector_name=self.name, document_name=document_name)
        words = list(self._word.finditer(text))
        for i, word in enumerate(words):
            if word.group().lower().strip("'") not in names:
                continue
            before = text[:word.start()].rstrip()
            starts_sentence = not before or before[-1] in ".!?:;\"(\n"
            follower = words[i + 1] if i + 1 < len(words) else None
            with_surname = follower is not None and text[word.end():follower.start()] == " "
            if with_surname:
                yield self.filth_cls(word.start(), follower.end(), text[word.start():follower.end()],
                                     detector_name=self.name, document_name=document_name)
            elif not starts_sentence:
                yield self.filth_cls(word.start(), word.end(), word.group(),
                                     detector_name=self.name, document_name=document_name)


class _Url(scrubadub.filth.UrlFilth):
    type = "url"


class WebAddressDetector(scrubadub.detectors.RegexDetector):
    """Web addresses with or without a scheme (https://..., www...., name.org/path)."""
    name = "web_address"
    filth_cls = _Url
    regex = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)]"
                       r"|\b[a-z0-9-]+\.(?:org|com|net|gov|us|io|info)(?:/[^\s<>\"]*)?\b",
                       re.IGNORECASE)


@lru_cache(maxsize=1)
def _scrubber() -> scrubadub.Scrubber:
    scrubber = scrubadub.Scrubber(locale="en_US")
    for detector in (NumberDetector, PersonalNameDetector, WebAddressDetector):
        scrubber.add_detector(detector)
    return scrubber


#: What replaces each kind of personal detail.
MARKS = {"email": "[e-mail]", "phone": "[phone]", "url": "[web address]", "number": "[number]",
         "name": "[name]", "twitter": "[handle]", "credit_card": "[number]",
         "social_security_number": "[number]", "credential": "[credential]"}


def mask(text: str) -> str:
    """`text` with every personal detail the detectors find replaced by a mark ("[name]",
    "[phone]" ...); overlapping finds merge into one mark."""
    filth = sorted(_scrubber().iter_filth(text), key=lambda f: (f.beg, -f.end))
    out, at = [], 0
    for found in filth:
        if found.beg < at:  # inside one already masked
            continue
        kinds = [f.type for f in getattr(found, "filths", [found])]
        out += [text[at:found.beg], MARKS.get(kinds[0], "[removed]")]
        at = found.end
    out.append(text[at:])
    return "".join(out)


def clean_comment(raw: str | None) -> str | None:
    """What an officer wrote, as it is stored: whitespace tidied, cut to MAX_LENGTH, masked;
    None when there is nothing to keep."""
    text = re.sub(r"\s+", " ", (raw or "")).strip()[:MAX_LENGTH]
    return mask(text) if text else None


def shown_comments(texts: list[str], minimum: int, rng: random.Random | None = None
                   ) -> list[str]:
    """The comments a published result shows: all of them in random order when at least
    `minimum` officers wrote one, else none at all."""
    if len(texts) < minimum:
        return []
    texts = list(texts)
    (rng or random.SystemRandom()).shuffle(texts)
    return texts


#: An agency's own theme is kept as "own:" and its words (at most this many characters).
OWN_THEME_LENGTH = 40


def theme_label(theme: str) -> str:
    """A theme's words: the research's list, or the agency's own after "own:"."""
    return theme[4:] if theme.startswith("own:") else THEMES.get(theme, theme)


def checked_themes(chosen: list[str], own: str = "") -> list[str] | None:
    """The themes a leader ticked plus one in their own words, as stored; None when a ticked
    theme is not on the list (a forged form) or their own words are too long."""
    if any(theme not in THEMES for theme in chosen):
        return None
    own = re.sub(r"\s+", " ", own or "").strip()
    if len(own) > OWN_THEME_LENGTH:
        return None
    themes = list(dict.fromkeys(chosen))
    if own and own.lower() not in {THEMES[t].lower() for t in THEMES}:
        themes.append(f"own:{own}")
    return themes
