"""Short join codes officers type or scan: upper case, no look-alike characters."""
import re
import secrets

#: No 0/O, 1/I/L, 2/Z, 5/S, 8/B: none can be misread as another.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(raw: str) -> str:
    """Forgiving of case, spaces and dashes: ' abc-def ' -> 'ABCDEF'."""
    return re.sub(r"[\s\-]+", "", raw or "").upper()


def is_well_formed(code: str) -> bool:
    return len(code) == LENGTH and all(c in ALPHABET for c in code)


def display(code: str) -> str:
    """Grouped for reading aloud: 'ABC DEF'."""
    return f"{code[:3]} {code[3:]}"
