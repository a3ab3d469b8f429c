"""sharing.py: every kind of permission Drive can hold, against a commune's registry editors.

Pure functions, no network: a Drive permission (as permissions.list answers it) → Grant →
what is wrong → the change that fixes it.
"""

from __future__ import annotations

import pytest

from toolkit.backends.base import Grant, MakeEditor, Revoke, ShareWith
from toolkit.backends.google.drive import grant_of
from toolkit.sharing import plan, review

EDITOR = "xa06040@example.gov.vn"
OWN = frozenset({"bao-cao@lang-son.iam.gserviceaccount.com"})
FOLDER = "1FolderOfTheProvince0000000000000"
DRIVE_ID = "0AShareddriveUk9PVA"


def member(role: str) -> dict:
    return {"permissionType": "member", "role": role, "inherited": True,
            "inheritedFrom": DRIVE_ID}


def on_file(role: str) -> dict:
    return {"permissionType": "file", "role": role, "inherited": False}


def from_folder(role: str) -> dict:
    return {"permissionType": "file", "role": role, "inherited": True, "inheritedFrom": FOLDER}


def perm(kind: str, role: str, details: list[dict] | None = None, **fields) -> dict:
    out = {"id": fields.pop("id", f"p-{kind}-{role}"), "type": kind, "role": role, **fields}
    if details is not None:
        out["permissionDetails"] = details
    return out


def kinds(permissions: list[dict], editors=(EDITOR,)) -> list[tuple]:
    return [(p.kind, p.who, p.role, p.inherited, type(p.action).__name__ if p.action else None)
            for p in review(editors, [grant_of(x) for x in permissions], OWN)]


@pytest.mark.parametrize("permission, expected", [
    # link sharing, on the workbook itself: removed
    (perm("anyone", "writer", [on_file("writer")], id="anyoneWithLink",
          allowFileDiscovery=False), ("link", "anyone", "writer", False, "Revoke")),
    (perm("anyone", "reader", [on_file("reader")], id="anyone", allowFileDiscovery=True),
     ("link", "anyone", "reader", False, "Revoke")),
    (perm("anyone", "reader", [on_file("reader")], id="pub", view="published"),
     ("link", "anyone", "reader", False, "Revoke")),
    (perm("domain", "commenter", [on_file("commenter")], domain="LangSon.gov.vn"),
     ("domain", "langson.gov.vn", "commenter", False, "Revoke")),
    # link sharing inherited from the folder: reported, never "fixed" on the workbook
    (perm("anyone", "writer", [from_folder("writer")], id="anyoneWithLink"),
     ("link", "anyone", "writer", True, None)),
    (perm("domain", "reader", [from_folder("reader")], domain="langson.gov.vn"),
     ("domain", "langson.gov.vn", "reader", True, None)),
    # people and groups not in the registry, whatever their role
    (perm("user", "writer", [on_file("writer")], emailAddress="Cu@Example.gov.vn"),
     ("extra", "cu@example.gov.vn", "writer", False, "Revoke")),
    (perm("user", "reader", [on_file("reader")], emailAddress="cu@example.gov.vn"),
     ("extra", "cu@example.gov.vn", "reader", False, "Revoke")),
    (perm("group", "commenter", [on_file("commenter")], emailAddress="ca-huyen@googlegroups.com"),
     ("extra", "ca-huyen@googlegroups.com", "commenter", False, "Revoke")),
    (perm("user", "fileOrganizer", [on_file("fileOrganizer")], emailAddress="cu@example.gov.vn"),
     ("extra", "cu@example.gov.vn", "fileOrganizer", False, "Revoke")),
    (perm("user", "writer", [on_file("writer")], id="gone", deleted=True),
     ("deleted", "gone", "writer", False, "Revoke")),
    (perm("user", "reader", [from_folder("reader")], emailAddress="thanh-tra@so.gov.vn"),
     ("extra", "thanh-tra@so.gov.vn", "reader", True, None)),
    # a Shared Drive member given more on the workbook: the workbook's part goes
    (perm("user", "writer", [member("reader"), on_file("writer")], emailAddress="p@so.gov.vn"),
     ("extra", "p@so.gov.vn", "writer", False, "Revoke")),
    # registry editors who cannot type, or will not be able to
    (perm("user", "reader", [on_file("reader")], emailAddress=EDITOR),
     ("weak", EDITOR, "reader", False, "MakeEditor")),
    (perm("user", "commenter", [member("commenter")], emailAddress=EDITOR),
     ("weak", EDITOR, "commenter", False, "ShareWith")),
    (perm("user", "writer", [on_file("writer")], emailAddress=EDITOR,
          expirationTime="2026-12-31T00:00:00Z"),
     ("expires", EDITOR, "writer", False, "MakeEditor")),
])
def test_each_kind_of_permission_is_judged(permission, expected):
    assert kinds([permission, perm("user", "writer", [on_file("writer")], id="e",
                                   emailAddress=EDITOR)])[:1] == [expected]


@pytest.mark.parametrize("permission", [
    perm("user", "organizer", [member("organizer")], emailAddress="truong-phong@so.gov.vn"),
    perm("user", "reader", [member("reader")], emailAddress="van-thu@so.gov.vn"),
    perm("group", "writer", [member("writer")], emailAddress="so-tt@googlegroups.com"),
    perm("user", "owner", emailAddress="can-bo@so-tt.gov.vn"),             # My Drive owner
    perm("user", "writer", [on_file("writer")],
         emailAddress="Bao-Cao@lang-son.iam.gserviceaccount.com"),           # the toolkit
    perm("user", "writer", [on_file("writer")], emailAddress=EDITOR),
    perm("user", "writer", [member("writer"), on_file("writer")], emailAddress=EDITOR,
         expirationTime="2026-12-31T00:00:00Z"),          # the membership outlasts the expiry
    perm("user", "organizer", [member("organizer")], emailAddress=EDITOR),
])
def test_what_is_left_alone(permission):
    assert kinds([permission, perm("user", "writer", id="e", emailAddress=EDITOR)]) == []


def test_an_editor_without_any_access_is_shared_with_and_case_does_not_matter():
    assert kinds([], editors=(" XA06040@Example.gov.vn", "ketoan@example.gov.vn")) == [
        ("missing", EDITOR, "", False, "ShareWith"),
        ("missing", "ketoan@example.gov.vn", "", False, "ShareWith")]


def test_a_grant_both_direct_and_inherited_is_two_problems():
    both = perm("anyone", "writer", [on_file("reader"), from_folder("writer")],
                id="anyoneWithLink")
    assert kinds([both, perm("user", "writer", id="e", emailAddress=EDITOR)]) == [
        ("link", "anyone", "reader", False, "Revoke"),
        ("link", "anyone", "writer", True, None)]


def test_without_permission_details_everything_counts_as_given_on_the_file():
    """My Drive items carry no permissionDetails: removing is tried, Drive's answer reported."""
    grant = grant_of({"id": "7", "type": "user", "role": "writer",
                      "emailAddress": "cu@example.gov.vn"})
    assert grant == Grant("7", "user", "writer", "cu@example.gov.vn", direct_role="writer")


def test_the_plan_shares_first_in_registry_order_then_one_change_per_permission():
    grants = [grant_of(p) for p in (
        perm("anyone", "writer", [on_file("writer")], id="anyoneWithLink"),
        perm("user", "writer", [on_file("writer")], id="9", emailAddress="cu@example.gov.vn"),
        perm("user", "reader", [on_file("reader")], id="5", emailAddress="b@example.gov.vn"))]
    actions = plan(["a@example.gov.vn", "b@example.gov.vn", "c@example.gov.vn"], grants, OWN)
    assert actions == [ShareWith(("a@example.gov.vn", "c@example.gov.vn")),
                       Revoke("anyoneWithLink", "bất kỳ ai có đường liên kết", "writer"),
                       Revoke("9", "cu@example.gov.vn", "không có trong registry"),
                       MakeEditor("5", "b@example.gov.vn", "reader")]
    assert [a.describe() for a in actions[1:]] == [
        "gỡ quyền của bất kỳ ai có đường liên kết (writer)",
        "gỡ quyền của cu@example.gov.vn (không có trong registry)",
        "cho b@example.gov.vn quyền sửa (trước là reader)"]


def test_a_matching_workbook_needs_no_change():
    grants = [grant_of(perm("user", "writer", [on_file("writer")], emailAddress=EDITOR)),
              grant_of(perm("user", "organizer", [member("organizer")],
                            emailAddress="bao-cao@lang-son.iam.gserviceaccount.com"))]
    assert plan([EDITOR], grants, OWN) == []


@pytest.mark.parametrize("registry, listed", [
    ("Xa.ThatKhe+baocao@gmail.com", "xathatkhe@gmail.com"),
    ("xathatkhe@googlemail.com", "xa.that.khe@gmail.com"),
    ("UBND.ThatKhe@LangSon.gov.vn", "ubnd.thatkhe@langson.gov.vn"),
])
def test_drive_s_address_for_the_same_account_matches_the_registry(registry, listed):
    """Drive lists the account's address: a Gmail address written with other dots, case or a
    +tag is the same account, and is not shared again (nor the listed one revoked)."""
    writer = perm("user", "writer", [on_file("writer")], emailAddress=listed, id="p-1")
    assert kinds([writer], editors=(registry,)) == []


def test_a_workspace_alias_matches_the_account_drive_answered_with():
    account = perm("user", "writer", [on_file("writer")], id="p-2",
                   emailAddress="ubnd.thatkhe@langson.gov.vn")
    alias = "thatkhe@langson.gov.vn"
    assert [a.__class__.__name__ for a in plan([alias], [grant_of(account)], OWN)] == [
        "ShareWith", "Revoke"]                        # no rule can tell an alias
    assert plan([alias], [grant_of(account)], OWN,
                {alias: "ubnd.thatkhe@langson.gov.vn"}) == []
