"""Drive v3 endpoints: files create/copy/get/list/update/delete, permissions create/list/delete.

Behaves like Drive where it bites on a first real run: items in a Shared Drive are invisible
(404) unless ``supportsAllDrives=true``, and left out of files.list unless
``includeItemsFromAllDrives=true``; a service account may create files only inside a Shared
Drive (403 storageQuotaExceeded elsewhere); sharing with an address that has no Google account
needs ``sendNotificationEmail=true``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import driveq
from .errors import drive_error, forbidden, not_found, storage_quota

SPREADSHEET = "application/vnd.google-apps.spreadsheet"
FOLDER = "application/vnd.google-apps.folder"
RANK = {"reader": 1, "commenter": 2, "writer": 3, "fileOrganizer": 4, "organizer": 5,
        "owner": 6}
ROLES = tuple(RANK)
TYPES = ("user", "group", "domain", "anyone")


@dataclass
class SharedDrive:
    id: str
    name: str
    members: dict[str, str] | None     # e-mail → role; None: everyone is an organizer


@dataclass
class DriveFile:
    id: str
    name: str
    mime: str
    parents: list[str]
    created: datetime
    modified: datetime
    owner: str | None                  # None inside a Shared Drive (the drive owns it)
    drive_id: str | None = None
    trashed: bool = False
    permissions: list[dict] = field(default_factory=list)
    writes: list[datetime] = field(default_factory=list)
    version: int = 1
    description: str | None = None


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


class FileView:
    """What files.list's ``q`` sees of one file, for one caller."""

    def __init__(self, fake, f: DriveFile, email: str):
        self.fake, self.f, self.email = fake, f, email

    def field(self, name: str):
        f = self.f
        return {"name": f.name, "mimeType": f.mime, "trashed": f.trashed,
                "modifiedTime": self.fake.reported_modified(f), "createdTime": f.created,
                "fullText": f.name, "description": f.description, "starred": False,
                "sharedWithMe": f.owner not in (None, self.email) and f.drive_id is None}[name]

    def has(self, name: str, item: str) -> bool:
        f = self.f
        if name == "parents":
            return item in f.parents
        who = self.email if item == "me" else item
        if name == "owners":
            return f.owner == who
        need = "writer" if name == "writers" else "reader"
        return RANK.get(self.fake.role(f, who) or "", 0) >= RANK[need]


def resource(fake, f: DriveFile, email: str) -> dict:
    """The full File resource; responses are then cut to ``fields`` (or the default four)."""
    out = {"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime,
           "parents": list(f.parents), "starred": False, "trashed": f.trashed,
           "explicitlyTrashed": f.trashed, "spaces": ["drive"], "version": str(f.version),
           "webViewLink": _link(f), "createdTime": rfc3339(f.created),
           "modifiedTime": rfc3339(fake.reported_modified(f)),
           "shared": bool(f.permissions), "ownedByMe": f.owner == email,
           "capabilities": {"canEdit": RANK.get(fake.role(f, email) or "", 0) >= 3}}
    if f.description:
        out["description"] = f.description
    if f.drive_id:
        out["driveId"] = out["teamDriveId"] = f.drive_id
    elif f.owner:
        out["owners"] = [{"kind": "drive#user", "displayName": f.owner.split("@")[0],
                          "emailAddress": f.owner, "me": f.owner == email,
                          "permissionId": _perm_id(f.owner)}]
    return out


def _link(f: DriveFile) -> str:
    if f.mime == SPREADSHEET:
        return f"https://docs.google.com/spreadsheets/d/{f.id}/edit?usp=drivesdk"
    if f.mime == FOLDER:
        return f"https://drive.google.com/drive/folders/{f.id}"
    return f"https://drive.google.com/file/d/{f.id}/view?usp=drivesdk"


def _perm_id(email: str) -> str:
    return str(int(hashlib.sha1(email.lower().encode()).hexdigest()[:15], 16))


DEFAULT_FILE = ("kind", "id", "name", "mimeType")


def short(full: dict, call) -> dict:
    """Drive answers the default fields unless ``fields`` asks for more (cut by the server)."""
    if call.q("fields"):
        return full
    return {k: full[k] for k in DEFAULT_FILE if k in full}


def _visible(call, file_id: str, need: str = "reader") -> DriveFile:
    fake = call.fake
    f = fake.files.get(file_id)
    if f is None or (f.drive_id and not call.flag("supportsAllDrives")):
        raise not_found("drive", file_id)
    role = fake.role(f, call.principal.email)
    if role is None:
        raise not_found("drive", file_id)
    if RANK[role] < RANK[need]:
        raise forbidden("drive")
    return f


def _place(call, parents: list[str]) -> str | None:
    """Check the caller may create in ``parents``; the Shared Drive id the file lands in."""
    if len(parents) > 1:
        raise drive_error(403, "Increasing the number of parents is not allowed",
                          "cannotAddParent")
    drive_id = None
    for parent in parents:
        folder = _visible(call, parent, "writer")
        if folder.mime != FOLDER:
            raise drive_error(400, "The parent is not a folder.", "invalidParent")
        drive_id = folder.drive_id
    if call.principal.service_account and drive_id is None:
        raise storage_quota()
    return drive_id


def files_create(call) -> dict:
    body = call.body or {}
    parents = body.get("parents") or []
    drive_id = _place(call, parents)
    mime = body.get("mimeType") or "application/octet-stream"
    f = call.fake.new_file(body.get("name") or "Untitled", mime, parents,
                           owner=None if drive_id else call.principal.email, drive_id=drive_id)
    f.description = body.get("description")
    if mime == SPREADSHEET:
        call.fake.new_spreadsheet(f.name, file=f)
    return short(resource(call.fake, f, call.principal.email), call)


def files_copy(call) -> dict:
    source = _visible(call, call.path["fileId"])
    body = call.body or {}
    parents = body.get("parents") or [p for p in source.parents if p in call.fake.files]
    drive_id = _place(call, parents)
    f = call.fake.new_file(body.get("name") or f"Copy of {source.name}", source.mime, parents,
                           owner=None if drive_id else call.principal.email, drive_id=drive_id)
    if source.id in call.fake.spreadsheets:
        call.fake.copy_spreadsheet(source.id, f)
    return short(resource(call.fake, f, call.principal.email), call)


def files_get(call) -> dict:
    f = _visible(call, call.path["fileId"])
    if call.q("alt") == "media":
        raise drive_error(403, "Only files with binary content can be downloaded. Use Export "
                               "with Docs Editors files.", "fileNotDownloadable",
                          location="alt")
    return short(resource(call.fake, f, call.principal.email), call)


def files_update(call) -> dict:
    f = _visible(call, call.path["fileId"], "writer")
    body = call.body or {}
    for key, attr in (("name", "name"), ("description", "description"), ("trashed", "trashed")):
        if key in body and body[key] is not None:
            setattr(f, attr, body[key])
    add = [p for p in (call.q("addParents") or "").split(",") if p]
    remove = [p for p in (call.q("removeParents") or "").split(",") if p]
    if add:
        _place(call, add)
    f.parents = [p for p in f.parents if p not in remove] + add
    call.fake.touch_file(f)
    return short(resource(call.fake, f, call.principal.email), call)


def files_delete(call):
    f = _visible(call, call.path["fileId"])
    role = call.fake.role(f, call.principal.email)
    if RANK[role] < RANK["organizer" if f.drive_id else "owner"]:
        raise forbidden("drive")
    call.fake.delete_file(f.id)
    return 204, None


def _page(items: list, call, key: str, default: int, largest: int) -> tuple[list, str | None]:
    size = int(call.q("pageSize") or default)
    if size < 1 or size > largest:
        raise drive_error(400, f"Invalid value '{size}'. Values must be within the range: "
                               f"[1, {largest}]", "invalid", location="pageSize")
    scope = hashlib.sha1(key.encode()).hexdigest()[:8]
    offset = 0
    token = call.q("pageToken")
    if token:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset, ok = int(data["o"]), data["s"] == scope
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            raise drive_error(400, "Invalid Value", "invalid", location="pageToken")
    chunk = items[offset:offset + size]
    nxt = None
    if offset + size < len(items):
        nxt = base64.urlsafe_b64encode(json.dumps({"o": offset + size, "s": scope})
                                       .encode()).decode()
    return chunk, nxt


def _order(call):
    spec = call.q("orderBy") or ""
    keys = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        name, _, direction = part.partition(" ")
        getter = {"name": lambda f, v: f.name.lower(), "createdTime": lambda f, v: f.created,
                  "modifiedTime": lambda f, v: v, "folder": lambda f, v: f.mime != FOLDER,
                  "name_natural": lambda f, v: f.name.lower()}.get(name)
        if getter is None:
            raise drive_error(400, "Invalid Value", "invalid", location="orderBy")
        keys.append((getter, direction.strip().lower() == "desc"))
    return keys


def files_list(call) -> dict:
    fake, email = call.fake, call.principal.email
    predicate = driveq.parse(call.q("q")) if call.q("q") else (lambda view: True)
    corpora = call.q("corpora") or "user"
    all_drives = call.flag("includeItemsFromAllDrives")
    drive_id = call.q("driveId")
    if drive_id and (corpora != "drive" or not all_drives or not call.flag("supportsAllDrives")):
        raise drive_error(403, "The includeItemsFromAllDrives and supportsAllDrives parameters "
                               "must be set to true and corpora to 'drive' when driveId is "
                               "specified.", "teamDrivesParameterRequired")
    found = []
    for f in fake.files.values():
        if f.drive_id and not all_drives:
            continue
        if drive_id and f.drive_id != drive_id:
            continue
        if fake.role(f, email) is None:
            continue
        if predicate(FileView(fake, f, email)):
            found.append(f)
    found.sort(key=lambda f: (f.created, f.id))
    for getter, desc in reversed(_order(call)):
        found.sort(key=lambda f, g=getter: g(f, fake.reported_modified(f)), reverse=desc)
    key = json.dumps([call.q("q"), call.q("orderBy"), corpora, drive_id, all_drives])
    chunk, nxt = _page(found, call, key, 100, 1000)
    out: dict = {"kind": "drive#fileList"}
    if nxt:
        out["nextPageToken"] = nxt
    out["incompleteSearch"] = False
    out["files"] = [short(resource(fake, f, email), call) if not call.q("fields") else
                    resource(fake, f, email) for f in chunk]
    return out


# -- permissions ------------------------------------------------------------------------------


def permissions_create(call) -> dict:
    f = _visible(call, call.path["fileId"], "writer")
    body = dict(call.body or {})
    kind, role = body.get("type"), body.get("role")
    if kind not in TYPES:
        raise drive_error(400, "The permission type field is required." if not kind else
                          f"Invalid permission type: {kind}", "required" if not kind else
                          "invalid", location="permission.type", location_type="other")
    if role not in ROLES:
        raise drive_error(400, "The permission role field is required." if not role else
                          f"Invalid permission role: {role}", "required" if not role else
                          "invalid", location="permission.role", location_type="other")
    email = (body.get("emailAddress") or "").strip()
    if kind in ("user", "group"):
        if not email or "@" not in email:
            raise drive_error(400, "The permission emailAddress field is required.",
                              "required", location="permission.emailAddress",
                              location_type="other")
        notify = (call.q("sendNotificationEmail") or "true").lower() == "true"
        if not notify and email.lower() in call.fake.no_google_account:
            raise drive_error(400, "Bad Request. User message: \"You are trying to invite "
                                   f"{email}. Since there is no Google account associated "
                                   "with this email address, you should check the \"Notify "
                                   "people\" box to invite this recipient.\"",
                              "invalidSharingRequest")
    if role == "owner" and not call.flag("transferOwnership"):
        raise drive_error(403, "The transferOwnership parameter must be enabled when the "
                               "permission role is 'owner'.", "forbidden",
                          location="transferOwnership")
    perm = {"kind": "drive#permission", "id": _perm_id(email) if email else "anyoneWithLink",
            "type": kind, "role": role}
    if email:
        perm["emailAddress"] = email.lower()
        perm["displayName"] = email.split("@")[0]
    if body.get("domain"):
        perm["domain"] = body["domain"]
    if kind == "anyone":
        perm["allowFileDiscovery"] = bool(body.get("allowFileDiscovery"))
    f.permissions = [p for p in f.permissions if p["id"] != perm["id"]] + [perm]
    call.fake.sharing_log.append((f.id, kind, role, email.lower(),
                                  call.q("sendNotificationEmail")))
    out = dict(perm)
    return out if call.q("fields") else {k: out[k] for k in ("kind", "id", "type", "role")}


def permissions_list(call) -> dict:
    f = _visible(call, call.path["fileId"])
    perms = []
    if f.owner:
        perms.append({"kind": "drive#permission", "id": _perm_id(f.owner), "type": "user",
                      "emailAddress": f.owner, "role": "owner",
                      "displayName": f.owner.split("@")[0], "deleted": False,
                      "pendingOwner": False})
    drive = call.fake.drives.get(f.drive_id) if f.drive_id else None
    if drive is not None:
        members = drive.members if drive.members is not None else {
            call.principal.email: "organizer"}
        for email, role in members.items():
            perms.append({"kind": "drive#permission", "id": _perm_id(email), "type": "user",
                          "emailAddress": email, "role": role,
                          "displayName": email.split("@")[0], "deleted": False,
                          "permissionDetails": [{"permissionType": "member", "role": role,
                                                 "inherited": True,
                                                 "inheritedFrom": f.drive_id}]})
    perms += [dict(p, deleted=False) for p in f.permissions]
    chunk, nxt = _page(perms, call, f"perm:{f.id}", 100, 100)
    out: dict = {"kind": "drive#permissionList"}
    if nxt:
        out["nextPageToken"] = nxt
    out["permissions"] = chunk
    return out


def permissions_delete(call):
    f = _visible(call, call.path["fileId"], "writer")
    before = len(f.permissions)
    f.permissions = [p for p in f.permissions if p["id"] != call.path["permissionId"]]
    if len(f.permissions) == before:
        raise drive_error(404, f"Permission not found: {call.path['permissionId']}.",
                          "notFound", location="permissionId")
    return 204, None
