"""Who may open a commune workbook against who should: pure functions, plan → actions.

DESIGN.md §7: a workbook is shared with its commune's editors in the registry, as editors, and
with nobody else — never "anyone with the link", never a whole domain. Three kinds of access
are not the workbook's to change and are left alone: the toolkit's own accounts (it must keep
writing the Kiểm tra tab), the owner (Drive refuses to remove one), and Shared Drive members
(the office chose them, and they reach every file of the drive). Access inherited from a folder
above cannot be removed or lowered on the workbook itself (Drive answers 403
cannotModifyInheritedPermission), so it is reported with where it comes from, never "fixed".

`provision` applies the same plan as `audit --fix`, so running either leaves each workbook
matching the registry, and running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from toolkit.backends.base import Grant, MakeEditor, Revoke, ShareWith, SharingAction, role_rank

WRITER = role_rank("writer")

#: Gmail's domains: one account, whatever dots or +tag the address is written with.
GMAIL = ("gmail.com", "googlemail.com")

#: What is wrong, by kind; ``inherited`` ones cannot be fixed on the workbook.
KINDS = ("link", "domain", "extra", "deleted", "missing", "weak", "expires")


@dataclass(frozen=True)
class Problem:
    """One way a workbook's sharing differs from the registry, and the change that fixes it
    (``action`` None: it cannot be fixed on the workbook — see ``inherited_from``)."""

    kind: str
    who: str                      # an e-mail, "anyone" or the domain
    role: str                     # the role that part of the grant gives ("" when missing)
    action: SharingAction | None
    grant: Grant | None = None
    inherited: bool = False       # the access comes from above: ``grant.inherited_from``


def canonical_email(address: str) -> str:
    """The account an address reaches, as Drive tells them apart: case never matters, and on
    Gmail neither dots nor a +tag do (Xa.ThatKhe+bc@googlemail.com is xathatkhe@gmail.com).
    Drive lists a permission under the account's address, not the one it was made with."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain in GMAIL and local:
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return address.strip().lower()


def review(editors: Iterable[str], grants: Iterable[Grant], own: Iterable[str],
           aliases: Mapping[str, str] | None = None) -> list[Problem]:
    """Every difference between a workbook's sharing and its commune's registry editors.

    ``aliases`` (a registry address → the account address Drive answered with when it was
    shared, both canonical) lets an alias on a Workspace domain match its account's
    permission, which no rule could tell."""
    aliases = aliases or {}
    wanted: dict[str, str] = {}
    for e in editors:
        if e.strip():
            key = canonical_email(e)
            wanted.setdefault(aliases.get(key, key), e.strip().lower())
    ours = {canonical_email(e) for e in own}
    problems: list[Problem] = []
    seen: set[str] = set()
    for grant in grants:
        if grant.type in ("anyone", "domain"):
            problems += _link(grant)
            continue
        email = canonical_email(grant.email) if grant.email else ""
        seen.add(email)
        if (email and email in ours) or grant.direct_role == "owner":
            continue
        if email and email in wanted:
            problems += _editor(grant)
            continue
        kind = "deleted" if grant.deleted else "extra"
        who = grant.email.lower() or grant.id
        if grant.direct_role:
            problems.append(Problem(kind, who, grant.direct_role,
                                    Revoke(grant.id, who, _why(grant)), grant))
        if grant.inherited_role and not grant.member:
            problems.append(Problem(kind, who, grant.inherited_role, None, grant,
                                    inherited=True))
    problems += [Problem("missing", e, "", ShareWith((e,))) for key, e in wanted.items()
                 if key not in seen]
    return problems


def plan(editors: Iterable[str], grants: Iterable[Grant], own: Iterable[str],
         aliases: Mapping[str, str] | None = None) -> list[SharingAction]:
    """The changes that make a workbook's sharing match the registry: one ShareWith for every
    editor to add (in registry order), then one change per permission."""
    actions = [p.action for p in review(editors, grants, own, aliases)
               if p.action is not None]
    shares = tuple(e for a in actions if isinstance(a, ShareWith) for e in a.emails)
    rest = [a for a in actions if not isinstance(a, ShareWith)]
    return ([ShareWith(shares)] if shares else []) + rest


def _link(grant: Grant) -> list[Problem]:
    kind = "link" if grant.type == "anyone" else "domain"
    who = "anyone" if grant.type == "anyone" else grant.domain
    out = []
    if grant.direct_role:
        out.append(Problem(kind, who, grant.direct_role,
                           Revoke(grant.id, _label(grant), _why(grant)), grant))
    if grant.inherited_role:
        out.append(Problem(kind, who, grant.inherited_role, None, grant, inherited=True))
    return out


def _editor(grant: Grant) -> list[Problem]:
    """A registry editor: must be able to type, and keep being able to."""
    email = grant.email.lower()
    if role_rank(grant.role) < WRITER:
        action = (MakeEditor(grant.id, email, grant.direct_role) if grant.direct_role
                  else ShareWith((email,)))
        return [Problem("weak", email, grant.role, action, grant)]
    lasting = role_rank(grant.inherited_role) >= WRITER
    if grant.expires and grant.direct_role and not lasting:
        return [Problem("expires", email, grant.direct_role,
                        MakeEditor(grant.id, email, grant.direct_role), grant)]
    return []


def _label(grant: Grant) -> str:
    if grant.published:
        return "bản xuất bản lên web"
    if grant.type == "anyone":
        return "bất kỳ ai trên web" if grant.discoverable else "bất kỳ ai có đường liên kết"
    return f"mọi người ở {grant.domain}" + ("" if grant.discoverable else " có đường liên kết")


def _why(grant: Grant) -> str:
    if grant.type in ("anyone", "domain"):
        return grant.direct_role or grant.role
    if grant.deleted:
        return "tài khoản đã bị xoá"
    return "không có trong registry"
