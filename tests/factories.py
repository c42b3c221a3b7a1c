"""Factories for test data; every object is flushed into the test's transaction."""

from __future__ import annotations

import itertools
from datetime import date

from examsys.accounts import idnumber, services
from examsys.accounts.models import CertificateKind, Organisation, OrgKind, User
from examsys.permissions import Role

PASSWORD = "test-password-123"
_seq = itertools.count(1)


def valid_id_number(n: int) -> str:
    """A checksum-valid, made-up ID number, different for each n."""
    return idnumber.make_valid(f"110105{1980 + n % 30:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}")


class Factories:
    def __init__(self, db):
        self.db = db

    def org(self, kind: OrgKind = OrgKind.SOCIAL, code: str | None = None) -> Organisation:
        n = next(_seq)
        return services.create_organisation(code or f"ORG{n:04d}", f"测试机构{n}", kind)

    def user(self, roles=(Role.WRITER,), org: Organisation | None = None, username: str | None = None,
             certificates=()) -> User:
        if isinstance(roles, Role):
            roles = (roles,)
        roles = set(roles)
        if org is None:
            # Provincial admins and supervisors (督导员) belong to the authority.
            kind = OrgKind.AUTHORITY if roles & {Role.PROVINCIAL_ADMIN, Role.SUPERVISOR} else OrgKind.SOCIAL
            org = self.org(kind)
        n = next(_seq)
        certs = [services.CertificateInput(kind=k, number=f"C-{k.value}-{n}",
                                           valid_until=date(2030, 1, 1)) for k in certificates]
        return services.create_user(None, org, username=username or f"user{n}",
                                    display_name=f"用户{n}", password=PASSWORD, roles=roles,
                                    certificates=certs)

    def candidate(self, org: Organisation, name: str = "测试考生", id_number: str | None = None):
        n = next(_seq)
        return services.create_candidate(org, name=name, id_number=id_number or valid_id_number(n))


__all__ = ["CertificateKind", "Factories", "PASSWORD", "valid_id_number"]
