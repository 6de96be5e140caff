"""Forms. The officer's survey form is built from the instrument's items."""
from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (BooleanField, DateField, EmailField, IntegerField, PasswordField, RadioField,
                     SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField,
                     widgets)
from wtforms import SelectChoice
from wtforms.validators import (InputRequired, Length, NumberRange, Optional, StopValidation,
                                ValidationError)

from . import comments, network
from .bank import curriculum_topics, linkage_elements
from .queries import SurveyItem
from .services import FOLLOWUP_DAYS

MISSING_ANSWER = "Choose an answer for this statement, or “Prefer not to answer”."
#: The form value of "Prefer not to answer": a choice the officer made, stored as no answer.
PREFER_NOT = "none"
PREFER_NOT_LABEL = "Prefer not to answer"

#: Dates staff may give: a training, a pulse, a tracker step, a month of figures.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
#: Counts staff may give (PostgreSQL's integer holds them; nothing real comes near).
MAX_COUNT = 1_000_000
#: Control characters no typed text holds (NUL breaks PostgreSQL); tab and newlines are fine.
CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\t", "\n", "\r"}


def strip(value):
    return value.strip() if isinstance(value, str) else value


class DateBound:
    """A date a person could mean: between EARLIEST and LATEST."""

    def __call__(self, form, field):
        if field.data is not None and not EARLIEST <= field.data <= LATEST:
            raise ValidationError(f"Give a date between {EARLIEST.year} and {LATEST.year}.")


class NotBlank:
    """Required, and more than spaces (use with the `strip` filter)."""

    def __init__(self, message: str):
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form, field):
        if not field.data:
            field.errors[:] = []
            raise StopValidation(self.message)


class Form(FlaskForm):
    """Every staff form: no text field may hold a control character."""

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for field in self:
            values = field.data if isinstance(field.data, list) else [field.data]
            if any(isinstance(v, str) and not CONTROL.isdisjoint(v) for v in values):
                field.errors = [*field.errors, "Remove the control characters from this text."]
                valid = False
        return valid


class JoinForm(FlaskForm):
    code = StringField("Survey code", validators=[
        InputRequired("Type the code your trainer shows you."), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters",
                   "spellcheck": "false", "inputmode": "text"})


class LinkageForm(FlaskForm):
    """The self-generated code: every element optional ('Not sure'), and a way to skip."""

    skip = SubmitField("Skip this step")
    proceed = SubmitField("Continue")


def linkage_form(**kwargs) -> LinkageForm:
    """The personal-code form (its class made once per process)."""
    return _linkage_form_class()(**kwargs)


@functools.lru_cache(maxsize=1)
def _linkage_form_class() -> type[LinkageForm]:
    class Form(LinkageForm):
        pass
    for element in linkage_elements():
        choices = [SelectChoice("", "Not sure")] + [
            SelectChoice(value, label) for value, label in element.choices]
        setattr(Form, element.code, SelectField(element.question, choices=choices,
                                                description=element.hint,
                                                validators=[Optional()]))
    return Form


def linkage_answers(form: LinkageForm) -> dict[str, str | None]:
    return {e.code: form[e.code].data or None for e in linkage_elements()}


class SurveyForm(FlaskForm):
    pass


def survey_form(items: list[SurveyItem], **kwargs) -> SurveyForm:
    """The form of a survey version's items (its class made once per version and process)."""
    return _survey_form_class(tuple(items))(**kwargs)


@functools.lru_cache(maxsize=64)
def _survey_form_class(items: tuple[SurveyItem, ...]) -> type[SurveyForm]:
    class Form(SurveyForm):
        pass
    for item in items:
        choices = [SelectChoice(str(value), label) for value, label in
                   zip(range(item.scale_min, item.scale_max + 1), item.labels)]
        choices.append(SelectChoice(PREFER_NOT, PREFER_NOT_LABEL))
        setattr(Form, item.field, RadioField(item.text, choices=choices,
                                             validators=[InputRequired(MISSING_ANSWER)]))
    return Form


#: The optional "about you" questions of a pulse, and what each may hold.
ABOUT_FIELDS = ("about_unit", "about_shift")


def check_about(formdata: MultiDict, units: dict[str, int], shifts: list[str]
                ) -> tuple[int | None, str | None]:
    """The optional unit and shift of a pulse answer; 400 on a value the form never offered."""
    unit = formdata.get("about_unit", "")
    shift = formdata.get("about_shift", "")
    if len(formdata.getlist("about_unit")) > 1 or len(formdata.getlist("about_shift")) > 1:
        abort(400, "The form held two answers to one question. Nothing was saved.")
    if unit and unit not in units:
        abort(400, "The form named a unit this agency does not have. Nothing was saved.")
    if shift and shift not in shifts:
        abort(400, "The form named a shift this agency does not have. Nothing was saved.")
    return (units[unit] if unit else None), (shift or None)


def check_posted(items: list[SurveyItem], formdata: MultiDict, extra=()) -> dict[int, int]:
    """The answers posted, by item id; abort with 400 on anything a real form cannot send.

    Missing answers are not an error here (the form reports them next to each statement), and
    "Prefer not to answer" is no answer: nothing is kept for that statement, so it is missing
    to every figure. An unknown question, a value off the scale or two answers to one statement
    are forged. `extra` names other fields the form may carry (checked by their own function).
    """
    by_field = {item.field: item for item in items}
    answers = {}
    for key in formdata.keys():
        if key == "csrf_token" or key in extra:
            continue
        item = by_field.get(key)
        if item is None:
            abort(400, f"The form held an answer to a question this survey does not have "
                       f"({key[:40]}). Nothing was saved.")
        values = formdata.getlist(key)
        if len(values) != 1:
            abort(400, "The form held more than one answer to one statement. Nothing was saved.")
        value = values[0]
        if value == PREFER_NOT:
            continue
        if not (value.isascii() and value.isdigit()
                and item.scale_min <= int(value) <= item.scale_max):
            abort(400, f"An answer was off the {item.scale_min} to {item.scale_max} scale. "
                       "Nothing was saved.")
        answers[item.id] = int(value)
    return answers


class LoginForm(Form):
    email = EmailField("E-mail", validators=[InputRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CohortForm(Form):
    name = StringField("Class name", filters=[strip],
                       validators=[NotBlank("Give the class a name."), Length(max=200)],
                       description="For example: Deflection basics, night shift")
    held_on = DateField("Date of the training", default=dt.date.today,
                        validators=[InputRequired("Give the date of the training."), DateBound()])
    trainer_id = SelectField("Trainer", coerce=int)
    co_trainer_ids = CheckboxListField("Co-trainers", coerce=int,
                                       description="They may change, open, close and export "
                                                   "this class, as its trainer may.")
    unit_id = SelectField("Unit", coerce=int, validators=[Optional()])
    location = StringField("Location", filters=[strip], validators=[Optional(), Length(max=200)])
    topics = CheckboxListField("Topics the training covers")
    followups = CheckboxListField("Follow-up surveys", coerce=int,
                                  default=list(FOLLOWUP_DAYS),
                                  description="Each opens on its own that many days after the "
                                              "training and stays open for two weeks.")
    open_pre = BooleanField("Open the before-training survey now")

    def __init__(self, *args, units=(), trainers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.trainer_id.choices = [SelectChoice(str(t.id), t.name) for t in trainers]
        self.co_trainer_ids.choices = [SelectChoice(str(t.id), t.name) for t in trainers]
        self.followups.choices = [SelectChoice(str(d), f"{d} days after")
                                  for d in FOLLOWUP_DAYS]
        self.unit_id.choices = [SelectChoice("0", "No particular unit")] + [
            SelectChoice(str(u.id), u.name) for u in units]
        self.topics.choices = [SelectChoice(t.code, t.label)
                               for t in curriculum_topics().values()]


class ConfirmForm(Form):
    """A bare form for POST-only buttons (open, close, sign out): CSRF and nothing else."""


class PulseForm(Form):
    opens_on = DateField("Opens on", default=dt.date.today,
                         validators=[InputRequired("Give the day the pulse opens."), DateBound()])
    days_open = IntegerField("Days open", default=14, validators=[
        InputRequired("Say how many days the pulse stays open."),
        NumberRange(1, 60, "Between 1 and 60 days.")])
    headcount = IntegerField("Officers invited", validators=[
        Optional(), NumberRange(1, 100_000, "A number of officers, at least 1.")],
        description="For the participation rate. Leave blank to use the agency's sworn strength.")


class TrackerForm(Form):
    status = SelectField("Status", choices=[SelectChoice("not_started", "Not started"),
                                            SelectChoice("in_progress", "In progress"),
                                            SelectChoice("done", "Done")])
    done_on = DateField("Date", validators=[Optional(), DateBound()],
                        description="When it was done: drawn as a marker on the trends.")
    owner = StringField("Owner", filters=[strip], validators=[Optional(), Length(max=120)])
    notes = TextAreaField("Notes (staff only)", validators=[Optional(), Length(max=4000)])
    shared_note = TextAreaField("What officers are told", validators=[Optional(),
                                                                      Length(max=1000)],
                                description="Shown on the officers' results page under "
                                            "“You said, we did”. Leave empty to keep it internal.")
    theme = SelectField("The officers' theme it answers", choices=[SelectChoice("", "None")],
                        description="Officers' comments tagged with this theme are shown "
                                    "beside what was done, on their results page.")

    def validate(self, extra_validators=None):
        # Not an inline validator: Optional() on the date stops the chain when it is empty.
        valid = super().validate(extra_validators)
        if self.status.data == "done" and not self.done_on.data:
            self.done_on.errors = [*self.done_on.errors, "Give the date it was done."]
            return False
        return valid


class FiguresForm(Form):
    month = DateField("Month", format="%Y-%m",
                      validators=[InputRequired("Pick the month."), DateBound()],
                      render_kw={"type": "month"})
    referrals = IntegerField("Referrals", validators=[Optional(), NumberRange(0, MAX_COUNT)])
    deflections = IntegerField("Deflections", validators=[Optional(), NumberRange(0, MAX_COUNT)])
    contacts = IntegerField("Contacts", validators=[Optional(), NumberRange(0, MAX_COUNT)])
    arrests_avoided = IntegerField("Arrests avoided",
                                   validators=[Optional(), NumberRange(0, MAX_COUNT)])


class FiguresUploadForm(Form):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")],
                     description="Columns: month (YYYY-MM), referrals, deflections, contacts, "
                                 "arrests_avoided. Empty cells are skipped.")


# --- Administration -------------------------------------------------------------------------------

ROLE_CHOICES = [SelectChoice("trainer", "Trainer: runs classes and reads their reports"),
                SelectChoice("leader", "Leadership: reads the agency's culture dashboard"),
                SelectChoice("admin", "Administrator: all of the above, and accounts and "
                                      "settings")]


class InviteForm(Form):
    name = StringField("Name", filters=[strip],
                       validators=[NotBlank("Give the person's name."), Length(max=120)])
    email = EmailField("E-mail", validators=[InputRequired("Give the e-mail they sign in with."),
                                             Length(max=254)],
                       description="Used only to sign in. No e-mail is sent: you hand over the "
                                   "link yourself.")
    role = RadioField("Role", choices=ROLE_CHOICES, default="trainer",
                      validators=[InputRequired("Pick a role.")])

    def validate_email(self, field):
        if "@" not in field.data.strip()[1:-1]:
            raise ValidationError("That does not look like an e-mail address.")


class StaffForm(Form):
    role = RadioField("Role", choices=ROLE_CHOICES, validators=[InputRequired("Pick a role.")])
    active = BooleanField("Account can sign in")


class SetPasswordForm(Form):
    password = PasswordField("New password", validators=[
        InputRequired("Choose a password."), Length(max=200)],
        description="At least 12 characters. A short sentence is strong and easy to remember.",
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("The same password again", validators=[
        InputRequired("Type the password again."), Length(max=200)],
        render_kw={"autocomplete": "new-password"})

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("The two passwords are not the same.")


def _lines(text: str | None) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))


class SettingsForm(Form):
    min_group_size = IntegerField("Smallest group shown", validators=[
        InputRequired("Give the smallest group size."),
        NumberRange(3, 50, "Between 3 and 50 officers: below 3, answers can be worked out.")],
        description="No figure, chart or export covers fewer officers than this. Default 5.")
    min_comment_group_size = IntegerField("Smallest group for comments", validators=[
        InputRequired("Give the smallest group for comments."), NumberRange(3, 100)],
        description="Officers' comments are shown only when at least this many officers wrote "
                    "one to a pulse. Default 10.")
    comment_prompt = SelectField(
        "Open question on new pulses",
        choices=[SelectChoice("", "None: pulses ask no open question")]
        + [SelectChoice(code, text) for code, text in comments.PROMPTS.items()],
        description="Optional for officers, at most 500 characters, masked before it is "
                    "stored and kept apart from their answers.")
    ask_linkage = BooleanField("Ask officers for their personal code",
                               description="Needed to link before and after answers. Officers "
                                           "may always skip it.")
    interim_results = BooleanField(
        "Publish interim results of a pulse while it is open",
        description="At most once a day, and only figures that at least the smallest group of "
                    "officers have added to since the last snapshot; the rest keep their "
                    "previous values. Off: a pulse's results appear when it closes.")
    trainers_read_all_reports = BooleanField(
        "Trainers may read the reports of classes they do not teach",
        description="Changing, opening, closing and exporting a class stay with its own "
                    "trainers and administrators either way.")
    units = TextAreaField("Units officers may pick on a pulse", validators=[Length(max=4000)],
                          description="One per line. A unit with fewer officers answering than "
                                      "the smallest group is never shown on its own.")
    shifts = TextAreaField("Shifts officers may pick on a pulse", validators=[Length(max=1000)],
                           description="One per line. Leave empty not to ask.")
    pulse_cadence = SelectField("How often to run a pulse", choices=[
        SelectChoice("quarterly", "Every three months"), SelectChoice("monthly", "Every month")])
    headcount = IntegerField("Sworn officers", validators=[Optional(), NumberRange(1, 100_000)],
                             description="For participation rates.")
    kind = SelectField("Type of agency", choices=[SelectChoice("", "Not given")]
                       + [SelectChoice(code, label) for code, label in network.KINDS.items()])
    state = SelectField("State", choices=[SelectChoice("", "Not given")]
                        + [SelectChoice(code, code) for code in sorted(network.REGIONS)],
                        description="With the sworn officers above, it places the agency "
                                    "among agencies of a similar size in its census region.")
    program_model = SelectField(
        "Who leads the deflection program",
        choices=[SelectChoice("", "Not given")]
        + [SelectChoice(code, label) for code, label in network.PROGRAM_MODELS.items()])
    benchmark_opt_in = BooleanField("Take part in the network's benchmarks",
                                    description=network.OPT_IN_STATEMENT)
    retention_months = IntegerField("Keep responses for (months)", validators=[
        Optional(), NumberRange(1, 240, "Between 1 and 240 months.")],
        description="Older responses are deleted by the nightly purge. Leave empty to keep them "
                    "until you delete them.")

    def validate_min_comment_group_size(self, field):
        if self.min_group_size.data and field.data and field.data < self.min_group_size.data:
            raise ValidationError("Must be at least the smallest group shown.")

    def validate_units(self, field):
        if any(len(u) > 120 for u in _lines(field.data)):
            raise ValidationError("Unit names have at most 120 characters.")

    def validate_shifts(self, field):
        if any(len(s) > 40 for s in _lines(field.data)):
            raise ValidationError("Shift names have at most 40 characters.")

    @property
    def unit_names(self) -> list[str]:
        return _lines(self.units.data)

    @property
    def shift_names(self) -> list[str]:
        return _lines(self.shifts.data)


class InstrumentForm(Form):
    constructs = CheckboxListField("Scales in this survey",
                                   validators=[InputRequired("Pick at least one scale.")])
    local_items = CheckboxListField("Your own statements", coerce=int)


class LocalItemForm(Form):
    text = TextAreaField("Statement", filters=[strip], validators=[
        NotBlank("Write the statement officers will read."), Length(max=400)],
        description="One statement officers agree or disagree with. Keep it short and neutral.")
    construct = SelectField("Scale it belongs to")
    reverse_keyed = BooleanField("Agreeing means less of the scale (reverse-keyed)")
    scale = SelectField("Answer scale")
    instrument = RadioField("Add it to", choices=[SelectChoice("training", "The training survey"),
                                                  SelectChoice("pulse", "The agency pulse")],
                            default="training")


class AgencyForm(Form):
    name = StringField("Agency name", filters=[strip],
                       validators=[NotBlank("Name the agency."), Length(max=200)])
    timezone = StringField("Time zone", default="America/Chicago",
                           validators=[InputRequired("Give a time zone."), Length(max=64)],
                           description="For example America/New_York: survey dates follow it.")
    admin_name = StringField("First administrator's name", filters=[strip], validators=[
        NotBlank("Give the administrator's name."), Length(max=120)])
    admin_email = EmailField("First administrator's e-mail", validators=[
        InputRequired("Give the administrator's e-mail."), Length(max=254)])

    def validate_timezone(self, field):
        # Length(max=64) does not stop the chain: a longer name must not reach the file system
        # (zoneinfo opens a file by that name: "File name too long").
        try:
            if len(field.data or "") > 64:
                raise ValueError(field.data)
            ZoneInfo(field.data.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValidationError("Not a time zone this server knows (try America/Chicago).")
