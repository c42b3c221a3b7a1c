"""POST/DELETE /api/v1/candidate/session: candidate login and logout."""

from __future__ import annotations

from flask import current_app, g, jsonify, request

from examsys import clock
from examsys.api.blueprint import bp
from examsys.api.common import UNSTORABLE, candidate_required, iso
from examsys.delivery.exam import services as exam
from examsys.extensions import limiter
from examsys.permissions import custom_auth


def _login_rate() -> str:
    return current_app.config["EXAMSYS_LOGIN_RATE"]


def _address_rate() -> str:
    # A whole exam room, often a whole test centre, signs in from one address behind NAT within
    # minutes: the per-address limit is the centre's size, and guessing is bounded per ticket
    # number (the limit below and the escalating lock-out).
    return current_app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"]


def _ticket_key() -> str:
    data = request.get_json(silent=True)
    ticket = data.get("ticket_no") if isinstance(data, dict) else None
    return "cand-login-ticket:" + (ticket.strip()[:32] if isinstance(ticket, str)
                                   and not UNSTORABLE.search(ticket) else "")


def candidate_json(signed_in) -> dict:
    """The candidate part of a sign-in's answer (`exam.SignedIn`)."""
    return {"name": signed_in.name, "ticket_no": signed_in.ticket_no, "id_number_masked": signed_in.id_number_masked,
            "exam_id": signed_in.exam_id, "exam_name": signed_in.exam_name, "room": signed_in.room,
            "seat_no": signed_in.seat_no}


@bp.post("/candidate/session")
@custom_auth
@limiter.limit(_address_rate, methods=["POST"])
@limiter.limit(_login_rate, key_func=_ticket_key, methods=["POST"])
def candidate_login():
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    data = {k: v for k, v in data.items() if not (isinstance(v, str) and UNSTORABLE.search(v))}
    token, signed_in = exam.login(data.get("ticket_no"), data.get("id_number"), data.get("access_code"),
                              ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
    expires = clock.now() + exam.SESSION_LIFETIME
    return jsonify({"token": token, "token_type": "Bearer", "candidate": candidate_json(signed_in),
                    "expires_at": iso(expires)}), 201


@bp.delete("/candidate/session")
@custom_auth
@candidate_required
def candidate_logout():
    exam.logout(g.candidate_session)
    return "", 204
