"""E-mail for staff links, only when an SMTP server is configured (MAIL_SERVER).

Without one, nothing is sent and the administrator hands the link over; that is the default,
since many agencies cannot let a new system send mail. Officers are never e-mailed.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from .models import LinkPurpose, StaffUser


def configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send_link(user: StaffUser, url: str, purpose: LinkPurpose, hours: int) -> bool:
    """E-mail a one-time link to its owner; True when the SMTP server accepted it."""
    if not configured():
        return False
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = user.email
    if purpose is LinkPurpose.INVITE:
        message["Subject"] = f"Your account at {user.agency.name}"
        opening = (f"An administrator at {user.agency.name} made an account for you on the "
                   "deflection buy-in survey. Open this link to choose your password:")
    else:
        message["Subject"] = "Choose a new password"
        opening = "An administrator made a link for you to choose a new password:"
    message.set_content(f"{opening}\n\n{url}\n\nThe link works once, for {hours} hours. If you "
                        "did not expect it, tell your administrator.\n")
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
            if config["MAIL_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("could not e-mail a staff link: %s", type(error).__name__)
        return False
    return True
