"""A loopback fake of the Google Sheets v4 and Drive v3 HTTP APIs, for tests and benchmarks.

Start it (or use the ``fake_google`` fixture of tests/conftest.py), get credentials,
and drive it with the real clients::

    with FakeGoogle(seed=1) as fake:
        folder = fake.add_shared_drive_folder("Báo cáo xã")   # service accounts need one
        gc = fake.gspread_client()            # service account: real JWT flow at /token
        sh = gc.create("06040 Xã Hữu Kiên", folder_id=folder)
        fake.type(sh.id, "Sheet1!B3", "1.200")                # a person, in the sheet's locale
        fake.values(sh.id, "Sheet1")                          # what the sheet holds now
        fake.count("values.batchGet"); fake.requests[-1].status
        fake.fail_next(2, 503, match="batchUpdate"); fake.fault_rate = 0.2
        fake.fault_kinds = ALL_FAULT_KINDS     # 429 ± Retry-After, 5xx, resets, read timeouts
        fake.quota(reads=60, writes=60); fake.clock.advance(60)

Other code paths: ``fake.install(session)`` routes any requests session (an AuthorizedSession's
token refresh included) to the fake, ``fake.adapter`` is the transport to mount yourself, and
``with fake.patch_google_auth():`` routes every session created inside the block.
Drive as a first real run meets it: ``fake.list_lag`` (files.list trails files.get: older
modified times, new files missing), Shared Drive settings (``fake.restrict(id, ...)``, or
``fake.drives[id].members_only``, ``domain_users_only``, ``visitors``, ``domain``),
``fake.internal_only`` (domains that keep
files inside: 400 shareOutNotPermitted), ``fake.aliases`` (alias → primary address, as
permissions are stored) and ``fake.no_google_account``.
``fake.service_account_info()`` / ``fake.authorized_user_info()`` return key files the token
endpoint accepts. Requests are validated against Google's discovery documents; answers and
errors have Google's JSON shapes (checked against recorded Google traffic in
tests/test_fake_google.py).
"""

from .clock import FakeClock
from .errors import ApiError
from .fake import ALL_FAULT_KINDS, FakeGoogle
from .person import CellRejected
from .server import FakeGoogleAdapter
from .traffic import RequestRecord

__all__ = ["ALL_FAULT_KINDS", "ApiError", "CellRejected", "FakeClock", "FakeGoogle",
           "FakeGoogleAdapter", "RequestRecord"]
