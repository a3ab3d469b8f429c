"""What the caller may do with a file or a Shared Drive: Drive's ``capabilities`` and a Shared
Drive's ``restrictions``, as files.get and drives.get report them.

Drive derives the capabilities from the caller's role: a Viewer may not edit or comment, a
Commenter may comment, an Editor may edit and share files. In a Shared Drive, a folder may be
shared only by Content managers and Managers (only Managers with the restriction
``sharingFoldersRequiresOrganizerPermission``), so a Contributor can fill the folder but not
share it. The restrictions are the drive's settings (Google Drive → Shared drives → Shared
drive settings); the fake keeps them on the SharedDrive and enforces none of them itself.
"""

from __future__ import annotations

from .drive import FOLDER, RANK, DriveFile
from .errors import drive_error

#: drives.get's restrictions, all off as in a new Shared Drive.
RESTRICTIONS = ("adminManagedRestrictions", "copyRequiresWriterPermission", "domainUsersOnly",
                "driveMembersOnly", "sharingFoldersRequiresOrganizerPermission")


def capabilities(fake, f: DriveFile, email: str) -> dict[str, bool]:
    rank = RANK.get(fake.role(f, email) or "", 0)
    share = RANK["writer"]
    if f.mime == FOLDER and f.drive_id:
        restricted = restrictions(fake.drives.get(f.drive_id)).get(
            "sharingFoldersRequiresOrganizerPermission")
        share = RANK["organizer" if restricted else "fileOrganizer"]
    return {"canEdit": rank >= RANK["writer"], "canComment": rank >= RANK["commenter"],
            "canShare": rank >= share, "canAddChildren": f.mime == FOLDER and rank >= RANK[
                "writer"], "canCopy": rank >= RANK["reader"]}


def restrictions(shared) -> dict[str, bool]:
    settings = getattr(shared, "restrictions", None) or {}
    return {name: bool(settings.get(name)) for name in RESTRICTIONS}


def drives_get(call) -> dict:
    """drives.get: a Shared Drive its member can see; a non-member gets 404 as from Drive."""
    fake, drive_id = call.fake, call.path["driveId"]
    shared = fake.drives.get(drive_id)
    email = call.principal.email.lower()
    member = shared is not None and (shared.members is None or email in shared.members)
    if not member:
        raise drive_error(404, f"Shared drive not found: {drive_id}", "notFound",
                          location="driveId")
    role = "organizer" if shared.members is None else shared.members[email]
    full = {"kind": "drive#drive", "id": shared.id, "name": shared.name, "hidden": False,
            "restrictions": restrictions(shared),
            "capabilities": {"canShare": RANK[role] >= RANK["fileOrganizer"],
                             "canAddChildren": RANK[role] >= RANK["writer"],
                             "canChangeDomainUsersOnlyRestriction": role == "organizer",
                             "canChangeDriveMembersOnlyRestriction": role == "organizer"}}
    if call.q("fields"):
        return full
    return {k: full[k] for k in ("kind", "id", "name")}
