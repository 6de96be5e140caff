"""Staff accounts without a mail server: one-time links, the password rule, roles.

An administrator creates an account and hands its owner a one-time, expiring link; the owner
sets a password on it. A forgotten password gets the same kind of link. Only a hash of a link's
token is stored, so neither a database dump nor the audit log holds a working link.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from .extensions import db
from .models import AccountLink, Agency, LinkPurpose, Role, StaffUser, utcnow
from .services import audit

#: Hours a link works for: an invitation may wait for a shift change; a reset should not.
LINK_HOURS = {LinkPurpose.INVITE: 72, LinkPurpose.RESET: 24}
MIN_PASSWORD_LENGTH = 12


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of leaked lists (shipped with zxcvbn)."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, user: StaffUser | None = None) -> str | None:
    """Why a new password is refused, in words; None when it is acceptable.

    Length over composition rules, and no common or personal passwords (NIST SP 800-63B, 5.1.1).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return (f"Use at least {MIN_PASSWORD_LENGTH} characters; a short sentence is easy to "
                "remember.")
    folded = password.lower()
    if folded in common_passwords() or folded.rstrip("0123456789!") in common_passwords():
        return "That password is on lists of common passwords that attackers try first."
    if len(set(folded)) < 4:
        return "That password repeats too few characters."
    if user is not None:
        personal = [user.email.split("@")[0].lower(), *user.name.lower().split()]
        if any(len(part) >= 4 and part in folded for part in personal):
            return "Do not use your name or e-mail address in your password."
    return None


@cache
def _dummy_hash() -> str:
    """A hash of a random password, in the same scheme as real ones, checked when there is no
    real one to check: an unknown e-mail costs the same work as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> tuple[StaffUser | None, bool]:
    """The account with this e-mail (if any), and whether it is active and the password is
    its own. The same hashing work is done whether or not the account exists, has a password
    or is switched on."""
    dummy = _dummy_hash()  # made on the process's first sign-in, whoever signs in
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
    if user is None or not user.password_hash:
        check_password_hash(dummy, password)
        return user, False
    return user, user.check_password(password) and user.active


def end_sessions(user: StaffUser, by: StaffUser | None, reason: str) -> None:
    """End every session of the account, on every device (committed with the audit entry)."""
    user.end_sessions()
    audit(user.agency_id, by, "account.sessions_ended", user.email, reason=reason)
    db.session.commit()


def create_staff_user(agency: Agency, *, email: str, name: str, role: Role | str,
                      password: str, platform_admin: bool = False) -> StaffUser:
    """An account with a password (the command line and demo data; staff use invitations)."""
    email = email.strip().lower()
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise ValueError(f"an account for {email} already exists")
    user = StaffUser(agency=agency, email=email, name=name.strip(), role=Role(role),
                     platform_admin=platform_admin)
    problem = password_problem(password, user)
    if problem:
        raise ValueError(problem)
    if platform_admin and user.role is not Role.ADMIN:
        raise ValueError("a platform administrator must have the admin role")
    user.set_password(password)
    db.session.add(user)
    audit(agency.id, None, "account.create", email, role=user.role.value,
          platform_admin=platform_admin)
    db.session.commit()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(user: StaffUser, purpose: LinkPurpose, by: StaffUser | None,
               now: dt.datetime | None = None) -> str:
    """A new one-time link token for `user`; earlier unused links of the user stop working."""
    now = now or utcnow()
    db.session.execute(sa.update(AccountLink).where(
        AccountLink.staff_user_id == user.id, AccountLink.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    db.session.add(AccountLink(staff_user_id=user.id, purpose=purpose, token_hash=_digest(token),
                               expires_at=now + dt.timedelta(hours=LINK_HOURS[purpose])))
    audit(user.agency_id, by, f"account.{purpose.value}_link", user.email)
    db.session.commit()
    return token


def find_link(token: str, now: dt.datetime | None = None) -> AccountLink | None:
    """The link a token opens, if it is unused, unexpired and its account active."""
    link = db.session.scalar(sa.select(AccountLink).where(
        AccountLink.token_hash == _digest(token[:100])))
    now = now or utcnow()
    if link is None or link.used_at is not None or link.expires_at <= now \
            or not link.staff_user.active:
        return None
    return link


def use_link(link: AccountLink, password: str) -> StaffUser:
    """Set the account's password and spend the link (it works once)."""
    problem = password_problem(password, link.staff_user)
    if problem:
        raise ValueError(problem)
    user = link.staff_user
    user.set_password(password)
    user.end_sessions()  # a session opened with the old password ends with it
    link.used_at = utcnow()
    audit(user.agency_id, user, "account.password_set", user.email, purpose=link.purpose.value)
    db.session.commit()
    return user


def invite_staff(agency: Agency, *, email: str, name: str, role: Role,
                 by: StaffUser | None) -> tuple[StaffUser, str]:
    """A new account without a password, and the invitation token its owner opens."""
    email = email.strip().lower()
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise ValueError(f"An account for {email} already exists.")
    user = StaffUser(agency=agency, email=email, name=name.strip(), role=Role(role),
                     password_hash="")
    db.session.add(user)
    db.session.flush()
    audit(agency.id, by, "account.create", email, role=user.role.value)
    return user, issue_link(user, LinkPurpose.INVITE, by)


def change_staff(user: StaffUser, *, role: Role, active: bool, by: StaffUser) -> None:
    """Change an account's role or switch it off; an administrator cannot lock themselves out,
    and an agency always keeps at least one active administrator."""
    role = Role(role)
    if user.id == by.id and (role is not Role.ADMIN or not active):
        raise ValueError("You cannot remove your own administrator access; ask another "
                         "administrator.")
    before = {"role": user.role.value, "active": user.active}
    user.role, user.active = role, active
    others = db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser).where(
        StaffUser.agency_id == user.agency_id, StaffUser.role == Role.ADMIN,
        StaffUser.active.is_(True)))
    if others == 0:
        db.session.rollback()
        raise ValueError("The agency needs at least one active administrator.")
    after = {"role": role.value, "active": active}
    if before != after:
        user.end_sessions()  # a changed role or a switched-off account signs in afresh
        audit(user.agency_id, by, "account.change", user.email, before=before, after=after)
    db.session.commit()


def create_agency(name: str, *, timezone: str, admin_email: str, admin_name: str,
                  by: StaffUser) -> tuple[Agency, str]:
    """A new agency (platform administrators only) with its first administrator's invitation."""
    name = name.strip()
    if db.session.scalar(sa.select(Agency.id).where(Agency.name == name)):
        raise ValueError(f"An agency called {name} already exists.")
    agency = Agency(name=name, timezone=timezone)
    db.session.add(agency)
    db.session.flush()
    audit(by.agency_id, by, "agency.create", name, new_agency_id=agency.id)
    _, token = invite_staff(agency, email=admin_email, name=admin_name, role=Role.ADMIN, by=by)
    return agency, token
