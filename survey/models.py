"""The data model, in the field's words.

Respondent tables (`response`, `answer`) hold no person, device or time of day: a response has a
random identifier, its wave, its submission *date* and, when the officer gave one, the keyed hashes
of their self-generated linkage code. On SQLite both tables are stored without a rowid, so their
physical order follows the random key and not the order in which officers submitted.
"""
from __future__ import annotations

import datetime as dt
import enum
import secrets
import uuid
from typing import Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every engine (SQLite returns naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: pass a timezone-aware value")
            value = value.astimezone(dt.timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class Role(enum.StrEnum):
    ADMIN = "admin"
    TRAINER = "trainer"
    LEADER = "leader"


class WaveKind(enum.StrEnum):
    PRE = "pre"
    POST = "post"
    FOLLOWUP = "followup"
    PULSE = "pulse"


class StepStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Cadence(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class LinkPurpose(enum.StrEnum):
    INVITE = "invite"
    RESET = "reset"


class WaveStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, length=16, create_constraint=True,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)


class Agency(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    #: No figure for a group smaller than this is shown, charted or exported.
    min_group_size: Mapped[int] = mapped_column(sa.SmallInteger, default=5)
    min_comment_group_size: Mapped[int] = mapped_column(sa.SmallInteger, default=10)
    ask_linkage: Mapped[bool] = mapped_column(default=True)
    #: Shifts officers may pick on a pulse (optional); units come from the unit table.
    shifts: Mapped[list] = mapped_column(sa.JSON, default=lambda: ["Days", "Evenings", "Nights"])
    pulse_cadence: Mapped[Cadence] = mapped_column(_enum(Cadence, "cadence"),
                                                   default=Cadence.QUARTERLY)
    #: Sworn strength, for participation rates when a pulse gives none of its own.
    headcount: Mapped[Optional[int]]
    #: Months a response is kept before `flask purge` deletes it; NULL keeps responses.
    retention_months: Mapped[Optional[int]] = mapped_column(sa.SmallInteger)
    #: Publish interim snapshots of an open pulse (each covering at least k new answer sheets,
    #: at most one a day); off: a pulse's figures appear only when it closes.
    interim_results: Mapped[bool] = mapped_column(default=False)
    #: The open question new pulses ask (a code of `survey.comments.PROMPTS`), or none.
    comment_prompt: Mapped[Optional[str]] = mapped_column(sa.String(20))
    #: Random part of the officers' results page address.
    results_token: Mapped[str] = mapped_column(sa.String(32), unique=True,
                                               default=lambda: secrets.token_urlsafe(16))
    #: Per-agency salt of the linkage hashes; the key itself (LINKAGE_SECRET) is not stored.
    linkage_salt: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(16))
    #: May a trainer read the reports of classes they do not teach? (Editing, closing, deleting
    #: and exporting response-level data stay with the class's own trainers and administrators.)
    trainers_read_all_reports: Mapped[bool] = mapped_column(default=True,
                                                            server_default=sa.true())
    #: The network profile (see `survey.network`): agency type, state (postal code), who leads
    #: the deflection program; the size band comes from `headcount`.
    kind: Mapped[Optional[str]] = mapped_column(sa.String(20))
    state: Mapped[Optional[str]] = mapped_column(sa.String(2))
    program_model: Mapped[Optional[str]] = mapped_column(sa.String(20))
    #: Has the administrator opted in to the network's benchmarks? Off: nothing of the agency
    #: leaves it, and it sees no benchmark.
    benchmark_opt_in: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Every comparison group the agency's benchmark has shown (member agency ids), and the
    #: last one's label: never shown, kept across opt-outs and purges so that no later group
    #: can be subtracted from an earlier one (see `survey.network.agency_benchmark`).
    benchmark_groups: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(back_populates="agency", order_by="Unit.name")
    staff: Mapped[list[StaffUser]] = relationship(back_populates="agency")
    cohorts: Mapped[list[Cohort]] = relationship(back_populates="agency")

    __table_args__ = (
        sa.CheckConstraint("min_group_size >= 3", name="min_group_size_floor"),
        sa.CheckConstraint("min_comment_group_size >= min_group_size", name="min_comment_size"),
        sa.CheckConstraint("retention_months IS NULL OR retention_months >= 1",
                           name="retention_positive"),
    )


class Unit(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))

    agency: Mapped[Agency] = relationship(back_populates="units")

    __table_args__ = (sa.UniqueConstraint("agency_id", "name"),)


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    #: Empty until the account's owner sets a password through an invitation link.
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: May create agencies (the hosting organisation's administrators); role must be admin.
    platform_admin: Mapped[bool] = mapped_column(default=False)
    #: Part of every session's user id (`get_id`): raising it ends every session of the account
    #: at once (sign-out, a new password, a role change, switching the account off).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="staff")

    def get_id(self) -> str:
        """The id a session keeps: the account's id and its session version (Flask-Login's
        "alternative token"), so a session made before the version changed loads no user."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Every session of this account stops working at its next request."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active


class Construct(db.Model):
    """A scale: the items that together measure one construct."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text)
    #: What a high scale score means, in plain words ("more stigma").
    higher_means: Mapped[str] = mapped_column(sa.String(200))
    #: The neutral heading officers see above this construct's items.
    officer_heading: Mapped[str] = mapped_column(sa.String(120))
    #: Which way the program hopes scores move: "higher" or "lower" (stigma: lower).
    favourable: Mapped[str] = mapped_column(sa.String(6), default="higher")

    items: Mapped[list[Item]] = relationship(back_populates="construct", order_by="Item.code")


class Item(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: Set for an agency's own local items; NULL for the item bank's.
    agency_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    construct_id: Mapped[int] = mapped_column(sa.ForeignKey("construct.id"), index=True)
    text: Mapped[str] = mapped_column(sa.String(400))
    reverse_keyed: Mapped[bool]
    scale_code: Mapped[str] = mapped_column(sa.String(40))
    scale_min: Mapped[int] = mapped_column(sa.SmallInteger)
    scale_max: Mapped[int] = mapped_column(sa.SmallInteger)
    #: The seed deck and bullet the item operationalises.
    seed: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(400))

    construct: Mapped[Construct] = relationship(back_populates="items")

    __table_args__ = (sa.CheckConstraint("scale_min < scale_max", name="scale_range"),)


class Instrument(db.Model):
    """A published, immutable survey: an ordered list of items. Changes publish a new version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: NULL for the platform's standard instruments built from the item bank.
    agency_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    bank_version: Mapped[str] = mapped_column(sa.String(20))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[InstrumentItem]] = relationship(
        back_populates="instrument", order_by="InstrumentItem.position")

    __table_args__ = (sa.UniqueConstraint("agency_id", "key", "version"),)


class InstrumentItem(db.Model):
    __tablename__ = "instrument_item"

    instrument_id: Mapped[int] = mapped_column(sa.ForeignKey("instrument.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(sa.SmallInteger)

    instrument: Mapped[Instrument] = relationship(back_populates="entries")
    item: Mapped[Item] = relationship()


cohort_trainer = sa.Table(
    "cohort_trainer", db.metadata,
    sa.Column("cohort_id", sa.ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("staff_user_id", sa.ForeignKey("staff_user.id", ondelete="CASCADE"),
              primary_key=True, index=True),
)
"""Co-trainers of a class: they manage it as its trainer does."""


class Cohort(db.Model):
    """A training class."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    held_on: Mapped[dt.date]
    trainer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    unit_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="cohorts")
    trainer: Mapped[Optional[StaffUser]] = relationship()
    co_trainers: Mapped[list[StaffUser]] = relationship(secondary=cohort_trainer,
                                                        order_by="StaffUser.name")
    unit: Mapped[Optional[Unit]] = relationship()
    topics: Mapped[list[CohortTopic]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", order_by="CohortTopic.topic")
    waves: Mapped[list[Wave]] = relationship(back_populates="cohort", order_by="Wave.id")

    @property
    def topic_codes(self) -> list[str]:
        return [t.topic for t in self.topics]


class CohortTopic(db.Model):
    """A curriculum topic a cohort's training covered (codes from the curriculum file)."""

    __tablename__ = "cohort_topic"

    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(40), primary_key=True)

    cohort: Mapped[Cohort] = relationship(back_populates="topics")


class Wave(db.Model):
    """One administration of a survey: a cohort's pre, post or follow-up, or an agency pulse."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    cohort_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("cohort.id"), index=True)
    kind: Mapped[WaveKind] = mapped_column(_enum(WaveKind, "wave_kind"))
    #: Days after the training, for follow-ups.
    followup_days: Mapped[Optional[int]] = mapped_column(sa.SmallInteger)
    instrument_id: Mapped[int] = mapped_column(sa.ForeignKey("instrument.id"), index=True)
    join_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    opens_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    closes_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    #: Officers invited to a pulse, for its participation rate.
    headcount: Mapped[Optional[int]]
    #: When the wave stopped taking answers for good (its close plus the grace period, or a
    #: publish run after it): from then on its answers are fixed and its results published.
    sealed_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    #: The open question this pulse asks, fixed when it was started, or none.
    comment_prompt: Mapped[Optional[str]] = mapped_column(sa.String(20))

    agency: Mapped[Agency] = relationship()
    cohort: Mapped[Optional[Cohort]] = relationship(back_populates="waves")
    instrument: Mapped[Instrument] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(kind = 'pulse') = (cohort_id IS NULL)", name="pulse_has_no_cohort"),
        sa.CheckConstraint("(kind = 'followup') = (followup_days IS NOT NULL)",
                           name="followup_has_days"),
        sa.CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at",
                           name="closes_after_opening"),
    )

    def status(self, now: dt.datetime | None = None) -> WaveStatus:
        now = now or utcnow()
        if self.opens_at is None or now < self.opens_at:
            return WaveStatus.SCHEDULED
        if self.closes_at is not None and now >= self.closes_at:
            return WaveStatus.CLOSED
        return WaveStatus.OPEN

    @property
    def label(self) -> str:
        if self.kind is WaveKind.FOLLOWUP:
            return f"{self.followup_days}-day follow-up"
        return {WaveKind.PRE: "Before training", WaveKind.POST: "After training",
                WaveKind.PULSE: "Agency pulse"}[self.kind]


class Response(db.Model):
    """One officer's submitted survey. Deliberately no person, device or time of day."""

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("wave.id"), index=True)
    submitted_on: Mapped[dt.date]
    #: {linkage element: keyed hash}, or NULL when the officer skipped the linkage code.
    linkage: Mapped[Optional[dict]] = mapped_column(sa.JSON(none_as_null=True))
    #: Optional self-reported unit and shift on a pulse; only ever shown for groups >= k.
    unit_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    shift: Mapped[Optional[str]] = mapped_column(sa.String(40))

    wave: Mapped[Wave] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = {"sqlite_with_rowid": False}


class Comment(db.Model):
    """What one officer wrote to a pulse's open question, masked before it was stored.
    Deliberately nothing that joins it to an answer sheet: no response, unit, shift, code,
    date or time; a random key, so the table's order is no arrival order either."""

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("wave.id"), index=True)
    text: Mapped[str] = mapped_column(sa.String(500))

    __table_args__ = {"sqlite_with_rowid": False}


class CommentTheme(db.Model):
    """A theme a leader gave a comment of a closed pulse (one row per comment and theme): a
    code of `survey.comments.THEMES`, or the agency's own words after "own:"."""

    __tablename__ = "comment_theme"

    comment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("comment.id",
                                                                ondelete="CASCADE"),
                                                  primary_key=True)
    theme: Mapped[str] = mapped_column(sa.String(44), primary_key=True)


class TrackerItem(db.Model):
    """One culture-change step an agency tracks (codes from the tracker file)."""

    __tablename__ = "tracker_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(60))
    status: Mapped[StepStatus] = mapped_column(_enum(StepStatus, "step_status"),
                                               default=StepStatus.NOT_STARTED)
    #: When the step was completed (or last changed status): drawn as a dated marker.
    done_on: Mapped[Optional[dt.date]]
    owner: Mapped[str] = mapped_column(sa.String(120), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: What officers are told on their results page ("you said, we did"); empty: not shown.
    shared_note: Mapped[str] = mapped_column(sa.Text, default="")
    #: The officers' theme this step answers (a `CommentTheme.theme`), or none.
    theme: Mapped[Optional[str]] = mapped_column(sa.String(44))

    __table_args__ = (sa.UniqueConstraint("agency_id", "code"),)


class ProgramFigure(db.Model):
    """A monthly program count a program manager enters (referrals, deflections, ...)."""

    __tablename__ = "program_figure"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    month: Mapped[dt.date]
    measure: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[int]

    __table_args__ = (sa.UniqueConstraint("agency_id", "month", "measure"),
                      sa.CheckConstraint("value >= 0", name="value_not_negative"))


class AccountLink(db.Model):
    """A one-time, expiring link that lets a staff member set a password (invite or reset).

    Only a hash of the link's token is stored: a database dump does not give working links.
    """

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(_enum(LinkPurpose, "link_purpose"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)

    staff_user: Mapped[StaffUser] = relationship()


class AuditEntry(db.Model):
    """Who changed what, when: staff actions only (never respondents)."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    staff_user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("staff_user.id"),
                                                         index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(60))
    target: Mapped[str] = mapped_column(sa.String(120))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    staff_user: Mapped[Optional[StaffUser]] = relationship()


class Answer(db.Model):
    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("response.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"), primary_key=True, index=True)
    value: Mapped[int] = mapped_column(sa.SmallInteger)

    response: Mapped[Response] = relationship(back_populates="answers")

    __table_args__ = (
        sa.CheckConstraint("value BETWEEN 1 AND 11", name="value_range"),
        {"sqlite_with_rowid": False},
    )


class PublicationStatus(enum.StrEnum):
    COMPLETE = "complete"
    FAILED = "failed"


class PublishedResult(db.Model):
    """What one publishing run computed for a subject, kept unchanged: a cohort
    (``cohort:<id>``), an agency's dashboard and officers' page (``agency:<id>``), or one
    selection of Compare (``compare:<hash>``). A later run writes a new version; pages read the
    latest complete one. A failed run keeps its reason (for administrators) and no parts."""

    __tablename__ = "published_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(80))
    version: Mapped[int]
    status: Mapped[PublicationStatus] = mapped_column(_enum(PublicationStatus,
                                                            "publication_status"))
    #: Why a run failed (the exception's class and message); empty when complete.
    error: Mapped[str] = mapped_column(sa.Text, default="")
    #: The minimum group size the figures were withheld under.
    k: Mapped[int] = mapped_column(sa.SmallInteger)
    #: What it was computed from: responses per sealed wave, instrument versions, method.
    basis: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: An interim snapshot of a wave still open (pulses, when the agency allows it).
    interim: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("subject", "version"),)


class PublishedPart(db.Model):
    """One stored piece of a published result: the page's figures and charts as HTML, a
    download, or a summary later runs build on. Bodies are zlib-compressed."""

    __tablename__ = "published_part"

    result_id: Mapped[int] = mapped_column(
        sa.ForeignKey("published_result.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    media_type: Mapped[str] = mapped_column(sa.String(100))
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
