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
    #: The drive's settings as drives.get reports them (see rights.RESTRICTIONS); sharing
    #: enforces "Only members can access files" (driveMembersOnly) and "Allow people outside
    #: the domain to access files" turned off (domainUsersOnly).
    restrictions: dict[str, bool] = field(default_factory=dict)
    domain: str | None = None          # the organisation that owns the drive
    #: Workspace's sharing with non-Google accounts (visitor sharing) for the drive's items;
    #: off, such an address is refused even with a notification e-mail.
    visitors: bool = True

    @property
    def members_only(self) -> bool:
        return bool(self.restrictions.get("driveMembersOnly"))

    @members_only.setter
    def members_only(self, on: bool) -> None:
        self.restrictions = {**self.restrictions, "driveMembersOnly": bool(on)}

    @property
    def domain_users_only(self) -> bool:
        return bool(self.restrictions.get("domainUsersOnly"))

    @domain_users_only.setter
    def domain_users_only(self, on: bool) -> None:
        self.restrictions = {**self.restrictions, "domainUsersOnly": bool(on)}


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
    creator: str | None = None         # who made it: files.list's default corpus needs it


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
                "modifiedTime": self.fake.listed_modified(f), "createdTime": f.created,
                "fullText": f.name, "description": f.description, "starred": False,
                "sharedWithMe": f.owner not in (None, self.email) and f.drive_id is None,
                "visibility": visibility(self.fake, f) if name == "visibility" else None}[name]

    def has(self, name: str, item: str) -> bool:
        f = self.f
        if name == "parents":
            return item in f.parents
        who = self.email if item == "me" else item
        if name == "owners":
            return f.owner == who
        need = "writer" if name == "writers" else "reader"
        return RANK.get(self.fake.role(f, who) or "", 0) >= RANK[need]


def resource(fake, f: DriveFile, email: str, listed: bool = False) -> dict:
    """The full File resource; responses are then cut to ``fields`` (or the default four).
    ``listed``: as files.list shows it, from the search index (``list_lag``)."""
    from .rights import capabilities

    out = {"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime,
           "parents": list(f.parents), "starred": False, "trashed": f.trashed,
           "explicitlyTrashed": f.trashed, "spaces": ["drive"], "version": str(f.version),
           "webViewLink": _link(f), "createdTime": rfc3339(f.created),
           "modifiedTime": rfc3339(fake.listed_modified(f) if listed else f.modified),
           "shared": bool(f.permissions), "ownedByMe": f.owner == email,
           "capabilities": capabilities(fake, f, email)}
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


def generate_ids(call) -> dict:
    """files.generateIds: ids the caller may give files.create or files.copy, so a create
    whose answer is lost can be looked up by id (files.get) rather than by a lagging search."""
    count = int(call.q("count") or 10)
    if not 1 <= count <= 1000:
        raise drive_error(400, f"Invalid value '{count}'. Values must be within the range: "
                               "[1, 1000]", "invalid", location="count")
    space = call.q("space") or "drive"
    ids = [call.fake.new_id(33) for _ in range(count)]
    call.fake.generated.update(ids)
    return {"kind": "drive#generatedIds", "space": space, "ids": ids}


def _client_id(call, body: dict) -> str | None:
    """The ``id`` a create or copy names: one generateIds handed out, not yet used."""
    wanted = body.get("id")
    if wanted is None:
        return None
    if wanted in call.fake.files:
        raise drive_error(409, "A file already exists with the provided ID.", "duplicate",
                          location="file.id", location_type="other")
    if wanted not in call.fake.generated:
        raise drive_error(400, "The provided file ID is not usable.", "fileIdNotUsable",
                          location="file.id", location_type="other")
    return wanted


def files_create(call) -> dict:
    body = call.body or {}
    parents = body.get("parents") or []
    drive_id = _place(call, parents)
    file_id = _client_id(call, body)
    mime = body.get("mimeType") or "application/octet-stream"
    f = call.fake.new_file(body.get("name") or "Untitled", mime, parents,
                           owner=None if drive_id else call.principal.email, drive_id=drive_id,
                           creator=call.principal.email, file_id=file_id)
    f.description = body.get("description")
    if mime == SPREADSHEET:
        call.fake.new_spreadsheet(f.name, file=f)
    return short(resource(call.fake, f, call.principal.email), call)


def files_copy(call) -> dict:
    source = _visible(call, call.path["fileId"])
    body = call.body or {}
    parents = body.get("parents") or [p for p in source.parents if p in call.fake.files]
    drive_id = _place(call, parents)
    file_id = _client_id(call, body)
    f = call.fake.new_file(body.get("name") or f"Copy of {source.name}", source.mime, parents,
                           owner=None if drive_id else call.principal.email, drive_id=drive_id,
                           creator=call.principal.email, file_id=file_id)
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


#: files.list's bodies of items; ``user`` is the default.
CORPORA = ("user", "domain", "drive", "allDrives")


def _own_corpus(f: DriveFile, email: str) -> bool:
    """Whether a Shared Drive item is in the caller's ``user`` corpus: "If a user has
    permissions on a Shared Drive, the files inside it won't be retrieved unless the user has
    created, opened, or shared the file" (Drive v3 reference, ``corpus=user``). Being a
    member is not enough; made by the caller or shared with them on the file itself is."""
    email = (email or "").lower()
    return f.creator == email or any(
        (p.get("emailAddress") or "").lower() == email for p in f.permissions)


def files_list(call) -> dict:
    fake, email = call.fake, call.principal.email
    predicate = driveq.parse(call.q("q")) if call.q("q") else (lambda view: True)
    corpora = call.q("corpora") or "user"
    all_drives = call.flag("includeItemsFromAllDrives")
    drive_id = call.q("driveId")
    if corpora not in CORPORA:
        raise drive_error(400, f"Invalid value '{corpora}' for parameter corpora.", "invalid",
                          location="corpora")
    if (drive_id or corpora == "drive") and (
            corpora != "drive" or not drive_id or not all_drives
            or not call.flag("supportsAllDrives")):
        raise drive_error(403, "The includeItemsFromAllDrives and supportsAllDrives parameters "
                               "must be set to true and corpora to 'drive' when driveId is "
                               "specified.", "teamDrivesParameterRequired")
    found = []
    for f in fake.files.values():
        if f.drive_id and not all_drives:
            continue
        if drive_id and f.drive_id != drive_id:
            continue
        if corpora == "user" and f.drive_id and not _own_corpus(f, email):
            continue
        if fake.role(f, email) is None or not fake.indexed(f):
            continue
        if predicate(FileView(fake, f, email)):
            found.append(f)
    found.sort(key=lambda f: (f.created, f.id))
    for getter, desc in reversed(_order(call)):
        found.sort(key=lambda f, g=getter: g(f, fake.listed_modified(f)), reverse=desc)
    key = json.dumps([call.q("q"), call.q("orderBy"), corpora, drive_id, all_drives])
    chunk, nxt = _page(found, call, key, 100, 1000)
    out: dict = {"kind": "drive#fileList"}
    if nxt:
        out["nextPageToken"] = nxt
    out["incompleteSearch"] = False
    out["files"] = [short(resource(fake, f, email, listed=True), call) if not call.q("fields")
                    else resource(fake, f, email, listed=True) for f in chunk]
    return out


# -- permissions ------------------------------------------------------------------------------
#
# How Drive lists a file's permissions (developers.google.com/workspace/drive/api/guides/
# manage-sharing, "How permissions propagate"): a folder's permissions propagate to everything
# in it, a Shared Drive's members reach every item of the drive, and one entry per grantee
# gathers all of it — its ``role`` the highest, its ``permissionDetails`` (Shared Drive items)
# one part per source: ``file`` (on the item, or ``inherited`` from the folder ``inheritedFrom``)
# or ``member``. An inherited part cannot be removed or lowered on the item (403
# cannotModifyInheritedPermission, formerly cannotModifyInheritedTeamDrivePermission; Google's
# "Resolve errors" page). A ``view=published`` permission ("publish to the web") is listed only
# with ``includePermissionsForView=published`` and gives no access to the file itself
# (ref-roles, "Views").

INHERITED_MESSAGE = "Cannot update or delete an inherited permission on a shared drive item."
INHERITED_MY_DRIVE = ("Cannot modify a permission on an item to be less than the inherited "
                      "access from a direct or indirect parent.")


def permission_id(kind: str, email: str = "", domain: str = "", discoverable: bool = False,
                  view: str | None = None) -> str:
    """Drive's ids are opaque; these follow the ones seen in the wild (``anyoneWithLink``)."""
    if view == "published":
        return "publishedView"
    if kind == "anyone":
        return "anyone" if discoverable else "anyoneWithLink"
    if kind == "domain":
        return _perm_id(f"domain:{domain.lower()}") + "k"
    return _perm_id(email)


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
        _policy(call, f, email)
        notify = (call.q("sendNotificationEmail") or "true").lower() == "true"
        if not notify and email.lower() in call.fake.no_google_account:
            raise drive_error(400, "Bad Request. User message: \"You are trying to invite "
                                   f"{email}. Since there is no Google account associated "
                                   "with this email address, you should check the \"Notify "
                                   "people\" box to invite this recipient.\"",
                              "invalidSharingRequest")
    if kind == "domain" and not body.get("domain"):
        raise drive_error(400, "The permission domain field is required.", "required",
                          location="permission.domain", location_type="other")
    if role == "owner" and not call.flag("transferOwnership"):
        raise drive_error(403, "The transferOwnership parameter must be enabled when the "
                               "permission role is 'owner'.", "forbidden",
                          location="transferOwnership")
    email = call.fake.aliases.get(email.lower(), email)     # stored under the primary address
    perm = new_permission(kind, role, email, body.get("domain") or "",
                          bool(body.get("allowFileDiscovery")), body.get("view"))
    if body.get("expirationTime"):
        perm["expirationTime"] = body["expirationTime"]
    f.permissions = [p for p in f.permissions if p["id"] != perm["id"]] + [perm]
    call.fake.sharing_log.append((f.id, kind, role, email.lower(),
                                  call.q("sendNotificationEmail")))
    out = dict(perm)
    return out if call.q("fields") else {k: out[k] for k in ("kind", "id", "type", "role")}


def _policy(call, f: DriveFile, email: str) -> None:
    """The organisation's and the Shared Drive's sharing settings, with Drive's reasons: a
    domain that keeps files inside answers 400 shareOutNotPermitted (GAM 7.07.11 handles
    "ERROR: 400: shareOutNotPermitted"); a Shared Drive refuses non-Google accounts,
    non-members ("Only members can access files") and outsiders with 403s (reasons as GAM
    lists them: cannotShareTeamDriveWithNonGoogleAccounts,
    teamDriveTeamMembersOnlyRestriction, teamDriveDomainUsersOnlyRestriction)."""
    fake, address = call.fake, email.lower()
    target = address.rpartition("@")[2]
    shared = fake.drives.get(f.drive_id) if f.drive_id else None
    org = shared.domain if shared else (f.owner or "").rpartition("@")[2] or None
    if org and org in fake.internal_only and target != org:
        raise drive_error(400, "Bad Request. User message: \"Sharing outside of "
                               f"{org} is not allowed.\"", "shareOutNotPermitted")
    if shared is None:
        return
    if address in fake.no_google_account and not shared.visitors:
        raise drive_error(403, "Shared drive items cannot be shared with non-Google "
                               "accounts.", "cannotShareTeamDriveWithNonGoogleAccounts")
    primary = fake.aliases.get(address, address)
    if shared.members_only and primary not in (shared.members or {}):
        raise drive_error(403, "Only shared drive members can be given access to items in "
                               "this shared drive.", "teamDriveTeamMembersOnlyRestriction")
    if shared.domain_users_only and shared.domain and target != shared.domain:
        raise drive_error(403, "Only users in the shared drive's domain can be given access "
                               "to items in this shared drive.",
                          "teamDriveDomainUsersOnlyRestriction")


def new_permission(kind: str, role: str, email: str = "", domain: str = "",
                   discoverable: bool = False, view: str | None = None) -> dict:
    """A permission as Drive stores it on one file."""
    perm = {"kind": "drive#permission",
            "id": permission_id(kind, email, domain, discoverable, view),
            "type": kind, "role": role}
    if email:
        perm["emailAddress"] = email.lower()
        perm["displayName"] = email.split("@")[0]
    if domain:
        perm["domain"] = domain.lower()
        perm["displayName"] = domain.lower()
    if kind in ("anyone", "domain"):
        perm["allowFileDiscovery"] = discoverable
    if view:
        perm["view"] = view
    return perm


def effective_permissions(fake, f: DriveFile, published: bool = False,
                          caller: str | None = None) -> list[dict]:
    """The entries permissions.list shows for ``f`` (``caller``: who asks, listed as an
    organizer of a Shared Drive whose members the test left open), each with its private
    ``_parts`` that the handlers strip before answering."""
    entries: dict[str, dict] = {}
    in_drive = f.drive_id is not None

    def add(perm: dict, part: dict) -> None:
        if perm.get("view") == "published" and not published:
            return
        entry = entries.get(perm["id"])
        if entry is None:
            entry = entries[perm["id"]] = {**{k: v for k, v in perm.items()
                                               if k != "permissionDetails"},
                                           "deleted": bool(perm.get("deleted")),
                                           "_parts": []}
        if RANK[perm["role"]] > RANK[entry["role"]]:
            entry["role"] = perm["role"]
        entry["_parts"].append(part)

    if f.owner:
        add({"kind": "drive#permission", "id": _perm_id(f.owner), "type": "user",
             "emailAddress": f.owner, "role": "owner", "displayName": f.owner.split("@")[0],
             "pendingOwner": False}, {"permissionType": "file", "role": "owner",
                                      "inherited": False})
    for perm in f.permissions:
        add(perm, {"permissionType": "file", "role": perm["role"], "inherited": False})
    node, depth = fake.files.get(f.parents[0]) if f.parents else None, 0
    while node is not None and depth < 50:
        for perm in node.permissions:
            add(perm, {"permissionType": "file", "role": perm["role"], "inherited": True,
                       "inheritedFrom": node.id})
        node = fake.files.get(node.parents[0]) if node.parents else None
        depth += 1
    drive = fake.drives.get(f.drive_id) if in_drive else None
    if drive is not None:
        members = drive.members if drive.members is not None else (
            {caller.lower(): "organizer"} if caller else {})
        for email, role in members.items():
            add({"kind": "drive#permission", "id": _perm_id(email), "type": "user",
                 "emailAddress": email, "role": role, "displayName": email.split("@")[0]},
                {"permissionType": "member", "role": role, "inherited": True,
                 "inheritedFrom": f.drive_id})
    for entry in entries.values():
        if in_drive:
            entry["permissionDetails"] = [dict(p) for p in entry["_parts"]]
    return list(entries.values())


def _public(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


def permissions_list(call) -> dict:
    f = _visible(call, call.path["fileId"])
    view = call.q("includePermissionsForView")
    if view not in (None, "published"):
        raise drive_error(400, f"Invalid value '{view}' for parameter includePermissionsForView.",
                          "invalidParameter", location="includePermissionsForView")
    perms = [_public(e) for e in effective_permissions(call.fake, f, view == "published",
                                                        call.principal.email)]
    chunk, nxt = _page(perms, call, f"perm:{f.id}", 100, 100)
    out: dict = {"kind": "drive#permissionList"}
    if nxt:
        out["nextPageToken"] = nxt
    out["permissions"] = chunk
    return out


def _direct(call, f: DriveFile, permission_id: str) -> dict:
    """The permission on the file itself with that id; Drive's errors for any other."""
    for perm in f.permissions:
        if perm["id"] == permission_id:
            return perm
    listed = {e["id"]: e for e in effective_permissions(call.fake, f, True,
                                                       call.principal.email)}
    entry = listed.get(permission_id)
    if entry is None:
        raise drive_error(404, f"Permission not found: {permission_id}.", "notFound",
                          location="permissionId")
    if entry["role"] == "owner":
        raise drive_error(403, "The owner of a file cannot be removed.", "cannotRemoveOwner")
    raise drive_error(403, INHERITED_MESSAGE if f.drive_id else INHERITED_MY_DRIVE,
                      "cannotModifyInheritedPermission")


def permissions_delete(call):
    f = _visible(call, call.path["fileId"], "writer")
    perm = _direct(call, f, call.path["permissionId"])
    f.permissions = [p for p in f.permissions if p is not perm]
    call.fake.sharing_log.append((f.id, "delete", perm["role"], perm.get("emailAddress", ""),
                                  perm["type"]))
    return 204, None


def permissions_update(call) -> dict:
    f = _visible(call, call.path["fileId"], "writer")
    perm = _direct(call, f, call.path["permissionId"])
    body = call.body or {}
    role = body.get("role")
    if role is not None:
        if role not in ROLES:
            raise drive_error(400, f"Invalid permission role: {role}", "invalid",
                              location="permission.role", location_type="other")
        entry = [e for e in effective_permissions(call.fake, f, True, call.principal.email)
                 if e["id"] == perm["id"]][0]
        inherited = [RANK[p["role"]] for p in entry["_parts"] if p["inherited"]]
        if inherited and RANK[role] < max(inherited):
            raise drive_error(403, INHERITED_MY_DRIVE, "cannotModifyInheritedPermission")
        perm["role"] = role
    if call.flag("removeExpiration"):
        perm.pop("expirationTime", None)
    elif body.get("expirationTime"):
        perm["expirationTime"] = body["expirationTime"]
    call.fake.sharing_log.append((f.id, "update", perm["role"], perm.get("emailAddress", ""),
                                  perm["type"]))
    out = _public(dict(perm))
    return out if call.q("fields") else {k: out[k] for k in ("kind", "id", "type", "role")}


def about_get(call) -> dict:
    """about.get has no default fields: without ``fields`` Drive answers 400 "The 'fields'
    parameter is required for this method." (googleapis/google-api-python-client#1742)."""
    if not call.q("fields"):
        raise drive_error(400, "The 'fields' parameter is required for this method.",
                          "required", location="fields")
    email = call.principal.email
    return {"kind": "drive#about", "user": {
        "kind": "drive#user", "displayName": email.split("@")[0], "emailAddress": email,
        "me": True, "permissionId": _perm_id(email)}}


def visibility(fake, f: DriveFile) -> str:
    """files.list's ``visibility`` of a file: its widest link sharing, inherited included."""
    kinds = {(e["type"], bool(e.get("allowFileDiscovery")))
             for e in effective_permissions(fake, f) if e["type"] in ("anyone", "domain")}
    for name, key in (("anyoneCanFind", ("anyone", True)), ("anyoneWithLink", ("anyone", False)),
                      ("domainCanFind", ("domain", True)), ("domainWithLink", ("domain", False))):
        if key in kinds:
            return name
    return "limited"
