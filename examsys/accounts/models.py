"""Organisations, staff users with roles and certificates, login sessions, and candidates."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys import clock
from examsys.dbtypes import UTCDateTime
from examsys.extensions import db
from examsys.permissions import Permission, Role, permissions_for


class OrgKind(enum.StrEnum):
    SOCIAL = "social"  # 社会培训评价组织
    EMPLOYER = "employer"  # 用人单位
    AUTHORITY = "authority"  # 省级人社部门


ORG_KIND_LABELS = {
    OrgKind.SOCIAL: "社会培训评价组织",
    OrgKind.EMPLOYER: "用人单位",
    OrgKind.AUTHORITY: "省级人力资源社会保障部门",
}


class CertificateKind(enum.StrEnum):
    EXAMINER = "examiner"  # 考评员证
    SUPERVISOR = "supervisor"  # 督导员证


CERT_KIND_LABELS = {CertificateKind.EXAMINER: "考评员证", CertificateKind.SUPERVISOR: "督导员证"}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR with a CHECK constraint: portable, and new members need only a migration
    # of the constraint, not a PostgreSQL ENUM type dance.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda e: [m.value for m in e])


class City(db.Model):
    """A city of the province (各市). Every organisation belongs to one; the authority and any
    organisation filed before cities existed belong to the province's own entry (DEFAULT_CITY_CODE)."""

    __tablename__ = "cities"
    __audit_type__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)


# The province's own entry among the cities (省本级): the authority's organisation, and any
# organisation created without a city.
DEFAULT_CITY_CODE = "PROVINCE"
DEFAULT_CITY_NAME = "省本级"


class Organisation(db.Model):
    __tablename__ = "organisations"
    __audit_type__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"), nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), nullable=False, index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Bank policy: versions need two approvals from two different reviewers before 入库.
    require_two_approvals: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                        server_default="0")
    # Coverage rule: approved items each assessment point should have.
    coverage_min_items: Mapped[int] = mapped_column(Integer, nullable=False, default=4, server_default="4")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    city: Mapped[City] = relationship()

    @property
    def kind_label(self) -> str:
        return ORG_KIND_LABELS[self.kind]


@event.listens_for(Organisation, "before_insert")
def _in_a_city(_mapper, connection, target: Organisation) -> None:
    """Every organisation is in a city: one inserted without (code that predates cities builds
    Organisation rows directly) goes to the province's own entry, made if missing."""
    if target.city_id is not None:
        return
    cities = City.__table__
    city_id = connection.scalar(select(cities.c.id).where(cities.c.code == DEFAULT_CITY_CODE))
    if city_id is None:
        city_id = connection.execute(cities.insert().values(
            code=DEFAULT_CITY_CODE, name=DEFAULT_CITY_NAME, created_at=clock.now())).inserted_primary_key[0]
    target.city_id = city_id


class User(db.Model):
    __tablename__ = "users"
    __audit_type__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin",
        order_by="Certificate.kind",
    )

    __mapper_args__ = {"version_id_col": version}

    # Set by the session loader: the UserSession this request runs under.
    current_session_token = None  # str | None; not a column

    # --- Flask-Login protocol -----------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        # The cookie carries the server-side session token, never the user id: logout and
        # rotation then invalidate old cookies.
        return self.current_session_token

    # --- roles --------------------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.roles)

    def valid_certificate(self, kind: CertificateKind, on: date) -> Certificate | None:
        for cert in self.certificates:
            if cert.kind == kind and cert.valid_until >= on:
                return cert
        return None


class UserRole(db.Model):
    __tablename__ = "user_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), nullable=False)

    user: Mapped[User] = relationship(back_populates="role_rows")

    __table_args__ = (UniqueConstraint("user_id", "role"),)


class Certificate(db.Model):
    """持证上岗: examiner and supervisor certificates, checked when staff are assigned."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[CertificateKind] = mapped_column(
        _enum(CertificateKind, "certificate_kind"), nullable=False
    )
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)

    user: Mapped[User] = relationship(back_populates="certificates")

    __table_args__ = (UniqueConstraint("kind", "number"),)

    @property
    def kind_label(self) -> str:
        return CERT_KIND_LABELS[self.kind]


class UserSession(db.Model):
    """A server-side login session; the cookie holds only its random token."""

    __tablename__ = "user_sessions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class Candidate(db.Model):
    """A person who sits exams. The ID number is stored only encrypted, with a keyed blind index
    for lookups and a masked copy for display."""

    __tablename__ = "candidates"
    __audit_type__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    id_number_ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_number_index: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    id_number_masked: Mapped[str] = mapped_column(String(32), nullable=False)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=clock.now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    organisation: Mapped[Organisation] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("organisation_id", "id_number_index"),)


class LoginThrottle(db.Model):
    """Failed sign-ins counted per name tried, whether or not it exists: an unknown username or
    ticket number locks exactly as a real one does (examsys.accounts.throttle)."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
